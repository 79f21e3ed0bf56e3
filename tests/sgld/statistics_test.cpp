// SGLD statistics against exact results: with no data the sampled kernels are the prior (NNGP)
// kernels; on a small linear task at N = 256 they are the kernel-theory saddle point up to O(1/N).
//
// Error model used for every tolerance below: a replica's time average has a standard error that
// we estimate by the spread across R independent replicas (stderr_mu = sd_mu / sqrt(R)). With
// R = 4-8 the per-entry estimate is itself noisy (an entry's sd can come out 5x too small by
// chance), so each entry's error is floored at the median over entries. A deviation is accepted
// within 5 such standard errors plus the stated systematic O(1/N) term.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "sgld/sgld_runner.hpp"
#include "theory/kernel_structure.hpp"

namespace kernelsweep {
namespace {

double median(Eigen::MatrixXd A) {
  std::vector<double> v(A.data(), A.data() + A.size());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Entrywise |sampled - exact| <= 5 max(stderr, median stderr) + systematic.
void expect_kernel_near(const Eigen::MatrixXd& sampled, const Eigen::MatrixXd& stderr_,
                        const Eigen::MatrixXd& exact, double systematic, const char* what) {
  ASSERT_EQ(sampled.rows(), exact.rows());
  const double floor = median(stderr_);
  ASSERT_GT(floor, 0.0);
  for (Eigen::Index i = 0; i < exact.rows(); ++i)
    for (Eigen::Index j = 0; j < exact.cols(); ++j)
      EXPECT_NEAR(sampled(i, j), exact(i, j), 5 * std::max(stderr_(i, j), floor) + systematic)
          << what << "(" << i << "," << j << "), stderr " << stderr_(i, j);
}

// Standard error of C across replicas (the summary only carries H's).
Eigen::MatrixXd C_stderr(const std::vector<SgldReplicaResult>& replicas) {
  const double R = static_cast<double>(replicas.size());
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(replicas[0].C.rows(), replicas[0].C.cols());
  for (const auto& r : replicas) mean += r.C / R;
  Eigen::MatrixXd var = Eigen::MatrixXd::Zero(mean.rows(), mean.cols());
  for (const auto& r : replicas) var += (r.C - mean).array().square().matrix() / (R - 1);
  return (var / R).cwiseSqrt();
}

std::vector<SgldReplicaResult> run_replicas(const SgldOptions& options, const NetworkSpec& network,
                                            const Dataset& data) {
  std::vector<SgldReplicaResult> out;
  for (int r = 0; r < options.replicas; ++r) {
    out.push_back(run_sgld_replica(options, network, data, 0, r));
    EXPECT_FALSE(out.back().failed) << out.back().message;
  }
  return out;
}

Dataset endpoint_task(int T, int P, double lam, bool supervised) {
  TaskSpec task;
  task.P = P;
  task.D = P;
  task.lam = lam;
  if (!supervised) task.supervised.mode = Supervision::Mode::list;  // the empty list: no data
  return make_dataset(task, T);
}

// The erf NNGP kernel: C = arcsine(K(C)) (Williams 1997), iterated to its causal fixed point.
Eigen::MatrixXd erf_prior_kernel(const KernelStructure& s) {
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(s.M(), s.M());
  for (int iteration = 0; iteration <= s.T(); ++iteration) {
    const Eigen::MatrixXd K = s.prior_covariance(C);
    const double c = std::numbers::pi / 2;
    for (int a = 0; a < s.M(); ++a)
      for (int b = 0; b < s.M(); ++b)
        C(a, b) =
            s.structurally_allowed(a, b)
                ? (2 / std::numbers::pi) *
                      std::asin(c * K(a, b) / std::sqrt((1 + c * K(a, a)) * (1 + c * K(b, b))))
                : 0.0;
  }
  return C;
}

// How the no-data chain is run: a fixed eta, eta: auto, or independent prior draws.
enum class PriorMode { fixed_eta, auto_eta, prior_sampler };

struct PriorCase {
  Architecture architecture;
  Activation activation;
  PriorMode mode = PriorMode::fixed_eta;
};

class PriorKernelTest : public ::testing::TestWithParam<PriorCase> {};

TEST_P(PriorKernelTest, NoDataGivesTheNngpKernels) {
  NetworkSpec network;
  network.architecture = GetParam().architecture;
  network.activation = GetParam().activation;
  network.T = 3;
  network.N = 128;
  network.w = 1.2;
  const Dataset data = endpoint_task(network.T, 2, 1.0, /*supervised=*/false);
  ASSERT_TRUE(data.supervised_times.empty());
  // With no likelihood the split step is an exact Ornstein-Uhlenbeck step for any eta; eta = 0.5
  // decorrelates in a few steps.
  SgldOptions options;
  options.replicas = 8;
  options.steps = 1500;
  options.burn_in = 100;
  options.thin = 2;
  options.eta = 0.5;
  if (GetParam().mode == PriorMode::auto_eta) options.eta = kAutoEta;
  if (GetParam().mode == PriorMode::prior_sampler) {
    // Independent draws: no burn-in needed, every sample counts.
    options.sampler = SgldSampler::prior;
    options.steps = 400;
    options.burn_in = 0;
    options.thin = 1;
  }
  const auto replicas = run_replicas(options, network, data);
  const SgldSummary summary = summarize_sgld(replicas, data, nullptr);
  ASSERT_EQ(summary.status, Status::done) << summary.message;
  if (GetParam().mode == PriorMode::auto_eta) {
    // No likelihood: curvature 0, so eta = eta_safety / (1 + 0) (and the OU step is exact).
    for (const auto& r : replicas) {
      EXPECT_NEAR(r.curvature, 0.0, 1e-12);
      EXPECT_DOUBLE_EQ(r.eta, options.eta_safety);
    }
  }
  if (GetParam().mode == PriorMode::prior_sampler) {
    // Independent draws: the autocorrelation time of |q| is ~1 sample.
    for (Eigen::Index r = 0; r < summary.tau_abs_q.size(); ++r)
      // (1 for exact independence; the estimator scatters by ~0.25 at 400 samples: 2.5 is 5 sd.)
      EXPECT_LT(summary.tau_abs_q(r), 2.5) << "replica " << r;
  }
  const KernelStructure s(network, data);
  const Eigen::MatrixXd C_prior =
      network.activation == Activation::linear ? s.linear_prior_kernel() : erf_prior_kernel(s);
  const Eigen::MatrixXd H_prior = s.prior_covariance(C_prior);
  // Systematic: the NNGP kernel is the N -> infinity mean; at finite N the RNN's shared W
  // (products W^t) and the erf's nonlinearity of a fluctuating kernel shift E[H] by O(1/N); we
  // allow 2/N of the largest entry (a linear DNN has none: every layer is exactly Gaussian).
  const double systematic = 2.0 / network.N * H_prior.cwiseAbs().maxCoeff();
  expect_kernel_near(summary.H, summary.H_stderr, H_prior, systematic, "H");
  expect_kernel_near(summary.C, C_stderr(replicas), C_prior, systematic, "C");
}

INSTANTIATE_TEST_SUITE_P(
    Networks, PriorKernelTest,
    ::testing::Values(PriorCase{Architecture::rnn, Activation::linear},
                      PriorCase{Architecture::dnn, Activation::linear},
                      PriorCase{Architecture::dnn, Activation::erf},
                      PriorCase{Architecture::rnn, Activation::linear, PriorMode::auto_eta},
                      PriorCase{Architecture::rnn, Activation::erf, PriorMode::auto_eta},
                      PriorCase{Architecture::rnn, Activation::linear, PriorMode::prior_sampler},
                      PriorCase{Architecture::rnn, Activation::erf, PriorMode::prior_sampler},
                      PriorCase{Architecture::dnn, Activation::erf, PriorMode::prior_sampler}));

struct AgreementCase {
  Architecture architecture;
  bool auto_eta;
};

class TheoryAgreementTest : public ::testing::TestWithParam<AgreementCase> {};

TEST_P(TheoryAgreementTest, LinearNetworkAtWidth256MatchesTheSaddlePoint) {
  NetworkSpec network;
  network.architecture = GetParam().architecture;
  network.T = 3;
  network.N = 256;
  // lam = 0.6 is below lambda_c of this RNN (odd-sector Jacobian eigenvalue 0.73), so the theory
  // is the symmetric branch and the kernels move ~0.6 away from the prior: a visible effect.
  const Dataset data = endpoint_task(network.T, 2, 0.6, /*supervised=*/true);
  TheorySummary theory;
  solve_saddle_point(TheoryOptions{}, TheoryProblem{network, data}, &theory);
  ASSERT_NE(theory.status, Status::failed) << theory.message;
  // Readout curvature 1 + v lambda_max(C_SS) / kappa ~ 23, so eta = 0.005 is stable and its
  // O(eta) bias is below the statistical error (checked by halving eta: unchanged within 2 sigma).
  SgldOptions options;
  options.replicas = 4;
  options.steps = 2500;
  options.burn_in = 500;
  options.thin = 5;
  options.eta = GetParam().auto_eta ? kAutoEta : 0.005;
  // Chains of 400 measurements (a test takes seconds): split-R-hat - 1 and the ESS scatter by
  // ~tau / n ~ 0.1 here, and the kernel R-hat is the largest of 21 entries, so the default
  // thresholds (1.05, 100) would call these short chains unconverged. The agreement with the
  // theory is checked directly below; the thresholds are loosened for this test only.
  options.max_rhat = 1.3;
  options.min_ess = 40;
  const auto replicas = run_replicas(options, network, data);
  const SgldSummary summary = summarize_sgld(replicas, data, &theory, options);
  ASSERT_EQ(summary.status, Status::done) << summary.message;
  if (GetParam().auto_eta)
    for (const auto& r : replicas) {
      EXPECT_GT(r.curvature, 1.0);                                        // the data make L stiff
      EXPECT_NEAR(r.eta * (1 + r.curvature), options.eta_safety, 1e-12);  // the largest one
    }
  const Eigen::MatrixXd& H_theory = theory.solution().H;
  // O(1/N) finite-width corrections: allowed 4/N of the largest entry (0.025 here).
  const double systematic = 4.0 / network.N * H_theory.cwiseAbs().maxCoeff();
  expect_kernel_near(summary.H, summary.H_stderr, H_theory, systematic, "H");
  expect_kernel_near(summary.C, C_stderr(replicas), theory.solution().C, systematic, "C");
  // The test has power: the data move the kernel much further than the tolerance.
  const Eigen::MatrixXd H_prior = KernelStructure(network, data).linear_prior_kernel();
  EXPECT_GT((H_theory - H_prior).cwiseAbs().maxCoeff(),
            3 * (5 * median(summary.H_stderr) + systematic));
  EXPECT_GT(summary.cka_H, 0.99);
  EXPECT_GT(summary.cka_C, 0.99);
  // Supervised outputs: time averages of f fluctuate by O(sqrt(kappa/N)) per sample; 0.03 is
  // 5 standard errors of the replica mean (replica sd ~0.01, measured spread).
  for (int mu : data.supervised_indices())
    EXPECT_NEAR(summary.f(mu), theory.solution().f(mu), 0.03);
}

INSTANTIATE_TEST_SUITE_P(Architectures, TheoryAgreementTest,
                         ::testing::Values(AgreementCase{Architecture::rnn, false},
                                           AgreementCase{Architecture::dnn, false},
                                           AgreementCase{Architecture::rnn, true},
                                           AgreementCase{Architecture::dnn, true}));

TEST(SgldDivergence, TooLargeStepIsReportedNotCrashed) {
  NetworkSpec network;
  network.N = 32;
  const Dataset data = endpoint_task(4, 4, 1.5, true);
  SgldOptions options;
  options.replicas = 2;
  options.steps = 3000;
  options.burn_in = 100;
  options.eta = 0.9;  // curvature ~140: the drift overshoots by a factor ~80 per step
  const SgldSummary summary = run_sgld(options, network, data, 0, nullptr);
  EXPECT_EQ(summary.status, Status::failed);
  EXPECT_EQ(summary.failed_replicas, 2);
  EXPECT_NE(summary.message.find("smaller eta"), std::string::npos) << summary.message;
}

}  // namespace
}  // namespace kernelsweep
