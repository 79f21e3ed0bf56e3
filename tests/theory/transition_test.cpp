// Transition order of the endpoint task (docs/theory.md 3.2, issue 9 "Must be true"): second order
// at T = 3, 4 (coexistence = fold = lambda_c), first order at T = 5, 6 (fold < coexistence <
// lambda_c, the traced broken branch below lambda_c with F under the symmetric F past coexistence),
// and along a T = 8 line the selected state is the lowest-F stable one, below the descent's 0.3785
// at 1.2. Every F and residual is re-evaluated by tests/theory/reference.hpp.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <map>

#include "reference.hpp"
#include "theory/critical_point.hpp"
#include "theory/lambda_line.hpp"

namespace kernelsweep {
namespace {

NetworkSpec endpoint_network(int T) {
  NetworkSpec n;
  n.T = T;
  return n;
}

// analyze_transition once per T for the whole binary (several tests read the same transition).
const CriticalPointResult& transition(int T) {
  static std::map<int, CriticalPointResult> cache;
  const auto it = cache.find(T);
  if (it != cache.end()) return it->second;
  return cache[T] = analyze_transition(TheoryOptions{}, endpoint_network(T), TaskSpec{},
                                       CriticalPointOptions{});
}

const StationaryState* lowest(const TheorySummary& s, StateKind kind, bool stable_only) {
  const StationaryState* best = nullptr;
  for (const auto& st : s.states)
    if (st.kind == kind && (!stable_only || st.stable) &&
        (!best || st.free_energy < best->free_energy))
      best = &st;
  return best;
}

Dataset dataset_at(int T, double lam) {
  TaskSpec task;
  task.lam = lam;
  return make_dataset(task, T);
}

TEST(Transition, SecondOrderAtT3AndT4) {
  for (int T : {3, 4}) {
    const CriticalPointResult r = transition(T);
    ASSERT_TRUE(r.found) << r.message;
    EXPECT_EQ(r.order, TransitionOrder::second) << "T=" << T;
    EXPECT_EQ(r.lambda_coexistence, r.lambda_c);
    EXPECT_EQ(r.lambda_fold, r.lambda_c);
    if (T == 4) {
      EXPECT_NEAR(r.lambda_c, 0.811208612861, 1e-8);  // docs/theory.md 3.2, two implementations
    }
  }
}

TEST(Transition, FirstOrderAtT5AndT6) {
  for (int T : {5, 6}) {
    SCOPED_TRACE("T=" + std::to_string(T));
    const CriticalPointResult r = transition(T);
    ASSERT_TRUE(r.found) << r.message;
    EXPECT_EQ(r.order, TransitionOrder::first);
    EXPECT_LT(r.lambda_fold, r.lambda_coexistence);
    EXPECT_LT(r.lambda_coexistence, r.lambda_c);
    EXPECT_LT(r.residual, 1e-10);
    if (T == 6) {
      EXPECT_NEAR(r.lambda_c, 0.50108, 1e-5);
    }
    // Traced at a signal between coexistence and lambda_c, and one between fold and coexistence:
    // a stable broken state exists at both, below the symmetric F only past coexistence.
    const double above = 0.5 * (r.lambda_coexistence + r.lambda_c);
    const double below = 0.5 * (r.lambda_fold + r.lambda_coexistence);
    std::vector<TheorySummary> line;
    trace_lambda_line(TheoryOptions{}, endpoint_network(T), TaskSpec{}, {below, above}, &line);
    for (int k = 0; k < 2; ++k) {
      const TheorySummary& s = line[static_cast<std::size_t>(k)];
      ASSERT_EQ(s.status, Status::done) << s.message;
      const StationaryState* symmetric = lowest(s, StateKind::symmetric, false);
      const StationaryState* broken = lowest(s, StateKind::broken, true);
      ASSERT_NE(symmetric, nullptr);
      ASSERT_NE(broken, nullptr) << "the broken branch exists below lambda_c";
      EXPECT_TRUE(symmetric->stable) << "below lambda_c the symmetric state is a local minimum";
      const NetworkSpec n = endpoint_network(T);
      const Dataset d = dataset_at(T, k == 0 ? below : above);
      EXPECT_LT(reference::linear_fixed_point_defect(n, d, broken->C), 1e-10);
      const double dF = reference::free_energy_kl(n, d, broken->C) -
                        reference::free_energy_kl(n, d, symmetric->C);
      if (k == 0) {
        EXPECT_GT(dF, 0.0) << "between fold and coexistence the broken state is metastable";
        EXPECT_EQ(s.solution().kind, StateKind::symmetric);
      } else {
        EXPECT_LT(dF, 0.0) << "past coexistence the broken state wins";
        EXPECT_EQ(s.solution().kind, StateKind::broken);
      }
    }
  }
}

// Local minima of a sampled curve (interior points lower than both neighbours).
std::vector<std::size_t> local_minima(const std::vector<double>& F) {
  std::vector<std::size_t> out;
  for (std::size_t i = 1; i + 1 < F.size(); ++i)
    if (F[i] < F[i - 1] && F[i] < F[i + 1]) out.push_back(i);
  return out;
}

// docs/theory.md 3.2 (Landau curve, first order) / issue 9: between lambda_fold and lambda_c the
// Landau curve F(q) of a point solve has exactly three minima, at q = 0 with the symmetric state's
// F and at +-q of the traced broken state with its F (both re-evaluated by the reference code); the
// side minima lie above F(0) between fold and coexistence and below it past coexistence. Grid
// error: next to a minimum F(q) = F* + a/2 (q - q*)^2 with |q - q*| <= dq / 2 at the nearest grid
// point, so 0 <= F(grid) - F* <= a dq^2 / 8, a dq^2 being the curve's own second difference there.
void expect_three_minimum_landau_curve(int T) {
  SCOPED_TRACE("T=" + std::to_string(T));
  const CriticalPointResult& r = transition(T);
  ASSERT_TRUE(r.found) << r.message;
  ASSERT_EQ(r.order, TransitionOrder::first);
  const NetworkSpec n = endpoint_network(T);
  const double below = 0.5 * (r.lambda_fold + r.lambda_coexistence);
  const double above = 0.5 * (r.lambda_coexistence + r.lambda_c);
  std::vector<TheorySummary> line;
  trace_lambda_line(TheoryOptions{}, n, TaskSpec{}, {below, above}, &line);
  for (std::size_t k = 0; k < 2; ++k) {
    const double lam = k == 0 ? below : above;
    SCOPED_TRACE("lam=" + std::to_string(lam));
    const Dataset d = dataset_at(T, lam);
    const StationaryState* symmetric = lowest(line[k], StateKind::symmetric, true);
    const StationaryState* broken = lowest(line[k], StateKind::broken, true);
    ASSERT_NE(symmetric, nullptr);
    ASSERT_NE(broken, nullptr);
    const double F0 = reference::free_energy_kl(n, d, symmetric->C);
    const double Fb = reference::free_energy_kl(n, d, broken->C);
    const double qb = std::abs(broken->q);

    TheoryOptions options;
    options.landau = true;
    TheorySummary point;
    solve_saddle_point(options, TheoryProblem{n, d}, &point);
    ASSERT_EQ(point.status, Status::done) << point.message;
    ASSERT_TRUE(point.landau.has_value());
    const LandauCurve& c = *point.landau;
    ASSERT_EQ(c.q.size(), 41u) << c.message;
    ASSERT_GT(c.q.back(), qb) << "the curve reaches past the broken state";
    const std::vector<std::size_t> minima = local_minima(c.F);
    ASSERT_EQ(minima.size(), 3u) << "three minima between fold and lambda_c";
    const double dq = c.q[1] - c.q[0];
    EXPECT_EQ(c.q[minima[1]], 0.0);
    EXPECT_NEAR(c.F[minima[1]], F0, 1e-12);
    for (std::size_t i : {minima[0], minima[2]}) {
      EXPECT_NEAR(std::abs(c.q[i]), qb, 0.5 * dq + 1e-12) << "a side minimum at +-q_broken";
      const double curvature = c.F[i - 1] + c.F[i + 1] - 2.0 * c.F[i];
      EXPECT_GT(c.F[i], Fb - 1e-12) << "F(q) >= F(broken) next to the broken minimum";
      EXPECT_LT(c.F[i], Fb + curvature / 8.0 + 1e-12);
      if (k == 0) {
        EXPECT_GT(c.F[i], c.F[minima[1]]) << "between fold and coexistence: q = 0 is lowest";
      } else {
        EXPECT_LT(c.F[i], c.F[minima[1]]) << "past coexistence: the side minima are lowest";
      }
    }
    EXPECT_NEAR(c.F[minima[0]], c.F[minima[2]], 1e-10) << "F(q) = F(-q)";
    // The barrier between them lies above both minima.
    double barrier = -INFINITY;
    for (std::size_t i = minima[1]; i < minima[2]; ++i) barrier = std::max(barrier, c.F[i]);
    EXPECT_GT(barrier, std::max(F0, Fb));
  }
}

TEST(Transition, LandauCurveHasThreeMinimaAtTheTracedStatesT5) {
  expect_three_minimum_landau_curve(5);
}
TEST(Transition, LandauCurveHasThreeMinimaAtTheTracedStatesT6) {
  expect_three_minimum_landau_curve(6);
}

// Issue 9 item 2: T = 8, lam 1.0 .. 2.0: the selected F is the minimum over the stable states found
// and changes smoothly along the line; at lam = 1.2 it is below the descent's 0.3785 (the issue's
// independent continuation: about 0.09 lower), and that state is a minimum of the reference F.
TEST(Transition, T8LineSelectsTheLowestStableState) {
  TheoryOptions options;
  options.random_seeds = 0;  // the line's own seeds and continuation suffice; keeps the test short
  const std::vector<double> lams{1.0, 1.2, 1.4, 1.6, 1.8, 2.0};
  std::vector<TheorySummary> line;
  trace_lambda_line(options, endpoint_network(8), TaskSpec{}, lams, &line);
  double previous = NAN;
  for (std::size_t i = 0; i < lams.size(); ++i) {
    const TheorySummary& s = line[i];
    ASSERT_EQ(s.status, Status::done) << "lam=" << lams[i] << ": " << s.message;
    const NetworkSpec n = endpoint_network(8);
    const Dataset d = dataset_at(8, lams[i]);
    const double F = reference::free_energy_kl(n, d, s.solution().C);
    EXPECT_NEAR(F, s.solution().free_energy, 1e-9);
    EXPECT_LT(reference::linear_fixed_point_defect(n, d, s.solution().C), 1e-10);
    for (const auto& st : s.states)
      if (st.stable) {
        EXPECT_GE(st.free_energy, s.solution().free_energy - 1e-12);
      }
    if (i > 0) {
      EXPECT_LT(std::abs(F - previous), 0.05) << "continuous along the line";
    }
    previous = F;
    if (lams[i] == 1.2) {
      EXPECT_LT(F, 0.3785 - 0.05);
      const Eigen::MatrixXd H = reference::free_energy_hessian_fd(
          n, d, s.solution().C, [](int, int) { return true; }, 1e-5);
      EXPECT_GT(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H, Eigen::EigenvaluesOnly)
                    .eigenvalues()(0),
                1e-6);
    }
  }
}

TEST(Transition, NoTransitionWithoutInstability) {
  // T = 2: the symmetric branch stays stable up to lam = 100; the answer comes in seconds.
  const CriticalPointResult r = transition(2);
  EXPECT_FALSE(r.found);
  EXPECT_EQ(r.order, TransitionOrder::none);
}

TEST(Transition, LineRejectsUnsortedSignals) {
  std::vector<TheorySummary> line;
  EXPECT_THROW(
      trace_lambda_line(TheoryOptions{}, endpoint_network(4), TaskSpec{}, {1.0, 0.5}, &line),
      std::invalid_argument);
}

}  // namespace
}  // namespace kernelsweep
