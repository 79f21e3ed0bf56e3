#include "sweep/point_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
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

[[noreturn]] void fail(const std::string& key, const std::string& expectation,
                       const YAML::Node& got) {
  throw ConfigError(key + " must be " + expectation + ", got " + describe(got));
}

// Whether a map has the key (operator[] cannot tell a missing key from a null value).
bool contains(const YAML::Node& map, const std::string& key) {
  for (const auto& entry : map)
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return true;
  return false;
}

// task.supervised: last, all, a list of steps in [0, T), or task_default (the key omitted).
Supervision parse_supervision(const YAML::Node& s, int T) {
  Supervision out;
  const std::string expect =
      "last, all, or a non-empty list of time steps in [0, " + std::to_string(T - 1) + "]";
  if (s.IsScalar() && s.Scalar() == "task_default") return out;
  if (s.IsScalar() && s.Scalar() == "last") {
    out.mode = Supervision::Mode::last;
  } else if (s.IsScalar() && s.Scalar() == "all") {
    out.mode = Supervision::Mode::all;
  } else if (s.IsSequence() && s.size() > 0) {
    out.mode = Supervision::Mode::list;
    for (const auto& item : s) {
      int t = -1;
      try {
        t = item.as<int>();
      } catch (const YAML::Exception&) {
        fail("task.supervised", expect, s);
      }
      if (t < 0 || t >= T) fail("task.supervised", expect, s);
      out.times.push_back(t);
    }
  } else {
    fail("task.supervised", expect, s);
  }
  return out;
}

// A validated value of one key.
struct Value {
  long long integer = 0;
  double real = 0.0;
  bool boolean = false;
  std::size_t choice = 0;
  YAML::Node node;
};

// One row of the key table: the user-facing description plus how the parser checks and stores it.
struct KeyRule {
  ConfigKey info;
  double lo = -INFINITY,
         hi = INFINITY;  // integer: [lo, hi]; real: lo (open if lo_open) .. hi (open)
  bool lo_open = false;
  std::vector<std::string_view> choices;
  std::string (*default_value)(const PointConfig&);  // YAML text, given the keys parsed before it
  void (*assign)(PointConfig&, const Value&);
  nlohmann::json (*read)(const PointConfig&);
};

constexpr double kMaxInt = std::numeric_limits<int>::max();
constexpr double kMaxInt64 = 9.2e18;

#define DEFAULT(text) [](const PointConfig&) { return std::string(text); }

const std::vector<KeyRule>& rules() {
  static const std::vector<KeyRule> table = {
      // model: the network (docs/theory.md section 1)
      {{"model.architecture", ConfigType::choice, "rnn", "rnn | dnn",
        "rnn shares W over time; dnn has one W per layer"},
       0,
       0,
       false,
       {"rnn", "dnn"},
       DEFAULT("rnn"),
       [](PointConfig& c, const Value& v) {
         c.model.architecture = static_cast<Architecture>(v.choice);
       },
       [](const PointConfig& c) -> nlohmann::json { return to_string(c.model.architecture); }},
      {{"model.activation", ConfigType::choice, "linear", "linear | erf",
        "phi(h) = h, or erf(sqrt(pi)/2 h)"},
       0,
       0,
       false,
       {"linear", "erf"},
       DEFAULT("linear"),
       [](PointConfig& c, const Value& v) {
         c.model.activation = static_cast<Activation>(v.choice);
       },
       [](const PointConfig& c) -> nlohmann::json { return to_string(c.model.activation); }},
      {{"model.T", ConfigType::integer, "4", "integer in [1, 4096]",
        "time steps (RNN) or layers (DNN)"},
       1,
       4096,
       false,
       {},
       DEFAULT("4"),
       [](PointConfig& c, const Value& v) { c.model.T = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.model.T; }},
      {{"model.N", ConfigType::integer, "256", "integer in [1, 1048576]",
        "width (SGLD only; the theory is N -> infinity)"},
       1,
       1 << 20,
       false,
       {},
       DEFAULT("256"),
       [](PointConfig& c, const Value& v) { c.model.N = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.model.N; }},
      {{"model.w", ConfigType::real, "1", "number > 0", "prior variance of W: W_ij ~ N(0, w/N)"},
       0,
       INFINITY,
       true,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.model.w = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.model.w; }},
      {{"model.u", ConfigType::real, "1", "number > 0", "prior variance of U: U_ik ~ N(0, u/D)"},
       0,
       INFINITY,
       true,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.model.u = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.model.u; }},
      {{"model.v", ConfigType::real, "1", "number > 0",
        "prior variance of the readout: a_i ~ N(0, v)"},
       0,
       INFINITY,
       true,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.model.v = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.model.v; }},
      {{"model.kappa", ConfigType::real, "0.1", "number > 0",
        "likelihood variance: y ~ N(f, kappa/N)"},
       0,
       INFINITY,
       true,
       {},
       DEFAULT("0.1"),
       [](PointConfig& c, const Value& v) { c.model.kappa = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.model.kappa; }},
      // task: inputs and targets (docs/theory.md section 2)
      {{"task.kind", ConfigType::choice, "endpoint_classification",
        "endpoint_classification | sinusoid | teacher_sequence", "the task"},
       0,
       0,
       false,
       {"endpoint_classification", "sinusoid", "teacher_sequence"},
       DEFAULT("endpoint_classification"),
       [](PointConfig& c, const Value& v) { c.task.kind = static_cast<TaskKind>(v.choice); },
       [](const PointConfig& c) -> nlohmann::json { return to_string(c.task.kind); }},
      {{"task.P", ConfigType::integer, "depends on task.kind: 4 (sinusoid: 1)",
        "integer in [1, 4096]", "patterns"},
       1,
       4096,
       false,
       {},
       [](const PointConfig& c) {
         return std::string(c.task.kind == TaskKind::sinusoid ? "1" : "4");
       },
       [](PointConfig& c, const Value& v) { c.task.P = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.task.P; }},
      {{"task.D", ConfigType::integer, "depends on task.kind: 4 (sinusoid: 1)",
        "integer in [1, 1048576]", "input dimension"},
       1,
       1 << 20,
       false,
       {},
       [](const PointConfig& c) {
         return std::string(c.task.kind == TaskKind::sinusoid ? "1" : "4");
       },
       [](PointConfig& c, const Value& v) { c.task.D = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.task.D; }},
      {{"task.lam", ConfigType::real, "1", "number >= 0",
        "signal strength lambda: targets y = lam * yhat"},
       0,
       INFINITY,
       false,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.task.lam = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.task.lam; }},
      {{"task.supervised", ConfigType::times,
        "depends on task.kind: last (endpoint_classification), all (sinusoid), every other step "
        "(teacher_sequence)",
        "last | all | [t1, t2, ...] with 0 <= t < T", "time steps whose outputs are supervised"},
       0,
       0,
       false,
       {},
       DEFAULT("task_default"),
       [](PointConfig& c, const Value& v) {
         c.task.supervised = parse_supervision(v.node, c.model.T);
       },
       [](const PointConfig& c) -> nlohmann::json {
         return resolve_supervised_times(c.task, c.model.T);
       }},
      {{"task.seed", ConfigType::integer, "1", "integer >= 0",
        "teacher network and teacher inputs"},
       0,
       kMaxInt64,
       false,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.task.seed = static_cast<std::uint64_t>(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.task.seed; }},
      // theory: the kernel-theory saddle point (docs/theory.md section 3)
      {{"theory.enabled", ConfigType::boolean, "true", "true | false", "solve the kernel theory"},
       0,
       0,
       false,
       {},
       DEFAULT("true"),
       [](PointConfig& c, const Value& v) { c.theory_enabled = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory_enabled; }},
      {{"theory.branch", ConfigType::choice, "auto", "auto | symmetric | broken",
        "auto: the lowest free energy; or force one branch"},
       0,
       0,
       false,
       {"auto", "symmetric", "broken"},
       DEFAULT("auto"),
       [](PointConfig& c, const Value& v) {
         c.theory.branch = static_cast<BranchChoice>(v.choice);
       },
       [](const PointConfig& c) -> nlohmann::json { return to_string(c.theory.branch); }},
      {{"theory.tolerance", ConfigType::real, "1e-12", "number > 0 and < 1",
        "relative fixed-point residual |C - Phi(C)|_F / |C|_F"},
       0,
       1,
       true,
       {},
       DEFAULT("1e-12"),
       [](PointConfig& c, const Value& v) { c.theory.tolerance = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.tolerance; }},
      {{"theory.max_iterations", ConfigType::integer,
        "depends on model.activation: 400 (erf: 4000)", "integer in [1, 10000000]",
        "fixed-point iterations (linear) / cap on Monte-Carlo iterations (erf; the drift rule "
        "stops earlier)"},
       1,
       1e7,
       false,
       {},
       [](const PointConfig& c) {
         return std::string(c.model.activation == Activation::linear ? "400" : "4000");
       },
       [](PointConfig& c, const Value& v) { c.theory.max_iterations = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.max_iterations; }},
      {{"theory.samples", ConfigType::integer, "4000", "integer in [40, 100000000]",
        "erf: elliptical-slice chains"},
       40,
       1e8,
       false,
       {},
       DEFAULT("4000"),
       [](PointConfig& c, const Value& v) { c.theory.samples = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.samples; }},
      {{"theory.seed", ConfigType::integer, "1", "integer >= 0", "erf: Monte-Carlo stream"},
       0,
       kMaxInt64,
       false,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) {
         c.theory.seed = static_cast<std::uint64_t>(v.integer);
       },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.seed; }},
      {{"theory.time_limit", ConfigType::real, "120", "number >= 0",
        "seconds a solve may take; 0: no limit"},
       0,
       1e7,
       false,
       {},
       DEFAULT("120"),
       [](PointConfig& c, const Value& v) { c.theory.time_limit = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.time_limit; }},
      {{"theory.replicates", ConfigType::integer, "8", "integer in [2, 100000]",
        "erf: independent replicate iterations (samples split among them); error bars from their "
        "spread"},
       2,
       1e5,
       false,
       {},
       DEFAULT("8"),
       [](PointConfig& c, const Value& v) { c.theory.replicates = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.replicates; }},
      {{"theory.window", ConfigType::integer, "0", "integer in [0, 10000000]",
        "erf: stopping-rule window in iterations; 0: three relaxation times of the linear map"},
       0,
       1e7,
       false,
       {},
       DEFAULT("0"),
       [](PointConfig& c, const Value& v) { c.theory.window = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.window; }},
      {{"theory.drift_sigmas", ConfigType::real, "2", "number > 0 and < 100",
        "erf: settled when the window-to-window drift is within this many Monte-Carlo errors"},
       0,
       100,
       true,
       {},
       DEFAULT("2"),
       [](PointConfig& c, const Value& v) { c.theory.drift_sigmas = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.drift_sigmas; }},
      {{"theory.stability_sigmas", ConfigType::real, "3", "number > 0 and < 100",
        "erf: a state is stable when every leading eigenvalue of the fixed-point map's Jacobian "
        "is below 1 by more than this many Monte-Carlo errors (unstable: above 1 by as many; "
        "otherwise not_converged)"},
       0,
       100,
       true,
       {},
       DEFAULT("3"),
       [](PointConfig& c, const Value& v) { c.theory.stability_sigmas = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.stability_sigmas; }},
      {{"theory.landau", ConfigType::boolean, "false", "true | false",
        "compute the Landau curve F(q) (linear RNN, T >= 2)"},
       0,
       0,
       false,
       {},
       DEFAULT("false"),
       [](PointConfig& c, const Value& v) { c.theory.landau = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory.landau; }},
      {{"theory.critical", ConfigType::boolean, "false", "true | false",
        "also analyze the transition in lam: lambda_c, coexistence, fold and order (linear; the "
        "point's own lam is ignored)"},
       0,
       0,
       false,
       {},
       DEFAULT("false"),
       [](PointConfig& c, const Value& v) { c.theory_critical = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.theory_critical; }},
      {{"theory.line_points", ConfigType::integer, "50", "integer in [1, 100000]",
        "sweeps: the linear theory is traced along the lam axis by continuation, in segments of "
        "at most this many signals (the unit of work); 1: every point on its own"},
       1,
       1e5,
       false,
       {},
       DEFAULT("50"),
       [](PointConfig& c, const Value& v) { c.theory_line_points = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.theory_line_points; }},
      // sgld: finite-width replicas (docs/theory.md section 4)
      {{"sgld.enabled", ConfigType::boolean, "false", "true | false",
        "run SGLD replicas of finite-width networks"},
       0,
       0,
       false,
       {},
       DEFAULT("false"),
       [](PointConfig& c, const Value& v) { c.sgld.enabled = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.enabled; }},
      {{"sgld.replicas", ConfigType::integer, "4", "integer in [1, 1048576]", "independent chains"},
       1,
       1 << 20,
       false,
       {},
       DEFAULT("4"),
       [](PointConfig& c, const Value& v) { c.sgld.replicas = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.replicas; }},
      {{"sgld.steps", ConfigType::integer, "20000", "integer >= 1", "Langevin steps per replica"},
       1,
       kMaxInt64,
       false,
       {},
       DEFAULT("20000"),
       [](PointConfig& c, const Value& v) { c.sgld.steps = v.integer; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.steps; }},
      {{"sgld.burn_in", ConfigType::integer, "depends on sgld.steps: min(5000, steps / 4)",
        "integer in [0, sgld.steps - 1]", "steps before measuring"},
       0,
       kMaxInt64,
       false,
       {},
       [](const PointConfig& c) {
         return std::to_string(std::min<long long>(5000, c.sgld.steps / 4));
       },
       [](PointConfig& c, const Value& v) { c.sgld.burn_in = v.integer; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.burn_in; }},
      {{"sgld.thin", ConfigType::integer, "10", "integer >= 1", "measure every thin steps"},
       1,
       kMaxInt,
       false,
       {},
       DEFAULT("10"),
       [](PointConfig& c, const Value& v) { c.sgld.thin = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.thin; }},
      {{"sgld.eta", ConfigType::real_or_auto, "auto", "auto | number > 0 and < 1",
        "Ornstein-Uhlenbeck step size; auto: eta_safety / (1 + largest curvature of the "
        "likelihood), measured"},
       0,
       1,
       true,
       {},
       DEFAULT("auto"),
       [](PointConfig& c, const Value& v) { c.sgld.eta = v.real; },
       [](const PointConfig& c) -> nlohmann::json {
         return std::isnan(c.sgld.eta) ? nlohmann::json("auto") : nlohmann::json(c.sgld.eta);
       }},
      {{"sgld.eta_safety", ConfigType::real, "0.5", "number > 0 and < 2",
        "eta: auto sets eta * (1 + lambda_max) to this (the split step is unstable at 2)"},
       0,
       2,
       true,
       {},
       DEFAULT("0.5"),
       [](PointConfig& c, const Value& v) { c.sgld.eta_safety = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.eta_safety; }},
      {{"sgld.sampler", ConfigType::choice, "langevin", "langevin | prior",
        "langevin chains, or independent draws from the prior (no data: NNGP convergence in N)"},
       0,
       0,
       false,
       {"langevin", "prior"},
       DEFAULT("langevin"),
       [](PointConfig& c, const Value& v) { c.sgld.sampler = static_cast<SgldSampler>(v.choice); },
       [](const PointConfig& c) -> nlohmann::json {
         return c.sgld.sampler == SgldSampler::prior ? "prior" : "langevin";
       }},
      {{"sgld.max_rhat", ConfigType::real, "1.05", "number > 1",
        "not_converged when the split-R-hat of |q|, the energy or a kernel entry exceeds this"},
       1,
       INFINITY,
       true,
       {},
       DEFAULT("1.05"),
       [](PointConfig& c, const Value& v) { c.sgld.max_rhat = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.max_rhat; }},
      {{"sgld.min_ess", ConfigType::real, "100", "number >= 0",
        "not_converged when the total ESS of |q| is below this"},
       0,
       INFINITY,
       false,
       {},
       DEFAULT("100"),
       [](PointConfig& c, const Value& v) { c.sgld.min_ess = v.real; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.min_ess; }},
      {{"sgld.check_step", ConfigType::boolean, "false", "true | false",
        "also run every replica at eta/2 and compare (not_converged if they disagree)"},
       0,
       0,
       false,
       {},
       DEFAULT("false"),
       [](PointConfig& c, const Value& v) { c.sgld.check_step = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.check_step; }},
      {{"sgld.spectrum_k", ConfigType::integer, "8", "integer >= 0",
        "eigenvalues of W kept per replica (top |lambda|)"},
       0,
       kMaxInt,
       false,
       {},
       DEFAULT("8"),
       [](PointConfig& c, const Value& v) { c.sgld.spectrum_k = int(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.spectrum_k; }},
      {{"sgld.seed", ConfigType::integer, "1", "integer >= 0",
        "replica streams (sweeps: the sweep seed)"},
       0,
       kMaxInt64,
       false,
       {},
       DEFAULT("1"),
       [](PointConfig& c, const Value& v) { c.sgld.seed = static_cast<std::uint64_t>(v.integer); },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.seed; }},
      {{"sgld.precision", ConfigType::choice, "float64", "float64 | float32",
        "arithmetic of the network"},
       0,
       0,
       false,
       {"float64", "float32"},
       DEFAULT("float64"),
       [](PointConfig& c, const Value& v) { c.sgld.precision = static_cast<Precision>(v.choice); },
       [](const PointConfig& c) -> nlohmann::json { return to_string(c.sgld.precision); }},
      {{"sgld.record_trace", ConfigType::boolean, "false", "true | false",
        "keep the energy at every measurement"},
       0,
       0,
       false,
       {},
       DEFAULT("false"),
       [](PointConfig& c, const Value& v) { c.sgld.record_trace = v.boolean; },
       [](const PointConfig& c) -> nlohmann::json { return c.sgld.record_trace; }},
  };
  return table;
}

#undef DEFAULT

std::string_view section_of(std::string_view key) {
  return key.substr(0, key.find('.'));
}
std::string_view name_of(std::string_view key) {
  return key.substr(key.find('.') + 1);
}

Value validate(const KeyRule& rule, const YAML::Node& n) {
  const std::string key(rule.info.key);
  Value v;
  v.node = n;
  switch (rule.info.type) {
    case ConfigType::integer: {
      const auto lo = static_cast<long long>(rule.lo), hi = static_cast<long long>(rule.hi);
      const std::string expect =
          "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      try {
        if (!n.IsScalar()) fail(key, expect, n);
        std::size_t used = 0;
        v.integer = std::stoll(n.Scalar(), &used);
        if (used != n.Scalar().size()) fail(key, expect, n);
      } catch (const std::logic_error&) {
        fail(key, expect, n);
      }
      if (v.integer < lo) fail(key, "an integer >= " + std::to_string(lo), n);
      if (v.integer > hi) fail(key, "an integer <= " + std::to_string(hi), n);
      break;
    }
    case ConfigType::real_or_auto:
      if (n.IsScalar() && n.Scalar() == "auto") {
        v.real = NAN;
        break;
      }
      [[fallthrough]];
    case ConfigType::real: {
      std::ostringstream expect;
      expect << (rule.info.type == ConfigType::real_or_auto ? "auto or a number " : "a number ")
             << (rule.lo_open ? "> " : ">= ") << rule.lo;
      if (std::isfinite(rule.hi)) expect << " and < " << rule.hi;
      try {
        if (!n.IsScalar()) fail(key, expect.str(), n);
        v.real = n.as<double>();
      } catch (const YAML::Exception&) {
        fail(key, expect.str(), n);
      }
      if (!std::isfinite(v.real) || v.real < rule.lo || (rule.lo_open && v.real == rule.lo) ||
          v.real >= rule.hi)
        fail(key, expect.str(), n);
      break;
    }
    case ConfigType::boolean:
      try {
        if (n.IsScalar()) {
          v.boolean = n.as<bool>();
          break;
        }
      } catch (const YAML::Exception&) {
      }
      fail(key, "true or false", n);
    case ConfigType::choice: {
      std::string expect = "one of";
      for (std::size_t i = 0; i < rule.choices.size(); ++i) {
        expect.append(i ? "|" : " ");
        expect.append(rule.choices[i]);
      }
      if (!n.IsScalar()) fail(key, expect, n);
      const auto it = std::find(rule.choices.begin(), rule.choices.end(), n.Scalar());
      if (it == rule.choices.end()) fail(key, expect, n);
      v.choice = static_cast<std::size_t>(it - rule.choices.begin());
      break;
    }
    case ConfigType::times:
      break;  // checked by parse_supervision, which knows T
  }
  return v;
}

}  // namespace

namespace {

// yaml-cpp keeps the first of duplicate keys and never checks the rest: refuse them by name.
void check_duplicate_keys(const YAML::Node& node, const std::string& where) {
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const std::string key =
          entry.first.IsScalar() ? entry.first.Scalar() : std::string("<complex key>");
      const std::string path = where.empty() ? key : where + "." + key;
      if (!seen.insert(key).second) throw ConfigError("duplicate key " + path);
      check_duplicate_keys(entry.second, path);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      check_duplicate_keys(node[i], where + "[" + std::to_string(i) + "]");
  }
}

YAML::Node parse_single_document(std::istream& in, const std::string& name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(in);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(name + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) +
                      ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (documents.size() > 1)
    throw ConfigError(name + ": holds " + std::to_string(documents.size()) +
                      " YAML documents; give exactly one");
  YAML::Node root = documents.empty() ? YAML::Node() : documents[0];
  try {
    check_duplicate_keys(root, "");
  } catch (const ConfigError& e) {
    throw ConfigError(name + ": " + e.what());
  }
  return root;
}

}  // namespace

YAML::Node load_yaml_file(const std::string& path) {
  if (path == "-") return parse_single_document(std::cin, "<stdin>");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": is a directory, not a YAML file");
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open the file");
  return parse_single_document(in, path);
}

void apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set needs key.path=value, got '" + assignment + "'");
  const std::string path = assignment.substr(0, eq);
  if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos)
    throw ConfigError("--set: malformed key path '" + path + "'");
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
    if (!current.IsMap()) throw ConfigError("--set " + path + ": " + walked + " is not a map");
    walked += (walked.empty() ? "" : ".") + keys[i];
    if (i + 1 == keys.size()) {
      current[keys[i]] = value;
    } else {
      if (!current[keys[i]] || current[keys[i]].IsNull())
        current[keys[i]] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = current[keys[i]];
      current.reset(next);
    }
  }
}

// Defaults as YAML nodes, parsed once per text (a sweep validates every axis value: ~10^5 parses).
YAML::Node default_node(const std::string& text) {
  thread_local std::map<std::string, YAML::Node> parsed;
  auto it = parsed.find(text);
  if (it == parsed.end()) it = parsed.emplace(text, YAML::Load(text)).first;
  return it->second;
}

PointConfig parse_point_config(const YAML::Node& root) {
  if (root && !root.IsNull() && !root.IsMap())
    throw ConfigError("a point config must be a map with sections model, task, theory, sgld; got " +
                      describe(root));
  const std::vector<std::string> sections = {"model", "task", "theory", "sgld"};
  if (root && root.IsMap())
    for (const auto& entry : root) {
      const std::string section = entry.first.Scalar();
      if (std::find(sections.begin(), sections.end(), section) == sections.end())
        throw ConfigError("unknown key " + section + " (allowed: model, task, theory, sgld)");
      if (entry.second.IsNull())
        throw ConfigError(section + " has no value (null); omit the section or give a map of keys");
      if (!entry.second.IsMap())
        throw ConfigError(section + " must be a map of keys, got " + describe(entry.second));
      for (const auto& item : entry.second) {
        const std::string key = section + "." + item.first.Scalar();
        if (find_config_key(key) == nullptr) {
          std::string allowed;
          for (const auto& rule : rules())
            if (section_of(rule.info.key) == section) {
              if (!allowed.empty()) allowed.append(", ");
              allowed.append(name_of(rule.info.key));
            }
          throw ConfigError("unknown key " + key + " (allowed: " + allowed + ")");
        }
        if (item.second.IsNull())
          throw ConfigError(key + " has no value (null); omit the key for its default");
      }
    }
  // Table order: a key's default may depend on keys above it (task.P on task.kind, ...).
  PointConfig c;
  for (const auto& rule : rules()) {
    const std::string section(section_of(rule.info.key)), name(name_of(rule.info.key));
    const bool given =
        root && root.IsMap() && contains(root, section) && contains(root[section], name);
    const YAML::Node node = given ? root[section][name] : default_node(rule.default_value(c));
    rule.assign(c, validate(rule, node));
  }
  if (c.sgld.burn_in >= c.sgld.steps)
    throw ConfigError("sgld.burn_in must be an integer <= " + std::to_string(c.sgld.steps - 1) +
                      " (sgld.steps - 1), got " + std::to_string(c.sgld.burn_in));
  if (c.task.kind == TaskKind::endpoint_classification) {
    if (c.task.D < c.task.P)
      throw ConfigError(
          "task.D must be >= task.P for endpoint_classification (orthogonal inputs), got D=" +
          std::to_string(c.task.D) + ", P=" + std::to_string(c.task.P));
    const auto times = resolve_supervised_times(c.task, c.model.T);
    if (times != std::vector<int>{c.model.T - 1})
      throw ConfigError(
          "task.supervised must be last for endpoint_classification (labels exist only at t=T-1)");
  }
  if (c.task.kind == TaskKind::sinusoid && (c.task.P != 1 || c.task.D != 1))
    throw ConfigError("task.P and task.D must be 1 for sinusoid, got P=" +
                      std::to_string(c.task.P) + ", D=" + std::to_string(c.task.D));
  if (c.theory.landau && (c.model.activation != Activation::linear ||
                          c.model.architecture != Architecture::rnn || c.model.T < 2))
    throw ConfigError(
        "theory.landau needs model.activation linear, model.architecture rnn and model.T >= 2");
  if (c.theory_critical && (c.model.activation != Activation::linear || !c.theory_enabled))
    throw ConfigError("theory.critical needs model.activation linear and theory.enabled true");
  return c;
}

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& rule : rules()) out.push_back(rule.info);
    return out;
  }();
  return keys;
}

const ConfigKey* find_config_key(std::string_view key) {
  for (const auto& k : config_keys())
    if (k.key == key) return &k;
  return nullptr;
}

std::string to_string(ConfigType type) {
  switch (type) {
    case ConfigType::integer:
      return "integer";
    case ConfigType::real:
      return "number";
    case ConfigType::real_or_auto:
      return "number or auto";
    case ConfigType::boolean:
      return "boolean";
    case ConfigType::choice:
      return "choice";
    case ConfigType::times:
      return "time steps";
  }
  return "unknown";
}

PointConfig load_point_config(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root = path.empty() ? YAML::Node() : load_yaml_file(path);
  for (const auto& o : overrides) apply_override(root, o);
  try {
    return parse_point_config(root);
  } catch (const ConfigError& e) {
    throw ConfigError((path.empty() ? std::string("defaults") : path) + ": " + e.what());
  }
}

Dataset make_dataset(const PointConfig& config) {
  return make_dataset(config.task, config.model.T);
}

nlohmann::json to_json(const PointConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& rule : rules())
    j[std::string(section_of(rule.info.key))][std::string(name_of(rule.info.key))] = rule.read(c);
  return j;
}

}  // namespace kernelsweep
