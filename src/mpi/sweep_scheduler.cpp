#include "mpi/sweep_scheduler.hpp"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

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
  void start(const SweepGrid& grid, const PointTask& task, double time_limit) {
    finished_ = false;
    thread_ = std::make_unique<std::thread>([this, &grid, task, time_limit] {
      result_ = run_task(grid, task, 0, time_limit);
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

// Records finished points on its own thread (group commit). The coordinator's thread only talks
// MPI, so a result is received and its worker given the next task within microseconds even while
// the journal is being fsynced; every point that arrives during one commit joins the next batch
// (at most `max_points`), so under load one fsync covers many points and with few workers no one
// waits for the disk. This thread is the only caller of the sink (the results file's one user
// during the run). A point counts as done only once its batch's commit has returned.
class GroupCommitter {
 public:
  struct Commit {
    std::vector<PointResult> points;
    CommitCost cost;
    double seconds = 0.0;
  };

  GroupCommitter(const ResultSink& sink, std::size_t max_points)
      : sink_(sink), max_points_(std::max<std::size_t>(1, max_points)),
        max_pending_(std::max<std::size_t>(1024, 16 * max_points)), thread_([this] { run(); }) {}
  ~GroupCommitter() { finish(); }
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues a finished point. Blocks while max_pending points wait: when the disk is the
  // bottleneck, memory must not grow without bound (the coordinator then slows down instead).
  void add(PointResult point) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return pending_.size() < max_pending_ || error_ || stopped_; });
    pending_.push_back(std::move(point));
    wake_.notify_one();
  }
  // The batches committed since the last call; rethrows the sink's exception (disk full).
  std::vector<Commit> take() {
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
    return std::exchange(committed_, {});
  }
  // Commits everything queued, then ends the thread; take() returns the rest afterwards.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    // Stop signals go to the coordinator's thread (which polls for them between messages), not
    // to this one in the middle of a write or an fsync.
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return !pending_.empty() || stopped_; });
      if (pending_.empty()) return;  // stopped and drained
      const auto end = pending_.begin() + static_cast<long>(std::min(pending_.size(), max_points_));
      Commit commit;
      commit.points.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(end));
      pending_.erase(pending_.begin(), end);
      space_.notify_all();
      lock.unlock();
      try {
        const auto t0 = Clock::now();
        commit.cost = sink_(commit.points);
        commit.seconds = seconds_since(t0);
      } catch (...) {
        lock.lock();
        error_ = std::current_exception();
        space_.notify_all();
        return;
      }
      lock.lock();
      committed_.push_back(std::move(commit));
    }
  }

  const ResultSink& sink_;
  const std::size_t max_points_, max_pending_;
  std::mutex mutex_;
  std::condition_variable wake_, space_;
  std::deque<PointResult> pending_;
  std::vector<Commit> committed_;
  std::exception_ptr error_;
  bool stopped_ = false;
  std::thread thread_;  // last: starts after every member above is constructed
};

}  // namespace

SchedulerOutcome run_coordinator(MpiSession& mpi, const SweepGrid& grid, const std::vector<PointTask>& tasks,
                                 const ResultSink& sink, const SchedulerOptions& options) {
  SchedulerOutcome outcome;
  CoordinatorStats stats(options.stats_path);
  PointAssembler assembler(grid);
  assembler.expect(tasks);
  std::deque<PointTask> queue(tasks.begin(), tasks.end());  // already in plan_tasks order
  std::size_t points_left = 0;
  {
    std::map<std::uint64_t, bool> seen;
    for (const auto& t : tasks)
      for (const auto p : recorded_points(t)) seen[p] = true;
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
  GroupCommitter committer(sink, options.commit_max_points);
  // Batches whose commit returned: only now are their points done (counted, reported).
  const auto absorb = [&] {
    for (const auto& c : committer.take()) {
      const std::uint64_t first = c.points.front().point;
      stats.event("record", c.seconds, c.cost.bytes, 0, first, c.points.size());
      stats.event("record_journal", c.cost.journal_seconds, c.cost.bytes, 0, first, c.points.size());
      stats.event("record_file", c.cost.file_seconds, 0, 0, first, c.points.size());
      for (const auto& point : c.points) {
        --points_left;
        if (point.status == Status::done) {
          ++outcome.done;
        } else {
          ++outcome.failed;
          std::fprintf(stderr, "\nkernelsweep: point %llu (%s) %s: %s\n", static_cast<unsigned long long>(point.point),
                       grid.describe(point.point).c_str(), to_string(point.status).c_str(), point.message.c_str());
        }
      }
    }
  };
  const auto handle = [&](TaskResult result) {
    const auto t0 = Clock::now();
    const int rank = result.rank;
    const std::uint64_t index = result.task.point;
    std::vector<PointResult> points = assembler.add(std::move(result));
    if (points.empty()) return;
    stats.event("assemble", seconds_since(t0), 0, rank, index);
    for (auto& point : points) {
      // Stop dispatching at once; the failure is reported when its batch is recorded.
      if (point.status != Status::done && options.fail_fast) stop(SchedulerOutcome::Stop::fail_fast);
      committer.add(std::move(point));
    }
  };

  Backoff backoff;
  while (true) {
    if (stop_requested()) stop(SchedulerOutcome::Stop::interrupted);
    dispatch();
    if (serial && !stopping && !local.busy() && !queue.empty()) {
      local.start(grid, queue.front(), options.point_time_limit);
      queue.pop_front();
    }
    if (running.empty() && !local.busy() && (queue.empty() || stopping)) {
      committer.finish();
      absorb();
      break;
    }
    if (stopping && seconds_since(stop_time) > options.grace_seconds) {
      committer.finish();
      absorb();
      outcome.abandoned = true;
      local.abandon();
      break;
    }
    bool active = false;
    if (local.busy() && local.finished()) {
      handle(local.take());
      active = true;
    }
    const auto t_poll = Clock::now();
    if (const auto envelope = mpi.poll()) {
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
    absorb();
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

void run_worker(MpiSession& mpi, const SweepGrid& grid, double point_time_limit) {
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
    const TaskResult result = run_task(grid, decode_task(bytes), mpi.rank(), point_time_limit);
    mpi.send(0, MessageTag::result, encode(result));
  }
}

}  // namespace kernelsweep
