// The symmetry-breaking transition of the linear RNN (docs/theory.md 3.2, checks 5.3-5.5): RNN =
// DNN below lambda_c (below coexistence for a first-order transition), only the RNN breaks above,
// the broken branch has lower F, q ~ (lam - lam_c)^{1/2} at T = 3 and 4, and the Landau curve is a
// single well below and a double well above.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <tuple>

#include "reference.hpp"
#include "theory/critical_point.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/linear_saddle_point.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

// The paper's endpoint task: T=4, P=4, D=4, w=u=v=1, kappa=0.1.
NetworkSpec paper_network(Architecture a, int T = 4) {
  NetworkSpec n;
  n.architecture = a;
  n.T = T;
  return n;
}
TaskSpec paper_task(double lam) {
  TaskSpec t;
  t.lam = lam;
  return t;
}

TheorySummary solve(Architecture a, double lam, BranchChoice branch = BranchChoice::automatic,
                    bool landau = false, int T = 4) {
  TheoryOptions options;
  options.branch = branch;
  options.landau = landau;
  TheorySummary summary;
  solve_saddle_point(options, TheoryProblem{paper_network(a, T), make_dataset(paper_task(lam), T)},
                     &summary);
  return summary;
}

// The lowest-F state of a kind (nullptr if none).
const StationaryState* state_of(const TheorySummary& s, StateKind kind) {
  const StationaryState* best = nullptr;
  for (const auto& st : s.states)
    if (st.kind == kind && (!best || st.free_energy < best->free_energy)) best = &st;
  return best;
}
int count_of(const TheorySummary& s, StateKind kind) {
  int n = 0;
  for (const auto& st : s.states) n += st.kind == kind ? 1 : 0;
  return n;
}

double critical_signal(int T = 4) {
  CriticalPointOptions options;
  options.tolerance = 1e-13;
  const CriticalPointResult r = find_critical_signal(
      TheoryOptions{}, paper_network(Architecture::rnn, T), paper_task(1.0), options);
  EXPECT_TRUE(r.found) << r.message;
  return r.lambda_c;
}

// Equal-time blocks C^{tt} of an M x M kernel.
Eigen::MatrixXd equal_time_blocks(const Eigen::MatrixXd& C, int T, int P) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(C.rows(), C.cols());
  for (int t = 0; t < T; ++t) out.block(t * P, t * P, P, P) = C.block(t * P, t * P, P, P);
  return out;
}

TEST(PhaseTransition, RnnEqualsDnnBelowCritical) {
  const TheorySummary rnn = solve(Architecture::rnn, 0.5);
  const TheorySummary dnn = solve(Architecture::dnn, 0.5);
  ASSERT_EQ(rnn.status, Status::done) << rnn.message;
  ASSERT_EQ(dnn.status, Status::done) << dnn.message;
  EXPECT_EQ(rnn.states.size(), 1u) << "no broken branch below lambda_c";
  EXPECT_EQ(rnn.solution().q, 0.0);
  const Eigen::MatrixXd a = equal_time_blocks(rnn.solution().C, 4, 4);
  const Eigen::MatrixXd b = equal_time_blocks(dnn.solution().C, 4, 4);
  EXPECT_LT((a - b).norm(), 1e-9 * b.norm());
  // The DNN kernel has no cross-layer blocks at all.
  EXPECT_EQ((dnn.solution().C - b).norm(), 0.0);
  EXPECT_NEAR(rnn.solution().f(15), dnn.solution().f(15), 1e-9);
}

// First order (T = 6: lambda_fold 0.4827, lambda_coexistence 0.4865, lambda_c 0.50108; T = 8:
// 0.3434, 0.3515, 0.389183 — docs/theory.md 3.2 and transition_test.cpp): below coexistence the
// RNN's answer is still the symmetric state with the DNN's equal-time kernels, both below the fold
// and in the metastable window, where a stable broken state exists but has higher F (reference F).
TEST(PhaseTransition, RnnEqualsDnnBelowFirstOrderCoexistence) {
  for (const auto& [T, lam, metastable] :
       {std::tuple{6, 0.45, false}, std::tuple{6, 0.4846, true}, std::tuple{8, 0.347, true}}) {
    SCOPED_TRACE("T=" + std::to_string(T) + " lam=" + std::to_string(lam));
    const TheorySummary rnn = solve(Architecture::rnn, lam, BranchChoice::automatic, false, T);
    const TheorySummary dnn = solve(Architecture::dnn, lam, BranchChoice::automatic, false, T);
    ASSERT_EQ(rnn.status, Status::done) << rnn.message;
    ASSERT_EQ(dnn.status, Status::done) << dnn.message;
    EXPECT_EQ(rnn.solution().kind, StateKind::symmetric);
    EXPECT_EQ(rnn.solution().q, 0.0);
    const Eigen::MatrixXd a = equal_time_blocks(rnn.solution().C, T, 4);
    const Eigen::MatrixXd b = equal_time_blocks(dnn.solution().C, T, 4);
    EXPECT_LT((a - b).norm(), 1e-9 * b.norm());
    EXPECT_NEAR(rnn.solution().f(T * 4 - 1), dnn.solution().f(T * 4 - 1), 1e-9);
    const StationaryState* broken = state_of(rnn, StateKind::broken);
    if (metastable) {
      ASSERT_NE(broken, nullptr) << "the metastable broken state is found";
      EXPECT_TRUE(broken->stable);
      const Dataset d = make_dataset(paper_task(lam), T);
      const NetworkSpec n = paper_network(Architecture::rnn, T);
      EXPECT_GT(reference::free_energy_kl(n, d, broken->C),
                reference::free_energy_kl(n, d, rnn.solution().C));
    } else {
      EXPECT_EQ(broken, nullptr) << "below the fold there is no broken state";
    }
  }
}

TEST(PhaseTransition, OnlyTheRnnBreaksAboveCritical) {
  const TheorySummary rnn = solve(Architecture::rnn, 1.5);
  const TheorySummary dnn = solve(Architecture::dnn, 1.5);
  ASSERT_EQ(rnn.status, Status::done) << rnn.message;
  ASSERT_EQ(dnn.status, Status::done) << dnn.message;
  ASSERT_EQ(count_of(rnn, StateKind::broken), 2) << rnn.message << "\n" << rnn.report();
  ASSERT_NE(state_of(rnn, StateKind::symmetric), nullptr);
  const BranchSolution& symmetric = *state_of(rnn, StateKind::symmetric);
  const BranchSolution& broken = *state_of(rnn, StateKind::broken);
  EXPECT_FALSE(symmetric.stable);
  EXPECT_EQ(rnn.solution().name, "broken");
  EXPECT_GT(std::abs(broken.q), 0.5);
  EXPECT_LT(broken.free_energy, symmetric.free_energy - 1e-4);
  EXPECT_EQ(symmetric.q, 0.0);
  EXPECT_EQ(dnn.states.size(), 1u);
  EXPECT_EQ(dnn.solution().q, 0.0);
  // The symmetric RNN solution still coincides with the DNN's equal-time kernels (section 3.2).
  const Eigen::MatrixXd a = equal_time_blocks(symmetric.C, 4, 4);
  const Eigen::MatrixXd b = equal_time_blocks(dnn.solution().C, 4, 4);
  EXPECT_LT((a - b).norm(), 1e-9 * b.norm());
  // Asking for the broken branch of a DNN is an error, not a silent symmetric answer.
  EXPECT_EQ(solve(Architecture::dnn, 1.5, BranchChoice::broken).status, Status::failed);
}

TEST(PhaseTransition, StabilityChangesAtCriticalSignal) {
  const double lambda_c = critical_signal();
  EXPECT_GT(lambda_c, 0.1);
  EXPECT_LT(lambda_c, 10.0);
  const NetworkSpec n = paper_network(Architecture::rnn);
  EXPECT_LT(
      symmetric_branch_instability(TheoryOptions{}, n, paper_task(1.0), lambda_c * (1 - 1e-4)),
      1.0);
  EXPECT_GT(
      symmetric_branch_instability(TheoryOptions{}, n, paper_task(1.0), lambda_c * (1 + 1e-4)),
      1.0);
  // No broken branch just below, one just above.
  EXPECT_EQ(solve(Architecture::rnn, lambda_c * 0.999).states.size(), 1u);
  const TheorySummary above = solve(Architecture::rnn, lambda_c * 1.001);
  ASSERT_EQ(count_of(above, StateKind::broken), 2) << above.message;
  EXPECT_GT(std::abs(above.solution().q), 0.0);
}

// Least-squares line v = slope u + intercept.
std::pair<double, double> fit_line(const std::vector<double>& u, const std::vector<double>& v) {
  const double n = double(u.size());
  double su = 0, sv = 0, suu = 0, suv = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    su += u[i];
    sv += v[i];
    suu += u[i] * u[i];
    suv += u[i] * v[i];
  }
  const double slope = (n * suv - su * sv) / (n * suu - su * su);
  return {slope, (sv - slope * su) / n};
}

// docs/theory.md 5.5 / issue 9: at T = 3 and T = 4 (second order) the exponent of q in
// (lam - lam_c) is 0.5 +- 0.03, and the broken branch vanishes where the symmetric branch loses
// stability (q^2 -> 0 at lam_c). The broken states are checked against the reference equations.
void expect_square_root_onset(int T) {
  SCOPED_TRACE("T=" + std::to_string(T));
  const double lambda_c = critical_signal(T);
  const NetworkSpec n = paper_network(Architecture::rnn, T);
  std::vector<double> x, y, q2, lam;
  for (double delta : {2.5e-4, 5e-4, 1e-3, 2e-3, 4e-3}) {
    const double l = lambda_c * (1.0 + delta);
    const TheorySummary s = solve(Architecture::rnn, l, BranchChoice::broken, false, T);
    ASSERT_EQ(s.status, Status::done) << s.message;
    ASSERT_NE(s.solution().q, 0.0);
    EXPECT_LT(
        reference::linear_fixed_point_defect(n, make_dataset(paper_task(l), T), s.solution().C),
        1e-10);
    x.push_back(std::log(l - lambda_c));
    y.push_back(std::log(std::abs(s.solution().q)));
    q2.push_back(s.solution().q * s.solution().q);
    lam.push_back(l);
  }
  const auto [exponent, unused] = fit_line(x, y);
  std::printf("T = %d: lambda_c = %.12f, fitted exponent = %.5f\n", T, lambda_c, exponent);
  EXPECT_NEAR(exponent, 0.5, 0.03);
  const auto [slope, intercept] = fit_line(lam, q2);  // q^2 = slope (lam - lam0)
  EXPECT_GT(slope, 0.0);
  EXPECT_NEAR(-intercept / slope, lambda_c, 2e-3 * lambda_c);
}

TEST(PhaseTransition, SquareRootOnsetAtT4) {
  expect_square_root_onset(4);
}
TEST(PhaseTransition, SquareRootOnsetAtT3) {
  expect_square_root_onset(3);
}

TEST(PhaseTransition, LandauCurveSingleWellBelowDoubleWellAbove) {
  const TheorySummary below = solve(Architecture::rnn, 0.5, BranchChoice::automatic, true);
  ASSERT_TRUE(below.landau.has_value());
  const auto& lb = *below.landau;
  ASSERT_EQ(lb.q.size(), 41u) << lb.message;
  const std::size_t mid = 20;
  EXPECT_EQ(lb.q[mid], 0.0);
  EXPECT_NEAR(lb.F[mid], below.solution().free_energy, 1e-12);
  for (std::size_t i = 0; i < lb.q.size(); ++i) {
    EXPECT_GT(lb.F[i], lb.F[mid] - 1e-12) << "single well: minimum at q = 0";
    EXPECT_NEAR(lb.F[i], lb.F[lb.q.size() - 1 - i], 1e-8) << "F(q) = F(-q)";
    if (i > 0 && i + 1 < lb.q.size()) {
      EXPECT_GT(lb.F[i - 1] + lb.F[i + 1] - 2 * lb.F[i], 0.0) << "convex";
    }
  }

  const TheorySummary above = solve(Architecture::rnn, 1.5, BranchChoice::automatic, true);
  ASSERT_TRUE(above.landau.has_value());
  const auto& la = *above.landau;
  ASSERT_EQ(la.q.size(), 41u) << la.message;
  const double F_broken = state_of(above, StateKind::broken)->free_energy;
  const double q_broken = std::abs(state_of(above, StateKind::broken)->q);
  EXPECT_NEAR(la.F[mid], state_of(above, StateKind::symmetric)->free_energy, 1e-10);
  std::size_t argmin = 0;
  for (std::size_t i = 0; i < la.q.size(); ++i) {
    EXPECT_GT(la.F[i], F_broken - 1e-9) << "the broken branch is the global minimum of F(q)";
    EXPECT_NEAR(la.F[i], la.F[la.q.size() - 1 - i], 1e-8) << "F(q) = F(-q)";
    if (la.F[i] < la.F[argmin]) argmin = i;
  }
  const double spacing = la.q[1] - la.q[0];
  EXPECT_NEAR(std::abs(la.q[argmin]), q_broken, spacing) << "double well with minima at +-q_broken";
  EXPECT_GT(la.F[mid], F_broken + 1e-3);
}

// The Legendre form F_eps + eps P q equals the KL form of F at the constrained solution.
TEST(PhaseTransition, LandauLegendreFormEqualsKlForm) {
  const Dataset d = make_dataset(paper_task(1.5), 4);
  const KernelStructure s(paper_network(Architecture::rnn), d);
  const TheorySummary sym = solve(Architecture::rnn, 1.5, BranchChoice::symmetric);
  Eigen::MatrixXd C = sym.solution().C;
  double field = 0.0;
  for (double q : {0.2, 0.4, 0.8, 1.6}) {
    NewtonOptions options;
    options.tolerance = 1e-11;
    options.field = field;
    options.constrained_q = q;
    const LinearSolveResult r = newton_solve(s, C, 1.0, entries_where(s, true), options);
    ASSERT_TRUE(r.converged) << r.message;
    EXPECT_NEAR(s.order_parameter(r.C), q, 1e-10);
    C = r.C;
    field = r.field;
    const LinearEvaluation e = evaluate_linear(s, C, 1.0, field);
    const double legendre = linear_free_energy(C, e) + field * d.P * q;
    EXPECT_NEAR(legendre, linear_free_energy_kl(C, e), 1e-9 * std::abs(legendre));
  }
}

}  // namespace
}  // namespace kernelsweep
