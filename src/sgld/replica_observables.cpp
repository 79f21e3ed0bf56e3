#include "sgld/replica_observables.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <vector>

namespace kernelsweep::sgld {

KernelAverager::KernelAverager(int T, int P, long long expected_count)
    : T_(T),
      P_(P),
      H_sum_(Eigen::MatrixXd::Zero(T * P, T * P)),
      C_sum_(Eigen::MatrixXd::Zero(T * P, T * P)),
      f_sum_(Eigen::VectorXd::Zero(T * P)),
      half_((expected_count + 1) / 2) {
  for (int k = 0; k < 2; ++k) half_sum_[k] = half_square_[k] = H_sum_;
}

std::array<KernelMoments, 2> KernelAverager::H_halves() const {
  std::array<KernelMoments, 2> out;
  for (int k = 0; k < 2; ++k) {
    const double n = static_cast<double>(std::max<long long>(half_count_[k], 1));
    out[k].count = half_count_[k];
    out[k].mean = half_sum_[k] / n;
    out[k].variance = (half_square_[k] / n - out[k].mean.array().square().matrix()).cwiseMax(0.0);
  }
  return out;
}

void KernelAverager::add(const Eigen::MatrixXd& hcat, const Eigen::MatrixXd& phicat,
                         const Eigen::MatrixXd& outputs) {
  const double inverse_width = 1.0 / static_cast<double>(hcat.rows());
  const Eigen::MatrixXd H = inverse_width * (hcat.transpose() * hcat);
  H_sum_ += H;
  const int half = count_ < half_ ? 0 : 1;
  half_sum_[half] += H;
  half_square_[half] += H.array().square().matrix();
  ++half_count_[half];
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

SpectrumSummary analyze_spectrum(const Eigen::MatrixXd& W, int top_k) {
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
  std::vector<std::complex<double>> sorted(eigenvalues.data(),
                                           eigenvalues.data() + eigenvalues.size());
  const std::size_t k = std::min(sorted.size(), static_cast<std::size_t>(std::max(top_k, 0)));
  // Ties (conjugate pairs) ordered by imaginary part, so the output is deterministic.
  std::partial_sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end(),
                    [](const auto& a, const auto& b) {
                      return std::abs(a) != std::abs(b) ? std::abs(a) > std::abs(b)
                                                        : a.imag() > b.imag();
                    });
  out.top = Eigen::Map<const Eigen::VectorXcd>(sorted.data(), static_cast<Eigen::Index>(k));
  return out;
}

Eigen::VectorXd time_parity_signs(int T, int P) {
  Eigen::VectorXd s(T * P);
  for (int t = 0; t < T; ++t) s.segment(t * P, P).setConstant((t & 1) != 0 ? -1.0 : 1.0);
  return s;
}

Eigen::MatrixXd flip_odd_lags(const Eigen::MatrixXd& K, int T, int P) {
  const Eigen::VectorXd s = time_parity_signs(T, P);
  return s.asDiagonal() * K * s.asDiagonal();
}

Eigen::VectorXd flip_outputs(const Eigen::VectorXd& f, int T, int P, int supervised_parity) {
  Eigen::VectorXd s = time_parity_signs(T, P);
  if ((supervised_parity & 1) != 0) s = -s;
  return s.cwiseProduct(f);
}

}  // namespace kernelsweep::sgld
