#pragma once
// The results of one `run`: the journal (source of truth, fsynced first) and the HDF5 view, and the
// rules for starting over an existing file:
//   another run holds <file>.lock -> refuse (before anything is read, renamed or removed)
//   no file, no journal           -> create both
//   existing file or journal      -> refuse unless --resume (continue) or --force (delete both,
//   start over)
//   --resume, different sweep     -> refuse, naming the file and both hashes
//   --resume, damaged HDF5 file   -> move it aside (<file>.damaged-<time>-<pid>) and rebuild it
//   from the journal
//   --resume, file differs from the journal at some point (a flipped byte HDF5 does not notice)
//                                 -> rewrite those points from the journal (file_verification.hpp)
//   --resume, file behind journal -> replay the journal's points into the file (killed between the
//   two)
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "io/journal.hpp"
#include "io/output_lock.hpp"
#include "io/phase_diagram_store.hpp"
#include "io/results_file_error.hpp"

namespace kernelsweep {

struct SessionOptions {
  bool resume = false;
  bool retry_failed = false;
  bool force = false;
};

std::string journal_path_for(const std::string& results_path);

// The latest intact record of every point in the journal (a retried point's later result wins).
std::map<std::uint64_t, PointResult> latest_journal_points(const JournalContents& contents);

// Why the journal cannot be used with the sweep of hash `expected_hash` ("" if it can): a record
// names another sweep, or none names any (a damaged header never skips this check).
std::string journal_sweep_problem(const JournalContents& contents, const std::string& expected_hash,
                                  const std::string& journal_path);

// What one group commit cost (for the coordinator's --stats).
struct BatchCommit {
  double journal_seconds = 0.0;  // write + fsync of the batch's journal records
  double file_seconds = 0.0;     // HDF5: values, flush, statuses, flush
  std::size_t journal_bytes = 0;
};

class ResultsSession {
 public:
  ResultsSession(const std::string& path, const SweepGrid& grid, const SessionOptions& options,
                 const std::map<std::string, std::string>& provenance);

  // Points still to compute (pending, plus failed / not_converged with --retry-failed), ascending.
  const std::vector<std::uint64_t>& todo() const { return todo_; }
  std::size_t already_done() const { return already_done_; }
  // Notes about what opening did (rebuilt from journal, replayed N points, dropped torn record).
  const std::vector<std::string>& notes() const { return notes_; }

  // Journal (fsync) first, then the HDF5 file.
  void record(const PointResult& result);
  // Group commit: every record of the batch appended with one write and ONE fsync, then the
  // batch written to the HDF5 file (values, flush, statuses, flush). When it returns, every point
  // of the batch is durable; if it throws, the points may or may not be in the journal, and
  // resume treats them by what the journal holds (a point is never half recorded).
  BatchCommit record_batch(std::span<const PointResult> results);
  void record_run(const nlohmann::json& row);
  PhaseDiagramStore& store() { return *store_; }

 private:
  // Renames the damaged file to a unique kept name (unique_kept_name) and notes why.
  void set_aside_damaged(const std::string& path, const std::string& why);
  std::string path_, sweep_hash_;
  std::unique_ptr<OutputLock> lock_;  // first: released after the file and the journal are closed
  std::unique_ptr<JournalWriter> journal_;
  std::unique_ptr<PhaseDiagramStore> store_;
  std::vector<std::uint64_t> todo_;
  std::size_t already_done_ = 0;
  std::vector<std::string> notes_;
};

// Everything a results file knows, read without writing: from the HDF5 file if it opens, with the
// journal's records layered on top (so a damaged or live file still reports every finished point).
struct DiagramSnapshot {
  std::string path;
  bool file_readable = false;
  std::string file_error;
  bool journal_present = false;
  std::string
      journal_problem;       // non-empty: the journal belongs to another sweep (or cannot be
                             // checked) and was NOT layered onto the file; the file is not complete
  std::string journal_note;  // damaged journal regions skipped
  std::string sweep_yaml, sweep_hash;
  std::map<std::string, std::string> attributes;
  std::vector<std::int8_t> status;
  std::map<std::uint64_t, PointResult> results;  // every point with a result (from journal or file)
  std::vector<nlohmann::json> runs;
};
DiagramSnapshot read_snapshot(const std::string& path, bool with_kernels);

}  // namespace kernelsweep
