#pragma once
// Convergence diagnostics of Markov chains (THEORY.md section 4): the integrated autocorrelation
// time and effective sample size of one chain (Geyer's initial monotone sequence estimator), the
// split-R-hat across chains (Gelman et al., Bayesian Data Analysis 3rd ed., section 11.4), and a
// bounded-memory trace recorder that bins pairs of samples when it fills up.
#include <Eigen/Core>
#include <cstddef>
#include <vector>

namespace kernelsweep::sgld {

// tau = 1 + 2 sum_{k>=1} rho_k, estimated with Geyer's (1992) initial monotone sequence: pair sums
// Gamma_m = rho_{2m} + rho_{2m+1} are summed while positive and forced non-increasing. In units of
// the samples of `trace`. Returns NaN for fewer than 4 samples, 1 for a constant trace.
double integrated_autocorrelation_time(const std::vector<double>& trace);

// n / tau: the number of independent samples the trace is worth.
double effective_sample_size(const std::vector<double>& trace);

// Mean and (1/n-normalized) variance of a piece of a chain.
struct ChainMoments {
  double mean = 0.0, variance = 0.0;
  long long count = 0;
};
ChainMoments moments(const double* values, std::size_t count);

// R-hat = sqrt(((n-1)/n W + B/n) / W) over m chains of n samples each (n: the smallest count),
// W the mean within-chain variance (unbiased), B/n the variance of the chain means. The caller
// passes each chain's two halves for the split-R-hat. NaN with fewer than 2 chains or W = 0.
double potential_scale_reduction(const std::vector<ChainMoments>& chains);

// Split-R-hat of whole traces: each trace is cut into its first and second half.
double split_rhat(const std::vector<std::vector<double>>& traces);

// Records a scalar observable at every measurement in at most `capacity` entries: when full, each
// pair of entries is averaged and later entries average 2x, 4x, ... measurements (`stride`). The
// binned trace keeps the effective sample size (for bins shorter than tau; longer bins only make
// the estimate conservative) and its mean is the mean of the recorded measurements.
class TraceRecorder {
 public:
  explicit TraceRecorder(std::size_t capacity = 2048);
  void add(double value);
  const std::vector<double>& values() const { return values_; }
  long long stride() const { return stride_; }  // measurements per entry

 private:
  std::size_t capacity_;
  std::vector<double> values_;
  long long stride_ = 1;
  double pending_sum_ = 0.0;
  long long pending_count_ = 0;
};

}  // namespace kernelsweep::sgld
