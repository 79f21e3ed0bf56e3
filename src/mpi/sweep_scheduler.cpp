#include "mpi/sweep_scheduler.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include "mpi/coordinator_stats.hpp"
#include "mpi/progress_reporter.hpp"
#include "mpi/stop_signals.hpp"

namespace kernelsweep {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Sleep that doubles while nothing arrives (20 us .. 2 ms) and resets on activity: idle ranks cost
// ~nothing, and a busy coordinator answers within microseconds.
class Backoff {
 public:
  void reset() { delay_ = kMin; }
  void wait() {
    std::this_thread::sleep_for(delay_);
    delay_ = std::min(delay_ * 2, kMax);
  }

 private:
  static constexpr std::chrono::microseconds kMin{20}, kMax{2000};
  std::chrono::microseconds delay_ = kMin;
};

// With a single rank, the coordinator's own worker: one task at a time in a thread.
class LocalWorker {
 public:
  bool busy() const { return thread_ != nullptr; }
  void start(const SweepGrid& grid, const PointTask& task) {
    finished_ = false;
    thread_ = std::make_unique<std::thread>([this, &grid, task] {
      result_ = run_task(grid, task, 0);
      finished_ = true;
    });
  }
  bool finished() const { return finished_; }
  TaskResult take() {
    thread_->join();
    thread_.reset();
    return std::move(result_);
  }
  // Abandoned at the end of the grace period: the process exits without waiting for it.
  void abandon() {
    if (thread_) thread_->detach();
    thread_.release();
  }
  ~LocalWorker() {
    if (thread_) thread_->join();
  }

 private:
  std::unique_ptr<std::thread> thread_;
  std::atomic<bool> finished_{false};
  TaskResult result_;
};

}  // namespace

SchedulerOutcome run_coordinator(MpiSession& mpi, const SweepGrid& grid, const std::vector<PointTask>& tasks,
                                 const ResultSink& sink, const SchedulerOptions& options) {
  SchedulerOutcome outcome;
  CoordinatorStats stats(options.stats_path);
  PointAssembler assembler(grid);
  assembler.expect(tasks);
  std::deque<PointTask> queue(tasks.begin(), tasks.end());  // already most expensive first
  std::size_t points_left = 0;
  {
    std::map<std::uint64_t, bool> seen;
    for (const auto& t : tasks) seen[t.point] = true;
    points_left = seen.size();
  }
  std::vector<int> idle;
  for (int r = mpi.size() - 1; r >= 1; --r) idle.push_back(r);
  std::map<int, PointTask> running;
  LocalWorker local;
  const bool serial = mpi.size() == 1;
  ProgressReporter progress(options.total_points, options.done_before, options.progress_interval, stderr);
  const auto counts = [&] {
    return std::make_tuple(options.done_before + outcome.done, outcome.failed, points_left,
                           running.size() + (local.busy() ? 1 : 0));
  };
  bool stopping = false;
  Clock::time_point stop_time;
  const auto stop = [&](SchedulerOutcome::Stop why) {
    if (stopping) return;
    stopping = true;
    stop_time = Clock::now();
    outcome.stop = why;
    if (why == SchedulerOutcome::Stop::interrupted) {
      outcome.signal = stop_signal_name();
      std::fprintf(stderr, "\nkernelsweep: %s received: no new points; waiting up to %.0f s for %zu running task(s)\n",
                   outcome.signal.empty() ? "stop request" : outcome.signal.c_str(), options.grace_seconds,
                   running.size() + (local.busy() ? 1 : 0));
    }
  };
  const auto dispatch = [&] {
    while (!stopping && !idle.empty() && !queue.empty()) {
      const int worker = idle.back();
      idle.pop_back();
      const PointTask task = queue.front();
      queue.pop_front();
      const auto bytes = encode(task);
      const auto t0 = Clock::now();
      mpi.send(worker, MessageTag::task, bytes);
      stats.event("dispatch", seconds_since(t0), bytes.size(), worker, task.point);
      running[worker] = task;
    }
  };
  // Finished points not yet recorded: neither counted as done nor reported, until committed.
  std::vector<PointResult> batch;
  Clock::time_point batch_start;
  const auto commit = [&] {
    if (batch.empty()) return;
    const auto t0 = Clock::now();
    const CommitCost cost = sink(batch);
    const double seconds = seconds_since(t0);
    stats.event("record", seconds, cost.bytes, 0, batch.front().point, batch.size());
    stats.event("record_journal", cost.journal_seconds, cost.bytes, 0, batch.front().point, batch.size());
    stats.event("record_file", cost.file_seconds, 0, 0, batch.front().point, batch.size());
    for (const auto& point : batch) {
      --points_left;
      if (point.status == PointStatus::done) {
        ++outcome.done;
      } else {
        ++outcome.failed;
        std::fprintf(stderr, "\nkernelsweep: point %llu (%s) %s: %s\n", static_cast<unsigned long long>(point.point),
                     grid.describe(point.point).c_str(), to_string(point.status).c_str(), point.message.c_str());
      }
    }
    batch.clear();
  };
  const auto batch_due = [&] {
    return !batch.empty() &&
           (batch.size() >= options.commit_max_points || seconds_since(batch_start) >= options.commit_max_seconds);
  };
  const auto handle = [&](TaskResult result) {
    PointResult point;
    const auto t0 = Clock::now();
    const int rank = result.rank;
    const std::uint64_t index = result.task.point;
    if (!assembler.add(std::move(result), &point)) return;
    stats.event("assemble", seconds_since(t0), 0, rank, index);
    // Stop dispatching at once; the failure is reported when its batch is recorded.
    if (point.status != PointStatus::done && options.fail_fast) stop(SchedulerOutcome::Stop::fail_fast);
    if (batch.empty()) batch_start = Clock::now();
    batch.push_back(std::move(point));
  };

  Backoff backoff;
  while (true) {
    if (stop_requested()) stop(SchedulerOutcome::Stop::interrupted);
    dispatch();
    if (serial && !stopping && !local.busy() && !queue.empty()) {
      local.start(grid, queue.front());
      queue.pop_front();
    }
    if (running.empty() && !local.busy() && (queue.empty() || stopping)) {
      commit();
      break;
    }
    if (stopping && seconds_since(stop_time) > options.grace_seconds) {
      commit();
      outcome.abandoned = true;
      local.abandon();
      break;
    }
    bool active = false, arrived = false;
    if (local.busy() && local.finished()) {
      handle(local.take());
      active = true;
    }
    const auto t_poll = Clock::now();
    if (const auto envelope = mpi.poll()) {
      arrived = true;
      const auto t0 = Clock::now();
      const auto bytes = mpi.receive(*envelope);
      if (envelope->tag == MessageTag::result) {
        TaskResult result = decode_task_result(bytes);
        stats.event("receive", seconds_since(t0), bytes.size(), envelope->source, result.task.point);
        running.erase(envelope->source);
        idle.push_back(envelope->source);
        dispatch();  // the worker gets its next task before we spend time writing this result
        handle(std::move(result));
      } else if (envelope->tag == MessageTag::interrupted) {
        stop(SchedulerOutcome::Stop::interrupted);
        if (outcome.signal.empty()) outcome.signal = "signal on rank " + std::to_string(envelope->source);
      }
      active = true;
    } else if (!serial) {
      stats.event("idle_poll", seconds_since(t_poll), 0, 0, 0);
    }
    // Group commit: keep draining while messages are waiting (each worker gets its next task as
    // its result arrives), then record everything that arrived with one fsync. Under light load a
    // batch is a single point, as before; under heavy load batches grow up to the bounds.
    if (!arrived || batch_due()) commit();
    if (active) {
      backoff.reset();
    } else {
      backoff.wait();
    }
    const auto [d, f, p, r] = counts();
    progress.update(d, f, p, r);
  }
  outcome.unfinished_tasks = running.size() + (local.busy() ? 1 : 0) + queue.size();
  const auto [d, f, p, r] = counts();
  progress.finish(d, f, p, outcome.abandoned ? r : 0);
  if (!outcome.abandoned)
    for (int worker = 1; worker < mpi.size(); ++worker) mpi.send(worker, MessageTag::stop, {});
  outcome.stats = stats.summary();
  return outcome;
}

void run_worker(MpiSession& mpi, const SweepGrid& grid) {
  Backoff backoff;
  bool reported = false;
  while (true) {
    if (stop_requested() && !reported) {
      mpi.send(0, MessageTag::interrupted, {});
      reported = true;
    }
    const auto envelope = mpi.poll(0);
    if (!envelope) {
      backoff.wait();
      continue;
    }
    backoff.reset();
    const auto bytes = mpi.receive(*envelope);
    if (envelope->tag == MessageTag::stop) return;
    if (envelope->tag != MessageTag::task) continue;
    const TaskResult result = run_task(grid, decode_task(bytes), mpi.rank());
    mpi.send(0, MessageTag::result, encode(result));
  }
}

}  // namespace kernelsweep
