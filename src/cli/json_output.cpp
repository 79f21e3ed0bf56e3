#include "cli/json_output.hpp"

#include <cmath>

namespace kernelsweep {

nlohmann::json matrix_to_json(const Eigen::MatrixXd& A) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < A.cols(); ++j) row.push_back(A(i, j));
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json vector_to_json(const Eigen::VectorXd& x) {
  nlohmann::json out = nlohmann::json::array();
  for (Eigen::Index i = 0; i < x.size(); ++i) out.push_back(x(i));
  return out;
}

nlohmann::json to_json(const TheorySummary& summary) {
  nlohmann::json j;
  j["status"] = to_string(summary.status);
  j["message"] = summary.message;
  nlohmann::json branches = nlohmann::json::array();
  for (const auto& b : summary.branches) {
    nlohmann::json entry = {{"name", b.name}, {"status", to_string(b.status)}, {"q", b.q},
                            {"free_energy", b.free_energy}, {"residual", b.residual},
                            {"iterations", b.iterations}};
    if (b.C_stderr.size() > 0) {
      entry["q_stderr"] = b.q_stderr;
      entry["free_energy_stderr"] = b.free_energy_stderr;
    }
    branches.push_back(std::move(entry));
  }
  j["branches"] = std::move(branches);
  if (summary.selected < 0 || summary.status == Status::failed) return j;
  const BranchSolution& b = summary.solution();
  j["branch"] = b.name;
  j["q"] = b.q;
  j["free_energy"] = b.free_energy;
  j["residual"] = b.residual;
  j["iterations"] = b.iterations;
  j["H"] = matrix_to_json(b.H);
  j["C"] = matrix_to_json(b.C);
  j["f"] = vector_to_json(b.f);
  j["generalization_error"] = summary.generalization_error;
  if (b.C_stderr.size() > 0) {
    j["q_stderr"] = b.q_stderr;
    j["free_energy_stderr"] = b.free_energy_stderr;
    j["H_stderr"] = matrix_to_json(b.H_stderr);
    j["C_stderr"] = matrix_to_json(b.C_stderr);
  }
  if (summary.landau) {
    j["landau"] = {{"q", summary.landau->q}, {"F", summary.landau->F}};
    if (!summary.landau->message.empty()) j["landau"]["message"] = summary.landau->message;
  }
  return j;
}

nlohmann::json to_json(const SgldSummary& summary) {
  nlohmann::json j;
  j["status"] = to_string(summary.status);
  if (!summary.message.empty()) j["message"] = summary.message;
  j["replicas"] = summary.replicas;
  j["steps_per_second"] = summary.steps_per_second;
  if (summary.replicas == 0) return j;
  j["q_mean"] = summary.q_mean;
  j["q_stderr"] = summary.q_stderr;  // NaN (null) with a single replica
  j["abs_q_mean"] = summary.abs_q_mean;
  j["abs_q_stderr"] = summary.abs_q_stderr;
  j["H"] = matrix_to_json(summary.H);
  j["C"] = matrix_to_json(summary.C);
  j["H_stderr"] = matrix_to_json(summary.H_stderr);
  j["f"] = vector_to_json(summary.f);
  j["generalization_error"] = summary.generalization_error;
  if (summary.outlier_eigenvalue.size() == 1) j["outlier_eigenvalue"] = summary.outlier_eigenvalue(0);
  else j["outlier_eigenvalue"] = vector_to_json(summary.outlier_eigenvalue);
  j["bulk_radius"] = summary.bulk_radius;
  if (!std::isnan(summary.cka_H)) {
    j["cka_H"] = summary.cka_H;
    j["cka_C"] = summary.cka_C;
  }
  if (!summary.energy_trace.empty()) j["energy_trace"] = summary.energy_trace;
  return j;
}

nlohmann::json to_json(const CriticalPointResult& result) {
  nlohmann::json j;
  if (!result.found) {
    j["lambda_c"] = nullptr;
    j["message"] = result.message;
    return j;
  }
  j["lambda_c"] = result.lambda_c;
  j["bracket"] = {result.bracket_lo, result.bracket_hi};
  j["solves"] = result.solves;
  return j;
}

}  // namespace kernelsweep
