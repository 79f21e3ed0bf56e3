// kernelsweep solve [POINT.yaml | -]: the kernel theory and the SGLD replicas of one grid point
// (no file: every key at its default; "-": the config from standard input).
#include <cmath>
#include <iostream>

#include "cli/commands.hpp"
#include "sweep/point_config.hpp"
#include "sweep/point_runner.hpp"
#include "sweep/result_fields.hpp"

namespace kernelsweep::cli {

namespace {

// The stationary states as one object each (the file keeps them as parallel state_* arrays),
// and whether the reported one is a local minimum of F.
void add_state_objects(const TheoryResult& t, nlohmann::json* theory) {
  static const char* const kinds[] = {"symmetric", "broken", "other"};
  nlohmann::json states = nlohmann::json::array();
  for (Eigen::Index i = 0; i < t.state_q.size(); ++i) {
    nlohmann::json s = {{"q", t.state_q(i)},
                        {"free_energy", t.state_free_energy(i)},
                        {"stable", t.state_stable(i) == 1.0},
                        {"kind", kinds[static_cast<int>(t.state_kind(i))]},
                        {"residual", t.state_residual(i)}};
    if (std::isfinite(t.state_map_eigenvalue(i))) {
      s["map_eigenvalue"] = t.state_map_eigenvalue(i);
      s["map_eigenvalue_stderr"] = t.state_map_eigenvalue_stderr(i);
    }
    states.push_back(std::move(s));
  }
  (*theory)["states"] = std::move(states);
  if (t.selected_state >= 0 && t.selected_state < t.state_stable.size())
    (*theory)["stable"] = t.state_stable(t.selected_state) == 1.0;
}

}  // namespace

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
    if (result.theory) add_state_objects(*result.theory, &out["theory"]);
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
