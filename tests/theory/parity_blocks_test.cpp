// The time-parity block shortcuts for W -> -W invariant states (src/theory/parity_blocks.hpp) give
// the numbers of the full-matrix code: the blockwise evaluation equals evaluate_linear, each
// sector's Jacobian equals directional derivatives of R computed with full matrices (and a sector
// direction moves R only in its sector), the symmetric state equals an independent solve of the
// reference equations, and the two-sector stability verdict equals the sign of the smallest
// eigenvalue of the reference finite-difference Hessian of F.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <random>

#include "reference.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/linear_states.hpp"
#include "theory/parity_blocks.hpp"

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

// A W -> -W invariant positive-definite kernel near C0: L (I + S) L^T (S random symmetric of norm
// `size`) averaged with its mirror image (the odd-lag part cancels exactly).
Eigen::MatrixXd invariant_neighbour(const KernelStructure& s, const Eigen::MatrixXd& C0,
                                    std::mt19937* rng, double size) {
  const Eigen::Index M = C0.rows();
  std::normal_distribution<double> g;
  Eigen::MatrixXd S(M, M);
  for (Eigen::Index i = 0; i < M; ++i)
    for (Eigen::Index j = 0; j <= i; ++j) S(i, j) = S(j, i) = g(*rng);
  S *= size / S.norm();
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(C0).matrixL();
  const Eigen::MatrixXd C = L * (Eigen::MatrixXd::Identity(M, M) + S) * L.transpose();
  Eigen::MatrixXd out = C;
  for (int i = 0; i < s.M(); ++i)
    for (int j = 0; j < s.M(); ++j)
      if (s.is_odd_lag(i, j)) out(i, j) = 0.0;
  return out;
}

double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).norm() / (1.0 + b.norm());
}

TEST(ParityBlocks, EvaluationEqualsTheFullOne) {
  std::mt19937 rng(5);
  for (const auto& [T, P] : std::vector<std::pair<int, int>>{{4, 4}, {5, 3}, {8, 4}}) {
    const KernelStructure s = endpoint_structure(T, 0.7, P);
    ASSERT_TRUE(s.has_sign_symmetry());
    const Eigen::MatrixXd C_sym = solve_linear_symmetric(s, TheoryOptions{}, 1.0).C;
    const ParityBlocks blocks(s);
    EXPECT_EQ(blocks.even().size() + blocks.odd().size(), static_cast<std::size_t>(s.M()));
    for (int k = 0; k < 3; ++k) {
      SCOPED_TRACE("T=" + std::to_string(T) + " kernel " + std::to_string(k));
      const Eigen::MatrixXd C = invariant_neighbour(s, C_sym, &rng, 0.1 * k);
      ASSERT_TRUE(is_parity_invariant(s, C));
      const LinearEvaluation full = evaluate_linear(s, C, 1.0);
      const LinearEvaluation fast = evaluate_linear_invariant(s, blocks, C, 1.0);
      ASSERT_TRUE(full.ok);
      ASSERT_EQ(fast.ok, full.ok);
      EXPECT_EQ(fast.defined, full.defined);
      for (const auto& [a, b] :
           std::vector<std::pair<const Eigen::MatrixXd*, const Eigen::MatrixXd*>>{
               {&fast.K, &full.K},
               {&fast.K_inv, &full.K_inv},
               {&fast.G, &full.G},
               {&fast.C_hat, &full.C_hat},
               {&fast.precision, &full.precision},
               {&fast.next_C, &full.next_C},
               {&fast.C_inv, &full.C_inv},
               {&fast.readout.tilt, &full.readout.tilt}})
        EXPECT_LT(relative(*a, *b), 1e-13);
      EXPECT_NEAR(fast.logdet_K, full.logdet_K, 1e-12 * (1.0 + std::abs(full.logdet_K)));
      EXPECT_NEAR(fast.logdet_C, full.logdet_C, 1e-12 * (1.0 + std::abs(full.logdet_C)));
      EXPECT_NEAR(fast.logdet_precision, full.logdet_precision,
                  1e-12 * (1.0 + std::abs(full.logdet_precision)));
      EXPECT_NEAR(fast.fixed_point_residual, full.fixed_point_residual,
                  1e-12 * (1.0 + full.fixed_point_residual));
      EXPECT_NEAR(linear_free_energy(C, fast), linear_free_energy(C, full), 1e-12);
      const FixedPointImage image = invariant_fixed_point_map(s, blocks, C, 1.0);
      ASSERT_TRUE(image.ok);
      EXPECT_LT(relative(image.next_C, full.next_C), 1e-13);
      EXPECT_NEAR(image.fixed_point_residual, full.fixed_point_residual,
                  1e-12 * (1.0 + full.fixed_point_residual));
    }
    // A kernel that is not positive definite fails with the same message.
    const Eigen::MatrixXd bad = -C_sym;
    const LinearEvaluation full = evaluate_linear(s, bad, 1.0);
    const LinearEvaluation fast = evaluate_linear_invariant(s, blocks, bad, 1.0);
    EXPECT_FALSE(fast.ok);
    EXPECT_EQ(fast.failure, full.failure);
    const FixedPointImage image = invariant_fixed_point_map(s, blocks, bad, 1.0);
    EXPECT_FALSE(image.ok);
    EXPECT_EQ(image.failure, full.failure);
    // A strong signal breaks K^{-1} - C_hat at the prior kernel: the same verdict.
    const Eigen::MatrixXd prior = s.linear_prior_kernel();
    const LinearEvaluation strong = evaluate_linear(s, prior, 50.0);
    const FixedPointImage strong_image = invariant_fixed_point_map(s, blocks, prior, 50.0);
    EXPECT_EQ(strong_image.ok, strong.ok);
    EXPECT_EQ(strong_image.failure, strong.failure);
  }
}

// Columns of the Jacobian over one sector's entries against residual_derivative (full M x M
// matrices, independent of the entry-wise formulas) at a W -> -W invariant C: the sector's rows
// match, and R moves in no entry of the other sector (what lets free_energy_hessian check the two
// sectors apart). The lower packed Hessian is the lower triangle of to_packed_hessian.
TEST(ParityBlocks, SectorJacobianMatchesDirectionalDerivatives) {
  std::mt19937 rng(11);
  for (const auto& [T, P] : std::vector<std::pair<int, int>>{{4, 4}, {5, 3}, {6, 2}}) {
    const KernelStructure s = endpoint_structure(T, 1.1, P);
    const ParityBlocks blocks(s);
    const Eigen::MatrixXd C = invariant_neighbour(s, s.linear_prior_kernel(), &rng, 0.3);
    const LinearEvaluation e = evaluate_linear_invariant(s, blocks, C, 1.0);
    ASSERT_TRUE(e.defined);
    for (bool odd : {false, true}) {
      SCOPED_TRACE("T=" + std::to_string(T) + (odd ? " odd" : " even") + " sector");
      const EntryList sector = sector_entries(s, odd), other = sector_entries(s, !odd);
      const Eigen::MatrixXd J = residual_jacobian(s, C, e, sector);
      ASSERT_EQ(J.rows(), static_cast<Eigen::Index>(sector.size()));
      double worst = 0.0, leak = 0.0;
      for (std::size_t k = 0; k < sector.size(); ++k) {
        const Eigen::MatrixXd dR =
            residual_derivative(s, C, e, unit_symmetric(sector[k].first, sector[k].second, s.M()));
        const Eigen::VectorXd expected = pack(dR, sector);
        worst = std::max(worst, (J.col(static_cast<Eigen::Index>(k)) - expected).norm() /
                                    (1.0 + expected.norm()));
        leak = std::max(leak, pack(dR, other).norm() / (1.0 + dR.norm()));
      }
      EXPECT_LT(worst, 1e-12);
      EXPECT_LT(leak, 1e-13);
      Eigen::MatrixXd expected_hessian = J;
      to_packed_hessian(&expected_hessian, sector);
      const Eigen::MatrixXd lower = packed_hessian_lower(s, C, e, sector);
      EXPECT_EQ(Eigen::MatrixXd(lower.triangularView<Eigen::Lower>()),
                Eigen::MatrixXd(expected_hessian.triangularView<Eigen::Lower>()));
    }
  }
}

// The reference fixed-point map C -> (K^{-1} - C_hat)^{-1} (reference.hpp, plain inverses).
Eigen::MatrixXd reference_map(const NetworkSpec& n, const Dataset& d, const Eigen::MatrixXd& C) {
  const Eigen::MatrixXd K_inv = reference::prior_covariance(n, d, C).inverse();
  const Eigen::MatrixXd G = K_inv * C * K_inv - K_inv;
  const Eigen::MatrixXd C_hat =
      n.w * reference::shift_transpose(n, d, G) + reference::readout(n, d, C).tilt;
  return (K_inv - C_hat).inverse();
}

// An independent solve of C = reference_map(C) over the even-lag entries: Newton from the prior
// kernel with a central-difference Jacobian and step halving on |map(C) - C|.
Eigen::MatrixXd reference_symmetric_state(const NetworkSpec& n, const Dataset& d) {
  std::vector<std::pair<int, int>> even;
  for (int j = 0; j < d.M(); ++j)
    for (int i = 0; i <= j; ++i)
      if ((i / d.P - j / d.P) % 2 == 0) even.emplace_back(i, j);
  const int m = static_cast<int>(even.size());
  const auto defect = [&](const Eigen::MatrixXd& C) {
    const Eigen::MatrixXd D = reference_map(n, d, C) - C;
    Eigen::VectorXd f(m);
    for (int k = 0; k < m; ++k) f(k) = D(even[k].first, even[k].second);
    return f;
  };
  const auto move = [&](const Eigen::MatrixXd& C, const Eigen::VectorXd& dx) {
    Eigen::MatrixXd out = C;
    for (int k = 0; k < m; ++k) {
      out(even[k].first, even[k].second) += dx(k);
      if (even[k].first != even[k].second) out(even[k].second, even[k].first) += dx(k);
    }
    return out;
  };
  Eigen::MatrixXd C = reference::linear_prior_kernel(n, d);
  Eigen::VectorXd f = defect(C);
  for (int step = 0; step < 40 && f.norm() > 1e-15 * C.norm(); ++step) {
    Eigen::MatrixXd J(m, m);
    const double h = 1e-6;
    for (int k = 0; k < m; ++k) {
      const Eigen::VectorXd e = Eigen::VectorXd::Unit(m, k) * h;
      J.col(k) = (defect(move(C, e)) - defect(move(C, -e))) / (2 * h);
    }
    const Eigen::VectorXd dx = J.partialPivLu().solve(-f);
    for (double a = 1.0; a > 1e-3; a *= 0.5) {
      const Eigen::MatrixXd C_try = move(C, a * dx);
      const Eigen::VectorXd f_try = defect(C_try);
      if (f_try.allFinite() && f_try.norm() < f.norm()) {
        C = C_try;
        f = f_try;
        break;
      }
    }
  }
  return C;
}

TEST(ParityBlocks, SymmetricStateEqualsAnIndependentSolve) {
  for (const auto& [T, lam] : std::vector<std::pair<int, double>>{{4, 0.5}, {5, 0.3}, {8, 0.3}}) {
    SCOPED_TRACE("T=" + std::to_string(T) + " lam=" + std::to_string(lam));
    NetworkSpec n;
    n.T = T;
    TaskSpec task;
    task.lam = lam;
    const Dataset d = make_dataset(task, T);
    const KernelStructure s(n, d);
    const BranchSolution b = solve_linear_symmetric(s, TheoryOptions{}, 1.0);
    ASSERT_EQ(b.status, Status::done);
    const Eigen::MatrixXd expected = reference_symmetric_state(n, d);
    EXPECT_LT(reference::linear_fixed_point_defect(n, d, expected), 1e-13);
    EXPECT_LT(reference::linear_fixed_point_defect(n, d, b.C), 1e-11);
    EXPECT_LT((b.C - expected).norm() / expected.norm(), 1e-10);
  }
}

// The verdict of free_energy_hessian (two parity-block sector Hessians, two Choleskys) against
// the smallest eigenvalue of the reference finite-difference Hessian of F over every entry (error
// ~1e-8): the symmetric state at T = 4 below and above lambda_c = 0.811209, at T = 8 below and
// above lambda_c = 0.389183.
TEST(ParityBlocks, StabilityVerdictMatchesTheReferenceHessian) {
  int stable = 0, unstable = 0;
  for (const auto& [T, lam] :
       std::vector<std::pair<int, double>>{{4, 0.6}, {4, 1.0}, {8, 0.3}, {8, 0.45}}) {
    SCOPED_TRACE("T=" + std::to_string(T) + " lam=" + std::to_string(lam));
    NetworkSpec n;
    n.T = T;
    TaskSpec task;
    task.lam = lam;
    const Dataset d = make_dataset(task, T);
    const KernelStructure s(n, d);
    const BranchSolution b = solve_linear_symmetric(s, TheoryOptions{}, 1.0);
    ASSERT_EQ(b.status, Status::done);
    ASSERT_TRUE(is_parity_invariant(s, b.C));
    const Eigen::MatrixXd H = reference::free_energy_hessian_fd(
        n, d, b.C, [](int, int) { return true; }, 1e-5);
    const double lowest =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H, Eigen::EigenvaluesOnly).eigenvalues()(0);
    ASSERT_GT(std::abs(lowest), 1e-5 * H.diagonal().cwiseAbs().maxCoeff()) << "not marginal";
    const HessianCheck check = free_energy_hessian(s, b.C, 1.0, false);
    ASSERT_TRUE(check.defined);
    EXPECT_EQ(check.stable, lowest > 0.0) << "lowest eigenvalue " << lowest;
    (lowest > 0.0 ? stable : unstable) += 1;
  }
  EXPECT_EQ(stable, 2);
  EXPECT_EQ(unstable, 2);
}

}  // namespace
}  // namespace kernelsweep
