// Sweep specs: validation errors name the key; grids expand in C order with zip groups; tasks and
// results survive their byte encodings bit for bit.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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

void expect_error(const std::string& text, const std::string& part) {
  const std::string message = error_of(text);
  EXPECT_NE(message.find(part), std::string::npos) << message;
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
  PointTask task;
  task.point = 1;
  task.theory = true;
  const TaskResult a = run_task(grid, task, 0);
  const TaskResult b = run_task(grid, task, 3);
  ASSERT_TRUE(a.error.empty()) << a.error;
  ASSERT_TRUE(a.theory && b.theory);
  EXPECT_EQ(a.theory->q, b.theory->q);
  EXPECT_EQ(a.theory->H, b.theory->H);
  EXPECT_GT(a.theory->q, 0.1);  // lam = 1.5 > lambda_c = 0.81: broken branch
  task.point = 99;  // no such point
  const TaskResult bad = run_task(grid, task, 0);
  EXPECT_FALSE(bad.error.empty());
}

// Reference values printed by numpy 1.24.2: numpy.linspace, and for the logarithmic axes
// numpy.linspace(log10 start, log10 stop) raised by math.pow (libm) with exact endpoints. The file's
// coordinates must equal them bit for bit so xarray's sel(lam=value) works. (numpy.geomspace itself
// uses numpy's power, which on AVX-512 machines is SVML's and can differ by one ulp: see README.)
TEST(SweepSpec, SpacedValuesAreNumpysOwn) {
  const SweepSpec s = parse(
      "name: a\naxes: [{key: task.lam, linspace: {start: 0.2, stop: 2.0, num: 10}},"
      " {key: model.kappa, logspace: {start: 0.01, stop: 100, num: 7}},"
      " {key: model.w, logspace: {start: 0.3, stop: 7, num: 5}}, {key: model.u, linspace: {start: 0.1, stop: 0.9, num: 7}}]");
  const std::vector<std::vector<double>> numpy = {
      {0.2, 0.4, 0.6000000000000001, 0.8, 1.0, 1.2, 1.4000000000000001, 1.6, 1.8, 2.0},
      {0.01, 0.046415888336127774, 0.21544346900318834, 1.0, 4.6415888336127775, 21.54434690031882, 100.0},
      {0.3, 0.6593491505914625, 1.4491376746189435, 3.1849589828336256, 7.0},
      {0.1, 0.23333333333333334, 0.3666666666666667, 0.5, 0.6333333333333333, 0.7666666666666666, 0.9}};
  for (std::size_t a = 0; a < numpy.size(); ++a) {
    ASSERT_EQ(s.axes[a].values.size(), numpy[a].size());
    for (std::size_t k = 0; k < numpy[a].size(); ++k)
      EXPECT_EQ(std::stod(s.axes[a].values[k].Scalar()), numpy[a][k]) << s.axes[a].key << "[" << k << "]";
  }
}

TEST(SweepSpec, NamesTheFileUsesAndOverlongNamesAreRefusedBeforeAnythingExists) {
  for (const char* reserved : {"status", "theory_q", "points", "runs", "wall_time", "message", "provenance"})
    expect_error("name: a\naxes: [{key: task.lam, name: " + std::string(reserved) + ", values: [1]}]",
                 "is a variable or group of the results file");
  expect_error("name: " + std::string(100000, 'x') + "\naxes: [{key: task.lam, values: [1]}]",
               "name must be at most 64 characters");
}

TEST(SweepSpec, SetOfAKeyThatAnAxisSweepsIsAnErrorNamingTheAxis) {
  const auto dir = std::filesystem::temp_directory_path() / ("ks-set-axis-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "s.yaml").string();
  std::ofstream(path) << "name: a\naxes: [{key: task.lam, values: [0.5, 1]}]\n";
  try {
    load_sweep_spec(path, {"base.task.lam=0.7"});
    FAIL() << "--set of an axis key was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("overridden by the sweep axis 'lam'"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(load_sweep_spec(path, {"base.task.P=2"}));
  std::filesystem::remove_all(dir);
}
