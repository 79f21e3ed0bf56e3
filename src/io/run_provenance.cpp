#include "io/run_provenance.hpp"

#include <unistd.h>

#include <Eigen/Core>
#include <boost/version.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "io/hdf5_handle.hpp"
#include "kernelsweep/version.hpp"

namespace kernelsweep {

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string library_versions(const std::string& extra) {
  std::string text = "HDF5 " + h5::library_version() + "; Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                     std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
                     "; Boost " + std::to_string(BOOST_VERSION / 100000) + "." +
                     std::to_string(BOOST_VERSION / 100 % 1000) + "; nlohmann_json " +
                     std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." + std::to_string(NLOHMANN_JSON_VERSION_MINOR) +
                     "." + std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  if (!extra.empty()) text += "; " + extra;
  return text;
}

std::map<std::string, std::string> file_provenance(const std::string& mpi_library) {
  return {{"kernelsweep_version", kVersion},
          {"git_commit", kGitCommit},
          {"library_versions", library_versions(mpi_library)},
          {"created", utc_now()}};
}

nlohmann::json run_environment() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  nlohmann::json env = {{"host", host}, {"pid", static_cast<long>(getpid())}};
  if (const char* user = std::getenv("USER")) env["user"] = user;
  nlohmann::json slurm = nlohmann::json::object();
  for (const char* name : kSlurmVariables)
    if (const char* value = std::getenv(name)) slurm[name] = value;
  env["slurm"] = slurm;
  return env;
}

}  // namespace kernelsweep
