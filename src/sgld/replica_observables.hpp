#pragma once
// What one SGLD replica measures (docs/theory.md section 4): running time averages of the empirical
// kernels H = (1/N) h h^T and C = (1/N) phi phi^T over all mu = (t, p), of the outputs f and of
// the order parameter q; and the spectrum of the recurrent matrices.
#include <Eigen/Core>

namespace kernelsweep::sgld {

class KernelAverager {
 public:
  KernelAverager(int T, int P);
  // hcat, phicat: N x M with column mu = t P + p; outputs: T x P.
  void add(const Eigen::MatrixXd& hcat, const Eigen::MatrixXd& phicat,
           const Eigen::MatrixXd& outputs);

  long long count() const { return count_; }
  Eigen::MatrixXd H() const { return H_sum_ / static_cast<double>(count_); }
  Eigen::MatrixXd C() const { return C_sum_ / static_cast<double>(count_); }
  Eigen::VectorXd f() const { return f_sum_ / static_cast<double>(count_); }
  double q() const { return q_sum_ / static_cast<double>(count_); }
  double abs_q() const { return abs_q_sum_ / static_cast<double>(count_); }
  double last_q() const { return last_q_; }

 private:
  int T_, P_;
  long long count_ = 0;
  Eigen::MatrixXd H_sum_, C_sum_;
  Eigen::VectorXd f_sum_;
  double q_sum_ = 0.0, abs_q_sum_ = 0.0, last_q_ = 0.0;
};

// q = (1/P) sum_p H^{(T-1,p),(T-2,p)}; 0 for T = 1.
double order_parameter(const Eigen::MatrixXd& H, int T, int P);

struct SpectrumSummary {
  double outlier = 0.0;      // real part of the eigenvalue with the largest |real part|
  double bulk_radius = 0.0;  // sqrt(2) * median |eigenvalue|
};
// The circular law puts the bulk uniformly on a disk of radius R = sqrt(w), whose median modulus
// is R / sqrt(2); the median ignores the one or two outliers of the broken phase.
SpectrumSummary analyze_spectrum(const Eigen::MatrixXd& W);

}  // namespace kernelsweep::sgld
