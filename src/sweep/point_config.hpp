#pragma once
// The point config: one YAML document describing a grid point (sections model, task, theory, sgld).
// Every key has a default; unknown keys and bad values raise ConfigError naming the key, e.g.
// "model.T must be an integer >= 1, got -3". `--set key.path=value` overrides apply before checks.
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"
#include "sgld/sgld_options.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PointConfig {
  NetworkSpec model;
  TaskSpec task;
  bool theory_enabled = true;
  TheoryOptions theory;
  // theory.critical: also analyze the transition in lam (lambda_c, coexistence, fold, order).
  bool theory_critical = false;
  // theory.line_points: sweeps trace the linear theory along lam lines in segments of at most
  // this many signals (the unit of work); 1 solves every point on its own.
  int theory_line_points = 50;
  SgldOptions sgld;
};

// Parses a point config document (a map, or null for "all defaults").
PointConfig parse_point_config(const YAML::Node& root);
// Reads PATH, applies overrides ("a.b=value", value parsed as YAML), validates.
PointConfig load_point_config(const std::string& path,
                              const std::vector<std::string>& overrides = {});
YAML::Node load_yaml_file(const std::string& path);
void apply_override(YAML::Node& root, const std::string& assignment);

// The config key table: every key declared once, with its type, default (or the rule by which it
// depends on other keys), allowed values and a one-line doc. The parser reads defaults and ranges
// from it; `kernelsweep keys` prints it; the README's key table is checked against it.
enum class ConfigType { integer, real, real_or_auto, boolean, choice, times };
struct ConfigKey {
  std::string_view key;  // section.name, e.g. model.T
  ConfigType type;
  std::string_view default_text;  // "4", or "depends on ...: ..." for derived defaults
  std::string_view allowed;       // "integer in [1, 4096]", "rnn | dnn", ...
  std::string_view doc;
};
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(std::string_view key);
std::string to_string(ConfigType type);

// The normalized config: every key, with defaults and resolved values.
nlohmann::json to_json(const PointConfig& config);
// The dataset and theory problem the config describes.
Dataset make_dataset(const PointConfig& config);

}  // namespace kernelsweep
