// Sweeps trace the linear theory along lam lines: which points form a line and its segments, the
// traced answers against independent facts of the T = 6 first-order transition (issue 9,
// docs/theory.md 3.2) and against solving every point on its own, the transition fields of
// theory.critical, and bit-identical results for any worker count and any set of pending points
// (a resume), through the same plan / run / assemble path the MPI scheduler uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "../support/sample_results.hpp"
#include "sweep/point_runner.hpp"
#include "sweep/result_fields.hpp"
#include "sweep/theory_lines.hpp"

using namespace kernelsweep;

namespace {

SweepGrid grid_of(const std::string& yaml) {
  return SweepGrid(parse_sweep_spec(YAML::Load(yaml), "test"));
}

// Every task of the pending points run in this process and assembled, as the scheduler does.
std::map<std::uint64_t, PointResult> run_sweep(const SweepGrid& grid,
                                               const std::vector<std::uint64_t>& pending,
                                               int workers) {
  const std::vector<PointTask> tasks = plan_tasks(grid, pending, {workers});
  PointAssembler assembler(grid);
  assembler.expect(tasks);
  std::map<std::uint64_t, PointResult> out;
  // Reverse order: the order results arrive in must not matter either.
  for (auto t = tasks.rbegin(); t != tasks.rend(); ++t)
    for (auto& point : assembler.add(run_task(grid, *t, 1))) out[point.point] = std::move(point);
  EXPECT_EQ(assembler.incomplete(), 0u);
  return out;
}

double symmetric_free_energy(const TheoryResult& t) {
  for (Eigen::Index i = 0; i < t.state_kind.size(); ++i)
    if (t.state_kind(i) == 0.0) return t.state_free_energy(i);
  return NAN;
}

// T = 6, P = D = 4, w = u = v = 1, kappa = 0.1 across its first-order transition: fold 0.483 <
// coexistence 0.486 < lambda_c 0.50108 (independent continuation, issue 9).
// Signals 0.43, 0.45, ..., 0.55 in segments {0.43, 0.45}, {0.47, 0.49}, {0.51, 0.53, 0.55}.
const char* kFirstOrderLine =
    "name: t6\nseed: 4\nbase: {model: {T: 6}, theory: {line_points: 3}}\n"
    "axes: [{key: task.lam, linspace: {start: 0.43, stop: 0.55, num: 7}}]\n";

}  // namespace

TEST(LamLines, LinesRunAlongTheLamDimensionInIncreasingLamAndSegmentsAreBalanced) {
  const SweepGrid grid = grid_of(
      "name: a\naxes: [{key: model.architecture, values: [rnn, dnn]},"
      " {key: task.lam, values: [0.5, 0.1, 0.3, 0.2, 0.4]}, {key: sgld.steps, values: [10, 20, 30, "
      "40, 50]}]\n"
      "zip: [[task.lam, sgld.steps]]\n");  // an SGLD partner does not change the theory
  const LamLines lines(grid);
  // dnn is the second architecture: points 5..9, lam values in axis order 0.5 0.1 0.3 0.2 0.4.
  EXPECT_EQ(lines.line_of(7), (std::vector<std::uint64_t>{6, 8, 7, 9, 5}));
  EXPECT_EQ(lines.line_key(7), 5u);
  EXPECT_EQ(lines.line_of(2), (std::vector<std::uint64_t>{1, 3, 2, 4, 0}));
  const auto segments = lines.segments_of(7, 2);
  ASSERT_EQ(segments.size(), 3u);  // ceil(5 / 2)
  std::vector<std::uint64_t> joined;
  for (const auto& s : segments) {
    EXPECT_GE(s.size(), 1u);
    EXPECT_LE(s.size(), 2u);
    joined.insert(joined.end(), s.begin(), s.end());
  }
  EXPECT_EQ(joined, lines.line_of(7));  // consecutive runs of the line, nothing lost or repeated
  EXPECT_EQ(lines.segments_of(7, 50).size(), 1u);

  // lam zipped with a theory key: every point is its own line.
  const SweepGrid zipped = grid_of(
      "name: b\naxes: [{key: task.lam, values: [0.5, 1.0]}, {key: model.T, values: [3, 4]}]\n"
      "zip: [[task.lam, model.T]]\n");
  EXPECT_EQ(LamLines(zipped).line_of(1), (std::vector<std::uint64_t>{1}));
  // No lam axis: the same.
  EXPECT_EQ(LamLines(grid_of("name: c\naxes: [{key: model.T, values: [3, 4]}]\n")).line_of(0),
            (std::vector<std::uint64_t>{0}));
}

TEST(LamLines, PlanTracesLinearLinesOncePerSegmentAndKeepsOtherTheoryPerPoint) {
  const SweepGrid grid = grid_of(
      "name: a\nbase: {theory: {line_points: 2}}\naxes: [{key: model.activation, values: [linear, "
      "erf]},"
      " {key: task.lam, values: [0.1, 0.2, 0.3]}]\n");
  const auto tasks = plan_tasks(grid, {0, 1, 2, 3, 4, 5}, {2});
  int line_tasks = 0, point_theory = 0;
  std::vector<std::uint64_t> traced;
  for (const auto& t : tasks) {
    if (t.kind == WorkKind::theory_line) {
      ++line_tasks;
      traced.insert(traced.end(), t.record.begin(), t.record.end());
    } else if (t.theory) {
      ++point_theory;
      EXPECT_TRUE(t.point == 0 || t.point >= 3) << "a traced point solved on its own";
    }
  }
  // 3 signals in segments of at most 2: {0.1}, {0.2, 0.3}. A one-signal segment is an ordinary
  // point; the erf points are always solved on their own.
  EXPECT_EQ(line_tasks, 1);
  std::sort(traced.begin(), traced.end());
  EXPECT_EQ(traced, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(point_theory, 4);
}

TEST(LamLines, TracedFirstOrderLineMatchesIndependentFactsAndIsNeverWorseThanSinglePoints) {
  const SweepGrid grid = grid_of(kFirstOrderLine);
  const auto results = run_sweep(grid, {0, 1, 2, 3, 4, 5, 6}, 1);
  ASSERT_EQ(results.size(), 7u);
  int better_than_single = 0;
  for (const auto& [p, r] : results) {
    ASSERT_EQ(r.status, Status::done) << p << ": " << r.message;
    const TheoryResult& t = *r.theory;
    // The selected F is the lowest stable F of every state found at this signal.
    double lowest = INFINITY;
    for (Eigen::Index i = 0; i < t.state_stable.size(); ++i)
      if (t.state_stable(i) == 1.0) lowest = std::min(lowest, t.state_free_energy(i));
    EXPECT_EQ(t.free_energy, lowest) << p;
    // Each point solved on its own (its own seed search) never finds a lower stable state.
    const PointResult single = solve_point(grid.config(p));
    ASSERT_TRUE(single.theory);
    if (single.theory->status == Status::done) {
      EXPECT_LE(t.free_energy, single.theory->free_energy + 1e-12 * std::abs(t.free_energy)) << p;
    }
    better_than_single += t.free_energy < single.theory->free_energy - 1e-12;
  }
  std::cout << "traced line below the single-point answer at " << better_than_single
            << " of 7 signals\n";
  // lam = 0.49 (index 3), subcritical: broken q = 0.418, F 1.6e-4 below the symmetric state.
  const TheoryResult& at = *results.at(3).theory;
  EXPECT_EQ(at.branch, BranchKind::broken);
  EXPECT_NEAR(std::abs(at.q), 0.418, 2e-3);
  EXPECT_NEAR(symmetric_free_energy(at) - at.free_energy, 1.6e-4, 0.1e-4);
  // Above lambda_c (0.55) the symmetric state is unstable: broken; below the fold (0.43) it is
  // the only state.
  EXPECT_EQ(results.at(6).theory->branch, BranchKind::broken);
  EXPECT_EQ(results.at(0).theory->stable_states, 1);
  EXPECT_EQ(results.at(0).theory->branch, BranchKind::symmetric);

  // A resume (only point 3 of the segment {2, 3} pending) and another worker count: the same bits.
  const auto resumed = run_sweep(grid, {3}, 7);
  ASSERT_EQ(resumed.size(), 1u);
  for (const auto& [p, r] : resumed)
    EXPECT_TRUE(kernelsweep::testing::same_results(results.at(p), r, true)) << "point " << p;
}

TEST(LamLines, CriticalStoresNoneWithoutTransitionAndSecondOrderAtT4) {
  const SweepGrid grid = grid_of(
      "name: c\nbase: {theory: {critical: true}}\n"
      "axes: [{key: model.T, values: [2, 4]}, {key: model.architecture, values: [rnn, dnn]}]\n");
  const auto results = run_sweep(grid, {0, 1, 2, 3}, 2);
  ASSERT_EQ(results.size(), 4u);
  for (const auto& [p, r] : results) ASSERT_EQ(r.status, Status::done) << p << ": " << r.message;
  // T = 2 and every DNN: no transition (order none, no lambda_c), said in the message.
  for (const std::uint64_t p : {0u, 1u, 3u}) {
    const TheoryResult& t = *results.at(p).theory;
    EXPECT_EQ(t.transition_order, TransitionOrder::none) << p;
    EXPECT_TRUE(std::isnan(t.lambda_c)) << p;
    EXPECT_NE(t.message.find("transition: "), std::string::npos) << t.message;
  }
  const TheoryResult& t4 = *results.at(2).theory;  // T = 4 RNN
  EXPECT_EQ(t4.transition_order, TransitionOrder::second);
  EXPECT_NEAR(t4.lambda_c, 0.811208612861, 1e-8);  // docs/theory.md 3.2, two implementations
  EXPECT_EQ(t4.lambda_coexistence, t4.lambda_c);
  EXPECT_EQ(t4.lambda_fold, t4.lambda_c);
  // The file's category and the JSON name it.
  const Field* order = find_field("theory_transition_order");
  ASSERT_NE(order, nullptr);
  EXPECT_EQ(order->kind(), FieldKind::category);
  EXPECT_EQ(to_json(results.at(2)).at("theory").at("transition_order"), "second");
  EXPECT_EQ(to_json(results.at(0)).at("theory").at("transition_order"), "none");
}
