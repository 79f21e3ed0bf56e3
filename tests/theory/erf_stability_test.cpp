// Stability of Monte-Carlo fixed points (issue 9): the score-function estimate of the fixed-point
// map's Jacobian (theory/map_jacobian.hpp) and its leading eigenvalues (theory/map_stability.hpp)
// against independent facts: the analytic map derivative of the linear theory (phi(h) = h, where p
// is exactly Gaussian), the closed-form arcsine NNGP recursion at lam = 0, and the erf symmetric
// state's instability past the transition. Fixed seeds; tolerances in Monte-Carlo standard errors.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>

#include "random/philox_stream.hpp"
#include "reference.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/map_jacobian.hpp"
#include "theory/map_stability.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

// N independent draws of N(0, S).
Eigen::MatrixXd gaussian_draws(const Eigen::MatrixXd& S, int N, std::uint64_t seed) {
  PhiloxStream stream(seed, 0, 0, StreamPurpose::theory_monte_carlo);
  Eigen::MatrixXd z(S.rows(), N);
  for (Eigen::Index j = 0; j < z.cols(); ++j)
    for (Eigen::Index i = 0; i < z.rows(); ++i) z(i, j) = stream.normal();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(S).matrixL();
  return L * z;
}

EntryList odd_entries(const KernelStructure& s) {
  EntryList odd;
  for (const auto& ij : entries_where(s, true))
    if (s.is_odd_lag(ij.first, ij.second)) odd.push_back(ij);
  return odd;
}

// z-scores of a linear function g(J) of the estimate against `exact`, with the batch-means error
// of g over the batch estimates.
template <typename G>
std::vector<double> z_scores(const MapJacobianEstimate& e, G g, const Eigen::MatrixXd& exact) {
  const Eigen::MatrixXd mean = g(e.J);
  Eigen::MatrixXd var = Eigen::MatrixXd::Zero(mean.rows(), mean.cols());
  for (const auto& Jb : e.batch_estimates) var += (g(Jb) - mean).cwiseAbs2();
  const double B = double(e.batch_estimates.size());
  const Eigen::MatrixXd se = (var / (B * (B - 1.0))).cwiseSqrt();
  std::vector<double> z;
  for (Eigen::Index i = 0; i < mean.size(); ++i)
    // Entries that are exact up to rounding (e.g. the H outputs w Sh(dC)) carry no Monte-Carlo
    // test.
    if (se(i) > 1e-9 * (1.0 + std::abs(exact(i)))) z.push_back((mean(i) - exact(i)) / se(i));
  return z;
}

double max_abs(const std::vector<double>& z) {
  double m = 0.0;
  for (double x : z) m = std::max(m, std::abs(x));
  return m;
}

double mean_square(const std::vector<double>& z) {
  double s = 0.0;
  for (double x : z) s += x * x;
  return s / double(z.size());
}

struct LinearCase {
  double lam;
  bool unstable;  // the symmetric state is past lambda_c = 0.811209 (T = 4, P = D = 4)
};

class LinearPhi : public ::testing::TestWithParam<LinearCase> {};

// phi(h) = h: at the linear symmetric fixed point C (H = C) p is N(0, C) exactly, and the map on
// (C, H) has the outputs C' = H' = Sigma(C, H) with Sigma(C, C) the linear map, so
// J_CC + J_CH = J_HC + J_HH = d(linear map)/dC (map_derivative), and the nonzero eigenvalues of
// the (C, H) Jacobian are the linear map's (eigenvectors (x, x)).
TEST_P(LinearPhi, ReproducesTheAnalyticMapDerivative) {
  const LinearCase c = GetParam();
  NetworkSpec network;  // linear RNN, T = 4, w = u = v = 1, kappa = 0.1
  TaskSpec task;        // endpoint, P = D = 4
  task.lam = c.lam;
  const KernelStructure s(network, make_dataset(task, network.T));
  const BranchSolution symmetric = solve_linear_symmetric(s, TheoryOptions{});
  ASSERT_EQ(symmetric.status, Status::done) << symmetric.message;
  const Eigen::MatrixXd& C = symmetric.C;
  const Eigen::MatrixXd draws = gaussian_draws(C, 20000, 7);

  const EntryList odd = odd_entries(s);
  const int n = static_cast<int>(odd.size());
  const LinearEvaluation ev = evaluate_linear(s, C, 1.0);
  ASSERT_TRUE(ev.ok) << ev.failure;
  Eigen::MatrixXd exact(n, n);
  for (int j = 0; j < n; ++j)
    exact.col(j) =
        pack(map_derivative(s, C, ev, unit_symmetric(odd[j].first, odd[j].second, s.M())), odd);
  const MapJacobianEstimate e = estimate_map_jacobian(s, C, C, draws, odd, 20);
  ASSERT_TRUE(e.ok) << e.failure;
  for (int out = 0; out < 2; ++out) {  // C outputs, H outputs
    const auto g = [&](const Eigen::MatrixXd& J) {
      return Eigen::MatrixXd(J.block(out * n, 0, n, n) + J.block(out * n, n, n, n));
    };
    const auto z = z_scores(e, g, exact);
    std::printf("lam %.2f, %s outputs: %zu entries, max |z| %.2f, mean z^2 %.3f\n", c.lam,
                out == 0 ? "C" : "H", z.size(), max_abs(z), mean_square(z));
    ASSERT_GT(z.size(), 100u);
    EXPECT_LT(max_abs(z), 5.0);  // ~4000 entries: P(max |z| > 5) ~ 2e-3 for exact errors
    // Calibrated errors (20 batches: the batch variance has ~30 % relative error per entry).
    EXPECT_GT(mean_square(z), 0.6);
    EXPECT_LT(mean_square(z), 1.6);
  }

  // The leading odd-sector eigenvalue, from the same draws used with their mirror images.
  const double analytic = odd_sector_instability(s, C, 1.0);
  const MapStability st = map_stability(s, C, C, draws, true, MapStabilityOptions{});
  ASSERT_EQ(st.sectors.size(), 2u);
  ASSERT_EQ(st.sectors[0].sector, "odd-lag");
  ASSERT_FALSE(st.sectors[0].leading.empty());
  const EigenvalueEstimate& top = st.sectors[0].leading[0];
  std::printf("lam %.2f: odd-sector eigenvalue %.5f +- %.5f (analytic %.5f, %+.2f sigma); %s\n",
              c.lam, top.value.real(), top.real_stderr, analytic,
              (top.value.real() - analytic) / top.real_stderr, st.message.c_str());
  EXPECT_LT(std::abs(top.value.real() - analytic), 4.0 * top.real_stderr);
  EXPECT_LT(top.real_stderr, 0.02);  // a test with a large error would prove nothing
  EXPECT_EQ(st.verdict, c.unstable ? StabilityVerdict::unstable : StabilityVerdict::stable)
      << st.message;
  if (c.unstable) {
    EXPECT_EQ(st.sector, "odd-lag");
  }

  // The same draws on the full space, as for a state without the symmetry (means estimated, no
  // sector split): the leading eigenvalue is the larger of the two sectors' analytic ones.
  const EntryList all = entries_where(s, true);
  Eigen::MatrixXd full(all.size(), all.size());
  for (std::size_t j = 0; j < all.size(); ++j)
    full.col(Eigen::Index(j)) =
        pack(map_derivative(s, C, ev, unit_symmetric(all[j].first, all[j].second, s.M())), all);
  const double analytic_full =
      Eigen::EigenSolver<Eigen::MatrixXd>(full, false).eigenvalues().real().maxCoeff();
  const MapStability whole = map_stability(s, C, C, draws, false, MapStabilityOptions{});
  ASSERT_EQ(whole.sectors.size(), 1u);
  ASSERT_FALSE(whole.sectors[0].leading.empty());
  const EigenvalueEstimate& lead = whole.sectors[0].leading[0];
  std::printf("lam %.2f: full-space eigenvalue %.5f +- %.5f (analytic %.5f, %+.2f sigma)\n", c.lam,
              lead.value.real(), lead.real_stderr, analytic_full,
              (lead.value.real() - analytic_full) / lead.real_stderr);
  EXPECT_LT(std::abs(lead.value.real() - analytic_full), 4.0 * lead.real_stderr);
}

INSTANTIATE_TEST_SUITE_P(BelowAndAboveLambdaC, LinearPhi,
                         ::testing::Values(LinearCase{0.6, false}, LinearCase{1.0, true}));

// lam = 0: y = 0, so the readout tilt is 0, and along H = K(C) also G = K^{-1} H K^{-1} - K^{-1}
// vanishes: on that manifold the map is (C, H) -> (arcsine(K(C)), K(C)), the closed-form NNGP
// recursion step (Williams 1997). The estimate's derivative along (dC, dH = w Sh(dC)) at the NNGP
// kernel must be its central finite difference (exact to O(eps^2)) and w Sh(dC).
TEST(ErfMapJacobian, NoSignalGivesTheArcsineRecursionDerivative) {
  NetworkSpec network;
  network.activation = Activation::erf;
  network.T = 3;
  TaskSpec task;
  task.P = task.D = 2;
  task.lam = 0.0;
  const Dataset data = make_dataset(task, network.T);
  const KernelStructure s(network, data);
  const Eigen::MatrixXd C0 = reference::erf_prior_kernel(network, data);
  const Eigen::MatrixXd K0 = reference::prior_covariance(network, data, C0);
  const EntryList entries = entries_where(s, true);
  const int n = static_cast<int>(entries.size()), M = s.M();
  const MapJacobianEstimate e =
      estimate_map_jacobian(s, C0, K0, gaussian_draws(K0, 40000, 11), entries, 20);
  ASSERT_TRUE(e.ok) << e.failure;

  Eigen::MatrixXd directions(2 * n, n), exact(2 * n, n);
  const double eps = 1e-5;
  for (int j = 0; j < n; ++j) {
    const Eigen::MatrixXd U = unit_symmetric(entries[j].first, entries[j].second, M);
    const Eigen::MatrixXd dK =
        reference::prior_covariance(network, data, U) -
        reference::prior_covariance(network, data, Eigen::MatrixXd::Zero(M, M));
    directions.col(j) << Eigen::VectorXd::Unit(n, j), pack(dK, entries);
    const auto step = [&](double h) {
      return reference::erf_arcsine(reference::prior_covariance(network, data, C0 + h * U));
    };
    exact.col(j) << pack((step(eps) - step(-eps)) / (2.0 * eps), entries), pack(dK, entries);
  }
  const auto g = [&](const Eigen::MatrixXd& J) { return Eigen::MatrixXd(J * directions); };
  const auto z = z_scores(e, g, exact);
  std::printf("lam = 0: %zu entries, max |z| %.2f, mean z^2 %.3f\n", z.size(), max_abs(z),
              mean_square(z));
  // Most entries are exact up to rounding (no K entry they depend on moves, or V = 0 makes the
  // integration-by-parts terms vanish); the rest carry Monte-Carlo noise, z-tested here: with 30
  // entries mean z^2 ~ chi^2_30 / 30 (t-distributed with 19 degrees of freedom: a bit wider).
  ASSERT_GE(z.size(), 20u);
  EXPECT_LT(max_abs(z), 4.5);
  EXPECT_GT(mean_square(z), 0.4);
  EXPECT_LT(mean_square(z), 2.0);
  // The noiseless entries must match the finite difference to its own accuracy (O(eps^2)).
  const Eigen::MatrixXd estimate = g(e.J);
  double noiseless_deviation = 0.0;
  for (Eigen::Index i = 0; i < estimate.size(); ++i) {
    double var = 0.0;
    for (const auto& Jb : e.batch_estimates) var += std::pow(g(Jb)(i) - estimate(i), 2);
    if (std::sqrt(var) <= 1e-9 * (1.0 + std::abs(exact(i))))
      noiseless_deviation = std::max(noiseless_deviation, std::abs(estimate(i) - exact(i)));
  }
  EXPECT_LT(noiseless_deviation, 1e-7);
  EXPECT_LT((estimate - exact).norm(), 0.01 * exact.norm());
}

// A hand-made estimate: J with batch estimates J + noise_b * E, the noise of zero mean.
MapJacobianEstimate synthetic(const Eigen::MatrixXd& J, int row, int col,
                              const std::vector<double>& noise) {
  MapJacobianEstimate e;
  e.ok = true;
  e.J = J;
  double mean = 0.0;
  for (double x : noise) mean += x / double(noise.size());
  for (double x : noise) {
    Eigen::MatrixXd Jb = J;
    Jb(row, col) += x - mean;
    e.batch_estimates.push_back(Jb);
  }
  return e;
}

// First-order perturbation theory (independent of the code's eigenvectors): for J = [[a, b], [0,
// c]] the eigenvalue a moves by dJ_00 + b / (a - c) dJ_10 (left eigenvector (1, b / (a - c)),
// right eigenvector (1, 0)). Noise in dJ_10 alone: the error is |b / (a - c)| x its batch error.
// And the verdict bands: 5 errors above 1 unstable, 5 below stable, 1 above undetermined.
TEST(MapStability, DeltaMethodErrorAndVerdictBands) {
  std::vector<double> noise;
  for (int b = 0; b < 20; ++b) noise.push_back(0.01 * std::sin(1.7 * b + 0.3));
  double mean = 0.0, var = 0.0;
  for (double x : noise) mean += x / 20.0;
  for (double x : noise) var += (x - mean) * (x - mean);
  const double entry_error = std::sqrt(var / (20.0 * 19.0));
  const double a = 1.0, b = 0.6, c = 0.4;
  Eigen::MatrixXd J(2, 2);
  J << a, b, 0.0, c;
  const auto leading = leading_eigenvalues(synthetic(J, 1, 0, noise), 2);
  ASSERT_EQ(leading.size(), 2u);
  EXPECT_NEAR(leading[0].value.real(), a, 1e-12);
  EXPECT_NEAR(leading[0].real_stderr, std::abs(b / (a - c)) * entry_error, 1e-9 * entry_error);
  // The other eigenvalue, c, moves by -b / (a - c) dJ_10 (left (0, 1), right (b, c - a)).
  EXPECT_NEAR(leading[1].real_stderr, std::abs(b / (a - c)) * entry_error, 1e-9 * entry_error);

  const double s = leading[0].real_stderr;
  const auto verdict = [&](double shift) {
    std::vector<EigenvalueEstimate> l = leading;
    l[0].value += shift;
    return stability_verdict(l, 3.0);
  };
  EXPECT_EQ(verdict(5.0 * s), StabilityVerdict::unstable);
  EXPECT_EQ(verdict(-5.0 * s), StabilityVerdict::stable);
  EXPECT_EQ(verdict(1.0 * s), StabilityVerdict::undetermined);
  EXPECT_EQ(verdict(-1.0 * s), StabilityVerdict::undetermined);
  EXPECT_EQ(stability_verdict({}, 3.0), StabilityVerdict::undetermined);
}

struct ErfCase {
  double lam;
  bool unstable;  // the symmetric state is past the erf transition
};

class ErfSymmetricState : public ::testing::TestWithParam<ErfCase> {};

// The erf symmetric state (endpoint task, T = 4, P = D = 2; the broken state exists at lam = 0.6
// and 3, erf_basins_test / erf_theory_test): its iteration is projected onto the even sector, so
// only the stability check can see that it is a saddle at strong signal. Weak signal: the leading
// odd-sector eigenvalue is below 1 and the state is done; strong signal: above 1, and the state
// is not done. The point-level answer is never a done state with an eigenvalue above 1. The
// verdicts agree with what the unprojected, broken-seeded iteration does at the same points.
TEST_P(ErfSymmetricState, OddSectorEigenvalueCrossesOne) {
  const ErfCase c = GetParam();
  NetworkSpec network;
  network.activation = Activation::erf;
  TaskSpec task;
  task.P = task.D = 2;
  task.lam = c.lam;
  const Dataset data = make_dataset(task, network.T);
  TheoryOptions options;
  options.samples = 2000;
  options.max_iterations = 2000;
  TheorySummary summary;
  solve_saddle_point(options, TheoryProblem{network, data}, &summary);
  ASSERT_GE(summary.selected, 0) << summary.message;
  ASSERT_FALSE(summary.states.empty());
  const StationaryState& symmetric = summary.states[0];
  ASSERT_EQ(symmetric.kind, StateKind::symmetric);
  std::printf("lam %.2f symmetric: %s, map eigenvalue %.4f +- %.4f (%s)\n", c.lam,
              to_string(symmetric.status).c_str(), symmetric.map_eigenvalue,
              symmetric.map_eigenvalue_stderr, symmetric.map_eigenvalue_sector.c_str());
  ASSERT_NE(symmetric.status, Status::failed) << symmetric.message;
  ASSERT_GT(symmetric.map_eigenvalue_stderr, 0.0);
  if (c.unstable) {
    EXPECT_GT(symmetric.map_eigenvalue - 3.0 * symmetric.map_eigenvalue_stderr, 1.0);
    EXPECT_EQ(symmetric.map_eigenvalue_sector, "odd-lag");
    EXPECT_FALSE(symmetric.stable);
    EXPECT_EQ(symmetric.status, Status::not_converged) << symmetric.message;
    EXPECT_NE(symmetric.message.find("unstable"), std::string::npos) << symmetric.message;
  } else {
    EXPECT_LT(symmetric.map_eigenvalue + 3.0 * symmetric.map_eigenvalue_stderr, 1.0);
    EXPECT_TRUE(symmetric.stable);
    EXPECT_EQ(symmetric.status, Status::done) << symmetric.message;
  }

  for (const auto& st : summary.states) {
    std::printf("  state %s: %s, q %.4f, F %.5f, map eigenvalue %.4f +- %.4f (%s)\n",
                st.name.c_str(), to_string(st.status).c_str(), st.q, st.free_energy,
                st.map_eigenvalue, st.map_eigenvalue_stderr, st.map_eigenvalue_sector.c_str());
    if (st.status == Status::done) {
      EXPECT_TRUE(st.stable);
      EXPECT_LT(st.map_eigenvalue, 1.0);
    }
  }
  // Independent evidence from the unprojected (broken-seeded) iteration: at weak signal it returns
  // to q = 0 (the odd sector contracts: no broken state is listed); at strong signal it settles at
  // a broken state of lower F.
  if (c.unstable) {
    ASSERT_EQ(summary.states.size(), 2u) << summary.message;
    EXPECT_LT(summary.states[1].free_energy, summary.states[0].free_energy);
  } else {
    EXPECT_EQ(summary.states.size(), 1u) << summary.message;
  }
  const StationaryState& answer = summary.solution();
  if (summary.status == Status::done) {
    EXPECT_LT(answer.map_eigenvalue, 1.0) << summary.message;
  }
  if (c.unstable) {
    EXPECT_EQ(answer.kind, StateKind::broken) << summary.message;
  }
}

INSTANTIATE_TEST_SUITE_P(WeakAndStrongSignal, ErfSymmetricState,
                         ::testing::Values(ErfCase{0.2, false}, ErfCase{3.0, true}));

// A settled replicate average that is not the stable state (endpoint task, erf, T = 4, P = D = 2,
// lam = 3, 2000 samples, broken seed). Nine seeds of 1..10 agree on the broken state (q = 2.36 to
// 2.40, map eigenvalue 0.909 to 0.918); seed 2 settles at q = 2.07 +- 0.29 (its eight replicates
// spread by ~0.8) with an F 1.26 below theirs, dozens of its Monte-Carlo errors: both cannot be the
// same stationary state, and as the lower F it would have been selected. Before the stability
// check it was done; its map eigenvalue is far above 1.
TEST(ErfStability, UnstableSettledAverageIsNotDone) {
  NetworkSpec network;
  network.activation = Activation::erf;
  TaskSpec task;
  task.P = task.D = 2;
  task.lam = 3.0;
  const KernelStructure s(network, make_dataset(task, network.T));
  TheoryOptions options;
  options.samples = 2000;
  options.max_iterations = 2000;
  options.seed = 1;
  const BranchSolution good = solve_erf_branch(s, options, true);
  options.seed = 2;
  const BranchSolution odd = solve_erf_branch(s, options, true);
  std::printf("seed 1: %s q %.4f +- %.4f F %.4f +- %.4f eig %.4f +- %.4f\n",
              to_string(good.status).c_str(), good.q, good.q_stderr, good.free_energy,
              good.free_energy_stderr, good.map_eigenvalue, good.map_eigenvalue_stderr);
  std::printf("seed 2: %s q %.4f +- %.4f F %.4f +- %.4f eig %.4f +- %.4f\n",
              to_string(odd.status).c_str(), odd.q, odd.q_stderr, odd.free_energy,
              odd.free_energy_stderr, odd.map_eigenvalue, odd.map_eigenvalue_stderr);
  ASSERT_EQ(good.status, Status::done) << good.message;
  ASSERT_GT(std::abs(good.free_energy - odd.free_energy),
            10.0 * std::hypot(good.free_energy_stderr, odd.free_energy_stderr))
      << "the two runs must disagree for this test to mean anything";
  EXPECT_NE(odd.status, Status::done) << odd.message;
  EXPECT_FALSE(odd.stable);
  EXPECT_GT(odd.map_eigenvalue - 3.0 * odd.map_eigenvalue_stderr, 1.0) << odd.message;
}

}  // namespace
}  // namespace kernelsweep
