// The kernelsweep executable: dispatches to one subcommand (see commands.hpp for exit codes).
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "cli/commands.hpp"
#include "io/hdf5_handle.hpp"
#include "io/results_file_error.hpp"
#include "kernelsweep/version.hpp"
#include "model/memory_tuning.hpp"
#include "sweep/point_config.hpp"

namespace po = boost::program_options;
using namespace kernelsweep;

namespace {

const char* kUsage =
    "usage: kernelsweep <command> [options]      (kernelsweep <command> --help for details)\n"
    "commands:\n"
    "  solve [POINT.yaml | -] [--set key=value ...] [--json]  theory (+ SGLD) of one grid point\n"
    "  critical POINT.yaml [--lo a --hi b] [--json]       lambda_c by bisection (linear RNN)\n"
    "  run SWEEP.yaml --out diagram.h5 [--resume] ...     a sweep into one HDF5 file (mpirun -np R)\n"
    "  status diagram.h5 [--json]                         counts, failures, contributing runs\n"
    "  export diagram.h5 --format csv|json [--arrays] [--out F]  one row per grid point\n"
    "  keys [--json | --markdown]                         every config key: default, allowed values, doc\n"
    "  fields [--json | --markdown]                       every output quantity: names, units, shape\n"
    "  plan SWEEP.yaml [--ranks R --cpus-per-task c]      check a sweep, count and cost it\n"
    "  bench sgld [--arch rnn|dnn --N n --T t --P p --steps s --precision p] [--json]\n"
    "                                                     SGLD steps/second (OMP_NUM_THREADS)\n"
    "  --version                                          version and git commit\n";

}  // namespace


int main(int argc, char** argv) {
  using namespace kernelsweep::cli;
  kernelsweep::h5::skip_close_at_exit();
  kernelsweep::keep_freed_memory_for_reuse();
  const Arguments args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "kernelsweep " << kVersion << " (git " << kGitCommit << ")\n";
    return kExitOk;
  }
  const std::map<std::string, int (*)(const Arguments&)> commands = {
      {"solve", run_solve},
      {"critical", run_critical},
      {"bench", run_bench},
      {"run", run_run},
      {"status", run_status},
      {"export", run_export},
      {"keys", run_keys},
      {"fields", run_fields},
      {"plan", run_plan},
  };
  const auto command = commands.find(args[0]);
  if (command == commands.end()) {
    std::cerr << "error: unknown command '" << args[0] << "' (kernelsweep --help lists the commands)\n";
    return kExitBadInput;
  }
  try {
    return command->second(Arguments(args.begin() + 1, args.end()));
  } catch (const ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const ResultsFileError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const po::error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}
