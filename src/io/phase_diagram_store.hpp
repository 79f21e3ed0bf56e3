#pragma once
// The phase-diagram file (HDF5, readable by h5py and by xarray through h5netcdf). Layout:
//   /<dim>                      one dimension scale per grid dimension (lam, T, architecture, ...);
//                               zip partners are extra 1-D coordinates on the same dimension
//   /status                     int8 over the grid: 0 pending, 1 done, 2 failed, 3 not_converged
//                               (CF flag_values / flag_meanings)
//   /<scalar>                   float64 over the grid, NaN = not computed (scalar_result_names())
//   /wall_time, /rank           seconds spent on the point, rank that computed it (-1: not yet)
//   /points/<i>/<kernel>        per-point arrays, i = flat C-order point index: theory_H, theory_C,
//                               theory_f, sgld_H, sgld_C, sgld_H_stderr, sgld_f, sgld_outlier_eigenvalue;
//                               kernels are M x M, M = T P, row/column mu = t P + p;
//                               attributes status, message, wall_time, rank
//   /runs/log                   one JSON row per `run` invocation (start, end, argv, ranks, SLURM ids)
//   root attributes             provenance: sweep_yaml, sweep_hash, seed, versions, times, ...
// Only rank 0 writes. Per batch of points: kernels and values, flush, statuses, flush.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/hdf5_handle.hpp"
#include "sweep/point_result.hpp"
#include "sweep/sweep_grid.hpp"

namespace kernelsweep {

class PhaseDiagramStore {
 public:
  // Creates PATH (must not exist) with every dataset allocated and filled.
  static PhaseDiagramStore create(const std::string& path, const SweepGrid& grid,
                                  const std::map<std::string, std::string>& provenance);
  static PhaseDiagramStore open(const std::string& path, bool writable);

  const std::string& path() const { return file_.path(); }
  std::string sweep_hash() const;
  std::string sweep_yaml() const;
  std::vector<std::size_t> shape() const;

  void write_point(const PointResult& result);
  // A batch of points: every point's kernels and values, flush, then every status, flush (two
  // flushes per batch instead of two per point).
  void write_points(std::span<const PointResult> batch);
  std::vector<std::int8_t> statuses() const;
  std::vector<double> scalar(const std::string& name) const;
  std::vector<double> wall_times() const { return scalar("wall_time"); }
  // The per-point group: message and kernels (empty if the point has none).
  PointResult read_point(std::uint64_t point) const;

  void append_run_row(const std::string& json_row);
  std::vector<std::string> run_rows() const;
  void set_attribute(const std::string& name, const std::string& value);
  std::string attribute(const std::string& name) const;
  void flush() { file_.flush(); }
  void close() { file_.close(); }

 private:
  explicit PhaseDiagramStore(h5::File file) : file_(std::move(file)) {}
  h5::File file_;
};

}  // namespace kernelsweep
