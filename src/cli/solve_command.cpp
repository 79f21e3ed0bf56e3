// kernelsweep solve POINT.yaml: the kernel theory and the SGLD replicas of one grid point.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/json_output.hpp"
#include "sweep/point_config.hpp"
#include "sgld/sgld_runner.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep::cli {

int run_solve(const Arguments& argv) {
  ConfigArguments args;
  parse_config_command(argv, config_options(args), "solve");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  const TheoryProblem problem{config.model, make_dataset(config)};
  try {
    check_well_posed(problem);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(args.config_path + ": " + e.what());
  }
  nlohmann::json out;
  out["config"] = to_json(config);
  int exit_code = kExitOk;
  TheorySummary summary;
  if (config.theory_enabled) {
    solve_saddle_point(config.theory, problem, &summary);
    out["theory"] = to_json(summary);
    if (summary.status == Status::failed) exit_code = kExitFailed;
    if (!args.json) std::cout << summary.report();
  } else if (!args.json) {
    std::cout << "theory disabled (theory.enabled = false)\n";
  }
  if (config.sgld.enabled) {
    const SgldSummary sgld = run_sgld(config.sgld, config.model, problem.data, config.theory.point_index,
                                      config.theory_enabled ? &summary : nullptr);
    out["sgld"] = to_json(sgld);
    if (sgld.status != Status::done) exit_code = kExitFailed;
    if (!args.json) std::cout << sgld.report();
  }
  if (args.json) std::cout << out.dump() << "\n";
  return exit_code;
}

}  // namespace kernelsweep::cli
