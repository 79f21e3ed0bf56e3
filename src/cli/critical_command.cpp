// kernelsweep critical POINT.yaml: lambda_c of the point's network and task by bisection, and the
// transition's order, coexistence and fold signals (analyze_transition).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "sweep/point_config.hpp"
#include "theory/critical_point.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

// critical --json: lambda_c, lambda_coexistence, lambda_fold (null when undefined), order.
nlohmann::json transition_json(const CriticalPointResult& r) {
  const auto number_or_null = [](double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json();
  };
  nlohmann::json j;
  j["lambda_c"] = r.found ? nlohmann::json(r.lambda_c) : nlohmann::json();
  j["lambda_coexistence"] = number_or_null(r.lambda_coexistence);
  j["lambda_fold"] = number_or_null(r.lambda_fold);
  // not_converged: the analysis ran out of theory.time_limit; the order is then unknown.
  j["status"] = to_string(r.status);
  j["order"] = r.status == Status::done ? nlohmann::json(to_string(r.order)) : nlohmann::json();
  j["residual"] = r.residual;
  j["lambda_resolution"] = r.lambda_resolution;
  if (r.found) {
    j["bracket"] = {r.bracket_lo, r.bracket_hi};
    j["solves"] = r.solves;
  }
  j["message"] = r.message;
  return j;
}

}  // namespace

int run_critical(const Arguments& argv) {
  ConfigArguments args;
  CriticalPointOptions critical;
  auto options = config_options(args);
  options.add_options()("lo", po::value(&critical.lo)->default_value(0.0),
                        "lower end of the lam bracket (stable)")(
      "hi", po::value(&critical.hi)->default_value(0.0), "upper end (unstable); 0: search upwards")(
      "rtol", po::value(&critical.tolerance)->default_value(1e-10),
      "relative width of the final bracket");
  parse_config_command(argv, options, "critical");
  if (critical.lo < 0.0) throw ConfigError("--lo must be >= 0");
  if (critical.hi != 0.0 && critical.hi <= critical.lo) throw ConfigError("--hi must be > --lo");
  if (!(critical.tolerance > 0.0)) throw ConfigError("--rtol must be > 0");
  const PointConfig config = load_point_config(args.config_path, args.overrides);
  CriticalPointResult result;
  try {
    result = analyze_transition(config.theory, config.model, config.task, critical);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(args.config_path + ": " + e.what());
  }
  if (args.json) {
    std::cout << transition_json(result).dump() << "\n";
  } else if (result.found) {
    std::printf("lambda_c = %.12g  (bracket [%.12g, %.12g], %d symmetric solves)\n",
                result.lambda_c, result.bracket_lo, result.bracket_hi, result.solves);
    std::printf("order %s, lambda_coexistence = %.8g, lambda_fold = %.8g\n",
                to_string(result.order).c_str(), result.lambda_coexistence, result.lambda_fold);
  } else {
    std::printf("no transition found: %s\n", result.message.c_str());
  }
  return result.found ? kExitOk : kExitFailed;
}

}  // namespace kernelsweep::cli
