// Discrete-event simulation of the sweep coordinator (src/mpi/sweep_scheduler.cpp) at scales this
// machine cannot run: R-1 workers and one coordinator that is a single server with the per-message
// costs measured by `kernelsweep run --stats`.
//
// What is modelled, and why (see docs/coordinator-scaling.md):
//  * the coordinator's loop as written: dispatch to every idle worker (most expensive task first,
//    one task in flight per worker); poll; on a result: receive, give that worker its next task,
//    assemble the point; when nothing happened, sleep with the 20 us .. 2 ms backoff (so wake-up
//    latency is included);
//  * recording: group commit on a writer thread (a batch = every point handed over while the
//    previous commit ran, at most 64) or, with group commit off, the code before it: the
//    coordinator's own thread records each point (one fsync each) before it polls again;
//  * workers poll for their next task with the same backoff;
//  * record cost of a batch of n points = journal_fixed + journal_per_point n + file_fixed +
//    file_per_point n (fsync and the two HDF5 flushes are per batch; encoding/writing per point).
// Not modelled: network contention, stragglers from node failures, the start-up of R processes.
//
// Usage:
//   coordinator_sim [--stats FILE] [--task-times FILE --ranks R]   (validation against a real run)
//   coordinator_sim --table                                          (R = 64, 1024, 8192 table)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

// Seconds. Defaults: measured on the 2-core VM (docs/coordinator-scaling.md): dispatch, receive,
// assemble, idle poll (p50) from `kernelsweep run --stats` of the bench theory sweep at R=3;
// record(n) from bench/mpi/record_cost (fit 5.95 ms + 0.29 ms n over batches of 1..64).
struct Costs {
  double dispatch = 1.7e-6;
  double receive = 70e-6;         // MPI_Recv + decode of a ~5 kB theory result (SGLD ~9 kB: 125 us)
  double assemble = 12e-6;        // a point's parts -> its result (SGLD summary: ~200 us)
  double poll = 10e-6;            // an MPI_Iprobe that finds nothing
  double journal_fixed = 5.0e-3;  // write + fsync of the journal, per batch
  double journal_per_point = 30e-6;
  double file_fixed = 0.95e-3;  // two HDF5 flushes, per batch
  double file_per_point = 0.25e-3;
  double latency = 5e-6;  // one message, either direction
  // Extra delay each time a rank wakes from a backoff sleep before it runs again: 0 with a core
  // per rank (a cluster); milliseconds on an oversubscribed machine (this 2-core VM under load).
  double wake = 0.0;
  double record(std::size_t n) const {
    return journal_fixed + file_fixed + double(n) * (journal_per_point + file_per_point);
  }
};

// How finished points are recorded.
struct Policy {
  // inline: the coordinator's own thread records each point before it polls again (the code
  // before group commit); writer: a writer thread records batches of everything that arrived
  // during its previous commit, at most commit_max_points, while the coordinator thread serves MPI.
  bool writer = true;
  std::size_t commit_max_points = 64;
};

struct Task {
  double seconds;   // true duration on a worker
  double estimate;  // what the coordinator sorts by
};

struct Outcome {
  double makespan = 0, useful = 0, coordinator_busy = 0, writer_busy = 0;
  std::size_t commits = 0, points = 0;
  double efficiency(int workers) const { return useful / (double(workers) * makespan); }
};

// The coordinator's and workers' backoff: 20 us doubling to 2 ms.
constexpr double kBackoffMin = 20e-6, kBackoffMax = 2e-3;

// First poll time >= `arrival` of a rank that started polling at `since` with a fresh backoff.
double seen_at(double since, double arrival) {
  double t = since, d = kBackoffMin;
  while (t < arrival) {
    if (d >= kBackoffMax) {  // steady 2 ms polls: jump
      const double k = std::ceil((arrival - t) / kBackoffMax);
      return t + k * kBackoffMax;
    }
    t += d;
    d = std::min(2 * d, kBackoffMax);
  }
  return t;
}

Outcome simulate(std::vector<Task> tasks, int workers, const Costs& c, const Policy& p) {
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.estimate > b.estimate; });
  struct Arrival {
    double time;
    int worker;
    bool operator>(const Arrival& o) const { return time > o.time; }
  };
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<Arrival>> results;
  std::vector<double> polling_since(static_cast<std::size_t>(workers),
                                    0.0);  // when each worker began waiting
  std::vector<int> idle;
  for (int w = workers - 1; w >= 0; --w) idle.push_back(w);
  Outcome out;
  out.points = tasks.size();
  std::size_t next = 0, received = 0;
  double now = 0, backoff = kBackoffMin;
  // The writer thread: points handed to it (their times), when it is next free.
  std::deque<double> pending;
  double writer_free = 0;
  const auto advance_writer = [&](double until) {
    while (!pending.empty()) {
      const double start = std::max(writer_free, pending.front());
      if (start > until) break;
      std::size_t n = 0;  // everything handed over by the time the commit starts, up to the bound
      while (n < pending.size() && n < p.commit_max_points && pending[n] <= start) ++n;
      pending.erase(pending.begin(), pending.begin() + static_cast<long>(n));
      writer_free = start + c.record(n);
      out.writer_busy += c.record(n);
      ++out.commits;
    }
  };
  const auto busy = [&](double seconds) {
    now += seconds;
    out.coordinator_busy += seconds;
  };
  const auto dispatch = [&] {
    while (!idle.empty() && next < tasks.size()) {
      const int w = idle.back();
      idle.pop_back();
      busy(c.dispatch);
      const double start =
          seen_at(polling_since[static_cast<std::size_t>(w)], now + c.latency) + c.wake;
      const double finish = start + tasks[next].seconds;
      out.useful += tasks[next].seconds;
      ++next;
      results.push({finish + c.latency, w});
    }
  };
  while (received < tasks.size()) {
    dispatch();
    bool arrived = false;
    if (!results.empty() && results.top().time <= now) {
      const Arrival a = results.top();
      results.pop();
      busy(c.receive);
      polling_since[static_cast<std::size_t>(a.worker)] = a.time;
      idle.push_back(a.worker);
      dispatch();  // the worker's next task goes out before anything is recorded
      busy(c.assemble);
      ++received;
      arrived = true;
      if (p.writer) {
        pending.push_back(now);
      } else {
        busy(c.record(1));
        ++out.commits;
      }
    } else {
      busy(c.poll);
    }
    if (p.writer) advance_writer(now);
    if (arrived) {
      backoff = kBackoffMin;
    } else if (received < tasks.size()) {
      // Sleep; long idle stretches at the 2 ms cap are skipped in one step.
      const double until = results.empty() ? now : results.top().time;
      if (backoff >= kBackoffMax && until > now + kBackoffMax)
        now += std::floor((until - now) / kBackoffMax) * kBackoffMax;
      else
        now += backoff;
      backoff = std::min(2 * backoff, kBackoffMax);
      now += c.wake;
    }
  }
  advance_writer(std::numeric_limits<double>::infinity());
  out.makespan = std::max(now, writer_free);
  return out;
}

// Task durations: lognormal with the given median and log-sd; the coordinator's cost estimate is
// the true cost times a lognormal error (the estimate from N, T, P, steps is only proportional).
std::vector<Task> lognormal_tasks(std::size_t n, double median, double sigma, double estimate_sigma,
                                  std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::lognormal_distribution<double> cost(std::log(median), sigma), error(0.0, estimate_sigma);
  std::vector<Task> tasks(n);
  for (auto& t : tasks) {
    t.seconds = cost(random);
    t.estimate = t.seconds * error(random);
  }
  return tasks;
}

// Means of the --stats summary; record split into per-batch and per-point parts by least squares
// over the logged batches (cost = a + b n), when the run had batches of more than one size.
void read_stats(const std::string& path, Costs* c) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::string line;
  std::vector<std::pair<double, double>> journal, file;  // (points, seconds)
  nlohmann::json summary;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("summary")) {
      summary = j["summary"];
      continue;
    }
    const std::string kind = j.at("event");
    const double n = j.value("points", 1.0);
    if (kind == "record_journal") journal.emplace_back(n, j.at("seconds").get<double>());
    if (kind == "record_file") file.emplace_back(n, j.at("seconds").get<double>());
  }
  const auto mean = [&](const char* kind, double fallback) {
    return summary.contains(kind) ? summary[kind]["mean_seconds"].get<double>() : fallback;
  };
  c->dispatch = mean("dispatch", c->dispatch);
  c->receive = mean("receive", c->receive);
  c->assemble = mean("assemble", c->assemble);
  c->poll = mean("idle_poll", c->poll);
  const auto fit = [](const std::vector<std::pair<double, double>>& xy, double* fixed,
                      double* per_point) {
    if (xy.empty()) return;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& [x, y] : xy) sx += x, sy += y, sxx += x * x, sxy += x * y;
    const double n = double(xy.size()), var = sxx / n - (sx / n) * (sx / n);
    if (var < 1e-9) {  // every batch the same size: keep the default split, scale it to the mean
      const double x = sx / n, y = sy / n, model = *fixed + *per_point * x;
      *fixed *= y / model;
      *per_point *= y / model;
      return;
    }
    const double b = std::max(0.0, (sxy / n - sx / n * sy / n) / var);
    *per_point = b;
    *fixed = std::max(0.0, sy / n - b * sx / n);
  };
  if (journal.empty() && summary.contains("record")) {
    // A run from before group commit logs only "record" (one point each): all of it per point.
    c->journal_fixed = summary["record"]["mean_seconds"].get<double>();
    c->journal_per_point = c->file_fixed = c->file_per_point = 0;
    return;
  }
  fit(journal, &c->journal_fixed, &c->journal_per_point);
  fit(file, &c->file_fixed, &c->file_per_point);
}

struct Sweep {
  std::string name;
  std::vector<double> measured;  // if set: task seconds are resampled from these (bootstrap)
  double median, sigma;
  std::size_t points_per_worker;
  double receive, assemble;  // per-sweep message costs (result size and summary work differ)
};

void print_costs(const Costs& c) {
  std::printf(
      "costs: dispatch %.1f us, receive %.1f us, assemble %.1f us, idle poll %.1f us, latency %.1f "
      "us, "
      "wake %.2f ms,\n"
      "       record(n) = %.2f ms + %.3f ms n (journal %.2f + %.3f n, file %.2f + %.3f n)\n",
      c.dispatch * 1e6, c.receive * 1e6, c.assemble * 1e6, c.poll * 1e6, c.latency * 1e6,
      c.wake * 1e3, (c.journal_fixed + c.file_fixed) * 1e3,
      (c.journal_per_point + c.file_per_point) * 1e3, c.journal_fixed * 1e3,
      c.journal_per_point * 1e3, c.file_fixed * 1e3, c.file_per_point * 1e3);
}

void table(const Costs& c, const std::vector<Sweep>& sweeps, const std::vector<int>& ranks,
           double estimate_sigma, bool json) {
  print_costs(c);
  // Where the coordinator saturates: it serves at most 1 / (per-point cost) points per second,
  // the workers ask for (R-1) / mean task seconds.
  for (const auto& s : sweeps) {
    double mean = s.median * std::exp(s.sigma * s.sigma / 2);
    if (!s.measured.empty()) {
      mean = 0;
      for (const double x : s.measured) mean += x / double(s.measured.size());
      std::printf("%s: resampled from %zu measured task times (mean %.4g s)\n", s.name.c_str(),
                  s.measured.size(), mean);
    }
    // Without group commit one thread pays everything per point; with it the writer thread's
    // per-point share of a full batch and the coordinator thread's message costs overlap.
    const double fixed = c.dispatch + s.receive + s.assemble;
    const double one = fixed + c.record(1), full = std::max(fixed, c.record(64) / 64);
    if (s.measured.empty())
      std::printf("%s: lognormal median %.4g s, log-sd %.2f (mean %.4g s)\n", s.name.c_str(),
                  s.median, s.sigma, mean);
    std::printf(
        "  %zu points per worker; receive %.0f us, assemble %.0f us; coordinator capacity %.0f "
        "points/s\n"
        "  without group commit (saturates at R ~ %.0f), %.0f points/s with full batches of 64 (R "
        "~ %.0f)\n",
        s.points_per_worker, s.receive * 1e6, s.assemble * 1e6, 1 / one, 1 + mean / one, 1 / full,
        1 + mean / full);
  }
  std::printf(
      "\n| sweep | R | points | group commit | makespan | efficiency | speedup | coordinator "
      "thread busy | "
      "writer busy | points/commit |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
      "|\n");
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& s : sweeps)
    for (const int r : ranks) {
      const int workers = r - 1;
      const std::size_t n = s.points_per_worker * std::size_t(workers);
      auto tasks = lognormal_tasks(n, s.median, s.sigma, estimate_sigma, 42);
      if (!s.measured.empty()) {
        std::mt19937_64 random(7);
        std::uniform_int_distribution<std::size_t> pick(0, s.measured.size() - 1);
        std::lognormal_distribution<double> error(0.0, estimate_sigma);
        for (auto& t : tasks) {
          t.seconds = s.measured[pick(random)];
          t.estimate = t.seconds * error(random);
        }
      }
      Costs cs = c;
      cs.receive = s.receive;
      cs.assemble = s.assemble;
      for (const bool group : {false, true}) {
        const Policy p{group, group ? std::size_t(64) : std::size_t(1)};
        const Outcome o = simulate(tasks, workers, cs, p);
        // Speedup against one worker on the same tasks (the coordinator is then never the limit).
        const Outcome one = simulate(tasks, 1, cs, p);
        const double speedup = one.makespan / o.makespan;
        std::printf("| %s | %d | %zu | %s | %.1f s | %.3f | %.0f | %.3f | %s | %.1f |\n",
                    s.name.c_str(), r, n, group ? "on" : "off", o.makespan, o.efficiency(workers),
                    speedup, o.coordinator_busy / o.makespan,
                    group ? std::to_string(o.writer_busy / o.makespan).substr(0, 5).c_str() : "-",
                    double(o.points) / double(std::max<std::size_t>(1, o.commits)));
        rows.push_back({{"sweep", s.name},
                        {"ranks", r},
                        {"points", n},
                        {"group_commit", group},
                        {"makespan", o.makespan},
                        {"efficiency", o.efficiency(workers)},
                        {"speedup", speedup},
                        {"coordinator_utilization", o.coordinator_busy / o.makespan},
                        {"writer_utilization", o.writer_busy / o.makespan}});
      }
    }
  if (json) std::cout << rows.dump() << "\n";
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "%s\nusage: coordinator_sim [--stats FILE] [--latency s] [--wake s] [--receive s] "
      "[--record-fixed s] "
      "[--record-per-point s]\n"
      "         [--table [--json]] [--ranks R --task-times FILE [--batch N | --inline]]\n"
      "         [--theory-median s --theory-sigma x --theory-points-per-worker n] [--theory-times "
      "FILE]\n"
      "         [--sgld-median s --sgld-sigma x --sgld-points-per-worker n] [--estimate-sigma x]\n",
      why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Costs c;
  std::string task_times;
  int ranks = 0;
  std::size_t batch = 64;
  bool want_table = false, json = false, inline_records = false;
  // Theory points: lognormal fitted (median and sd of log) to the wall times of the bench theory
  // sweep (linear, T=4 P=4, 300 points, R=1) on this machine. SGLD points: seconds to minutes
  // (median 20 s, log-sd 0.8: 90% between 5 s and 75 s), as for N = 64..512 with 10^4..10^5 steps.
  Sweep theory{"theory", {}, 0.0015, 1.58, 200, 70e-6, 12e-6},
      sgld{"sgld", {}, 20.0, 0.8, 32, 125e-6, 200e-6};
  std::string theory_times;
  double estimate_sigma = 0.3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--stats")
      read_stats(value(), &c);
    else if (a == "--latency")
      c.latency = std::stod(value());
    else if (a == "--wake")
      c.wake = std::stod(value());
    else if (a == "--receive")
      c.receive = std::stod(value());
    else if (a == "--record-fixed") {
      c.journal_fixed = std::stod(value());
      c.file_fixed = 0;
    } else if (a == "--record-per-point") {
      c.journal_per_point = std::stod(value());
      c.file_per_point = 0;
    } else if (a == "--task-times")
      task_times = value();
    else if (a == "--ranks")
      ranks = std::stoi(value());
    else if (a == "--batch")
      batch = std::stoul(value());
    else if (a == "--inline")
      inline_records = true;
    else if (a == "--table")
      want_table = true;
    else if (a == "--json")
      json = true;
    else if (a == "--theory-times")
      theory_times = value();
    else if (a == "--theory-median")
      theory.median = std::stod(value());
    else if (a == "--theory-sigma")
      theory.sigma = std::stod(value());
    else if (a == "--theory-points-per-worker")
      theory.points_per_worker = std::stoul(value());
    else if (a == "--sgld-median")
      sgld.median = std::stod(value());
    else if (a == "--sgld-sigma")
      sgld.sigma = std::stod(value());
    else if (a == "--sgld-points-per-worker")
      sgld.points_per_worker = std::stoul(value());
    else if (a == "--estimate-sigma")
      estimate_sigma = std::stod(value());
    else
      usage("unknown option " + a);
  }
  if (!task_times.empty()) {
    // Validation: the measured per-task seconds of a real run, in the coordinator's dispatch
    // order (equal estimates keep their order, as in the real queue).
    if (ranks < 2) usage("--task-times needs --ranks R >= 2");
    std::ifstream in(task_times);
    if (!in) usage(task_times + ": cannot read");
    std::vector<Task> tasks;
    for (double s; in >> s;) tasks.push_back({s, 1.0});
    print_costs(c);
    const Outcome o =
        simulate(tasks, ranks - 1, c, {!inline_records, inline_records ? std::size_t(1) : batch});
    std::printf(
        "simulated: R=%d tasks=%zu makespan %.3f s, %.2f points/s, efficiency %.3f, coordinator "
        "thread busy "
        "%.3f, writer busy %.3f, %.2f points/commit\n",
        ranks, tasks.size(), o.makespan, double(tasks.size()) / o.makespan, o.efficiency(ranks - 1),
        o.coordinator_busy / o.makespan, o.writer_busy / o.makespan,
        double(o.points) / double(std::max<std::size_t>(1, o.commits)));
    return 0;
  }
  if (!want_table) usage("nothing to do: --table or --task-times");
  std::vector<Sweep> sweeps = {theory};
  if (!theory_times.empty()) {
    // The measured distribution as a second theory sweep: the lognormal fit has the measured
    // median but not the measured mean (RNN points near the transition form a slow second mode).
    Sweep measured = theory;
    measured.name = "theory (measured)";
    std::ifstream in(theory_times);
    if (!in) usage(theory_times + ": cannot read");
    for (double x; in >> x;) measured.measured.push_back(x);
    if (measured.measured.empty()) usage(theory_times + ": no task times");
    sweeps.push_back(measured);
  }
  sweeps.push_back(sgld);
  table(c, sweeps, {64, 1024, 8192}, estimate_sigma, json);
  return 0;
}
