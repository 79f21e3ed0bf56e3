#include "sweep/sweep_spec.hpp"

#include "sweep/result_fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace kernelsweep {

namespace {

constexpr std::size_t kMaxAxisValues = 10'000'000;

bool is_integer_key(const std::string& key) {
  const ConfigKey* k = find_config_key(key);
  return k != nullptr && k->type == ConfigType::integer;
}

std::string shortest(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

double number(const YAML::Node& node, const std::string& key) {
  try {
    if (node && node.IsScalar()) {
      const double x = node.as<double>();
      if (std::isfinite(x)) return x;
    }
  } catch (const YAML::Exception&) {
  }
  throw ConfigError(key + " must be a finite number, got " +
                    (node && node.IsScalar() ? node.Scalar() : std::string("nothing")));
}

std::vector<YAML::Node> spaced_values(const YAML::Node& spec, const std::string& key,
                                      bool logarithmic, bool integer_valued) {
  if (!spec.IsMap()) throw ConfigError(key + " must be a map {start, stop, num}");
  for (const auto& entry : spec) {
    const std::string k = entry.first.Scalar();
    if (k != "start" && k != "stop" && k != "num")
      throw ConfigError("unknown key " + key + "." + k + " (allowed: num, start, stop)");
  }
  const double start = number(spec["start"], key + ".start");
  const double stop = number(spec["stop"], key + ".stop");
  const double num_real = number(spec["num"], key + ".num");
  if (num_real < 1 || num_real != std::floor(num_real) || num_real > double(kMaxAxisValues))
    throw ConfigError(key + ".num must be an integer in [1, 10000000], got " +
                      spec["num"].Scalar());
  if (logarithmic && (start <= 0 || stop <= 0))
    throw ConfigError(key + ": start and stop must be > 0 for a logspace");
  const auto num = static_cast<std::size_t>(num_real);
  // Exactly numpy's arithmetic (linspace: start + k * ((stop - start) / (num - 1)), last = stop;
  // the logarithmic axis is numpy.geomspace: 10 ** linspace(log10 start, log10 stop), endpoints
  // exact), so numpy.linspace(...)[k] selects the k-th coordinate of the file bit for bit.
  const double lo = logarithmic ? std::log10(start) : start;
  const double hi = logarithmic ? std::log10(stop) : stop;
  const double step = num > 1 ? (hi - lo) / double(num - 1) : 0.0;
  std::vector<YAML::Node> values;
  for (std::size_t i = 0; i < num; ++i) {
    volatile double scaled =
        double(i) * step;  // two roundings, as numpy: never a fused multiply-add
    double x = i + 1 == num && num > 1 ? hi : scaled + lo;
    if (logarithmic) x = std::pow(10.0, x);
    if (i == 0) x = start;
    if (i + 1 == num && num > 1) x = stop;
    // An integer key (model.N, model.T) must not receive 63.99999999999998.
    if (integer_valued && std::abs(x - std::round(x)) <= 1e-9 * std::abs(x)) x = std::round(x);
    values.emplace_back(shortest(x));
  }
  return values;
}

// Sorted-key canonical copy, so the hash does not depend on key order or formatting.
void emit_canonical(YAML::Emitter& out, const YAML::Node& node) {
  if (!node || node.IsNull()) {
    out << YAML::Null;
  } else if (node.IsScalar()) {
    out << node.Scalar();
  } else if (node.IsSequence()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : node) emit_canonical(out, item);
    out << YAML::EndSeq;
  } else {
    std::map<std::string, YAML::Node> sorted;
    for (const auto& entry : node) sorted[entry.first.Scalar()] = entry.second;
    out << YAML::BeginMap;
    for (const auto& [k, v] : sorted) {
      out << YAML::Key << k << YAML::Value;
      emit_canonical(out, v);
    }
    out << YAML::EndMap;
  }
}

std::string default_axis_name(const std::string& key) {
  const auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

constexpr std::size_t kMaxNameLength = 64;

void check_name(const std::string& name, const std::string& key) {
  if (name.empty()) throw ConfigError(key + " must be a non-empty name");
  if (name.size() > kMaxNameLength)
    throw ConfigError(key + " must be at most " + std::to_string(kMaxNameLength) +
                      " characters, got " + std::to_string(name.size()));
  for (const char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      throw ConfigError(key + " must contain only letters, digits and _, got '" + name + "'");
}

}  // namespace

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

namespace {

// A grid no results file can hold is refused before its values are validated one by one (which
// for 10^5-value axes takes a minute); check_grid_size gives the same refusal for built grids.
void refuse_absurd_size(const SweepSpec& spec) {
  double points = 1.0;
  for (const auto& axis : spec.axes) {
    const bool zipped_later = std::any_of(spec.zip.begin(), spec.zip.end(), [&](const auto& group) {
      return std::find(group.begin(), group.end(), axis.key) != group.begin() &&
             std::find(group.begin(), group.end(), axis.key) != group.end();
    });
    if (!zipped_later) points *= static_cast<double>(axis.values.size());
  }
  if (points > static_cast<double>(kMaxPoints))
    throw ConfigError(too_many_points(spec.name, points));
}

}  // namespace

std::string too_many_points(const std::string& name, double points) {
  char count[64];
  std::snprintf(count, sizeof count, points < 1e15 ? "%.0f" : "%.3g", points);
  return name + ": the grid has " + count + " points, more than one results file holds (" +
         std::to_string(kMaxPoints) + "); split the sweep";
}

SweepSpec parse_sweep_spec(const YAML::Node& root, const std::string& source) {
  try {
    if (!root || !root.IsMap())
      throw ConfigError("a sweep spec must be a map with keys name, seed, base, axes, zip");
    const std::set<std::string> allowed = {"axes", "base", "name", "seed", "zip"};
    for (const auto& entry : root)
      if (!allowed.count(entry.first.Scalar()))
        throw ConfigError("unknown key " + entry.first.Scalar() +
                          " (allowed: axes, base, name, seed, zip)");
    SweepSpec spec;
    if (!root["name"] || !root["name"].IsScalar())
      throw ConfigError("name must be given (a short identifier)");
    spec.name = root["name"].Scalar();
    check_name(spec.name, "name");
    if (root["seed"]) {
      const YAML::Node s = root["seed"];
      unsigned long long seed = 0;
      const std::string text = s.IsScalar() ? s.Scalar() : "";
      const auto parsed = std::from_chars(text.data(), text.data() + text.size(), seed);
      if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size())
        throw ConfigError("seed must be an integer >= 0, got " + (text.empty() ? "nothing" : text));
      spec.seed = seed;
    }
    spec.base = root["base"] ? YAML::Clone(root["base"]) : YAML::Node(YAML::NodeType::Map);
    if (spec.base.IsNull()) spec.base = YAML::Node(YAML::NodeType::Map);
    if (!spec.base.IsMap()) throw ConfigError("base must be a point config (a map)");
    for (const char* seeded : {"theory", "sgld"})
      if (spec.base[seeded] && spec.base[seeded].IsMap() && spec.base[seeded]["seed"])
        throw ConfigError(std::string("base.") + seeded +
                          ".seed is set by the sweep's seed (every stream is keyed by seed, point, "
                          "replica); remove it");
    try {
      parse_point_config(spec.base);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string("base: ") + e.what());
    }

    const YAML::Node axes = root["axes"];
    if (!axes || !axes.IsSequence() || axes.size() == 0)
      throw ConfigError("axes must be a non-empty list of {key, values | linspace | logspace}");
    std::set<std::string> keys, names;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      const std::string where = "axes[" + std::to_string(i) + "]";
      const YAML::Node a = axes[i];
      if (!a.IsMap())
        throw ConfigError(where + " must be a map {key, values | linspace | logspace}");
      int sources = 0;
      for (const auto& entry : a) {
        const std::string k = entry.first.Scalar();
        if (k != "key" && k != "name" && k != "values" && k != "linspace" && k != "logspace")
          throw ConfigError("unknown key " + where + "." + k +
                            " (allowed: key, linspace, logspace, name, values)");
        sources += (k == "values" || k == "linspace" || k == "logspace");
      }
      if (!a["key"] || !a["key"].IsScalar())
        throw ConfigError(where + ".key must name a config key, e.g. task.lam");
      SweepAxis axis;
      axis.key = a["key"].Scalar();
      const std::string label = where + " (" + axis.key + ")";
      if (sources != 1)
        throw ConfigError(label + " needs exactly one of values, linspace, logspace");
      if (axis.key.find("seed") != std::string::npos && axis.key != "task.seed")
        throw ConfigError(label +
                          ": theory/sgld seeds come from the sweep's seed and cannot be an axis");
      if (!keys.insert(axis.key).second) throw ConfigError(label + ": axis key appears twice");
      axis.name = a["name"] ? a["name"].Scalar() : default_axis_name(axis.key);
      check_name(axis.name, where + ".name");
      if (is_reserved_result_name(axis.name))
        throw ConfigError(label + ": dimension name '" + axis.name +
                          "' is a variable or group of the results file; set " + where +
                          ".name to another name");
      if (!names.insert(axis.name).second)
        throw ConfigError(label + ": dimension name '" + axis.name + "' is used twice; set " +
                          where + ".name");
      if (a["values"]) {
        const YAML::Node v = a["values"];
        if (!v.IsSequence() || v.size() == 0)
          throw ConfigError(label + ".values must be a non-empty list");
        for (const auto& item : v) {
          if (!item.IsScalar()) throw ConfigError(label + ".values must hold scalars");
          axis.values.push_back(YAML::Clone(item));
        }
      } else if (a["linspace"]) {
        axis.values =
            spaced_values(a["linspace"], label + ".linspace", false, is_integer_key(axis.key));
      } else {
        axis.values =
            spaced_values(a["logspace"], label + ".logspace", true, is_integer_key(axis.key));
      }
      spec.axes.push_back(std::move(axis));
    }

    if (root["zip"]) {
      const YAML::Node z = root["zip"];
      if (!z.IsSequence()) throw ConfigError("zip must be a list of lists of axis keys");
      std::set<std::string> zipped;
      for (std::size_t g = 0; g < z.size(); ++g) {
        const std::string where = "zip[" + std::to_string(g) + "]";
        if (!z[g].IsSequence() || z[g].size() < 2)
          throw ConfigError(where + " must list at least two axis keys");
        std::vector<std::string> group;
        std::size_t length = 0;
        for (const auto& item : z[g]) {
          const std::string key = item.Scalar();
          const auto axis = std::find_if(spec.axes.begin(), spec.axes.end(),
                                         [&](const SweepAxis& a) { return a.key == key; });
          if (axis == spec.axes.end())
            throw ConfigError(where + ": " + key + " is not an axis key");
          if (!zipped.insert(key).second)
            throw ConfigError(where + ": " + key + " is in more than one zip group");
          if (length != 0 && axis->values.size() != length)
            throw ConfigError(where + ": zipped axes must have equal lengths, " + key + " has " +
                              std::to_string(axis->values.size()) + " values, expected " +
                              std::to_string(length));
          length = axis->values.size();
          group.push_back(key);
        }
        spec.zip.push_back(group);
      }
    }

    refuse_absurd_size(spec);
    // Every value must be a valid setting of the key on the base config (names the key if not).
    for (std::size_t i = 0; i < spec.axes.size(); ++i) {
      const SweepAxis& axis = spec.axes[i];
      for (const auto& value : axis.values) {
        YAML::Node trial = YAML::Clone(spec.base);
        apply_override(trial, axis.key + "=" + value.Scalar());
        try {
          parse_point_config(trial);
        } catch (const ConfigError& e) {
          throw ConfigError("axes[" + std::to_string(i) + "] (" + axis.key +
                            ") = " + value.Scalar() + ": " + e.what());
        }
      }
    }

    YAML::Emitter out;
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << spec.name;
    out << YAML::Key << "seed" << YAML::Value << std::to_string(spec.seed);
    out << YAML::Key << "base" << YAML::Value;
    emit_canonical(out, spec.base);
    out << YAML::Key << "axes" << YAML::Value << YAML::BeginSeq;
    for (const auto& axis : spec.axes) {
      out << YAML::BeginMap << YAML::Key << "key" << YAML::Value << axis.key;
      out << YAML::Key << "name" << YAML::Value << axis.name;
      out << YAML::Key << "values" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& v : axis.values) out << v.Scalar();
      out << YAML::EndSeq << YAML::EndMap;
    }
    out << YAML::EndSeq;
    if (!spec.zip.empty()) {
      out << YAML::Key << "zip" << YAML::Value << YAML::BeginSeq;
      for (const auto& group : spec.zip) {
        out << YAML::Flow << YAML::BeginSeq;
        for (const auto& k : group) out << k;
        out << YAML::EndSeq;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    spec.normalized_yaml = std::string(out.c_str()) + "\n";
    spec.hash = fnv1a_hex(spec.normalized_yaml);
    return spec;
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

SweepSpec load_sweep_spec(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root = load_yaml_file(path);
  for (const auto& o : overrides) {
    try {
      apply_override(root, o);
    } catch (const ConfigError& e) {
      throw ConfigError(path + ": " + e.what());
    }
  }
  SweepSpec spec = parse_sweep_spec(root, path);
  // An axis sets its key at every point: a --set of the same key under base would be ignored.
  for (const auto& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    for (const auto& axis : spec.axes)
      if (key == "base." + axis.key || ("base." + axis.key).rfind(key + ".", 0) == 0)
        throw ConfigError(path + ": --set " + key + " is overridden by the sweep axis '" +
                          axis.name + "' (" + axis.key + "); change the axis instead");
  }
  return spec;
}

SweepSpec sweep_spec_from_normalized(const std::string& normalized_yaml,
                                     const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(normalized_yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": the stored sweep YAML does not parse: " + e.what());
  }
  return parse_sweep_spec(root, source);
}

}  // namespace kernelsweep
