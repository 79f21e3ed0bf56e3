#include "io/file_verification.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/hdf5_handle.hpp"
#include "io/results_session.hpp"

namespace kernelsweep {

namespace {

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The file's columns, read once (a per-point read of every column would cost O(points) each).
// Layout as in phase_diagram_store.hpp: /status, one dataset per scalar, /wall_time, /rank,
// /points/<i>/<kernel> with attributes message, wall_time, rank.
struct Columns {
  std::vector<std::int64_t> status, rank;
  std::vector<double> wall_time;
  std::map<std::string, std::vector<double>> scalars;
};

Columns read_columns(const h5::File& file) {
  Columns c;
  // What resume reads besides the points: the sweep attributes and the run log.
  h5::string_attribute(file, "/", "sweep_hash");
  h5::string_attribute(file, "/", "sweep_yaml");
  h5::read_strings(file, "runs/log");
  const auto require_type = [&](const std::string& name, h5::ElementType type) {
    if (!h5::has_element_type(file, name, type))
      throw h5::Error(file.path() + ": " + name + " has a damaged element type");
  };
  require_type("status", h5::ElementType::int8);
  require_type("rank", h5::ElementType::int32);
  require_type("wall_time", h5::ElementType::float64);
  for (const auto& name : scalar_result_names()) require_type(name, h5::ElementType::float64);
  c.status = h5::read_ints(file, "status");
  c.rank = h5::read_ints(file, "rank");
  c.wall_time = h5::read_doubles(file, "wall_time");
  for (const auto& name : scalar_result_names()) c.scalars[name] = h5::read_doubles(file, name);
  return c;
}

bool same_kernel(const h5::File& file, const std::string& path, const Eigen::MatrixXd& m) {
  const auto dims = h5::shape(file, path);
  const std::size_t rows = dims.empty() ? 0 : dims[0], cols = dims.size() > 1 ? dims[1] : 1;
  if (rows != static_cast<std::size_t>(m.rows()) || cols != static_cast<std::size_t>(m.cols()))
    return false;
  if (!h5::has_element_type(file, path, h5::ElementType::float64)) return false;
  const auto data = h5::read_doubles(file, path);  // row-major
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      if (!same_bits(data[static_cast<std::size_t>(i * m.cols() + j)], m(i, j))) return false;
  return true;
}

bool matches(const h5::File& file, const Columns& c, const PointResult& r) {
  const std::size_t p = r.point;
  if (p >= c.status.size() || c.status[p] != static_cast<std::int64_t>(r.status)) return false;
  for (const auto& [name, column] : c.scalars) {
    const auto it = r.scalars.find(name);
    if (!same_bits(column.at(p),
                   it == r.scalars.end() ? std::numeric_limits<double>::quiet_NaN() : it->second) &&
        !(it == r.scalars.end() && std::isnan(column[p])))
      return false;
  }
  if (!same_bits(c.wall_time.at(p), r.wall_time) || c.rank.at(p) != r.rank) return false;
  const std::string group = "points/" + std::to_string(p);
  if (!h5::exists(file, group)) return false;
  // Everything a reader reads back per point (the group's attributes too).
  if (h5::string_attribute(file, group, "message") != r.message) return false;
  if (h5::string_attribute(file, group, "status") != to_string(r.status)) return false;
  if (!same_bits(h5::double_attribute(file, group, "wall_time"), r.wall_time)) return false;
  if (h5::double_attribute(file, group, "rank") != static_cast<double>(r.rank)) return false;
  const auto names = h5::list_group(file, group);
  if (names.size() != r.kernels.size()) return false;
  for (const auto& name : names) {
    const auto it = r.kernels.find(name);
    if (it == r.kernels.end() || !same_kernel(file, group + "/" + name, it->second)) return false;
  }
  return true;
}

}  // namespace

FileVerification verify_file_against_journal(const std::string& path,
                                             const std::map<std::uint64_t, PointResult>& journal) {
  FileVerification v;
  try {
    const h5::File file = h5::File::open(path, false);
    const Columns columns = read_columns(file);
    for (const auto& [point, result] : journal) {
      ++v.checked;
      bool same = false;
      try {
        same = matches(file, columns, result);
      } catch (const std::exception&) {  // a damaged group or dataset: rewrite it from the journal
      }
      if (!same) v.differing.push_back(point);
    }
    for (std::uint64_t p = 0; p < columns.status.size(); ++p)
      if (columns.status[p] != 0 && !journal.count(p)) v.unverified.push_back(p);
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
        {"unverified", v.unverified},
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
  v.unverified = parsed.at("unverified").get<std::vector<std::uint64_t>>();
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
