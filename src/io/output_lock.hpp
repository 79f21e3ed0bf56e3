#pragma once
// One writer per results file: an exclusive lock on a lock file beside the output
// (<out>.lock), taken before a run, --force or --resume touches the file or its journal, and held
// until the run ends. The kernel drops the lock when the holder dies (SIGKILL, node crash on
// NFSv4 after the lease), so a stale lock file never blocks a retry.
// Mechanism: open-file-description fcntl locks (F_OFD_SETLK, Linux >= 3.15; classic F_SETLK
// elsewhere), which NFS (NLM / NFSv4 locks) and Lustre mounted with -o flock propagate between
// nodes. Lustre with -o localflock only locks within one node; with -o noflock, or an NFS mount
// with -o nolock, locking fails and the run refuses to start unless KERNELSWEEP_NO_LOCK=1.
// The holder writes one JSON line into the lock file (host, pid, SLURM job, start), which the
// refusal message quotes.
#include <string>

namespace kernelsweep {

std::string lock_path_for(const std::string& results_path);

class OutputLock {
 public:
  // Takes the lock on lock_path_for(results_path) without waiting; throws ResultsFileError
  // ("<out> is being written by another run (host h, pid p, SLURM job j, since t)") if held.
  explicit OutputLock(const std::string& results_path);
  ~OutputLock();  // removes the lock file, then releases the lock
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  const std::string& path() const { return path_; }
  bool held() const { return fd_ >= 0; }

 private:
  std::string path_;
  int fd_ = -1;
};

// The holder of the lock on RESULTS_PATH as "host h, pid p, SLURM job j, since t", or "" if
// nobody holds it (readers such as `status` use it to say a run is live).
std::string output_lock_holder(const std::string& results_path);

// export --out and other writers of derived files: throws ResultsFileError if PATH is a results
// file, its journal or its lock (or one of those of another path naming the same file).
void refuse_to_clobber_results(const std::string& path);

}  // namespace kernelsweep
