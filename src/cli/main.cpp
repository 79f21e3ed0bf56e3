// The kernelsweep executable: subcommands solve, critical (more to come: run, status, export, bench).
// Exit codes: 0 done, 1 the computation failed (status failed), 2 bad input, 3 internal error.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/json_output.hpp"
#include "kernelsweep/version.hpp"
#include "sweep/point_config.hpp"
#include "theory/critical_point.hpp"
#include "theory/saddle_point.hpp"

namespace po = boost::program_options;
using namespace kernelsweep;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitBadInput = 2, kExitInternal = 3;

const char* kUsage =
    "usage: kernelsweep <command> [options]\n"
    "commands:\n"
    "  solve POINT.yaml [--set key=value ...] [--json]    kernel theory of one grid point\n"
    "  critical POINT.yaml [--lo a --hi b] [--json]       lambda_c by bisection (linear RNN)\n"
    "  --version                                          version and git commit\n";

struct PointArguments {
  std::string config_path;
  std::vector<std::string> overrides;
  bool json = false;
};

po::options_description point_options(PointArguments& args) {
  po::options_description options("options");
  options.add_options()
      ("help,h", "show this help")
      ("config", po::value(&args.config_path), "point config (YAML)")
      ("set", po::value(&args.overrides)->composing(), "override a key: --set model.T=8")
      ("json", po::bool_switch(&args.json), "print one JSON object on stdout");
  return options;
}

po::variables_map parse(const std::vector<std::string>& argv, const po::options_description& options,
                        const std::string& command) {
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argv).options(options).positional(positional).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: kernelsweep " << command << " POINT.yaml [options]\n" << options;
    std::exit(kExitOk);
  }
  if (!vm.count("config")) throw po::error(command + " needs a point config file (POINT.yaml)");
  return vm;
}

TheoryProblem problem_of(const PointConfig& config) {
  return TheoryProblem{config.model, make_dataset(config)};
}

int run_solve(const std::vector<std::string>& argv) {
  PointArguments args;
  const auto options = point_options(args);
  parse(argv, options, "solve");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  const TheoryProblem problem = problem_of(config);
  try {
    check_well_posed(problem);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(args.config_path + ": " + e.what());
  }
  nlohmann::json out;
  out["config"] = to_json(config);
  int exit_code = kExitOk;
  if (config.theory_enabled) {
    TheorySummary summary;
    solve_saddle_point(config.theory, problem, &summary);
    out["theory"] = to_json(summary);
    if (summary.status == SolveStatus::failed) exit_code = kExitFailed;
    if (!args.json) std::cout << summary.report();
  } else if (!args.json) {
    std::cout << "theory disabled (theory.enabled = false); nothing else to run yet\n";
  }
  if (args.json) std::cout << out.dump() << "\n";
  return exit_code;
}

int run_critical(const std::vector<std::string>& argv) {
  PointArguments args;
  CriticalPointOptions critical;
  auto options = point_options(args);
  options.add_options()
      ("lo", po::value(&critical.lo)->default_value(0.0), "lower end of the lam bracket (stable)")
      ("hi", po::value(&critical.hi)->default_value(0.0), "upper end (unstable); 0: search upwards")
      ("rtol", po::value(&critical.tolerance)->default_value(1e-10), "relative width of the final bracket");
  parse(argv, options, "critical");
  if (critical.lo < 0.0) throw ConfigError("--lo must be >= 0");
  if (critical.hi != 0.0 && critical.hi <= critical.lo) throw ConfigError("--hi must be > --lo");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  CriticalPointResult result;
  try {
    result = find_critical_signal(config.theory, config.model, config.task, critical);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  if (args.json) {
    std::cout << to_json(result).dump() << "\n";
  } else if (result.found) {
    std::printf("lambda_c = %.12g  (bracket [%.12g, %.12g], %d symmetric solves)\n", result.lambda_c,
                result.bracket_lo, result.bracket_hi, result.solves);
  } else {
    std::printf("no transition found: %s\n", result.message.c_str());
  }
  return result.found ? kExitOk : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "kernelsweep " << kVersion << " (git " << kGitCommit << ")\n";
    return kExitOk;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "solve") return run_solve(rest);
    if (command == "critical") return run_critical(rest);
    std::cerr << "error: unknown command '" << command << "'\n" << kUsage;
    return kExitBadInput;
  } catch (const ConfigError& e) {
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
