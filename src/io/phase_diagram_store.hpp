#pragma once
// The phase-diagram file (HDF5, CF-1.8, readable by h5py and by xarray through h5netcdf). Every
// variable comes from the field table (sweep/result_fields.hpp); layout (file_format 2):
//   /<dim>                 one dimension scale per grid dimension (lam, T, architecture, ...) with
//                          long_name, units and config_key; zip partners are extra coordinates
//   /<field>               one variable over the grid per scalar field (status, message, wall_time,
//                          rank, theory_q, sgld_abs_q_mean, ...): float64 (NaN = not computed),
//                          int64 (-1), int8 flags (flag_values / flag_meanings), UTF-8 strings;
//                          attributes long_name, units, description
//   /points/<i>/<field>    per-point arrays, i = flat C-order point index (kernels M x M with
//                          M = T P, mu = t P + p; always 2-D, also for M = 1); the /points group
//                          describes each array (<field>_long_name, _units, _dims, _description)
//   /provenance/sweep_yaml the normalized sweep spec (a dataset: no size limit)
//   /runs/log              one JSON row per `run` invocation (start, end, argv, ranks, SLURM ids)
//   root attributes        provenance: sweep_hash, sweep_name, seed, versions, times, ...;
//                          write_in_progress (int8: 1 from before a write until its last flush)
// Only rank 0 writes. Per batch of points: mark, flush, arrays and values, flush, statuses and
// cleared mark, flush.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "io/hdf5_handle.hpp"
#include "sweep/point_result.hpp"
#include "sweep/sweep_grid.hpp"

namespace kernelsweep {

// The format this build writes and reads (root attribute file_format).
inline constexpr const char* kFileFormat = "kernelsweep-phase-diagram 2";

class PhaseDiagramStore {
 public:
  // Creates PATH (must not exist) with every dataset allocated and filled.
  static PhaseDiagramStore create(const std::string& path, const SweepGrid& grid,
                                  const std::map<std::string, std::string>& provenance);
  // Refuses (h5::Error, one line) a file of another format, naming both formats.
  static PhaseDiagramStore open(const std::string& path, bool writable);

  const std::string& path() const { return file_.path(); }
  std::string sweep_hash() const;
  std::string sweep_yaml() const;
  std::vector<std::size_t> shape() const;

  void write_point(const PointResult& result);
  // A batch of points: every point's arrays and values, flush, then every status, flush (two
  // flushes per batch instead of two per point).
  void write_points(std::span<const PointResult> batch);
  std::vector<std::int8_t> statuses() const;
  std::vector<double> scalar(const std::string& name) const;  // a real or integer variable
  std::vector<double> wall_times() const { return scalar("wall_time"); }
  // Every point that is not pending, each variable read once; arrays only if asked.
  std::map<std::uint64_t, PointResult> read_points(bool with_arrays) const;
  // Reads every grid variable once; throws h5::Error naming one that does not read. (read_points
  // reads them only when some point is recorded: this checks a file that has none yet.)
  void check_variables_readable() const;
  PointResult read_point(std::uint64_t point) const;
  // The points that have a group of per-point arrays in the file, ascending (a pending point
  // with one: a write that a kill interrupted). Throws h5::Error if the groups do not list.
  std::vector<std::uint64_t> points_with_arrays() const;
  // Adds the point's per-point arrays (kernels, curves, traces) to *result.
  void read_point_arrays(std::uint64_t point, PointResult* result) const {
    read_arrays(point, result);
  }

  void append_run_row(const std::string& json_row);
  // False if a write into the file began and did not complete (root attribute
  // write_in_progress, set and flushed before every write, cleared with its last flush): a kill
  // or a failure mid-write. Such a file is not written into again: HDF5 metadata and
  // variable-length string references left by the interrupted write may point anywhere, and an
  // overwritten string frees whatever its stale reference points to, another point's text
  // included. Files without the attribute (earlier versions) count as interrupted.
  bool last_write_completed() const;
  std::vector<std::string> run_rows() const;
  void set_attribute(const std::string& name, const std::string& value);
  std::string attribute(const std::string& name) const;
  void flush() { file_.flush(); }
  void close() { file_.close(); }

 private:
  explicit PhaseDiagramStore(h5::File file) : file_(std::move(file)) {}
  void begin_write();  // write_in_progress = 1, flushed
  void end_write();    // write_in_progress = 0 and everything written since, flushed
  void read_arrays(std::uint64_t point, PointResult* result) const;
  h5::File file_;
};

}  // namespace kernelsweep
