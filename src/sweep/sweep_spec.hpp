#pragma once
// The sweep spec: a YAML document naming a base point config and the axes to vary over it.
//   name: demo            seed: 7          base: {model: {...}, task: {...}}
//   axes: [{key: task.lam, linspace: {start: 0.2, stop: 2, num: 10}},
//          {key: model.architecture, values: [rnn, dnn]}]
//   zip: [[task.lam, model.T]]   # axes that advance together form one dimension
// Validation errors raise ConfigError naming the key ("axes[1].linspace.num must be ...").
#include <yaml-cpp/yaml.h>
#include <cstdint>
#include <string>
#include <vector>

#include "sweep/point_config.hpp"

namespace kernelsweep {

// The most points one results file holds, even with --yes (a status byte and a todo index per
// point must fit in memory, ~9 GB here).
inline constexpr std::uint64_t kMaxPoints = 1'000'000'000;
// The refusal of a grid of `points` (> kMaxPoints) points, for the sweep `name`.
std::string too_many_points(const std::string& name, double points);

struct SweepAxis {
  std::string key;                 // a point-config key path, e.g. task.lam
  std::string name;                // dimension / coordinate name in the results file, e.g. lam
  std::vector<YAML::Node> values;  // expanded scalar values, in order
};

struct SweepSpec {
  std::string name;
  std::uint64_t seed = 1;  // base of every random stream: (seed, point, replica)
  YAML::Node base;         // the point config every grid point starts from
  std::vector<SweepAxis> axes;
  std::vector<std::vector<std::string>> zip;  // groups of axis keys advancing together
  std::string normalized_yaml;                // canonical text: explicit values, sorted base keys
  std::string hash;                           // 16 hex digits of FNV-1a over normalized_yaml
};

// Parses and validates a sweep document; `source` prefixes error messages (usually the path).
SweepSpec parse_sweep_spec(const YAML::Node& root, const std::string& source);
// Reads PATH, applies `--set` overrides to the sweep document (e.g. base.model.N=64, seed=3).
SweepSpec load_sweep_spec(const std::string& path, const std::vector<std::string>& overrides = {});
// Rebuilds a spec from the normalized YAML stored in a results file.
SweepSpec sweep_spec_from_normalized(const std::string& normalized_yaml, const std::string& source);

std::string fnv1a_hex(const std::string& text);

}  // namespace kernelsweep
