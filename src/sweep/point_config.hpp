#pragma once
// The point config: one YAML document describing a grid point (sections model, task, theory, sgld).
// Every key has a default; unknown keys and bad values raise ConfigError naming the key, e.g.
// "model.T must be an integer >= 1, got -3". `--set key.path=value` overrides apply before checks.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

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
  SgldOptions sgld;
};

// Parses a point config document (a map, or null for "all defaults").
PointConfig parse_point_config(const YAML::Node& root);
// Reads PATH, applies overrides ("a.b=value", value parsed as YAML), validates.
PointConfig load_point_config(const std::string& path, const std::vector<std::string>& overrides = {});
YAML::Node load_yaml_file(const std::string& path);
void apply_override(YAML::Node& root, const std::string& assignment);

// The normalized config: every key, with defaults and resolved values.
nlohmann::json to_json(const PointConfig& config);
// The dataset and theory problem the config describes.
Dataset make_dataset(const PointConfig& config);

}  // namespace kernelsweep
