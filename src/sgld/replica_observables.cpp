#include "sgld/replica_observables.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <vector>

namespace kernelsweep::sgld {

KernelAverager::KernelAverager(int T, int P)
    : T_(T),
      P_(P),
      H_sum_(Eigen::MatrixXd::Zero(T * P, T * P)),
      C_sum_(Eigen::MatrixXd::Zero(T * P, T * P)),
      f_sum_(Eigen::VectorXd::Zero(T * P)) {}

void KernelAverager::add(const Eigen::MatrixXd& hcat, const Eigen::MatrixXd& phicat,
                         const Eigen::MatrixXd& outputs) {
  const double inverse_width = 1.0 / static_cast<double>(hcat.rows());
  const Eigen::MatrixXd H = inverse_width * (hcat.transpose() * hcat);
  H_sum_ += H;
  C_sum_ += inverse_width * (phicat.transpose() * phicat);
  for (int t = 0; t < T_; ++t)
    for (int p = 0; p < P_; ++p) f_sum_(t * P_ + p) += outputs(t, p);
  last_q_ = order_parameter(H, T_, P_);
  q_sum_ += last_q_;
  abs_q_sum_ += std::abs(last_q_);
  ++count_;
}

double order_parameter(const Eigen::MatrixXd& H, int T, int P) {
  if (T < 2) return 0.0;
  double sum = 0.0;
  for (int p = 0; p < P; ++p) sum += H((T - 1) * P + p, (T - 2) * P + p);
  return sum / P;
}

SpectrumSummary analyze_spectrum(const Eigen::MatrixXd& W) {
  const Eigen::EigenSolver<Eigen::MatrixXd> solver(W, /*computeEigenvectors=*/false);
  const Eigen::VectorXcd eigenvalues = solver.eigenvalues();
  SpectrumSummary out;
  std::vector<double> modulus(static_cast<std::size_t>(eigenvalues.size()));
  for (Eigen::Index i = 0; i < eigenvalues.size(); ++i) {
    if (std::abs(eigenvalues(i).real()) > std::abs(out.outlier))
      out.outlier = eigenvalues(i).real();
    modulus[static_cast<std::size_t>(i)] = std::abs(eigenvalues(i));
  }
  if (!modulus.empty()) {
    const auto middle = modulus.begin() + static_cast<std::ptrdiff_t>(modulus.size() / 2);
    std::nth_element(modulus.begin(), middle, modulus.end());
    out.bulk_radius = std::sqrt(2.0) * *middle;
  }
  return out;
}

}  // namespace kernelsweep::sgld
