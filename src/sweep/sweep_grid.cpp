#include "sweep/sweep_grid.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace kernelsweep {

SweepGrid::SweepGrid(SweepSpec spec) : spec_(std::move(spec)) {
  std::vector<bool> placed(spec_.axes.size(), false);
  for (std::size_t i = 0; i < spec_.axes.size(); ++i) {
    if (placed[i]) continue;
    SweepDimension dimension;
    dimension.name = spec_.axes[i].name;
    dimension.length = spec_.axes[i].values.size();
    dimension.axes.push_back(static_cast<int>(i));
    placed[i] = true;
    for (const auto& group : spec_.zip) {
      if (std::find(group.begin(), group.end(), spec_.axes[i].key) == group.end()) continue;
      for (std::size_t j = 0; j < spec_.axes.size(); ++j)
        if (!placed[j] && std::find(group.begin(), group.end(), spec_.axes[j].key) != group.end()) {
          dimension.axes.push_back(static_cast<int>(j));
          placed[j] = true;
        }
    }
    dimensions_.push_back(dimension);
  }
  for (const auto& d : dimensions_) {
    // Saturate instead of overflowing: check_grid_size refuses such grids anyway.
    if (d.length != 0 && size_ > std::numeric_limits<std::uint64_t>::max() / d.length)
      size_ = std::numeric_limits<std::uint64_t>::max();
    else
      size_ *= d.length;
  }
}

std::vector<std::size_t> SweepGrid::shape() const {
  std::vector<std::size_t> s;
  for (const auto& d : dimensions_) s.push_back(d.length);
  return s;
}

std::vector<std::size_t> SweepGrid::coordinates(std::uint64_t point) const {
  if (point >= size_)
    throw std::out_of_range("point " + std::to_string(point) + " is outside the grid");
  std::vector<std::size_t> index(dimensions_.size());
  for (std::size_t d = dimensions_.size(); d-- > 0;) {
    index[d] = point % dimensions_[d].length;
    point /= dimensions_[d].length;
  }
  return index;
}

std::string SweepGrid::describe(std::uint64_t point) const {
  const auto index = coordinates(point);
  std::string text;
  for (std::size_t d = 0; d < dimensions_.size(); ++d)
    for (const int a : dimensions_[d].axes) {
      const auto& axis = spec_.axes[static_cast<std::size_t>(a)];
      text += (text.empty() ? "" : ", ") + axis.name + "=" + axis.values[index[d]].Scalar();
    }
  return text;
}

PointConfig SweepGrid::config(std::uint64_t point) const {
  YAML::Node root = YAML::Clone(spec_.base);
  const auto index = coordinates(point);
  for (std::size_t d = 0; d < dimensions_.size(); ++d)
    for (const int a : dimensions_[d].axes) {
      const auto& axis = spec_.axes[static_cast<std::size_t>(a)];
      apply_override(root, axis.key + "=" + axis.values[index[d]].Scalar());
    }
  PointConfig config;
  try {
    config = parse_point_config(root);
  } catch (const ConfigError& e) {
    throw ConfigError("point " + std::to_string(point) + " (" + describe(point) + "): " + e.what());
  }
  config.theory.seed = spec_.seed;
  config.sgld.seed = spec_.seed;
  config.theory.point_index = point;
  return config;
}

void check_grid_size(const SweepGrid& grid, bool confirmed) {
  if (grid.size() == 0) throw ConfigError(grid.spec().name + ": the grid is empty");
  // The product in floating point: exact for sane grids, and no overflow for absurd ones (the
  // integer size saturates at 2^64 - 1).
  double points = 1.0;
  for (const auto& d : grid.dimensions()) points *= static_cast<double>(d.length);
  // Too large for any file first: --yes would not help there.
  if (points > static_cast<double>(kMaxPoints))
    throw ConfigError(too_many_points(grid.spec().name, points));
  if (grid.size() > kMaxPointsWithoutConfirmation && !confirmed)
    throw ConfigError(grid.spec().name + ": the grid has " + std::to_string(grid.size()) +
                      " points (> 10^7); pass --yes if you really mean it");
}

}  // namespace kernelsweep
