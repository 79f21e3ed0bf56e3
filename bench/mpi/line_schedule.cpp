// Parallel efficiency of a theory sweep whose unit of work is a lam-line segment: every task of
// the sweep's plan is run once here (one core) and its CPU time measured, then the coordinator's
// policy (the next task of the plan to the first idle worker) is replayed over W workers:
//   efficiency(W) = sum of task times / (W * makespan(W)).
// The coordinator's own per-message cost is far below a task's (docs/performance.md), so this is
// the bound the unit of work sets. Usage:
//   line_schedule SWEEP.yaml [--set key=value ...] [--workers 2,4,8,16,32,64]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

#include "model/memory_tuning.hpp"
#include "sweep/point_runner.hpp"
#include "sweep/sweep_spec.hpp"

using namespace kernelsweep;

namespace {

// CPU time of this thread: task times that do not depend on what else the machine runs.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double makespan(const std::vector<double>& seconds, int workers) {
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int w = 0; w < workers; ++w) free_at.push(0.0);
  double end = 0.0;
  for (const double s : seconds) {
    const double start = free_at.top();
    free_at.pop();
    free_at.push(start + s);
    end = std::max(end, start + s);
  }
  return end;
}

}  // namespace

int main(int argc, char** argv) {
  kernelsweep::keep_freed_memory_for_reuse();  // as the kernelsweep executable does
  if (argc < 2) {
    std::fprintf(stderr, "usage: line_schedule SWEEP.yaml [--set k=v ...] [--workers 2,4,...]\n");
    return 2;
  }
  std::vector<std::string> overrides;
  std::vector<int> workers = {2, 4, 8, 16, 32, 64};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--set") {
      overrides.push_back(argv[i + 1]);
    } else if (flag == "--workers") {
      workers.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) workers.push_back(std::stoi(item));
    }
  }
  std::optional<SweepGrid> loaded;
  try {
    loaded.emplace(load_sweep_spec(argv[1], overrides));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "line_schedule: %s\n", e.what());
    return 2;
  }
  const SweepGrid& grid = *loaded;
  std::vector<std::uint64_t> points(grid.size());
  for (std::uint64_t p = 0; p < grid.size(); ++p) points[p] = p;
  const std::vector<PointTask> tasks = plan_tasks(grid, points, {workers.back()});
  std::vector<double> seconds;
  double total = 0.0;
  int failed = 0;
  for (const auto& task : tasks) {
    const double start = thread_cpu_seconds();
    const TaskResult r = run_task(grid, task, 0);
    seconds.push_back(thread_cpu_seconds() - start);
    total += seconds.back();
    failed += !r.error.empty();
  }
  const double longest = *std::max_element(seconds.begin(), seconds.end());
  std::printf("%llu points, %zu tasks, %.2f s of work (longest task %.2f s), %d failed tasks\n",
              static_cast<unsigned long long>(grid.size()), tasks.size(), total, longest, failed);
  for (const int w : workers) {
    const double span = makespan(seconds, w);
    std::printf("W=%-4d makespan %8.2f s  efficiency %.3f\n", w, span, total / (w * span));
  }
  return 0;
}
