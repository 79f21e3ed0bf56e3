// The chain diagnostics against processes with known answers: an AR(1) process
// x_{k+1} = rho x_k + sqrt(1 - rho^2) e_k has unit variance, rho_k = rho^k and the closed-form
// integrated autocorrelation time tau = (1 + rho) / (1 - rho).
#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "sgld/chain_diagnostics.hpp"
#include "sgld/replica_observables.hpp"

namespace kernelsweep::sgld {
namespace {

std::vector<double> ar1(double rho, std::size_t n, std::uint64_t seed, double offset = 0.0) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  std::vector<double> x(n);
  double state = normal(engine);  // stationary start
  for (std::size_t k = 0; k < n; ++k) {
    x[k] = state + offset;
    state = rho * state + std::sqrt(1.0 - rho * rho) * normal(engine);
  }
  return x;
}

double exact_tau(double rho) {
  return (1.0 + rho) / (1.0 - rho);
}

// The estimator's relative standard error is about sqrt(2 (2 W + 1) / n) for a summation window
// W of a few tau (Sokal 1997): for rho = 0.9, n = 2e5, W ~ 5 tau = 95 that is 4.4 %; 15 % is
// more than 3 standard errors. For rho <= 0 the window is a few lags and the error < 1 %.
TEST(ChainDiagnostics, AutocorrelationTimeOfAr1MatchesTheClosedForm) {
  const std::size_t n = 200000;
  for (double rho : {0.9, 0.5, 0.0, -0.5}) {
    const std::vector<double> x = ar1(rho, n, 11);
    const double tau = integrated_autocorrelation_time(x);
    EXPECT_NEAR(tau / exact_tau(rho), 1.0, rho > 0.6 ? 0.15 : 0.05) << "rho " << rho;
    EXPECT_NEAR(effective_sample_size(x), static_cast<double>(n) / tau, 1e-9 * n);
  }
}

TEST(ChainDiagnostics, EssGivesTheSpreadOfChainMeans) {
  // The standard error sqrt(var / ESS) of a chain's mean must match the spread of the means of
  // independent chains: 200 chains of n = 4000 at rho = 0.8 (tau = 9).
  const double rho = 0.8;
  const std::size_t n = 4000;
  std::vector<double> means, predicted;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const std::vector<double> x = ar1(rho, n, 100 + seed);
    const ChainMoments m = moments(x.data(), x.size());
    means.push_back(m.mean);
    predicted.push_back(std::sqrt(m.variance / effective_sample_size(x)));
  }
  const ChainMoments spread = moments(means.data(), means.size());
  const ChainMoments average_predicted = moments(predicted.data(), predicted.size());
  // Exact: sqrt(tau / n) = 0.0474. The sd of 200 means is known to 1/sqrt(400) = 5 %.
  EXPECT_NEAR(std::sqrt(spread.variance) / std::sqrt(exact_tau(rho) / n), 1.0, 0.2);
  EXPECT_NEAR(average_predicted.mean / std::sqrt(exact_tau(rho) / n), 1.0, 0.1);
}

TEST(ChainDiagnostics, PotentialScaleReductionClosedForm) {
  // Two chains of n samples, means +-d, variance s^2 each: W = s^2 n / (n - 1), B / n = 2 d^2.
  const double d = 0.3, s2 = 2.0;
  const long long n = 50;
  const std::vector<ChainMoments> chains = {{d, s2, n}, {-d, s2, n}};
  const double W = s2 * n / (n - 1.0);
  EXPECT_NEAR(potential_scale_reduction(chains), std::sqrt(((n - 1.0) / n * W + 2 * d * d) / W),
              1e-14);
}

TEST(ChainDiagnostics, SplitRhatAcceptsMixedChainsAndFlagsUnmixedOnes) {
  const double rho = 0.9;  // tau = 19
  const std::size_t n = 20000;
  std::vector<std::vector<double>> mixed, offset, trending;
  for (std::uint64_t r = 0; r < 4; ++r) {
    mixed.push_back(ar1(rho, n, 200 + r));
    // One chain stuck 1 sd away (a replica in another state).
    offset.push_back(ar1(rho, n, 200 + r, r == 0 ? 1.0 : 0.0));
    // One chain still relaxing (a drift from -2 to +2 sd): only splitting it in halves reveals
    // it. Expected: half means +-1 among 8 halves, B/n = 2/7, W ~ 1 + (4/12) 2/8, R-hat ~ 1.12.
    std::vector<double> x = ar1(rho, n, 200 + r);
    if (r == 0)
      for (std::size_t k = 0; k < n; ++k) x[k] += 4.0 * (static_cast<double>(k) / n - 0.5);
    trending.push_back(x);
  }
  // Stationary chains: R-hat - 1 = O(tau / n) ~ 1e-3.
  EXPECT_LT(split_rhat(mixed), 1.01);
  EXPECT_GT(split_rhat(offset), 1.05);
  EXPECT_GT(split_rhat(trending), 1.05);
  std::vector<ChainMoments> whole;
  for (const auto& x : trending) whole.push_back(moments(x.data(), x.size()));
  EXPECT_LT(potential_scale_reduction(whole), 1.05);  // unsplit R-hat misses the drift
}

TEST(ChainDiagnostics, TraceRecorderBinsAndKeepsTheEffectiveSampleSize) {
  const std::vector<double> x = ar1(0.9, 40000, 7);
  TraceRecorder recorder(1000);
  for (double value : x) recorder.add(value);
  // 40000 samples into <= 1000 entries: bins of 64 (1000 * 32 < 40000 <= 1000 * 64 at the last
  // halving; entries 40000 / 64 = 625).
  EXPECT_EQ(recorder.stride(), 64);
  EXPECT_EQ(recorder.values().size(), 625u);
  const ChainMoments raw = moments(x.data(), x.size());
  const ChainMoments binned = moments(recorder.values().data(), recorder.values().size());
  EXPECT_NEAR(binned.mean, raw.mean, 1e-12);
  // Bins of 64 >> tau = 19 make the entries nearly independent: the standard error of the mean
  // sqrt(var / ESS) from the binned trace matches the raw one within the estimators' errors.
  const double se_raw = std::sqrt(raw.variance / effective_sample_size(x));
  const double se_binned = std::sqrt(binned.variance / effective_sample_size(recorder.values()));
  EXPECT_NEAR(se_binned / se_raw, 1.0, 0.2);
}

// Spectra: a block-diagonal W with known eigenvalues, hidden by an orthogonal similarity
// transform (eigenvalues are invariant): a complex pair 1.2 e^{+-i pi/3} (an oscillating
// outlier), a real 1.1, and a bulk of reals of modulus < 0.9.
TEST(Spectrum, TopEigenvaluesAreTheLargestModuliWithConjugatePairs) {
  const int N = 40;
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(N, N);
  const double r = 1.2, angle = 3.14159265358979323846 / 3;
  B(0, 0) = B(1, 1) = r * std::cos(angle);
  B(0, 1) = -r * std::sin(angle);
  B(1, 0) = r * std::sin(angle);
  B(2, 2) = 1.1;
  for (int i = 3; i < N; ++i) B(i, i) = 0.9 * (i - 3.0) / (N - 3.0) * (i % 2 == 0 ? 1 : -1);
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd A(N, N);
  for (int i = 0; i < N * N; ++i) A.data()[i] = normal(engine);
  const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ();
  const SpectrumSummary s = analyze_spectrum(Q * B * Q.transpose(), 4);
  ASSERT_EQ(s.top.size(), 4);
  EXPECT_NEAR(std::abs(s.top(0) - std::polar(r, angle)), 0.0, 1e-10);  // ties: +imag first
  EXPECT_NEAR(std::abs(s.top(1) - std::polar(r, -angle)), 0.0, 1e-10);
  EXPECT_NEAR(std::abs(s.top(2) - 1.1), 0.0, 1e-10);
  EXPECT_LT(std::abs(s.top(3)), 0.9);
  // The largest |Re| (the old single number) is the real 1.1, blind to the pair.
  EXPECT_NEAR(s.outlier, 1.1, 1e-10);
}

}  // namespace
}  // namespace kernelsweep::sgld
