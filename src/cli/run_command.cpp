// kernelsweep run SWEEP.yaml --out diagram.h5: the sweep over MPI ranks into one resumable file.
// Every rank parses the sweep (deterministically, so bad input fails everywhere alike); rank 0
// owns the file and coordinates, ranks 1..R-1 compute.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "io/results_session.hpp"
#include "io/run_provenance.hpp"
#include "mpi/mpi_session.hpp"
#include "mpi/stop_signals.hpp"
#include "mpi/sweep_scheduler.hpp"
#include "random/cpu_dispatch.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

struct RunArguments {
  std::string sweep_path, out, stats_path;
  std::vector<std::string> overrides;
  bool resume = false, retry_failed = false, force = false, fail_fast = false, yes = false;
  double grace = 60.0, progress_interval = 10.0;
  double point_timeout = 0.0;  // seconds per task; 0: no limit
  int commit_batch = 64;  // group commit bound; 1 = one fsync per point
};

// Durations on the command line: finite and >= 0 (NaN would silently disable every comparison).
void require_seconds(const std::string& option, double value) {
  if (!std::isfinite(value) || value < 0)
    throw po::error(option + " must be a finite number of seconds >= 0 (got " + std::to_string(value) + ")");
}

// Validates every point's config up front (cheap), so a bad combination is bad input, not a
// failed point discovered hours later. Large grids: the first 100000 points.
void check_point_configs(const SweepGrid& grid) {
  const std::uint64_t n = std::min<std::uint64_t>(grid.size(), 100000);
  for (std::uint64_t p = 0; p < n; ++p) {
    const PointConfig c = grid.config(p);
    try {
      check_well_posed(TheoryProblem{c.model, make_dataset(c)});
    } catch (const std::invalid_argument& e) {
      throw ConfigError(grid.spec().name + ": point " + std::to_string(p) + " (" + grid.describe(p) + "): " + e.what());
    }
  }
}

// The instruction-set variants may round differently (cpu_dispatch.hpp): a file whose earlier
// runs used other kernels gets points that can differ from theirs in the last bits.
void warn_if_other_kernels(const std::vector<std::string>& run_rows) {
  for (const auto& text : run_rows) {
    const auto earlier = nlohmann::json::parse(text, nullptr, false);
    if (!earlier.is_object() || !earlier.contains("kernel_isa")) continue;
    const std::string isa = earlier.value("kernel_isa", "");
    if (isa == kernel_isa_name()) continue;
    std::cerr
        << "kernelsweep: warning: an earlier run of this file used the " << isa
        << " kernels, this one uses " << kernel_isa_name()
        << ": points computed now may differ from earlier ones in the last bits (KERNELSWEEP_ISA="
        << isa << " gives the same bits, where the CPU has it)\n";
    return;
  }
}

// Ranks on nodes with other CPUs may run other variants (the coordinator's alone is in
// kernel_isa): their points can differ in the last bits from what one variant gives.
void warn_if_ranks_differ(const std::vector<std::string>& rank_kernels) {
  if (std::all_of(rank_kernels.begin(), rank_kernels.end(),
                  [&](const std::string& isa) { return isa == rank_kernels.front(); }))
    return;
  std::ostringstream ranks;
  std::string lowest = rank_kernels.front();
  const auto level = [](const std::string& isa) {
    return isa == "baseline" ? 0 : isa == "avx2" ? 1 : isa == "avx512" ? 2 : 3;
  };
  for (std::size_t r = 0; r < rank_kernels.size(); ++r) {
    ranks << (r ? ", " : "") << "rank " << r << " " << rank_kernels[r];
    if (level(rank_kernels[r]) < level(lowest)) lowest = rank_kernels[r];
  }
  std::cerr << "kernelsweep: warning: the ranks run different kernel variants (" << ranks.str()
            << "): points may differ in the last bits with the rank that computes them "
               "(KERNELSWEEP_ISA="
            << lowest << " on every rank gives the same bits)\n";
}

int coordinate(MpiSession& mpi, const SweepGrid& grid, const RunArguments& args,
               const Arguments& argv, const std::vector<std::string>& rank_kernels) {
  const std::string start = utc_now();
  const std::string mpi_library =
      mpi.parallel() ? mpi.library_version() : "MPI not started (single process)";
  ResultsSession session(args.out, grid, {args.resume, args.retry_failed, args.force},
                         file_provenance(mpi_library));
  for (const auto& note : session.notes()) std::cerr << "kernelsweep: " << note << "\n";
  const auto& todo = session.todo();
  std::cerr << "kernelsweep: sweep " << grid.spec().name << " (" << grid.size() << " points, hash "
            << grid.spec().hash << "): " << session.already_done() << " done, " << todo.size()
            << " to compute on " << mpi.size() << " rank(s)\n";

  std::string command_line = "kernelsweep run";
  for (const auto& a : argv) command_line += " " + a;
  const std::string run_id = start + "-" + std::to_string(::getpid());
  nlohmann::json row = {{"event", "start"}, {"run_id", run_id}, {"start", start}, {"command", command_line},
                        {"ranks", mpi.size()}, {"mpi", mpi_library}, {"points_to_compute", todo.size()},
                        {"points_done_before", session.already_done()}};
  row.update(run_environment());
  row["kernel_isa"] = kernel_isa_name();
  if (mpi.parallel()) row["rank_kernel_isa"] = rank_kernels;
  warn_if_other_kernels(session.store().run_rows());
  warn_if_ranks_differ(rank_kernels);
  session.record_run(row);
  session.store().set_attribute("last_run_start", start);

  const int workers = std::max(1, mpi.size() - 1);
  const std::vector<PointTask> tasks = plan_tasks(grid, todo, {workers});
  SchedulerOptions options;
  options.fail_fast = args.fail_fast;
  options.grace_seconds = args.grace;
  options.progress_interval = args.progress_interval;
  options.stats_path = args.stats_path;
  options.commit_max_points = static_cast<std::size_t>(args.commit_batch);
  options.point_time_limit = args.point_timeout;
  options.total_points = grid.size();
  options.done_before = session.already_done();
  SchedulerOutcome outcome;
  try {
    const auto sink = [&](std::span<const PointResult> batch) {
      const BatchCommit c = session.record_batch(batch);
      return CommitCost{c.journal_seconds, c.file_seconds, c.journal_bytes};
    };
    outcome = run_coordinator(mpi, grid, tasks, sink, options);
  } catch (const std::exception& e) {
    // Disk full, unwritable file: everything recorded before is safe in the journal.
    std::cerr << "error: " << e.what() << "\nkernelsweep: results recorded so far are safe in " << args.out
              << " and its journal; fix the cause and run again with --resume\n";
    if (mpi.parallel()) mpi.abort(kExitBadInput);
    std::_Exit(kExitBadInput);
  }

  const auto status = session.store().statuses();
  std::size_t done = 0, failed = 0, pending = 0;
  for (const auto s : status) {
    done += s == 1;
    failed += s == 2 || s == 3;
    pending += s == 0;
  }
  // A signal that arrives while the last points are recorded leaves nothing to resume: the run
  // ends as an uninterrupted one would (a job script must not requeue a finished sweep).
  const bool interrupted = outcome.stop == SchedulerOutcome::Stop::interrupted &&
                           (pending > 0 || outcome.abandoned);
  int exit_code = kExitOk;
  if (interrupted) exit_code = kExitInterrupted;
  else if (failed > 0 || pending > 0) exit_code = kExitFailed;
  const std::string end = utc_now();
  nlohmann::json end_row = {{"event", "end"}, {"run_id", run_id}, {"start", start}, {"end", end},
                            {"exit_code", exit_code}, {"points_done", outcome.done}, {"points_failed", outcome.failed},
                            {"interrupted_by", outcome.signal}, {"abandoned_tasks", outcome.abandoned},
                            {"coordinator_stats", outcome.stats}};
  end_row.update(run_environment());
  session.record_run(end_row);
  session.store().set_attribute("last_run_end", end);
  session.store().flush();
  std::cerr << "kernelsweep: " << done << "/" << status.size() << " done, " << failed << " failed, " << pending
            << " pending -> " << args.out << "\n";
  if (exit_code == kExitInterrupted)
    std::cerr << "kernelsweep: interrupted (" << outcome.signal << "); resume with --resume\n";
  else if (outcome.stop == SchedulerOutcome::Stop::interrupted)
    std::cerr << "kernelsweep: " << outcome.signal
              << " arrived after the last point was computed: the sweep is complete\n";
  if (outcome.abandoned) {
    session.store().close();
    // Workers still inside a point: end the whole job now (mpirun exits with this code).
    mpi.abort(kExitInterrupted);
  }
  return exit_code;
}

}  // namespace

int run_run(const Arguments& argv) {
  RunArguments args;
  po::options_description options("options");
  options.add_options()
      ("help,h", "show this help")
      ("sweep", po::value(&args.sweep_path), "sweep spec (YAML)")
      ("out,o", po::value(&args.out), "results file (HDF5); a journal <out>.journal is kept beside it")
      ("resume", po::bool_switch(&args.resume), "continue an existing file: compute only points not done")
      ("retry-failed", po::bool_switch(&args.retry_failed), "with --resume: also recompute failed points")
      ("force", po::bool_switch(&args.force), "overwrite an existing file (and its journal)")
      ("fail-fast", po::bool_switch(&args.fail_fast), "stop dispatching at the first failed point")
      ("grace", po::value(&args.grace)->default_value(60.0), "seconds running points may finish after a signal")
      ("yes", po::bool_switch(&args.yes), "allow grids of more than 10^7 points")
      ("set", po::value(&args.overrides)->composing(), "override a sweep key: --set base.model.N=64")
      ("stats", po::value(&args.stats_path), "write per-message coordinator costs (JSON lines) to FILE")
      ("commit-batch", po::value(&args.commit_batch)->default_value(64),
       "record up to N finished points with one journal fsync (group commit); 1: one fsync per point")
      ("progress-interval", po::value(&args.progress_interval)->default_value(10.0),
       "seconds between progress lines when stderr is not a terminal (0: none)")
      ("point-timeout", po::value(&args.point_timeout)->default_value(0.0),
       "seconds a point's task may run; past it the point is recorded failed (\"time limit ...\") "
       "and the sweep goes on (0: no limit)");
  const po::variables_map vm = parse_command_line(
      argv, options, "sweep",
      "usage: [mpirun -np R] kernelsweep run SWEEP.yaml --out diagram.h5 [options]\n"
      "exit codes: 0 complete, 1 complete with failed points, 2 bad input, 3 internal, "
      "75 interrupted (resumable)\n");
  if (!vm.count("sweep")) throw po::error("run needs a sweep spec (YAML)");
  if (args.out.empty()) throw po::error("run needs --out FILE");
  require_seconds("--grace", args.grace);
  require_seconds("--progress-interval", args.progress_interval);
  require_seconds("--point-timeout", args.point_timeout);
  require_regular_input(args.sweep_path);
  if (args.commit_batch < 1 || args.commit_batch > 100000) throw po::error("--commit-batch must be in [1, 100000]");
  if (args.retry_failed && !args.resume) throw po::error("--retry-failed needs --resume");
  if (args.resume && args.force) throw po::error("--resume and --force contradict each other");

  MpiSession mpi;
  install_stop_signal_handlers();
  std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit is a write error (EFBIG) we report, not a crash
  std::signal(SIGPIPE, SIG_IGN);
  int code = kExitOk;
  try {
    const SweepGrid grid(load_sweep_spec(args.sweep_path, args.overrides));
    check_grid_size(grid, args.yes);
    // Collective: every rank has got this far (the checks above are the same on every rank).
    const std::vector<std::string> rank_kernels = mpi.gather_at_coordinator(kernel_isa_name());
    if (mpi.rank() != 0) {
      run_worker(mpi, grid, args.point_timeout);
      return kExitOk;
    }
    check_point_configs(grid);
    code = coordinate(mpi, grid, args, argv, rank_kernels);
  } catch (const ConfigError& e) {
    // Identical on every rank (same YAML); only rank 0 speaks.
    if (mpi.rank() == 0) std::cerr << "error: " << e.what() << "\n";
    if (mpi.parallel() && mpi.rank() == 0) mpi.abort(kExitBadInput);
    return kExitBadInput;
  } catch (const ResultsFileError& e) {
    std::cerr << "error: " << e.what() << "\n";
    if (mpi.parallel()) mpi.abort(kExitBadInput);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    if (mpi.parallel()) mpi.abort(kExitInternal);
    return kExitInternal;
  }
  return code;
}

}  // namespace kernelsweep::cli
