#include "sweep/point_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "model/deadline.hpp"

namespace kernelsweep {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double theory_cost(const PointConfig& c) {
  const double M = double(c.model.T) * c.task.P;
  if (c.model.activation == Activation::linear) return 50.0 * M * M * M;  // ~iterations of O(M^3)
  return double(c.theory.samples) * c.theory.max_iterations * M * M;
}

double replica_cost(const PointConfig& c) {
  const double N = c.model.N;
  return double(c.sgld.steps) * c.model.T * c.task.P * (N * N + N * c.task.D);
}

int branch_index(const TheorySummary& s) {
  return s.selected < 0 ? -1 : (s.solution().name == "broken" ? 1 : 0);
}

void fill_theory(const TheorySummary& s, TaskResult* r) {
  r->has_theory = true;
  r->theory_status = static_cast<int>(s.status);
  r->theory_message = s.message;
  auto& out = r->theory_scalars;
  for (const auto& b : s.branches) {
    if (b.name == "symmetric") out["theory_free_energy_symmetric"] = b.free_energy;
    if (b.name == "broken" && b.status != Status::failed) {
      out["theory_free_energy_broken"] = b.free_energy;
      out["theory_q_broken"] = b.q;
    }
  }
  if (s.selected < 0) return;
  const BranchSolution& b = s.solution();
  out["theory_q"] = b.q;
  out["theory_q_stderr"] = b.q_stderr;
  out["theory_free_energy"] = b.free_energy;
  out["theory_free_energy_stderr"] = b.free_energy_stderr;
  out["theory_residual"] = b.residual;
  out["theory_iterations"] = b.iterations;
  out["theory_branch"] = branch_index(s);
  out["theory_generalization_error"] = s.generalization_error;
  r->theory_kernels["theory_H"] = b.H;
  r->theory_kernels["theory_C"] = b.C;
  r->theory_kernels["theory_f"] = b.f;
}

}  // namespace

double estimate_cost(const PointConfig& c) {
  double cost = c.theory_enabled ? theory_cost(c) : 0.0;
  if (c.sgld.enabled) cost += c.sgld.replicas * replica_cost(c);
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
    const int replicas = c.sgld.enabled ? c.sgld.replicas : 0;
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
      TheorySummary summary;
      solve_saddle_point(c.theory, problem, &summary);
      fill_theory(summary, &r);
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
  for (const auto& name : scalar_result_names()) out.scalars[name] = kNaN;
  // The order parts arrived in must not matter: rank = the theory task's rank, else the first replica's.
  std::sort(parts.begin(), parts.end(), [](const TaskResult& a, const TaskResult& b) {
    return std::make_pair(!a.task.theory, a.task.replica_begin) < std::make_pair(!b.task.theory, b.task.replica_begin);
  });
  out.rank = parts.front().rank;
  std::vector<SgldReplicaResult> replicas;
  const TaskResult* theory = nullptr;
  for (auto& part : parts) {
    out.wall_time += part.seconds;
    if (!part.error.empty() && out.status != Status::failed) {
      out.status = Status::failed;
      out.message = part.error;
    }
    if (part.has_theory) theory = &part;
    for (auto& rep : part.replicas) replicas.push_back(std::move(rep));
  }
  if (out.status == Status::failed) return out;
  if (theory) {
    for (const auto& [name, x] : theory->theory_scalars) out.scalars[name] = x;
    out.kernels = theory->theory_kernels;
    const auto status = static_cast<Status>(theory->theory_status);
    if (status == Status::failed) out.status = Status::failed;
    if (status == Status::not_converged) out.status = Status::not_converged;
    if (status != Status::done) out.message = "theory: " + theory->theory_message;
  }
  if (!replicas.empty()) {
    std::sort(replicas.begin(), replicas.end(),
              [](const SgldReplicaResult& a, const SgldReplicaResult& b) { return a.replica < b.replica; });
    try {
      const PointConfig c = grid_.config(point);
      const Dataset data = make_dataset(c);
      // CKA against the theory kernels is computed here, so it does not need a TheorySummary.
      const SgldSummary s = summarize_sgld(replicas, data, nullptr);
      out.scalars["sgld_q_mean"] = s.q_mean;
      out.scalars["sgld_q_stderr"] = s.q_stderr;
      out.scalars["sgld_abs_q_mean"] = s.abs_q_mean;
      out.scalars["sgld_abs_q_stderr"] = s.abs_q_stderr;
      out.scalars["sgld_outlier_eigenvalue"] = s.outlier_eigenvalue.size() ? s.outlier_eigenvalue(0) : kNaN;
      out.scalars["sgld_bulk_radius"] = s.bulk_radius;
      out.scalars["sgld_generalization_error"] = s.generalization_error;
      out.scalars["sgld_steps_per_second"] = s.steps_per_second;
      out.kernels["sgld_H"] = s.H;
      out.kernels["sgld_C"] = s.C;
      out.kernels["sgld_H_stderr"] = s.H_stderr;
      out.kernels["sgld_f"] = s.f;
      out.kernels["sgld_outlier_eigenvalue"] = s.outlier_eigenvalue;
      if (theory && out.kernels.count("theory_H") && s.H.size() > 0) {
        out.scalars["sgld_cka_H"] = centered_kernel_alignment(s.H, out.kernels["theory_H"]);
        out.scalars["sgld_cka_C"] = centered_kernel_alignment(s.C, out.kernels["theory_C"]);
      }
      if (s.status != Status::done) {
        out.status = Status::failed;
        out.message = (out.message.empty() ? "" : out.message + "; ") + "sgld: " + s.message;
      }
    } catch (const std::exception& e) {
      out.status = Status::failed;
      out.message = std::string("sgld summary: ") + e.what();
    }
  }
  return out;
}

}  // namespace kernelsweep
