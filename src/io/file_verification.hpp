#pragma once
// Checks the HDF5 view against the journal, point by point: the file can be damaged where HDF5
// does not notice (a flipped byte in a value, a point group that no longer reads), and the
// journal, fsynced first and CRC-checked per record, holds the truth. Used by --resume (which
// rewrites every point that differs from its journal record) and by `status --verify`.
// A point matches when its status, message, every scalar, wall time, rank and every kernel are
// bit-identical to its latest journal record.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sweep/point_result.hpp"

namespace kernelsweep {

struct FileVerification {
  std::size_t checked = 0;                // points with a journal record compared
  std::vector<std::uint64_t> differing;   // file differs from (or cannot show) the journal's result
  // Of those, the points the file records as not pending: their bytes were damaged after they
  // were written (a kill leaves a point pending: values are flushed before its status).
  std::vector<std::uint64_t> damaged;
  // Not pending in the file, no intact journal record, and every value and array reads.
  std::vector<std::uint64_t> unverified;
  // Traces in the file that no intact journal record accounts for: a pending point with a group
  // of arrays (a write a kill interrupted, whose record was then damaged) or an unverified point
  // whose arrays do not read. A killed write can leave HDF5 metadata pointing past the end of the
  // file, and writing over it fails (or worse), so such a file is rebuilt, never written into.
  std::vector<std::uint64_t> unaccounted;
  bool last_write_completed = false;  // PhaseDiagramStore::last_write_completed
  std::string error;                  // the file could not be read at all
};

// `journal` is the latest intact record per point. Reads `path` without locking it.
FileVerification verify_file_against_journal(const std::string& path,
                                             const std::map<std::uint64_t, PointResult>& journal);

// The same, in a child process: the default HDF5 format has no metadata checksums, and HDF5 can
// crash on damaged metadata; a crash of the child is reported as `error` (the file is damaged).
FileVerification verify_file_isolated(const std::string& path,
                                      const std::map<std::uint64_t, PointResult>& journal);

// Reads the journal beside `path` and verifies (for `status --verify`); a journal that belongs to
// another sweep, or none, gives error.
FileVerification verify_results_file(const std::string& path);

}  // namespace kernelsweep
