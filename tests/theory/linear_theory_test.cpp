// Linear kernel theory against independent facts: the T=1 closed form, the NNGP limit, the
// stationarity equations re-evaluated by reference code, the two free-energy forms, the analytic
// Jacobian against finite differences, and the posterior-mean outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reference.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

TheorySummary solve(const NetworkSpec& network, const TaskSpec& task,
                    BranchChoice branch = BranchChoice::automatic) {
  TheoryOptions options;
  options.branch = branch;
  TheorySummary summary;
  solve_saddle_point(options, TheoryProblem{network, make_dataset(task, network.T)}, &summary);
  return summary;
}

NetworkSpec network(Architecture a, int T) {
  NetworkSpec n;
  n.architecture = a;
  n.T = T;
  return n;
}

// docs/theory.md 3.1: T=1, P=1 linear: k = u|x|^2/D, c = k / (1 - k v r^2), r = y / (v c + kappa).
// The root c >= k is found by bisection on c (1 - k v r(c)^2) - k, independently of the solver.
TEST(LinearTheory, SingleStepClosedForm) {
  for (double lam : {0.3, 1.0, 2.0}) {
    NetworkSpec n = network(Architecture::rnn, 1);
    n.u = 1.3;
    n.v = 0.7;
    n.kappa = 0.2;
    TaskSpec task;
    task.kind = TaskKind::sinusoid;  // P = D = 1, x = 1, y = lam cos(0) = lam at t = 0
    task.P = task.D = 1;
    task.lam = lam;
    const double k = n.u, y = lam;
    const auto defect = [&](double c) {
      const double r = y / (n.v * c + n.kappa);
      return c * (1.0 - k * n.v * r * r) - k;
    };
    double lo = k, hi = k;
    while (defect(hi) < 0.0) hi *= 2.0;
    for (int i = 0; i < 200; ++i) (defect(0.5 * (lo + hi)) < 0.0 ? lo : hi) = 0.5 * (lo + hi);
    const double c = 0.5 * (lo + hi);
    const double f = n.v * c * y / (n.v * c + n.kappa);

    const TheorySummary s = solve(n, task);
    ASSERT_EQ(s.status, Status::done) << s.message;
    EXPECT_NEAR(s.solution().C(0, 0), c, 1e-10 * c) << "lam=" << lam;
    EXPECT_NEAR(s.solution().f(0), f, 1e-10) << "lam=" << lam;
  }
}

// docs/theory.md 5.2: without signal C_hat = 0 and C is the prior kernel C = K(C).
TEST(LinearTheory, NoSignalGivesPriorKernel) {
  for (Architecture a : {Architecture::rnn, Architecture::dnn}) {
    const NetworkSpec n = network(a, 5);
    TaskSpec task;
    task.P = 3;
    task.D = 4;
    task.lam = 0.0;
    const Dataset d = make_dataset(task, n.T);
    const TheorySummary s = solve(n, task);
    ASSERT_EQ(s.status, Status::done) << s.message;
    const Eigen::MatrixXd prior = reference::linear_prior_kernel(n, d);
    EXPECT_LT((s.solution().C - prior).norm(), 1e-12 * prior.norm());
    EXPECT_EQ(s.solution().q, 0.0);
  }
}

// docs/theory.md 5.6: the returned kernels satisfy the saddle-point equations, re-evaluated by the
// reference code, for several architectures, tasks, signals and both branches.
TEST(LinearTheory, ReturnedKernelsAreStationary) {
  struct Case {
    Architecture a;
    TaskKind kind;
    int T;
    double lam;
  };
  const std::vector<Case> cases = {
      {Architecture::rnn, TaskKind::endpoint_classification, 4, 0.5},
      {Architecture::rnn, TaskKind::endpoint_classification, 4, 1.5},
      {Architecture::dnn, TaskKind::endpoint_classification, 4, 1.5},
      {Architecture::rnn, TaskKind::sinusoid, 6, 1.0},
      {Architecture::dnn, TaskKind::sinusoid, 6, 1.0},
      {Architecture::rnn, TaskKind::teacher_sequence, 5, 1.0},
      {Architecture::dnn, TaskKind::teacher_sequence, 5, 1.0},
  };
  for (const auto& c : cases) {
    const NetworkSpec n = network(c.a, c.T);
    TaskSpec task;
    task.kind = c.kind;
    if (c.kind == TaskKind::sinusoid) task.P = task.D = 1;
    task.lam = c.lam;
    const Dataset d = make_dataset(task, n.T);
    const TheorySummary s = solve(n, task);
    ASSERT_NE(s.status, Status::failed) << s.message;
    for (const auto& b : s.states) {
      SCOPED_TRACE(to_string(c.a) + " " + to_string(c.kind) + " lam=" + std::to_string(c.lam) +
                   " " + b.name);
      if (b.stable) {
        EXPECT_EQ(b.status, Status::done) << b.message;
      }
      EXPECT_LT(b.residual, 1e-10);
      EXPECT_LT(reference::linear_fixed_point_defect(n, d, b.C), 1e-10);
      // F from the saddle-point formula equals the KL form at the fixed point (docs/theory.md 3.1).
      const KernelStructure structure(n, d);
      const LinearEvaluation e = evaluate_linear(structure, b.C, 1.0);
      ASSERT_TRUE(e.ok);
      EXPECT_NEAR(b.free_energy, linear_free_energy_kl(b.C, e),
                  1e-9 * (1.0 + std::abs(b.free_energy)));
    }
  }
}

// docs/theory.md 5.8: DNN outputs vanish at unsupervised layers; RNN outputs there are v C_{mu,S} r.
// Supervision of both parities breaks the W -> -W symmetry (with supervision at even steps only,
// the symmetric branch has no odd-lag kernel and would predict 0 at odd steps, as it should).
TEST(LinearTheory, PredictionsAtUnsupervisedSteps) {
  TaskSpec task;
  task.kind = TaskKind::teacher_sequence;
  task.lam = 1.0;
  task.supervised.mode = Supervision::Mode::list;
  task.supervised.times = {0, 1, 3};
  for (Architecture a : {Architecture::rnn, Architecture::dnn}) {
    const NetworkSpec n = network(a, 5);
    const Dataset d = make_dataset(task, n.T);
    const TheorySummary s = solve(n, task);
    ASSERT_EQ(s.status, Status::done) << s.message;
    const auto& b = s.solution();
    const reference::Readout expected = reference::readout(n, d, b.C);
    EXPECT_LT((b.f - expected.f).norm(), 1e-10 * (1.0 + expected.f.norm()));
    for (int t : {2, 4})
      for (int p = 0; p < d.P; ++p) {
        if (a == Architecture::dnn) {
          EXPECT_EQ(b.f(t * d.P + p), 0.0) << "DNN regresses to the mean at layer " << t;
        } else {
          EXPECT_GT(std::abs(b.f(t * d.P + p)), 1e-3) << "RNN interpolates step " << t;
        }
      }
  }
}

// The analytic directional derivative of R(C) against central finite differences.
TEST(LinearTheory, ResidualJacobianMatchesFiniteDifferences) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (Architecture a : {Architecture::rnn, Architecture::dnn}) {
    const NetworkSpec n = network(a, 3);
    TaskSpec task;
    task.P = 2;
    task.D = 3;
    task.lam = 0.7;
    const KernelStructure s(n, make_dataset(task, n.T));
    const Eigen::MatrixXd C = s.linear_prior_kernel();
    Eigen::MatrixXd dC = Eigen::MatrixXd::Zero(s.M(), s.M());
    for (const auto& [i, j] : entries_where(s, true)) dC(i, j) = dC(j, i) = normal(rng);
    const double h = 1e-6;
    const auto R = [&](const Eigen::MatrixXd& Cx) {
      const LinearEvaluation e = evaluate_linear(s, Cx, 1.0);
      EXPECT_TRUE(e.ok) << e.failure;
      return Eigen::MatrixXd(e.precision - e.C_inv);
    };
    const Eigen::MatrixXd numeric = (R(C + h * dC) - R(C - h * dC)) / (2 * h);
    const LinearEvaluation e = evaluate_linear(s, C, 1.0);
    const Eigen::MatrixXd analytic = residual_derivative(s, C, e, dC);
    EXPECT_LT((analytic - numeric).norm(), 1e-6 * analytic.norm()) << to_string(a);
    // And the map's derivative: d next_C = -next_C d(precision) next_C.
    const auto Phi = [&](const Eigen::MatrixXd& Cx) { return evaluate_linear(s, Cx, 1.0).next_C; };
    const Eigen::MatrixXd numeric_map = (Phi(C + h * dC) - Phi(C - h * dC)) / (2 * h);
    EXPECT_LT((map_derivative(s, C, e, dC) - numeric_map).norm(), 1e-6 * numeric_map.norm());
  }
}

// The rank-2 Jacobian assembly equals the general directional derivative, column by column.
TEST(LinearTheory, FastJacobianEqualsDirectionalDerivatives) {
  for (Architecture a : {Architecture::rnn, Architecture::dnn}) {
    const NetworkSpec n = network(a, 4);
    TaskSpec task;
    task.P = 3;
    task.D = 3;
    task.lam = 0.3;
    const KernelStructure s(n, make_dataset(task, n.T));
    const Eigen::MatrixXd C = s.linear_prior_kernel();
    const LinearEvaluation e = evaluate_linear(s, C, 1.0);
    ASSERT_TRUE(e.ok);
    const EntryList entries = entries_where(s, true);
    const Eigen::MatrixXd J = residual_jacobian(s, C, e, entries);
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const Eigen::MatrixXd dC = unit_symmetric(entries[k].first, entries[k].second, s.M());
      const Eigen::VectorXd column = pack(residual_derivative(s, C, e, dC), entries);
      EXPECT_LT((J.col(static_cast<Eigen::Index>(k)) - column).norm(),
                1e-10 * (1.0 + column.norm()))
          << to_string(a) << " entry " << entries[k].first << "," << entries[k].second;
    }
  }
}

// Strong signal: K^{-1} - C_hat is not positive definite at the prior, so the solver must use
// continuation in the amplitude; the result must still be a fixed point.
TEST(LinearTheory, StrongSignalNeedsContinuationAndStillConverges) {
  const NetworkSpec n = network(Architecture::dnn, 4);
  TaskSpec task;
  task.lam = 6.0;
  const Dataset d = make_dataset(task, n.T);
  const KernelStructure s(n, d);
  EXPECT_FALSE(evaluate_linear(s, s.linear_prior_kernel(), 1.0).ok);
  const TheorySummary summary = solve(n, task);
  ASSERT_EQ(summary.status, Status::done) << summary.message;
  EXPECT_LT(reference::linear_fixed_point_defect(n, d, summary.solution().C), 1e-10);
}

}  // namespace
}  // namespace kernelsweep
