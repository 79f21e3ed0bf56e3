#include "sweep/point_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "model/deadline.hpp"
#include "sweep/theory_lines.hpp"

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
  const LamLines lines(grid);
  // Group work: a segment's theory (traced lines) and a line's transition, each planned once
  // with every pending point it covers.
  std::map<std::uint64_t, PointTask> segments, transitions;  // by first point
  // Every traced line's segments, found once per line: point -> its segment's first point.
  std::set<std::uint64_t> lines_seen;
  std::unordered_map<std::uint64_t, std::uint64_t> segment_start;
  std::map<std::uint64_t, std::vector<std::uint64_t>> segment_points;  // by first point
  // Aim for at least ~4 SGLD tasks per worker so the tail of the sweep stays balanced.
  const double wanted_tasks = 4.0 * std::max(1, options.workers);
  std::vector<PointTask> tasks;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const PointConfig& c = configs[i];
    const std::uint64_t key = lines.line_key(points[i]);
    bool traced = false;
    if (traces_lam_line(c)) {
      if (lines_seen.insert(key).second)
        for (auto& segment : lines.segments_of(points[i], c.theory_line_points)) {
          const std::uint64_t start = segment.front();
          for (const auto p : segment) segment_start[p] = start;
          segment_points[start] = std::move(segment);
        }
      const std::uint64_t first = segment_start.at(points[i]);
      const std::vector<std::uint64_t>& segment = segment_points.at(first);
      traced = segment.size() > 1;
      if (traced) {
        PointTask& t = segments[first];
        if (t.line.empty()) {
          t = PointTask{first, true, 0, 0, 0.0, WorkKind::theory_line, segment, {}};
          std::set<double> signals;
          for (const auto p : segment) signals.insert(lines.lam_of(p));
          t.cost = static_cast<double>(signals.size()) * theory_cost(c);
        }
        t.record.push_back(points[i]);
      }
    }
    if (c.theory_critical) {
      PointTask& t = transitions[key];
      if (t.line.empty())
        t = PointTask{key, true, 0, 0, 40.0 * theory_cost(c), WorkKind::transition, {key}, {}};
      t.record.push_back(points[i]);
    }
    // With sgld.check_step every replica also runs at eta/2 (replica indices R..2R-1).
    const int replicas = c.sgld.enabled ? sgld_replica_count(c.sgld) : 0;
    int chunk = replicas;
    if (replicas > 1 && double(sgld_points) < wanted_tasks)
      chunk =
          std::max(1, static_cast<int>(std::ceil(replicas * double(sgld_points) / wanted_tasks)));
    const bool split = chunk < replicas;
    const bool point_theory = c.theory_enabled && !traced;
    PointTask first{points[i], point_theory, 0, split ? 0 : replicas, 0.0, WorkKind::point, {}, {}};
    first.cost = (point_theory ? theory_cost(c) : 0.0) + first.replica_end * replica_cost(c);
    if (first.theory || first.replica_end > 0) tasks.push_back(first);
    if (split)
      for (int b = 0; b < replicas; b += chunk) {
        const int e = std::min(replicas, b + chunk);
        tasks.push_back(
            {points[i], false, b, e, (e - b) * replica_cost(c), WorkKind::point, {}, {}});
      }
    // Nothing to compute on its own: still one task, to record "done".
    if (!c.theory_enabled && replicas == 0)
      tasks.push_back({points[i], false, 0, 0, 0.0, WorkKind::point, {}, {}});
  }
  for (auto& [first, t] : segments) tasks.push_back(std::move(t));
  for (auto& [first, t] : transitions) tasks.push_back(std::move(t));
  // Group tasks first: they complete many points at once (a point waits for its line), so a
  // sweep records steadily and an interruption abandons little SGLD work.
  std::stable_sort(tasks.begin(), tasks.end(), [](const PointTask& a, const PointTask& b) {
    const bool a_group = a.kind != WorkKind::point, b_group = b.kind != WorkKind::point;
    return a_group != b_group ? a_group : a.cost > b.cost;
  });
  return tasks;
}

namespace {

// A single point's task: its theory (if asked) and SGLD replicas [replica_begin, replica_end).
void run_point_task(const SweepGrid& grid, const PointTask& task, TaskResult* r) {
  const PointConfig c = grid.config(task.point);
  const Dataset data = make_dataset(c);
  if (task.theory) {
    const TheoryProblem problem{c.model, data};
    const auto theory_start = std::chrono::steady_clock::now();
    TheorySummary summary;
    solve_saddle_point(c.theory, problem, &summary);
    r->theory = make_theory_result(
        summary,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - theory_start).count());
    check_deadline();
  }
  for (int rep = task.replica_begin; rep < task.replica_end; ++rep) {
    r->replicas.push_back(run_sgld_replica(c.sgld, c.model, data, task.point, rep));
    check_deadline();
  }
}

}  // namespace

TaskResult run_task(const SweepGrid& grid, const PointTask& task, int rank,
                    double time_limit_seconds) {
  const auto start = std::chrono::steady_clock::now();
  TaskResult r;
  r.task = task;
  r.rank = rank;
  try {
    // A group task covers several points: each gets the per-point limit.
    const double points =
        task.kind == WorkKind::point ? 1.0 : static_cast<double>(task.line.size());
    const ScopedDeadline deadline(time_limit_seconds * points, "--point-timeout");
    switch (task.kind) {
      case WorkKind::point:
        run_point_task(grid, task, &r);
        break;
      case WorkKind::theory_line:
        run_theory_line(grid, task, &r);
        break;
      case WorkKind::transition:
        run_transition(grid, task, &r);
        break;
    }
    check_deadline();
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

PointResult solve_point(const PointConfig& c, std::string* report) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  PointResult r;
  r.point = c.theory.point_index;
  r.status = Status::done;
  const TheoryProblem problem{c.model, make_dataset(c)};
  TheorySummary summary;
  if (c.theory_enabled) {
    solve_saddle_point(c.theory, problem, &summary);
    r.theory = make_theory_result(summary, seconds_since(start));
    if (c.theory_critical) merge_transition(transition_result(c), &*r.theory);
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
  for (const auto& t : tasks)
    for (const auto p : recorded_points(t)) ++expected_[p];
}

std::vector<PointResult> PointAssembler::add(TaskResult task_result) {
  // A group task's result becomes one part per recorded point.
  std::vector<TaskResult> parts;
  const PointTask& task = task_result.task;
  if (task.kind == WorkKind::point) {
    parts.push_back(std::move(task_result));
  } else {
    const double share =
        task_result.seconds / static_cast<double>(std::max<std::size_t>(1, task.record.size()));
    for (std::size_t i = 0; i < task.record.size(); ++i) {
      TaskResult part;  // the group's kind, not its point lists (finish() needs no more)
      part.task.kind = task.kind;
      part.task.theory = true;
      part.task.point = task.record[i];
      part.error = task_result.error;
      part.rank = task_result.rank;
      part.seconds = share;
      if (task.kind == WorkKind::transition)
        part.theory = task_result.theory;
      else if (i < task_result.line_theory.size())
        part.theory = std::move(task_result.line_theory[i]);
      else if (part.error.empty())
        part.error = "theory line: no result for point " + std::to_string(task.record[i]);
      parts.push_back(std::move(part));
    }
  }
  std::vector<PointResult> finished;
  for (auto& part : parts) {
    const std::uint64_t point = part.task.point;
    auto& collected = partial_[point];
    collected.push_back(std::move(part));
    if (static_cast<int>(collected.size()) < expected_[point]) continue;
    finished.push_back(finish(point, collected));
    partial_.erase(point);
    expected_.erase(point);
  }
  return finished;
}

PointResult PointAssembler::finish(std::uint64_t point, std::vector<TaskResult>& parts) const {
  PointResult out;
  out.point = point;
  out.status = Status::done;
  // The order parts arrived in must not matter: rank = the theory task's rank, else the first
  // replica's; the transition (shared by a line) is merged into the point's theory last.
  const auto order = [](const TaskResult& t) {
    return std::make_tuple(t.task.kind == WorkKind::transition, !t.task.theory,
                           t.task.replica_begin);
  };
  std::sort(parts.begin(), parts.end(),
            [&](const TaskResult& a, const TaskResult& b) { return order(a) < order(b); });
  out.rank = parts.front().rank;
  std::vector<SgldReplicaResult> replicas;
  for (auto& part : parts) {
    out.wall_time += part.seconds;
    if (!part.error.empty() && out.status != Status::failed) {
      out.status = Status::failed;
      out.message = part.error;
    }
    if (part.task.kind == WorkKind::transition && part.theory && out.theory) {
      merge_transition(*part.theory, &*out.theory);
    } else if (part.theory) {
      out.theory = std::move(part.theory);
    }
    for (auto& rep : part.replicas) replicas.push_back(std::move(rep));
  }
  if (out.status == Status::failed) return out;
  if (!replicas.empty()) {
    std::sort(replicas.begin(), replicas.end(),
              [](const SgldReplicaResult& a, const SgldReplicaResult& b) {
                return a.replica < b.replica;
              });
    try {
      const PointConfig c = grid_.config(point);
      const Dataset data = make_dataset(c);
      // CKA against the theory kernels is computed from the theory part, not a TheorySummary.
      out.sgld = make_sgld_result(summarize_sgld(replicas, data, nullptr, c.sgld),
                                  out.theory ? &*out.theory : nullptr);
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
