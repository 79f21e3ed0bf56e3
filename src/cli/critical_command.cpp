// kernelsweep critical POINT.yaml: lambda_c of the point's network and task by bisection.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/json_output.hpp"
#include "sweep/point_config.hpp"
#include "theory/critical_point.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

int run_critical(const Arguments& argv) {
  ConfigArguments args;
  CriticalPointOptions critical;
  auto options = config_options(args);
  options.add_options()
      ("lo", po::value(&critical.lo)->default_value(0.0), "lower end of the lam bracket (stable)")
      ("hi", po::value(&critical.hi)->default_value(0.0), "upper end (unstable); 0: search upwards")
      ("rtol", po::value(&critical.tolerance)->default_value(1e-10), "relative width of the final bracket");
  parse_config_command(argv, options, "critical");
  if (critical.lo < 0.0) throw ConfigError("--lo must be >= 0");
  if (critical.hi != 0.0 && critical.hi <= critical.lo) throw ConfigError("--hi must be > --lo");
  if (!(critical.tolerance > 0.0)) throw ConfigError("--rtol must be > 0");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  CriticalPointResult result;
  try {
    result = find_critical_signal(config.theory, config.model, config.task, critical);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(args.config_path + ": " + e.what());
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

}  // namespace kernelsweep::cli
