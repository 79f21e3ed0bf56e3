#pragma once
// The subcommands of the kernelsweep executable, one file each, and what they share: exit codes
// and the parsing of "CONFIG.yaml [--set key=value ...] [--json]".
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace kernelsweep::cli {

// Exit codes (documented in the README; SLURM scripts rely on them).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the computation ran and failed (status failed)
inline constexpr int kExitBadInput = 2;     // bad config, bad option, unusable file
inline constexpr int kExitInternal = 3;     // a bug: please report
inline constexpr int kExitInterrupted = 75; // interrupted by a signal, resumable (EX_TEMPFAIL)

using Arguments = std::vector<std::string>;

struct ConfigArguments {
  std::string config_path;
  std::vector<std::string> overrides;
  bool json = false;
};

// Parses argv with at most one positional argument, stored under `positional`; on --help prints
// `usage` and the options and exits 0.
boost::program_options::variables_map parse_command_line(
    const Arguments& argv, const boost::program_options::options_description& options,
    const std::string& positional, const std::string& usage);

// Options shared by commands that take one config file as positional argument.
boost::program_options::options_description config_options(ConfigArguments& args);
// Parses; prints help and exits on --help; throws boost::program_options::error when CONFIG is missing.
boost::program_options::variables_map parse_config_command(
    const Arguments& argv, const boost::program_options::options_description& options,
    const std::string& command);

// Throws ConfigError (exit 2) if PATH, a config or sweep spec, is a directory.
void require_regular_input(const std::string& path);

int run_solve(const Arguments& argv);
int run_critical(const Arguments& argv);
int run_bench(const Arguments& argv);
int run_run(const Arguments& argv);
int run_status(const Arguments& argv);
int run_export(const Arguments& argv);
int run_keys(const Arguments& argv);
int run_fields(const Arguments& argv);
int run_plan(const Arguments& argv);
// status --verify: the file against its journal (verify_command.cpp).
int run_verify(const std::string& path, bool json);

}  // namespace kernelsweep::cli
