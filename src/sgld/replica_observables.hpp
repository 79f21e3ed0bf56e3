#pragma once
// What one SGLD replica measures (docs/theory.md section 4): running time averages of the empirical
// kernels H = (1/N) h h^T and C = (1/N) phi phi^T over all mu = (t, p), of the outputs f and of
// the order parameter q; and the spectrum of the recurrent matrices.
#include <Eigen/Core>
#include <array>
#include <complex>
#include <vector>

namespace kernelsweep::sgld {

// Entrywise mean and (1/n) variance of the measured H over one half of a replica's measurements:
// what the split-R-hat of the kernel entries needs.
struct KernelMoments {
  Eigen::MatrixXd mean, variance;
  long long count = 0;
};

class KernelAverager {
 public:
  // expected_count: the number of add() calls to come; the first half of them form H_halves()[0].
  KernelAverager(int T, int P, long long expected_count);
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
  std::array<KernelMoments, 2> H_halves() const;

 private:
  int T_, P_;
  long long count_ = 0;
  Eigen::MatrixXd H_sum_, C_sum_;
  Eigen::VectorXd f_sum_;
  double q_sum_ = 0.0, abs_q_sum_ = 0.0, last_q_ = 0.0;
  long long half_ = 0;
  std::array<Eigen::MatrixXd, 2> half_sum_, half_square_;
  std::array<long long, 2> half_count_{};
};

// q = (1/P) sum_p H^{(T-1,p),(T-2,p)}; 0 for T = 1.
double order_parameter(const Eigen::MatrixXd& H, int T, int P);

struct SpectrumSummary {
  double outlier = 0.0;      // real part of the eigenvalue with the largest |real part|
  double bulk_radius = 0.0;  // sqrt(2) * median |eigenvalue|
  Eigen::VectorXcd top;      // the top_k eigenvalues of largest modulus, by decreasing modulus
};
// The circular law puts the bulk uniformly on a disk of radius R = sqrt(w), whose median modulus
// is R / sqrt(2); the median ignores the one or two outliers of the broken phase.
SpectrumSummary analyze_spectrum(const Eigen::MatrixXd& W, int top_k = 8);

// The W -> -W (a -> (-1)^{T-1} a) image of a replica's observables (THEORY.md 3.2): h^t -> (-1)^t
// h^t, so H and C entries of odd time lag flip, and f^t flips where t has the other parity than
// the supervised steps (supervised_parity). Maps a state with q to one with -q.
Eigen::VectorXd time_parity_signs(int T, int P);  // (-1)^t per mu = t P + p
Eigen::MatrixXd flip_odd_lags(const Eigen::MatrixXd& K, int T, int P);
Eigen::VectorXd flip_outputs(const Eigen::VectorXd& f, int T, int P, int supervised_parity);

}  // namespace kernelsweep::sgld
