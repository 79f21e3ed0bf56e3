#pragma once
// Who ran what, where: the provenance of the file (root attributes, written once) and of every
// `run` invocation (one row each, in /runs/log and the journal). The SLURM ids let
// `kernelsweep status` list which jobs contributed to a file.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace kernelsweep {

// The SLURM variables recorded per run, when present.
inline constexpr const char* kSlurmVariables[] = {"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
                                                  "SLURM_STEP_ID", "SLURM_RESTART_COUNT", "SLURM_JOB_NAME"};

std::string utc_now();  // ISO 8601, e.g. 2025-01-31T12:00:00Z
// HDF5, Eigen, Boost, yaml-cpp, nlohmann_json, plus `extra` (e.g. the MPI library).
std::string library_versions(const std::string& extra);
// Root attributes for a new file: versions, git commit, creation time.
std::map<std::string, std::string> file_provenance(const std::string& mpi_library);
// host, pid, user, slurm {VAR: value} of this process.
nlohmann::json run_environment();

}  // namespace kernelsweep
