#include "io/output_lock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "io/results_file_error.hpp"
#include "io/results_session.hpp"
#include "io/run_provenance.hpp"

namespace kernelsweep {

namespace fs = std::filesystem;

namespace {

// Whole-file write lock, not waiting. OFD locks belong to the open file description, so another
// descriptor of the same file closed elsewhere in this process does not drop it (as it would a
// classic POSIX lock); kernels without them get the classic lock.
int try_lock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
  if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return 0;
  if (errno != EINVAL) return errno;
#endif
  return ::fcntl(fd, F_SETLK, &lock) == 0 ? 0 : errno;
}

std::string read_holder(const std::string& lock_path) {
  std::ifstream in(lock_path);
  std::string line;
  std::getline(in, line);
  const auto row = nlohmann::json::parse(line, nullptr, false);
  if (!row.is_object()) return "holder unknown: it has not written its name yet";
  std::string text =
      "host " + row.value("host", "?") + ", pid " + std::to_string(row.value("pid", 0L));
  if (row.contains("slurm_job") && !row["slurm_job"].get<std::string>().empty())
    text += ", SLURM job " + row["slurm_job"].get<std::string>();
  return text + ", since " + row.value("since", "?");
}

bool same_file(int fd, const std::string& path) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

bool locking_unsupported(int error) {
  return error == ENOLCK || error == ENOSYS || error == EOPNOTSUPP || error == EINVAL;
}

}  // namespace

std::string lock_path_for(const std::string& results_path) {
  return results_path + ".lock";
}

OutputLock::OutputLock(const std::string& results_path) : path_(lock_path_for(results_path)) {
  // The holder removes the lock file when it ends; a run that opened the file just before that
  // removal holds a lock on a deleted file, so it checks that the path still names its file.
  for (int attempt = 0; attempt < 100; ++attempt) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw ResultsFileError(path_ + ": cannot create the lock file: " + std::strerror(errno));
    const int error = try_lock(fd_);
    if (error == 0 && same_file(fd_, path_)) break;
    ::close(fd_);
    fd_ = -1;
    if (error == EAGAIN || error == EACCES)
      throw ResultsFileError(results_path + " is being written by another run (" +
                             read_holder(path_) + "); wait for it to end or stop it (lock " +
                             path_ + ")");
    if (error != 0 && locking_unsupported(error)) {
      if (std::getenv("KERNELSWEEP_NO_LOCK")) return;  // the user takes the responsibility
      throw ResultsFileError(
          path_ + ": the file system does not support locks (" + std::strerror(error) +
          "); mount with locking (NFS: lock, Lustre: -o flock) or set KERNELSWEEP_NO_LOCK=1 "
          "and make sure no two runs write " +
          results_path);
    }
    if (error != 0) throw ResultsFileError(path_ + ": cannot lock: " + std::strerror(error));
  }
  if (fd_ < 0) throw ResultsFileError(path_ + ": cannot lock: the lock file keeps being replaced");
  const nlohmann::json env = run_environment();
  const char* job = std::getenv("SLURM_JOB_ID");
  const std::string row = nlohmann::json{{"host", env.value("host", "")},
                                         {"pid", env.value("pid", 0L)},
                                         {"slurm_job", job ? job : ""},
                                         {"since", utc_now()}}
                              .dump() +
                          "\n";
  // Best effort: the lock itself is what excludes; the text only names the holder.
  if (::ftruncate(fd_, 0) == 0 &&
      ::pwrite(fd_, row.data(), row.size(), 0) == static_cast<ssize_t>(row.size()))
    ::fsync(fd_);
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding the lock (see the constructor)
  ::close(fd_);
}

std::string output_lock_holder(const std::string& results_path) {
  const std::string path = lock_path_for(results_path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  int rc = -1;
#ifdef F_OFD_GETLK
  rc = ::fcntl(fd, F_OFD_GETLK, &lock);
#endif
  if (rc != 0) rc = ::fcntl(fd, F_GETLK, &lock);
  ::close(fd);
  if (rc != 0 || lock.l_type == F_UNLCK) return "";
  return read_holder(path);
}

void refuse_to_clobber_results(const std::string& path) {
  std::error_code ec;
  const auto is_results_file = [](const std::string& p) {
    std::error_code e;
    if (!fs::is_regular_file(p, e)) return false;
    if (fs::exists(journal_path_for(p), e)) return true;
    std::ifstream in(p, std::ios::binary);
    char signature[8] = {};
    in.read(signature, sizeof signature);
    return in.gcount() == 8 && std::memcmp(signature, "\x89HDF\r\n\x1a\n", 8) == 0;
  };
  const auto strip = [&](const std::string& suffix) -> std::string {
    if (path.size() > suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
      return path.substr(0, path.size() - suffix.size());
    return "";
  };
  std::string what;
  if (is_results_file(path)) what = "a results file";
  for (const char* suffix : {".journal", ".lock"}) {
    const std::string base = strip(suffix);
    if (what.empty() && !base.empty() &&
        (fs::exists(base, ec) || fs::exists(journal_path_for(base), ec)))
      what = std::string("the ") + (suffix[1] == 'j' ? "journal" : "lock") +
             " of the results file " + base;
  }
  if (!what.empty())
    throw ResultsFileError(path + " is " + what +
                           "; refusing to overwrite it (choose another --out)");
}

}  // namespace kernelsweep
