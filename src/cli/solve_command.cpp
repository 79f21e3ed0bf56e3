// kernelsweep solve [POINT.yaml | -]: the kernel theory and the SGLD replicas of one grid point
// (no file: every key at its default; "-": the config from standard input).
#include <iostream>

#include "cli/commands.hpp"
#include "sweep/point_config.hpp"
#include "sweep/point_runner.hpp"
#include "sweep/result_fields.hpp"

namespace kernelsweep::cli {

int run_solve(const Arguments& argv) {
  ConfigArguments args;
  parse_command_line(
      argv, config_options(args), "config",
      "usage: kernelsweep solve [POINT.yaml | -] [--set key.path=value ...] [--json]\n"
      "  without a file every key takes its default (kernelsweep keys lists them)\n");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  try {
    check_well_posed(TheoryProblem{config.model, make_dataset(config)});
  } catch (const std::invalid_argument& e) {
    throw ConfigError((args.config_path.empty() ? std::string("defaults") : args.config_path) +
                      ": " + e.what());
  }
  std::string report;
  const PointResult result = solve_point(config, args.json ? nullptr : &report);
  if (args.json) {
    nlohmann::json out = to_json(result);
    out["config"] = to_json(config);
    std::cout << out.dump() << "\n";
  } else {
    std::cout << report;
  }
  const bool failed = (result.theory && result.theory->status == Status::failed) ||
                      (result.sgld && result.sgld->status == Status::failed);
  return failed ? kExitFailed : kExitOk;
}

}  // namespace kernelsweep::cli
