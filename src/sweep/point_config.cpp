#include "sweep/point_config.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace kernelsweep {

std::string to_string(Precision precision) {
  return precision == Precision::float64 ? "float64" : "float32";
}

namespace {

std::string describe(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return node.Scalar().empty() ? "an empty string" : node.Scalar();
}

[[noreturn]] void fail(const std::string& key, const std::string& expectation, const YAML::Node& got) {
  throw ConfigError(key + " must be " + expectation + ", got " + describe(got));
}

// Reads one section: checks for unknown keys, hands out typed values with range checks.
class Section {
 public:
  Section(const YAML::Node& root, std::string name, std::set<std::string> keys)
      : name_(std::move(name)), keys_(std::move(keys)) {
    if (root && root.IsMap()) {
      const YAML::Node section = root[name_];
      if (section) node_.reset(section);
    }
    if (node_ && !node_.IsNull() && !node_.IsMap())
      throw ConfigError(name_ + " must be a map of keys, got " + describe(node_));
    if (!node_ || node_.IsNull()) return;
    for (const auto& entry : node_) {
      const std::string key = entry.first.Scalar();
      if (!keys_.count(key)) {
        std::string allowed;
        for (const auto& k : keys_) allowed += (allowed.empty() ? "" : ", ") + k;
        throw ConfigError("unknown key " + name_ + "." + key + " (allowed: " + allowed + ")");
      }
    }
  }

  bool has(const std::string& key) const { return node_ && node_.IsMap() && node_[key] && !node_[key].IsNull(); }
  YAML::Node get(const std::string& key) const { return has(key) ? node_[key] : YAML::Node(); }
  std::string path(const std::string& key) const { return name_ + "." + key; }

  long long integer(const std::string& key, long long fallback, long long lo, long long hi) const {
    if (!has(key)) return fallback;
    const YAML::Node n = get(key);
    const std::string expect = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    long long value = 0;
    try {
      if (!n.IsScalar()) fail(path(key), expect, n);
      std::size_t used = 0;
      value = std::stoll(n.Scalar(), &used);
      if (used != n.Scalar().size()) fail(path(key), expect, n);
    } catch (const std::logic_error&) {
      fail(path(key), expect, n);
    }
    if (value < lo) fail(path(key), "an integer >= " + std::to_string(lo), n);
    if (value > hi) fail(path(key), "an integer <= " + std::to_string(hi), n);
    return value;
  }

  double real(const std::string& key, double fallback, double lo, bool lo_open, double hi = INFINITY) const {
    if (!has(key)) return fallback;
    const YAML::Node n = get(key);
    std::ostringstream expect;
    expect << "a number " << (lo_open ? "> " : ">= ") << lo;
    if (std::isfinite(hi)) expect << " and < " << hi;
    double value = 0.0;
    try {
      if (!n.IsScalar()) fail(path(key), expect.str(), n);
      value = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(path(key), expect.str(), n);
    }
    if (!std::isfinite(value) || value < lo || (lo_open && value == lo) || value >= hi)
      fail(path(key), expect.str(), n);
    return value;
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const YAML::Node n = get(key);
    try {
      if (n.IsScalar()) return n.as<bool>();
    } catch (const YAML::Exception&) {
    }
    fail(path(key), "true or false", n);
  }

  template <typename Enum>
  Enum choice(const std::string& key, Enum fallback,
              const std::vector<std::pair<std::string, Enum>>& options) const {
    if (!has(key)) return fallback;
    const YAML::Node n = get(key);
    std::string expect = "one of";
    for (std::size_t i = 0; i < options.size(); ++i) expect += (i ? "|" : " ") + options[i].first;
    if (!n.IsScalar()) fail(path(key), expect, n);
    for (const auto& [text, value] : options)
      if (n.Scalar() == text) return value;
    fail(path(key), expect, n);
  }

 private:
  std::string name_;
  std::set<std::string> keys_;
  YAML::Node node_;
};

constexpr int kMaxInt = std::numeric_limits<int>::max();

}  // namespace

YAML::Node load_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the file");
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(path + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) +
                      ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

void apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set needs key.path=value, got '" + assignment + "'");
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::ParserException& e) {
    throw ConfigError("--set " + path + ": value is not valid YAML: " + e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node current;
  current.reset(root);
  std::stringstream parts(path);
  std::string part, walked;
  std::vector<std::string> keys;
  while (std::getline(parts, part, '.')) keys.push_back(part);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) throw ConfigError("--set: malformed key path '" + path + "'");
    if (!current.IsMap())
      throw ConfigError("--set " + path + ": " + walked + " is not a map");
    walked += (walked.empty() ? "" : ".") + keys[i];
    if (i + 1 == keys.size()) {
      current[keys[i]] = value;
    } else {
      if (!current[keys[i]] || current[keys[i]].IsNull()) current[keys[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = current[keys[i]];
      current.reset(next);
    }
  }
}

PointConfig parse_point_config(const YAML::Node& root) {
  if (root && !root.IsNull() && !root.IsMap())
    throw ConfigError("a point config must be a map with sections model, task, theory, sgld; got " +
                      describe(root));
  if (root && root.IsMap())
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      if (key != "model" && key != "task" && key != "theory" && key != "sgld")
        throw ConfigError("unknown key " + key + " (allowed: model, task, theory, sgld)");
    }
  PointConfig c;

  const Section model(root, "model", {"architecture", "activation", "T", "N", "w", "u", "v", "kappa"});
  c.model.architecture = model.choice<Architecture>(
      "architecture", Architecture::rnn, {{"rnn", Architecture::rnn}, {"dnn", Architecture::dnn}});
  c.model.activation = model.choice<Activation>(
      "activation", Activation::linear, {{"linear", Activation::linear}, {"erf", Activation::erf}});
  c.model.T = static_cast<int>(model.integer("T", 4, 1, 4096));
  c.model.N = static_cast<int>(model.integer("N", 256, 1, 1 << 20));
  c.model.w = model.real("w", 1.0, 0.0, true);
  c.model.u = model.real("u", 1.0, 0.0, true);
  c.model.v = model.real("v", 1.0, 0.0, true);
  c.model.kappa = model.real("kappa", 0.1, 0.0, true);

  const Section task(root, "task", {"kind", "P", "D", "lam", "supervised", "seed"});
  c.task.kind = task.choice<TaskKind>("kind", TaskKind::endpoint_classification,
                                      {{"endpoint_classification", TaskKind::endpoint_classification},
                                       {"sinusoid", TaskKind::sinusoid},
                                       {"teacher_sequence", TaskKind::teacher_sequence}});
  const int default_size = c.task.kind == TaskKind::sinusoid ? 1 : 4;
  c.task.P = static_cast<int>(task.integer("P", default_size, 1, 4096));
  c.task.D = static_cast<int>(task.integer("D", default_size, 1, 1 << 20));
  c.task.lam = task.real("lam", 1.0, 0.0, false);
  c.task.seed = static_cast<std::uint64_t>(task.integer("seed", 1, 0, std::numeric_limits<long long>::max()));
  if (task.has("supervised")) {
    const YAML::Node s = task.get("supervised");
    const std::string expect = "last, all, or a non-empty list of time steps in [0, " +
                               std::to_string(c.model.T - 1) + "]";
    if (s.IsScalar() && s.Scalar() == "last") {
      c.task.supervised.mode = Supervision::Mode::last;
    } else if (s.IsScalar() && s.Scalar() == "all") {
      c.task.supervised.mode = Supervision::Mode::all;
    } else if (s.IsSequence() && s.size() > 0) {
      c.task.supervised.mode = Supervision::Mode::list;
      for (const auto& item : s) {
        int t = -1;
        try {
          t = item.as<int>();
        } catch (const YAML::Exception&) {
          fail("task.supervised", expect, s);
        }
        if (t < 0 || t >= c.model.T) fail("task.supervised", expect, s);
        c.task.supervised.times.push_back(t);
      }
    } else {
      fail("task.supervised", expect, s);
    }
  }
  if (c.task.kind == TaskKind::endpoint_classification) {
    if (c.task.D < c.task.P)
      throw ConfigError("task.D must be >= task.P for endpoint_classification (orthogonal inputs), got D=" +
                        std::to_string(c.task.D) + ", P=" + std::to_string(c.task.P));
    const auto times = resolve_supervised_times(c.task, c.model.T);
    if (times != std::vector<int>{c.model.T - 1})
      throw ConfigError("task.supervised must be last for endpoint_classification (labels exist only at t=T-1)");
  }
  if (c.task.kind == TaskKind::sinusoid && (c.task.P != 1 || c.task.D != 1))
    throw ConfigError("task.P and task.D must be 1 for sinusoid, got P=" + std::to_string(c.task.P) +
                      ", D=" + std::to_string(c.task.D));

  const Section theory(root, "theory", {"enabled", "branch", "tolerance", "max_iterations", "samples",
                                        "seed", "landau"});
  c.theory_enabled = theory.boolean("enabled", true);
  c.theory.branch = theory.choice<BranchChoice>(
      "branch", BranchChoice::automatic,
      {{"auto", BranchChoice::automatic}, {"symmetric", BranchChoice::symmetric}, {"broken", BranchChoice::broken}});
  c.theory.tolerance = theory.real("tolerance", 1e-12, 0.0, true, 1.0);
  const int default_iterations = c.model.activation == Activation::linear ? 400 : 200;
  c.theory.max_iterations = static_cast<int>(theory.integer("max_iterations", default_iterations, 1, 10000000));
  c.theory.samples = static_cast<int>(theory.integer("samples", 4000, 40, 100000000));
  c.theory.seed = static_cast<std::uint64_t>(theory.integer("seed", 1, 0, std::numeric_limits<long long>::max()));
  c.theory.landau = theory.boolean("landau", false);
  if (c.theory.landau && (c.model.activation != Activation::linear ||
                          c.model.architecture != Architecture::rnn || c.model.T < 2))
    throw ConfigError("theory.landau needs model.activation linear, model.architecture rnn and model.T >= 2");

  const Section sgld(root, "sgld", {"enabled", "replicas", "steps", "burn_in", "thin", "eta", "seed",
                                    "precision", "record_trace", "eta_safety", "sampler", "max_rhat",
                                    "min_ess", "check_step", "spectrum_k"});
  c.sgld.enabled = sgld.boolean("enabled", false);
  c.sgld.replicas = static_cast<int>(sgld.integer("replicas", 4, 1, 1 << 20));
  c.sgld.steps = sgld.integer("steps", 20000, 1, std::numeric_limits<long long>::max());
  c.sgld.burn_in = sgld.integer("burn_in", std::min<long long>(5000, c.sgld.steps / 4), 0, c.sgld.steps - 1);
  c.sgld.thin = static_cast<int>(sgld.integer("thin", 10, 1, kMaxInt));
  // eta: auto (the default, kAutoEta = NaN) sets the step from the measured curvature.
  const bool auto_eta = !sgld.has("eta") || (sgld.get("eta").IsScalar() && sgld.get("eta").Scalar() == "auto");
  c.sgld.eta = auto_eta ? kAutoEta : sgld.real("eta", 0.002, 0.0, true, 1.0);
  c.sgld.eta_safety = sgld.real("eta_safety", 0.5, 0.0, true, 2.0);
  c.sgld.sampler = sgld.choice<SgldSampler>("sampler", SgldSampler::langevin,
                                            {{"langevin", SgldSampler::langevin}, {"prior", SgldSampler::prior}});
  c.sgld.max_rhat = sgld.real("max_rhat", 1.05, 1.0, true);
  c.sgld.min_ess = sgld.real("min_ess", 100.0, 0.0, false);
  c.sgld.check_step = sgld.boolean("check_step", false);
  c.sgld.spectrum_k = static_cast<int>(sgld.integer("spectrum_k", 8, 0, kMaxInt));
  c.sgld.seed = static_cast<std::uint64_t>(sgld.integer("seed", 1, 0, std::numeric_limits<long long>::max()));
  c.sgld.precision = sgld.choice<Precision>("precision", Precision::float64,
                                            {{"float64", Precision::float64}, {"float32", Precision::float32}});
  c.sgld.record_trace = sgld.boolean("record_trace", false);
  return c;
}

PointConfig load_point_config(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml_file(path);
  for (const auto& o : overrides) apply_override(root, o);
  try {
    return parse_point_config(root);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

Dataset make_dataset(const PointConfig& config) { return make_dataset(config.task, config.model.T); }

nlohmann::json to_json(const PointConfig& c) {
  nlohmann::json j;
  j["model"] = {{"architecture", to_string(c.model.architecture)},
                {"activation", to_string(c.model.activation)},
                {"T", c.model.T}, {"N", c.model.N}, {"w", c.model.w}, {"u", c.model.u},
                {"v", c.model.v}, {"kappa", c.model.kappa}};
  j["task"] = {{"kind", to_string(c.task.kind)}, {"P", c.task.P}, {"D", c.task.D}, {"lam", c.task.lam},
               {"supervised", resolve_supervised_times(c.task, c.model.T)}, {"seed", c.task.seed}};
  j["theory"] = {{"enabled", c.theory_enabled}, {"branch", to_string(c.theory.branch)},
                 {"tolerance", c.theory.tolerance}, {"max_iterations", c.theory.max_iterations},
                 {"samples", c.theory.samples}, {"seed", c.theory.seed}, {"landau", c.theory.landau}};
  j["sgld"] = {{"enabled", c.sgld.enabled}, {"replicas", c.sgld.replicas}, {"steps", c.sgld.steps},
               {"burn_in", c.sgld.burn_in}, {"thin", c.sgld.thin}, {"eta", c.sgld.eta},
               {"seed", c.sgld.seed}, {"precision", to_string(c.sgld.precision)},
               {"record_trace", c.sgld.record_trace},
               {"eta_safety", c.sgld.eta_safety},
               {"sampler", c.sgld.sampler == SgldSampler::prior ? "prior" : "langevin"},
               {"max_rhat", c.sgld.max_rhat}, {"min_ess", c.sgld.min_ess},
               {"check_step", c.sgld.check_step}, {"spectrum_k", c.sgld.spectrum_k}};
  if (std::isnan(c.sgld.eta)) j["sgld"]["eta"] = "auto";
  return j;
}

}  // namespace kernelsweep
