// The shortcuts that make the linear theory fast are exact (issue 9 speed goals): a W -> -W image
// takes its original's stability because its Hessian is the original's with entries' signs
// flipped; the secant-predicted continuation solves strong signals (lam = 1e4) in seconds and
// refuses hopeless ones in one line instead of running into theory.time_limit.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <random>

#include "reference.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/dense_kernels.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/linear_states.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

KernelStructure endpoint_structure(int T, double lam, int P = 4) {
  NetworkSpec n;
  n.T = T;
  TaskSpec task;
  task.lam = lam;
  task.P = P;
  return KernelStructure(n, make_dataset(task, T));
}

// L (I + S) L^T with C0 = L L^T and S a random symmetric matrix of norm `size` < 1 (odd lags
// included): positive definite, with no symmetry of its own.
Eigen::MatrixXd congruence_perturbed(const Eigen::MatrixXd& C0, std::mt19937* rng, double size) {
  const Eigen::Index M = C0.rows();
  std::normal_distribution<double> g;
  Eigen::MatrixXd S(M, M);
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index j = 0; j <= i; ++j) S(i, j) = S(j, i) = g(*rng);
  S *= size / S.norm();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(C0).matrixL();
  return L * (Eigen::MatrixXd::Identity(M, M) + S) * L.transpose();
}

// The entry-wise Jacobian equals directional derivatives of R computed with full matrices
// (residual_derivative), column by column: RNN over all and over even-lag entries, DNN, and a
// teacher task with several supervised steps (a readout tilt over many entries).
TEST(LinearShortcuts, ResidualJacobianMatchesDirectionalDerivatives) {
  std::vector<KernelStructure> cases;
  cases.push_back(endpoint_structure(4, 1.3));
  NetworkSpec dnn;
  dnn.T = 4;
  dnn.architecture = Architecture::dnn;
  TaskSpec teacher;
  teacher.kind = TaskKind::teacher_sequence;
  teacher.supervised.mode = Supervision::Mode::list;
  teacher.supervised.times = {0, 2, 3};
  cases.emplace_back(dnn, make_dataset(teacher, dnn.T));
  NetworkSpec rnn;
  rnn.T = 4;
  cases.emplace_back(rnn, make_dataset(teacher, rnn.T));
  std::mt19937 rng(7);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const KernelStructure& s = cases[c];
    for (bool odd : {true, false}) {
      SCOPED_TRACE("case " + std::to_string(c) + (odd ? " all entries" : " even lags"));
      const EntryList entries = entries_where(s, odd);
      const Eigen::MatrixXd C = congruence_perturbed(s.linear_prior_kernel(), &rng, 0.3);
      const LinearEvaluation e = evaluate_linear(s, C, 1.0);
      ASSERT_TRUE(e.defined);
      const Eigen::MatrixXd J = residual_jacobian(s, C, e, entries);
      double worst = 0.0;
      for (std::size_t k = 0; k < entries.size(); ++k) {
        const Eigen::MatrixXd U = unit_symmetric(entries[k].first, entries[k].second, s.M());
        const Eigen::VectorXd expected = pack(residual_derivative(s, C, e, U), entries);
        worst = std::max(worst, (J.col(static_cast<Eigen::Index>(k)) - expected).norm() /
                                    (1.0 + expected.norm()));
      }
      EXPECT_LT(worst, 1e-12);
    }
  }
}

// Random symmetric matrices with lambda_min = -1 (and a cluster near it): whenever the test calls
// a shift's Cholesky a certain failure, the Cholesky fails; it is certain well below the
// threshold (so attempts are really saved) and never above lambda = 1.
TEST(LinearShortcuts, CholeskyFailureTestIsNeverWrong) {
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  for (int trial = 0; trial < 5; ++trial) {
    const int n = 120;
    Eigen::MatrixXd X(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) X(i, j) = g(rng);
    const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(X).householderQ();
    Eigen::VectorXd spectrum(n);
    for (int k = 0; k < n; ++k) spectrum(k) = -1.0 + 0.01 * k * (trial + 1) + 1e-9 * k;
    const Eigen::MatrixXd H = Q * spectrum.asDiagonal() * Q.transpose();
    Eigen::VectorXd start;
    const CholeskyFailureTest fails(H, &start);
    EXPECT_GE(fails.lambda_min_upper_bound(), -1.0 - 1e-10);
    // Only the lower triangle is read (the packed Hessians are formed there alone).
    Eigen::MatrixXd lower = H;
    lower.triangularView<Eigen::StrictlyUpper>().setConstant(std::nan(""));
    Eigen::VectorXd lower_start;
    EXPECT_EQ(CholeskyFailureTest(lower, &lower_start).lambda_min_upper_bound(),
              fails.lambda_min_upper_bound());
    int certain = 0;
    for (double s = 0.0; s < 1.2; s += 0.01) {
      if (!fails.certain(s)) continue;
      ++certain;
      const Eigen::LLT<Eigen::MatrixXd> llt(H + s * Eigen::MatrixXd::Identity(n, n));
      EXPECT_NE(llt.info(), Eigen::Success) << "s = " << s;
    }
    EXPECT_GE(certain, 50) << "the bound is useful (certain for most shifts below 1)";
    EXPECT_FALSE(fails.certain(1.0 + 1e-6));
  }
}

// The galloping shift search returns the shift the plain doubling finds: the first base * 2^k above
// -lambda_min (H with a known spectrum; lambda_min placed between two powers of two, away from the
// rounding of the Cholesky), and its factor solves (H + shift I) x = b.
TEST(LinearShortcuts, GallopingShiftIsTheDoublingShift) {
  std::mt19937 rng(5);
  std::normal_distribution<double> g;
  const int n = 60;
  Eigen::MatrixXd X(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) X(i, j) = g(rng);
  const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(X).householderQ();
  const double base = 1e-8;
  for (int k_expected : {0, 1, 2, 3, 5, 9, 17, 20, 33}) {
    SCOPED_TRACE("k = " + std::to_string(k_expected));
    // lambda_min = -1.5 base 2^(k - 1): base 2^(k - 1) fails, base 2^k succeeds (k = 0: positive).
    const double lambda_min =
        k_expected == 0 ? 0.5 * base : -1.5 * std::ldexp(base, k_expected - 1);
    Eigen::VectorXd spectrum(n);
    for (int k = 0; k < n; ++k) spectrum(k) = lambda_min + 0.05 * k;
    const Eigen::MatrixXd H = Q * spectrum.asDiagonal() * Q.transpose();
    DenseCholesky llt;
    const double shift = first_factorable_shift(H, base, CholeskyFailureTest(), &llt);
    EXPECT_EQ(shift, std::ldexp(base, k_expected));
    double doubling = base;
    while (!DenseCholesky().compute_shifted(H, doubling)) doubling *= 2.0;
    EXPECT_EQ(shift, doubling);
    const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1.0, 2.0);
    const Eigen::MatrixXd shifted = H + shift * Eigen::MatrixXd::Identity(n, n);
    EXPECT_LT((shifted * llt.solve(b) - b).norm(), 1e-6 * b.norm());
  }
}

// A saddle's direction of most negative curvature (inverse iteration after an eigenvalues-only
// solve) is the lowest eigenpair of the dense packed Hessian: the symmetric state above lambda_c
// (T = 4, 8) and a random neighbour of it without the W -> -W symmetry.
TEST(LinearShortcuts, SaddleDirectionIsTheLowestEigenvector) {
  std::mt19937 rng(17);
  for (const auto& [T, lam] : std::vector<std::pair<int, double>>{{4, 1.2}, {8, 1.0}}) {
    const KernelStructure s = endpoint_structure(T, lam);
    const Eigen::MatrixXd C_sym = solve_linear_symmetric(s, TheoryOptions{}, 1.0).C;
    for (const Eigen::MatrixXd& C : {C_sym, congruence_perturbed(C_sym, &rng, 0.02)}) {
      const HessianCheck check = free_energy_hessian(s, C, 1.0, true);
      ASSERT_TRUE(check.defined);
      ASSERT_FALSE(check.stable);
      const EntryList all = entries_where(s, true);
      Eigen::MatrixXd H = residual_jacobian(s, C, evaluate_linear(s, C, 1.0), all);
      to_packed_hessian(&H, all);
      const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(H);
      const double scale = H.diagonal().cwiseAbs().maxCoeff();
      EXPECT_NEAR(check.minimum, eig.eigenvalues()(0), 1e-12 * scale);
      ASSERT_EQ(check.direction.size(), H.rows());
      EXPECT_NEAR(check.direction.norm(), 1.0, 1e-12);
      EXPECT_LT((H * check.direction - check.minimum * check.direction).norm(), 1e-10 * scale);
      EXPECT_GT(std::abs(check.direction.dot(eig.eigenvectors().col(0))), 1.0 - 1e-8);
    }
  }
}

// At W -> -W invariant states (the symmetric state below and above lambda_c, and invariant random
// kernels) the Hessian has no even-odd coupling, and the two-block stability check agrees with the
// dense Hessian's smallest eigenvalue.
TEST(LinearShortcuts, SymmetricStateStabilityFromTwoBlocks) {
  std::mt19937 rng(13);
  int stable = 0, unstable = 0;
  for (const auto& [T, lam] : std::vector<std::pair<int, double>>{
           {4, 0.5}, {4, 1.2}, {5, 0.3}, {5, 0.9}, {8, 0.3}, {8, 1.0}}) {
    const KernelStructure s = endpoint_structure(T, lam);
    const Eigen::MatrixXd C_sym = solve_linear_symmetric(s, TheoryOptions{}, 1.0).C;
    std::vector<Eigen::MatrixXd> kernels{C_sym};
    // An invariant random neighbour: a perturbation with its odd-lag part removed.
    kernels.push_back(0.5 * (congruence_perturbed(C_sym, &rng, 0.05) +
                             mirror_state(s, congruence_perturbed(C_sym, &rng, 0.05))));
    kernels.back() = 0.5 * (kernels.back() + mirror_state(s, kernels.back()));
    for (const Eigen::MatrixXd& C : kernels) {
      SCOPED_TRACE("T=" + std::to_string(T) + " lam=" + std::to_string(lam));
      const EntryList all = entries_where(s, true);
      const LinearEvaluation e = evaluate_linear(s, C, 1.0);
      ASSERT_TRUE(e.defined);
      Eigen::MatrixXd H = residual_jacobian(s, C, e, all);
      to_packed_hessian(&H, all);
      double coupling = 0.0;
      for (std::size_t k = 0; k < all.size(); ++k)
        for (std::size_t l = 0; l < all.size(); ++l)
          if (s.is_odd_lag(all[k].first, all[k].second) !=
              s.is_odd_lag(all[l].first, all[l].second))
            coupling = std::max(
                coupling, std::abs(H(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(l))));
      EXPECT_LT(coupling, 1e-12 * H.norm());
      const double lowest =
          Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H, Eigen::EigenvaluesOnly)
              .eigenvalues()(0);
      const double threshold = -kStabilityTolerance * H.diagonal().cwiseAbs().maxCoeff();
      ASSERT_GT(std::abs(lowest - threshold), 1e-6 * H.norm()) << "not marginal";
      EXPECT_EQ(free_energy_hessian(s, C, 1.0, false).stable, lowest > threshold);
      (lowest > threshold ? stable : unstable) += 1;
    }
  }
  EXPECT_GE(stable, 3);
  EXPECT_GE(unstable, 3);
}

// Hess F at mirror(C) = Pi Hess F(C) Pi, Pi_kk = -1 on odd-lag entries, at random kernels.
TEST(LinearShortcuts, MirrorHessianIsTheSignFlippedHessian) {
  const KernelStructure s = endpoint_structure(4, 1.3);
  ASSERT_TRUE(s.has_sign_symmetry());
  const EntryList all = entries_where(s, true);
  Eigen::VectorXd pi(static_cast<Eigen::Index>(all.size()));
  for (std::size_t k = 0; k < all.size(); ++k)
    pi(static_cast<Eigen::Index>(k)) = s.is_odd_lag(all[k].first, all[k].second) ? -1.0 : 1.0;
  std::mt19937 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    const Eigen::MatrixXd C = congruence_perturbed(s.linear_prior_kernel(), &rng, 0.5);
    const Eigen::MatrixXd C_mirror = mirror_state(s, C);
    const LinearEvaluation e = evaluate_linear(s, C, 1.0),
                           e_mirror = evaluate_linear(s, C_mirror, 1.0);
    ASSERT_TRUE(e.defined && e_mirror.defined);
    const Eigen::MatrixXd J = residual_jacobian(s, C, e, all);
    const Eigen::MatrixXd J_mirror = residual_jacobian(s, C_mirror, e_mirror, all);
    const Eigen::MatrixXd expected = pi.asDiagonal() * J * pi.asDiagonal();
    EXPECT_LT((J_mirror - expected).norm(), 1e-11 * J.norm()) << "trial " << trial;
    // and F itself is invariant
    EXPECT_NEAR(linear_free_energy_kl(C, e), linear_free_energy_kl(C_mirror, e_mirror),
                1e-12 * (1.0 + std::abs(linear_free_energy_kl(C, e))));
  }
}

// Near the stationary states of a search (T = 5 past lambda_c: the symmetric saddle and the stable
// broken pair), at random nearby kernels with odd-lag parts: the image built by make_mirror_state
// equals the image evaluated from scratch (its own Hessian): the same stability, status, kind and
// F, opposite q.
TEST(LinearShortcuts, MirrorStateMatchesAFreshEvaluation) {
  const KernelStructure s = endpoint_structure(5, 0.9);
  StateSearchOptions options;
  options.random_seeds = 0;
  const Eigen::MatrixXd C_sym = solve_linear_symmetric(s, TheoryOptions{}, 1.0).C;
  const std::vector<StationaryState> states = search_linear_states(s, 1.0, C_sym, options);
  std::mt19937 rng(5);
  int stable = 0, unstable = 0;
  for (const StationaryState& st : states) {
    for (int trial = 0; trial < 2; ++trial) {
      const Eigen::MatrixXd C = congruence_perturbed(st.C, &rng, 0.02);
      const StationaryState original = make_state(s, C, 1.0, C_sym, 1e-12, "original");
      ASSERT_NE(original.status, Status::failed);
      const StationaryState shortcut = make_mirror_state(s, original, 1.0, C_sym, 1e-12, "image");
      const StationaryState fresh = make_state(s, mirror_state(s, C), 1.0, C_sym, 1e-12, "image");
      EXPECT_EQ(shortcut.stable, fresh.stable);
      EXPECT_EQ(shortcut.status, fresh.status);
      EXPECT_EQ(shortcut.kind, fresh.kind);
      EXPECT_DOUBLE_EQ(shortcut.free_energy, fresh.free_energy);
      EXPECT_NEAR(shortcut.q, -original.q, 1e-14 * (1.0 + std::abs(original.q)));
      EXPECT_NEAR(shortcut.free_energy, original.free_energy,
                  1e-10 * (1.0 + std::abs(original.free_energy)));
      (original.stable ? stable : unstable) += 1;
    }
  }
  EXPECT_GE(stable, 2);
  EXPECT_GE(unstable, 1) << "the symmetric saddle's neighbourhood";
}

double condition(const Eigen::MatrixXd& A) {
  const Eigen::VectorXd ev =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(A, Eigen::EigenvaluesOnly).eigenvalues();
  return ev.maxCoeff() / ev.minCoeff();
}

TheorySummary strong_signal(double lam) {
  NetworkSpec n;
  n.T = 2;
  TaskSpec task;
  task.P = 2;
  task.lam = lam;
  TheoryOptions options;
  options.time_limit = 60.0;  // a safety net only: the solve must end by itself, long before
  TheorySummary summary;
  solve_saddle_point(options, TheoryProblem{n, make_dataset(task, n.T)}, &summary);
  EXPECT_EQ(summary.message.find("time_limit"), std::string::npos) << summary.message;
  EXPECT_EQ(summary.message.find('\n'), std::string::npos) << "one-line message";
  return summary;
}

// Issue 9: a bounded strong signal (T = 2, P = 2, lam = 1e3, 1e4) is solved: the state satisfies
// the independently written fixed-point equations (to the rounding floor at 1e4, where C is
// ill-conditioned and the reported status may be not_converged with the residual in the message).
TEST(LinearShortcuts, StrongSignalIsSolved) {
  for (double lam : {1e3, 1e4}) {
    SCOPED_TRACE("lam=" + std::to_string(lam));
    const TheorySummary s = strong_signal(lam);
    ASSERT_NE(s.status, Status::failed) << s.message;
    ASSERT_GE(s.selected, 0);
    const StationaryState& st = s.solution();
    NetworkSpec n;
    n.T = 2;
    TaskSpec task;
    task.P = 2;
    task.lam = lam;
    const Dataset d = make_dataset(task, n.T);
    // The reference inverts K and K^{-1} - C_hat (= C^{-1} at the solution) explicitly: its own
    // rounding is ~ eps cond(K) cond(C), large at strong signal.
    const double rounding =
        1e-15 * condition(reference::prior_covariance(n, d, st.C)) * condition(st.C) * d.M();
    EXPECT_LT(reference::linear_fixed_point_defect(n, d, st.C), std::max(1e-10, rounding))
        << "reference rounding " << rounding;
    EXPECT_NEAR(reference::free_energy_kl(n, d, st.C), st.free_energy,
                1e-9 * std::abs(st.free_energy));
    if (lam == 1e3) {
      EXPECT_EQ(s.status, Status::done) << s.message;
    } else if (s.status != Status::done) {
      EXPECT_NE(s.message.find("above tolerance"), std::string::npos) << s.message;
    }
  }
}

// A signal the continuation cannot follow is refused in one line (failed), not timed out.
TEST(LinearShortcuts, HopelessSignalIsRefusedFast) {
  const TheorySummary s = strong_signal(1e6);
  EXPECT_EQ(s.status, Status::failed);
  EXPECT_NE(s.message.find("too strong"), std::string::npos) << s.message;
}

}  // namespace
}  // namespace kernelsweep
