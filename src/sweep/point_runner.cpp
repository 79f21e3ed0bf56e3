#include "sweep/point_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "model/deadline.hpp"

namespace kernelsweep {

namespace {

double theory_cost(const PointConfig& c) {
  const double M = double(c.model.T) * c.task.P;
  if (c.model.activation == Activation::linear) return 50.0 * M * M * M;  // ~iterations of O(M^3)
  return double(c.theory.samples) * c.theory.max_iterations * M * M;
}

double replica_cost(const PointConfig& c) {
  const double N = c.model.N;
  return double(c.sgld.steps) * c.model.T * c.task.P * (N * N + N * c.task.D);
}

}  // namespace

double estimate_cost(const PointConfig& c) {
  double cost = c.theory_enabled ? theory_cost(c) : 0.0;
  if (c.sgld.enabled) cost += sgld_replica_count(c.sgld) * replica_cost(c);
  return cost;
}

std::vector<PointTask> plan_tasks(const SweepGrid& grid, const std::vector<std::uint64_t>& points,
                                  const TaskPlanOptions& options) {
  std::vector<PointConfig> configs;
  configs.reserve(points.size());
  std::size_t sgld_points = 0;
  for (const auto p : points) {
    configs.push_back(grid.config(p));
    sgld_points += configs.back().sgld.enabled;
  }
  // Aim for at least ~4 SGLD tasks per worker so the tail of the sweep stays balanced.
  const double wanted_tasks = 4.0 * std::max(1, options.workers);
  std::vector<PointTask> tasks;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const PointConfig& c = configs[i];
    // With sgld.check_step every replica also runs at eta/2 (replica indices R..2R-1).
    const int replicas = c.sgld.enabled ? sgld_replica_count(c.sgld) : 0;
    int chunk = replicas;
    if (replicas > 1 && double(sgld_points) < wanted_tasks)
      chunk = std::max(1, static_cast<int>(std::ceil(replicas * double(sgld_points) / wanted_tasks)));
    const bool split = chunk < replicas;
    PointTask first{points[i], c.theory_enabled, 0, split ? 0 : replicas, 0.0};
    first.cost = (c.theory_enabled ? theory_cost(c) : 0.0) + first.replica_end * replica_cost(c);
    if (first.theory || first.replica_end > 0) tasks.push_back(first);
    if (split)
      for (int b = 0; b < replicas; b += chunk) {
        const int e = std::min(replicas, b + chunk);
        tasks.push_back({points[i], false, b, e, (e - b) * replica_cost(c)});
      }
    if (!c.theory_enabled && replicas == 0)  // nothing to compute: still one task, to record "done"
      tasks.push_back({points[i], false, 0, 0, 0.0});
  }
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const PointTask& a, const PointTask& b) { return a.cost > b.cost; });
  return tasks;
}

TaskResult run_task(const SweepGrid& grid, const PointTask& task, int rank,
                    double time_limit_seconds) {
  const auto start = std::chrono::steady_clock::now();
  TaskResult r;
  r.task = task;
  r.rank = rank;
  try {
    const ScopedDeadline deadline(time_limit_seconds, "--point-timeout");
    const PointConfig c = grid.config(task.point);
    const Dataset data = make_dataset(c);
    if (task.theory) {
      const TheoryProblem problem{c.model, data};
      const auto theory_start = std::chrono::steady_clock::now();
      TheorySummary summary;
      solve_saddle_point(c.theory, problem, &summary);
      r.theory = make_theory_result(
          summary, std::chrono::duration<double>(std::chrono::steady_clock::now() - theory_start).count());
      check_deadline();
    }
    for (int rep = task.replica_begin; rep < task.replica_end; ++rep) {
      r.replicas.push_back(run_sgld_replica(c.sgld, c.model, data, task.point, rep));
      check_deadline();
    }
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

PointResult solve_point(const PointConfig& c, std::string* report) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  PointResult r;
  r.point = c.theory.point_index;
  r.status = Status::done;
  const TheoryProblem problem{c.model, make_dataset(c)};
  TheorySummary summary;
  if (c.theory_enabled) {
    solve_saddle_point(c.theory, problem, &summary);
    r.theory = make_theory_result(summary, seconds_since(start));
    if (report) *report += summary.report();
  } else if (report) {
    *report += "theory disabled (theory.enabled = false)\n";
  }
  if (c.sgld.enabled) {
    const SgldSummary sgld = run_sgld(c.sgld, c.model, problem.data, c.theory.point_index, nullptr);
    r.sgld = make_sgld_result(sgld, r.theory ? &*r.theory : nullptr);
    if (report) *report += sgld.report();
  }
  combine_parts(&r);
  r.wall_time = seconds_since(start);
  return r;
}

void PointAssembler::expect(const std::vector<PointTask>& tasks) {
  for (const auto& t : tasks) ++expected_[t.point];
}

bool PointAssembler::add(TaskResult task_result, PointResult* result) {
  const std::uint64_t point = task_result.task.point;
  auto& parts = partial_[point];
  parts.push_back(std::move(task_result));
  if (static_cast<int>(parts.size()) < expected_[point]) return false;
  *result = finish(point, parts);
  partial_.erase(point);
  expected_.erase(point);
  return true;
}

PointResult PointAssembler::finish(std::uint64_t point, std::vector<TaskResult>& parts) const {
  PointResult out;
  out.point = point;
  out.status = Status::done;
  // The order parts arrived in must not matter: rank = the theory task's rank, else the first replica's.
  std::sort(parts.begin(), parts.end(), [](const TaskResult& a, const TaskResult& b) {
    return std::make_pair(!a.task.theory, a.task.replica_begin) < std::make_pair(!b.task.theory, b.task.replica_begin);
  });
  out.rank = parts.front().rank;
  std::vector<SgldReplicaResult> replicas;
  for (auto& part : parts) {
    out.wall_time += part.seconds;
    if (!part.error.empty() && out.status != Status::failed) {
      out.status = Status::failed;
      out.message = part.error;
    }
    if (part.theory) out.theory = std::move(part.theory);
    for (auto& rep : part.replicas) replicas.push_back(std::move(rep));
  }
  if (out.status == Status::failed) return out;
  if (!replicas.empty()) {
    std::sort(replicas.begin(), replicas.end(),
              [](const SgldReplicaResult& a, const SgldReplicaResult& b) { return a.replica < b.replica; });
    try {
      const PointConfig c = grid_.config(point);
      const Dataset data = make_dataset(c);
      // CKA against the theory kernels is computed from the theory part, not a TheorySummary.
      out.sgld = make_sgld_result(summarize_sgld(replicas, data, nullptr, c.sgld), out.theory ? &*out.theory : nullptr);
    } catch (const std::exception& e) {
      out.status = Status::failed;
      out.message = std::string("sgld summary: ") + e.what();
      return out;
    }
  }
  combine_parts(&out);
  return out;
}

}  // namespace kernelsweep
