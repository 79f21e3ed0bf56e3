#pragma once
// The grid a sweep spec describes: dimensions (one per axis, or one per zip group), the
// C-order flat point index used everywhere (file, journal, random streams), and the point
// config of every index.
#include <cstdint>
#include <string>
#include <vector>

#include "sweep/point_config.hpp"
#include "sweep/sweep_spec.hpp"

namespace kernelsweep {

struct SweepDimension {
  std::string name;          // the first axis's name; zip partners become extra coordinates
  std::vector<int> axes;     // indices into SweepSpec::axes, first one names the dimension
  std::size_t length = 0;
};

class SweepGrid {
 public:
  explicit SweepGrid(SweepSpec spec);

  const SweepSpec& spec() const { return spec_; }
  const std::vector<SweepDimension>& dimensions() const { return dimensions_; }
  std::vector<std::size_t> shape() const;
  std::uint64_t size() const { return size_; }

  // Index along every dimension of a flat point index (C order: last dimension fastest).
  std::vector<std::size_t> coordinates(std::uint64_t point) const;
  // "lam=0.2, architecture=rnn" for messages.
  std::string describe(std::uint64_t point) const;
  // The point config of a grid point, seeds set from the sweep: theory.seed = sgld.seed = seed,
  // theory.point_index = point. Throws ConfigError naming the point if the combination is invalid.
  PointConfig config(std::uint64_t point) const;

 private:
  SweepSpec spec_;
  std::vector<SweepDimension> dimensions_;
  std::uint64_t size_ = 1;
};

// Refuses empty or absurd grids; `confirmed` (--yes) lifts the size limit.
inline constexpr std::uint64_t kMaxPointsWithoutConfirmation = 10'000'000;
// Even with --yes: kMaxPoints (sweep_spec.hpp).
void check_grid_size(const SweepGrid& grid, bool confirmed);

}  // namespace kernelsweep
