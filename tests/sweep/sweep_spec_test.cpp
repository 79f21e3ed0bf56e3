// Sweep specs: validation errors name the key; grids expand in C order with zip groups; tasks and
// results survive their byte encodings bit for bit.
#include <gtest/gtest.h>

#include <cmath>

#include "sweep/point_runner.hpp"
#include "sweep/sweep_grid.hpp"

using namespace kernelsweep;

namespace {

SweepSpec parse(const std::string& text) { return parse_sweep_spec(YAML::Load(text), "s.yaml"); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

const char* kAxes = "axes: [{key: task.lam, values: [0.5, 1.0]}]\n";

}  // namespace

TEST(SweepSpec, ValidationErrorsNameTheKey) {
  EXPECT_EQ(error_of(std::string("name: a\nbogus: 1\n") + kAxes),
            "s.yaml: unknown key bogus (allowed: axes, base, name, seed, zip)");
  EXPECT_NE(error_of(std::string("name: a\nbase: {model: {T: -3}}\n") + kAxes).find("model.T must be"), std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: task.lam, linspace: {start: 0, stop: 1, num: 0}}]")
                .find("axes[0] (task.lam).linspace.num must be an integer"), std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: task.lam, values: [-1]}]").find("task.lam must be a number >= 0"),
            std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: model.bogus, values: [1]}]").find("unknown key model.bogus"),
            std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: task.lam, values: []}]").find("values must be a non-empty list"),
            std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: []").find("axes must be a non-empty list"), std::string::npos);
  EXPECT_NE(error_of(std::string("name: a\nbase: {theory: {seed: 3}}\n") + kAxes).find("base.theory.seed"),
            std::string::npos);
  EXPECT_NE(error_of(std::string("name: a\nseed: -1\n") + kAxes).find("seed must be an integer"), std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: task.lam, values: [1, 2]}, {key: model.T, values: [2, 3, 4]}]\n"
                     "zip: [[task.lam, model.T]]").find("zipped axes must have equal lengths"),
            std::string::npos);
  EXPECT_NE(error_of("name: a\naxes: [{key: task.lam, values: [1]}]\nzip: [[task.lam, model.T]]")
                .find("model.T is not an axis key"), std::string::npos);
}

TEST(SweepSpec, LinspaceLogspaceAndHash) {
  const SweepSpec s = parse("name: a\naxes: [{key: task.lam, linspace: {start: 0.2, stop: 2, num: 10}},"
                            " {key: model.N, logspace: {start: 16, stop: 256, num: 3}}]");
  ASSERT_EQ(s.axes[0].values.size(), 10u);
  EXPECT_EQ(s.axes[0].values.front().Scalar(), "0.2");
  EXPECT_EQ(s.axes[0].values.back().Scalar(), "2");
  EXPECT_EQ(s.axes[1].values[1].Scalar(), "64");
  EXPECT_EQ(s.axes[0].name, "lam");
  // The normalized text reproduces the spec and its hash; key order does not matter.
  const SweepSpec again = sweep_spec_from_normalized(s.normalized_yaml, "stored");
  EXPECT_EQ(again.hash, s.hash);
  EXPECT_EQ(parse("name: a\nbase: {task: {P: 2, D: 4}, model: {T: 3}}\n" + std::string(kAxes)).hash,
            parse("name: a\nbase: {model: {T: 3}, task: {D: 4, P: 2}}\n" + std::string(kAxes)).hash);
  EXPECT_NE(parse("name: a\nseed: 2\n" + std::string(kAxes)).hash, parse("name: a\nseed: 3\n" + std::string(kAxes)).hash);
}

TEST(SweepGrid, CartesianProductInCOrderWithZip) {
  const SweepGrid grid(parse("name: a\nseed: 9\naxes: [{key: model.architecture, values: [rnn, dnn]},"
                             " {key: task.lam, values: [0.5, 1.5, 2.5]}, {key: model.T, values: [3, 4, 5]}]\n"
                             "zip: [[task.lam, model.T]]"));
  ASSERT_EQ(grid.dimensions().size(), 2u);
  EXPECT_EQ(grid.shape(), (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid.dimensions()[1].name, "lam");
  EXPECT_EQ(grid.coordinates(4), (std::vector<std::size_t>{1, 1}));
  const PointConfig c = grid.config(4);
  EXPECT_EQ(c.model.architecture, Architecture::dnn);
  EXPECT_EQ(c.task.lam, 1.5);
  EXPECT_EQ(c.model.T, 4);  // zipped with lam
  EXPECT_EQ(c.theory.point_index, 4u);
  EXPECT_EQ(c.theory.seed, 9u);
  EXPECT_EQ(c.sgld.seed, 9u);
  EXPECT_EQ(grid.describe(5), "architecture=dnn, lam=2.5, T=5");
}

TEST(SweepGrid, RefusesAbsurdGridsWithoutYes) {
  const SweepGrid grid(parse("name: a\naxes: [{key: task.lam, linspace: {start: 0, stop: 1, num: 10000}},"
                             " {key: model.w, linspace: {start: 0.5, stop: 1, num: 10000}}]"));
  EXPECT_EQ(grid.size(), 100000000u);
  EXPECT_THROW(check_grid_size(grid, false), ConfigError);
  EXPECT_NO_THROW(check_grid_size(grid, true));
}

TEST(PointRunner, SplitsReplicasWhenFewSgldPointsAndSortsByCost) {
  const SweepGrid grid(parse("name: a\nbase: {sgld: {enabled: true, replicas: 8, steps: 100}}\n"
                             "axes: [{key: model.N, values: [16, 64]}]"));
  const auto tasks = plan_tasks(grid, {0, 1}, {4});
  int replicas_of_1 = 0, theory_tasks = 0;
  for (const auto& t : tasks) {
    if (t.point == 1) replicas_of_1 += t.replica_end - t.replica_begin;
    theory_tasks += t.theory;
  }
  EXPECT_EQ(replicas_of_1, 8);
  EXPECT_EQ(theory_tasks, 2);
  EXPECT_GT(tasks.size(), 4u);
  for (std::size_t i = 1; i < tasks.size(); ++i) EXPECT_GE(tasks[i - 1].cost, tasks[i].cost);
}

TEST(PointRunner, TheoryTaskMatchesAcrossCallsAndFailuresBecomeMessages) {
  const SweepGrid grid(parse("name: a\naxes: [{key: task.lam, values: [0.5, 1.5]}]"));
  const TaskResult a = run_task(grid, {1, true, 0, 0, 0}, 0);
  const TaskResult b = run_task(grid, {1, true, 0, 0, 0}, 3);
  ASSERT_TRUE(a.error.empty()) << a.error;
  ASSERT_TRUE(a.theory && b.theory);
  EXPECT_EQ(a.theory->q, b.theory->q);
  EXPECT_EQ(a.theory->H, b.theory->H);
  EXPECT_GT(a.theory->q, 0.1);  // lam = 1.5 > lambda_c = 0.81: broken branch
  const TaskResult bad = run_task(grid, {99, true, 0, 0, 0}, 0);  // no such point
  EXPECT_FALSE(bad.error.empty());
}
