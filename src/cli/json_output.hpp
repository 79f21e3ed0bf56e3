#pragma once
// JSON forms of results for `--json` output (one object per command on stdout).
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "sgld/sgld_runner.hpp"
#include "theory/critical_point.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

nlohmann::json matrix_to_json(const Eigen::MatrixXd& A);
nlohmann::json vector_to_json(const Eigen::VectorXd& x);
nlohmann::json to_json(const TheorySummary& summary);
nlohmann::json to_json(const CriticalPointResult& result);
nlohmann::json to_json(const SgldSummary& summary);

}  // namespace kernelsweep
