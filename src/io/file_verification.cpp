#include "io/file_verification.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/hdf5_handle.hpp"
#include "io/phase_diagram_store.hpp"
#include "io/results_session.hpp"
#include "sweep/result_fields.hpp"

namespace kernelsweep {

namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The same bits, the same text, the same arrays (shapes included) for every field of the table.
bool same_fields(const PointResult& a, const PointResult& b) {
  for (const auto& f : result_fields()) {
    if (part_present(f, a) != part_present(f, b)) return false;
    switch (f.kind()) {
      case FieldKind::text:
        if (text_of(f, a) != text_of(f, b)) return false;
        break;
      case FieldKind::array: {
        const Eigen::MatrixXd* x = array_of(f, a);
        const Eigen::MatrixXd* y = array_of(f, b);
        if ((x == nullptr) != (y == nullptr)) return false;
        if (x == nullptr) break;
        if (x->rows() != y->rows() || x->cols() != y->cols()) return false;
        for (Eigen::Index i = 0; i < x->size(); ++i)
          if (!same_bits(x->data()[i], y->data()[i])) return false;
        break;
      }
      default:
        if (!same_bits(number_of(f, a), number_of(f, b))) return false;
    }
  }
  return true;
}

}  // namespace

FileVerification verify_file_against_journal(const std::string& path,
                                             const std::map<std::uint64_t, PointResult>& journal) {
  FileVerification v;
  try {
    const PhaseDiagramStore store = PhaseDiagramStore::open(path, false);
    store.sweep_hash();  // what resume reads besides the points: the sweep and the run log
    store.sweep_yaml();
    store.run_rows();
    v.last_write_completed = store.last_write_completed();
    const auto status = store.statuses();
    auto file_points = store.read_points(false);  // the grid variables, each read once
    if (file_points.empty()) store.check_variables_readable();
    for (const auto& [point, result] : journal) {
      ++v.checked;
      bool same = false;
      try {
        const auto it = file_points.find(point);
        if (it != file_points.end()) {
          store.read_point_arrays(point, &it->second);
          same = same_fields(it->second, result);
        }
      } catch (const std::exception&) {  // a damaged group or dataset: rewrite it from the journal
      }
      if (same) continue;
      v.differing.push_back(point);
      if (point < status.size() && status[point] != 0) v.damaged.push_back(point);
    }
    const auto with_arrays = store.points_with_arrays();
    for (std::uint64_t p = 0; p < status.size(); ++p) {
      if (journal.count(p)) continue;
      if (status[p] == 0) {
        if (std::binary_search(with_arrays.begin(), with_arrays.end(), p))
          v.unaccounted.push_back(p);
        continue;
      }
      try {
        store.read_point_arrays(p, &file_points.at(p));
        v.unverified.push_back(p);
      } catch (const std::exception&) {
        v.unaccounted.push_back(p);
      }
    }
  } catch (const std::exception& e) {
    v.error = e.what();
  }
  return v;
}

FileVerification verify_file_isolated(const std::string& path,
                                      const std::map<std::uint64_t, PointResult>& journal) {
  int channel[2];
  if (::pipe(channel) != 0) return verify_file_against_journal(path, journal);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(channel[0]);
    ::close(channel[1]);
    return verify_file_against_journal(path, journal);
  }
  if (child == 0) {
    ::close(channel[0]);
    const FileVerification v = verify_file_against_journal(path, journal);
    const std::string text = nlohmann::json{
        {"checked", v.checked},
        {"differing", v.differing},
        {"damaged", v.damaged},
        {"unverified", v.unverified},
        {"unaccounted", v.unaccounted},
        {"last_write_completed", v.last_write_completed},
        {"error", v.error}}.dump();
    for (std::size_t at = 0; at < text.size();) {
      const ssize_t n = ::write(channel[1], text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    ::_exit(0);  // no atexit handlers, no MPI, no HDF5 shutdown in the child
  }
  ::close(channel[1]);
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = ::read(channel[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(channel[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  FileVerification v;
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!WIFEXITED(status) || !parsed.is_object()) {
    v.error = path + ": reading the file crashed HDF5 (" +
              (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                   : std::string("no answer")) +
              "): its metadata is damaged";
    return v;
  }
  v.checked = parsed.at("checked").get<std::size_t>();
  v.differing = parsed.at("differing").get<std::vector<std::uint64_t>>();
  v.damaged = parsed.at("damaged").get<std::vector<std::uint64_t>>();
  v.unverified = parsed.at("unverified").get<std::vector<std::uint64_t>>();
  v.unaccounted = parsed.at("unaccounted").get<std::vector<std::uint64_t>>();
  v.last_write_completed = parsed.at("last_write_completed").get<bool>();
  v.error = parsed.at("error").get<std::string>();
  return v;
}

FileVerification verify_results_file(const std::string& path) {
  FileVerification v;
  const std::string jpath = journal_path_for(path);
  if (!std::filesystem::exists(jpath)) {
    v.error = jpath + " does not exist: nothing to verify against";
    return v;
  }
  try {
    const JournalContents contents = read_journal(jpath);
    std::string hash;
    try {
      hash = PhaseDiagramStore::open(path, false).sweep_hash();
    } catch (const std::exception& e) {
      v.error = e.what();
      return v;
    }
    v.error = journal_sweep_problem(contents, hash, jpath);
    if (!v.error.empty()) return v;
    return verify_file_isolated(path, latest_journal_points(contents));
  } catch (const std::exception& e) {
    v.error = e.what();
  }
  return v;
}

}  // namespace kernelsweep
