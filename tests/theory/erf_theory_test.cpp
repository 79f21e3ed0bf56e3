// Erf kernel theory (Monte Carlo, docs/theory.md 3.3) against independent facts: the elliptical slice
// sampler against a Gaussian closed form, the NNGP arcsine kernel at lam = 0, calibrated error
// bars shrinking ~ 1/sqrt(samples), the two G estimators agreeing, and the linear limit.
// Fixed seeds; tolerances in units of the reported standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "reference.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/elliptical_slice_sampler.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

struct SmallProblem {
  NetworkSpec network;
  Dataset data;
};

SmallProblem small_problem(Activation activation, int T, double lam, double scale = 1.0) {
  SmallProblem p;
  p.network.activation = activation;
  p.network.T = T;
  p.network.w = p.network.u = scale;
  p.network.kappa = 0.1 * scale;
  TaskSpec task;
  task.P = 2;
  task.D = 2;
  task.lam = lam;
  p.data = make_dataset(task, T);
  return p;
}

// z-scores of the upper triangle of (A - B) / stderr.
std::vector<double> z_scores(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                             const Eigen::MatrixXd& stderr_) {
  std::vector<double> z;
  for (Eigen::Index j = 0; j < A.cols(); ++j)
    for (Eigen::Index i = 0; i <= j; ++i)
      if (stderr_(i, j) > 0.0) z.push_back((A(i, j) - B(i, j)) / stderr_(i, j));
  return z;
}

double mean_square(const std::vector<double>& z) {
  double s = 0.0;
  for (double x : z) s += x * x;
  return s / double(z.size());
}

// With linear phi the tilted posterior is Gaussian: H = (K^{-1} - C_hat)^{-1} exactly.
TEST(EllipticalSliceSampler, MatchesGaussianClosedForm) {
  const SmallProblem p = small_problem(Activation::linear, 2, 0.0);
  const KernelStructure s(p.network, p.data);
  const Eigen::MatrixXd K = s.prior_covariance(s.linear_prior_kernel());
  Eigen::MatrixXd C_hat(4, 4);
  C_hat << 0.3, 0.1, 0.0, 0.2, 0.1, 0.2, 0.1, 0.0, 0.0, 0.1, 0.4, -0.1, 0.2, 0.0, -0.1, 0.25;
  const Eigen::MatrixXd exact = (K.inverse() - C_hat).inverse();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(K).matrixL();
  EllipticalSliceSampler sampler(4, 20000, Activation::linear,
                                 PhiloxStream(3, 0, 0, StreamPurpose::theory_monte_carlo));
  sampler.draw_from_prior(L);
  sampler.sweep(L, C_hat, 30);
  const SingleSiteMoments m = sampler.measure(C_hat);
  const auto z = z_scores(m.H, exact, m.H_stderr);
  for (double x : z) EXPECT_LT(std::abs(x), 4.5);  // 10 entries: P(max |z| > 4.5) ~ 1e-4
  // Calibrated error bars: the mean z^2 of 10 entries is ~ chi^2_10 / 10 (batch-means stderr
  // with 20 batches adds ~15 %); [0.2, 2.5] holds with probability > 0.99.
  EXPECT_GT(mean_square(z), 0.2);
  EXPECT_LT(mean_square(z), 2.5);
}

// docs/theory.md 5.2: at lam = 0 the erf kernel is the arcsine NNGP kernel, applied recursively.
TEST(ErfTheory, NoSignalGivesArcsineKernel) {
  const SmallProblem p = small_problem(Activation::erf, 3, 0.0);
  TheoryOptions options;
  options.samples = 8000;
  options.max_iterations = 1000;
  const KernelStructure s(p.network, p.data);
  const BranchSolution b = solve_erf_branch(s, options, false);
  ASSERT_EQ(b.status, Status::done) << b.message;
  const Eigen::MatrixXd exact = reference::erf_prior_kernel(p.network, p.data);
  const auto z = z_scores(b.C, exact, b.C_stderr);
  ASSERT_GT(z.size(), 10u);
  for (double x : z) EXPECT_LT(std::abs(x), 5.0);
  EXPECT_LT(mean_square(z), 3.0);
  EXPECT_LT((b.C - exact).norm(), 3.0 * b.C_stderr.norm());  // E|dC|^2 = sum of variances
}

// Error bars shrink like 1/sqrt(samples): 4x the chains halves them. Each error comes from the
// spread of 16 replicates (~18 % relative error per entry, less for the norm over 10 entries), so
// the ratio lies in [1.5, 2.7] with ample margin.
TEST(ErfTheory, ErrorBarsShrinkWithSamples) {
  const SmallProblem p = small_problem(Activation::erf, 2, 0.5);
  const KernelStructure s(p.network, p.data);
  TheoryOptions options;
  options.max_iterations = 1000;
  options.replicates = 16;
  options.samples = 1600;
  const BranchSolution few = solve_erf_branch(s, options, false);
  options.samples = 6400;
  const BranchSolution many = solve_erf_branch(s, options, false);
  ASSERT_NE(few.status, Status::failed) << few.message;
  ASSERT_NE(many.status, Status::failed) << many.message;
  const double ratio = few.C_stderr.norm() / many.C_stderr.norm();
  std::printf("stderr(C) with 1600 chains / with 6400 chains = %.3f (expected 2)\n", ratio);
  EXPECT_GT(ratio, 1.5);
  EXPECT_LT(ratio, 2.7);
}

// The direct estimator K^{-1} H K^{-1} - K^{-1} and the integration-by-parts estimator
// <grad^2 V + grad V grad V^T> estimate the same G (docs/theory.md 3.3): 8 independent populations,
// the mean difference within 4.5 standard errors of the spread.
TEST(ErfTheory, DirectAndIntegrationByPartsEstimatorsOfGAgree) {
  const SmallProblem p = small_problem(Activation::erf, 2, 1.0);
  const KernelStructure s(p.network, p.data);
  const Eigen::MatrixXd C = reference::erf_prior_kernel(p.network, p.data);
  const Eigen::MatrixXd K = s.prior_covariance(C);
  const Eigen::MatrixXd K_inv = K.inverse();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(K).matrixL();
  const Eigen::MatrixXd C_hat = s.readout(C, 1.0).tilt;
  ASSERT_GT(C_hat.norm(), 1.0) << "the tilt must matter for the comparison to mean anything";
  const int R = 8;
  std::vector<Eigen::MatrixXd> differences;
  for (int r = 0; r < R; ++r) {
    EllipticalSliceSampler sampler(4, 4000, Activation::erf,
                                   PhiloxStream(11, 0, r, StreamPurpose::theory_monte_carlo));
    sampler.draw_from_prior(L);
    // The tilt is strong (C_hat ~ 8): chains started at the prior need hundreds of sweeps, so
    // anneal the tilt in, then equilibrate (checked against importance sampling while writing this
    // test).
    for (int k = 1; k <= 50; ++k) sampler.sweep(L, (k / 50.0) * C_hat, 2);
    sampler.sweep(L, C_hat, 100);
    const SingleSiteMoments m = sampler.measure(C_hat);
    differences.push_back(K_inv * m.H * K_inv - K_inv - m.G_by_parts);
  }
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(4, 4), var = Eigen::MatrixXd::Zero(4, 4);
  for (const auto& d : differences) mean += d / R;
  for (const auto& d : differences) var += (d - mean).cwiseAbs2() / (R - 1);
  const Eigen::MatrixXd stderr_ = (var / R).cwiseSqrt();
  for (double z : z_scores(mean, Eigen::MatrixXd::Zero(4, 4), stderr_)) EXPECT_LT(std::abs(z), 4.5);
}

// Linear limit: erf(sqrt(pi)/2 h) = h + O(h^3). Shrinking w, u, kappa by 4 (lam by 2, so the
// readout tilt K C_hat stays the same) must shrink the relative erf - linear deviation of the
// supervised block by ~4: we require at least 2, or the Monte-Carlo floor. The signal's own effect
// on that block must exceed the noise, or the comparison would be vacuous.
TEST(ErfTheory, SmallVariancesApproachTheLinearSolution) {
  const auto deviation = [](double scale, double lam, double* noise, double* signal_effect) {
    const SmallProblem e = small_problem(Activation::erf, 2, lam, scale);
    const SmallProblem l = small_problem(Activation::linear, 2, lam, scale);
    TheoryOptions options;
    options.samples = 16000;
    options.max_iterations = 1000;
    const KernelStructure se(e.network, e.data), sl(l.network, l.data);
    const BranchSolution erf = solve_erf_branch(se, options, false);
    const BranchSolution linear = solve_linear_symmetric(sl, options);
    EXPECT_NE(erf.status, Status::failed) << erf.message;
    const auto block = [](const Eigen::MatrixXd& A) {
      return Eigen::MatrixXd(A.bottomRightCorner(2, 2));
    };
    const double norm = block(linear.C).norm();
    *noise = block(erf.C_stderr).norm() / norm;
    *signal_effect = (block(linear.C) - block(sl.linear_prior_kernel())).norm() / norm;
    return (block(erf.C) - block(linear.C)).norm() / norm;
  };
  double noise_large, noise_small, effect_large, effect_small;
  const double large = deviation(0.08, 0.16, &noise_large, &effect_large);
  const double small = deviation(0.02, 0.08, &noise_small, &effect_small);
  std::printf(
      "relative erf-linear deviation: %.4f at scale 0.08, %.4f at scale 0.02 (MC noise %.4f, "
      "signal effect %.3f)\n",
      large, small, noise_small, effect_small);
  EXPECT_GT(effect_small, 5.0 * noise_small);
  EXPECT_GT(effect_large, 5.0 * noise_large);
  EXPECT_LT(small, std::max(0.5 * large, 3.0 * noise_small));
}

// The full solve reports Monte-Carlo error bars on q and F, and both branches above lambda_c
// (endpoint task, P = 2 so that it stays fast).
TEST(ErfTheory, SolveReportsErrorBarsAndBranches) {
  NetworkSpec n;
  n.activation = Activation::erf;
  TaskSpec task;
  task.P = 2;
  task.D = 2;
  task.lam = 3.0;
  TheoryOptions options;
  options.samples = 2000;
  options.max_iterations = 2000;
  TheorySummary summary;
  solve_saddle_point(options, TheoryProblem{n, make_dataset(task, n.T)}, &summary);
  ASSERT_NE(summary.status, Status::failed) << summary.message;
  ASSERT_EQ(summary.states.size(), 2u) << summary.message;
  const BranchSolution& broken = summary.states[1];
  EXPECT_EQ(broken.status, Status::done) << broken.message;
  EXPECT_GT(broken.q_stderr, 0.0);
  EXPECT_GT(std::abs(broken.q), 4.0 * broken.q_stderr);
  EXPECT_GT(broken.free_energy_stderr, 0.0);
  EXPECT_TRUE(std::isfinite(broken.free_energy));
  EXPECT_LT(broken.free_energy, summary.states[0].free_energy);
}

// The coverage problem: the sinusoid task at T = 3 (no W -> -W symmetry, so q = H^{21} != 0 is
// free to move), a few hundred chains so that one solve takes a fraction of a second.
SmallProblem sinusoid_problem(int T, double lam) {
  SmallProblem p;
  p.network.activation = Activation::erf;
  p.network.T = T;
  TaskSpec task;
  task.kind = TaskKind::sinusoid;
  task.P = 1;
  task.D = 1;
  task.lam = lam;
  p.data = make_dataset(task, T);
  return p;
}

// A stochastic iteration stopped after 20 iterations has not shown that it stopped drifting.
TEST(ErfTheory, ShortRunIsNotConverged) {
  const SmallProblem p = sinusoid_problem(3, 0.5);
  const KernelStructure s(p.network, p.data);
  TheoryOptions options;
  options.samples = 800;
  options.max_iterations = 20;
  const BranchSolution b = solve_erf_branch(s, options, false);
  EXPECT_EQ(b.status, Status::not_converged) << b.message;
}

struct CoverageRun {
  double q, q_stderr, C_last, C_last_stderr;
};

CoverageRun coverage_run(const KernelStructure& s, TheoryOptions options) {
  const BranchSolution b = solve_erf_branch(s, options, false);
  EXPECT_EQ(b.status, Status::done) << b.message;
  const int last = s.M() - 1;
  return {b.q, b.q_stderr, b.C(last, last), b.C_stderr(last, last)};
}

// Honest error bars (issue 11): across 20 independent seeds the spread of q and of the last
// diagonal entry of C matches the reported standard error within a factor 1.5 (the sample standard
// deviation of 20 values has ~16 % relative error), and a long reference run (4x the chains and a
// three times longer window) lies within 3 combined standard errors of every seed's answer (at
// most two exceptions: the errors come from 8 replicates, i.e. t-distributed with 7 degrees of
// freedom, P(|t_7| > 3) = 2 %). The mean over the seeds tests the bias at 1/sqrt(20) of the noise.
// (With 50 chains per replicate q came out 45 % high here: the noise of the state biases the
// fixed point by O(1 / chains per replicate), so this uses 400.)
TEST(ErfTheory, ErrorBarsCoverTheLongRunFixedPoint) {
  const SmallProblem p = sinusoid_problem(3, 0.5);
  const KernelStructure s(p.network, p.data);
  TheoryOptions options;
  options.samples = 3200;
  options.max_iterations = 4000;
  TheoryOptions reference_options = options;
  reference_options.samples = 12800;
  reference_options.seed = 1000;
  const BranchSolution probe = solve_erf_branch(s, options, false);
  ASSERT_EQ(probe.status, Status::done) << probe.message;
  reference_options.window = 3 * probe.window;
  const CoverageRun reference = coverage_run(s, reference_options);

  const int seeds = 20;
  std::vector<CoverageRun> runs;
  for (int seed = 1; seed <= seeds; ++seed) {
    options.seed = static_cast<std::uint64_t>(seed);
    runs.push_back(coverage_run(s, options));
  }
  const auto check = [&](const char* what, auto value, auto error, double ref, double ref_error) {
    double mean = 0.0, mean_error = 0.0;
    for (const auto& r : runs) mean += value(r) / seeds, mean_error += error(r) / seeds;
    double var = 0.0;
    int outside = 0;
    for (const auto& r : runs) {
      var += (value(r) - mean) * (value(r) - mean) / (seeds - 1);
      if (std::abs(value(r) - ref) > 3.0 * std::hypot(error(r), ref_error)) ++outside;
    }
    const double spread = std::sqrt(var);
    std::printf(
        "%s: reference %.6f +- %.6f; over %d seeds mean %.6f, spread %.3g, mean reported error "
        "%.3g (ratio %.2f), %d outside 3 sigma\n",
        what, ref, ref_error, seeds, mean, spread, mean_error, spread / mean_error, outside);
    EXPECT_LT(spread / mean_error, 1.5) << what;
    EXPECT_GT(spread / mean_error, 1.0 / 1.5) << what;
    EXPECT_LE(outside, 2) << what;
    EXPECT_LT(std::abs(mean - ref), 3.0 * std::hypot(spread / std::sqrt(seeds), ref_error)) << what;
  };
  check(
      "q", [](const CoverageRun& r) { return r.q; },
      [](const CoverageRun& r) { return r.q_stderr; }, reference.q, reference.q_stderr);
  check(
      "C_last", [](const CoverageRun& r) { return r.C_last; },
      [](const CoverageRun& r) { return r.C_last_stderr; }, reference.C_last,
      reference.C_last_stderr);
}

// A default run and a long run (a window four times as long, four times the chains) agree within
// their reported errors.
TEST(ErfTheory, DefaultAndLongRunsAgreeWithinErrors) {
  const SmallProblem p = sinusoid_problem(4, 0.5);
  const KernelStructure s(p.network, p.data);
  TheoryOptions options;
  options.samples = 2000;
  options.max_iterations = 4000;
  const BranchSolution standard = solve_erf_branch(s, options, false);
  ASSERT_EQ(standard.status, Status::done) << standard.message;
  options.samples = 8000;
  options.window = 4 * standard.window;
  options.seed = 77;
  const BranchSolution long_run = solve_erf_branch(s, options, false);
  ASSERT_EQ(long_run.status, Status::done) << long_run.message;
  std::printf("q: default %.6f +- %.2g (%d iterations), long %.6f +- %.2g (%d iterations)\n",
              standard.q, standard.q_stderr, standard.iterations, long_run.q, long_run.q_stderr,
              long_run.iterations);
  EXPECT_LT(std::abs(standard.q - long_run.q),
            3.5 * std::hypot(standard.q_stderr, long_run.q_stderr));
  const auto z =
      z_scores(standard.C, long_run.C,
               (standard.C_stderr.cwiseAbs2() + long_run.C_stderr.cwiseAbs2()).cwiseSqrt());
  for (double x : z) EXPECT_LT(std::abs(x), 4.5);
  EXPECT_LT(mean_square(z), 3.0);
}

}  // namespace
}  // namespace kernelsweep
