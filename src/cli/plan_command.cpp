// kernelsweep plan SWEEP.yaml: checks a sweep exactly as `run` would (the spec, the grid size and
// every point's config) without creating anything, counts its points and SGLD replicas, times a
// few of its points and estimates the whole sweep's cost, and suggests a SLURM --time / --chain.
// tools/submit runs it before it queues anything.
//
// The estimate: every point's relative cost comes from estimate_cost() (the scheduler's model);
// a few sample points spread over that cost range are timed (theory in full, SGLD on one replica
// for a few hundred steps, scaled to all replicas and steps), and the measured seconds per unit of
// modelled cost, the largest over the samples, scale the model to the whole grid.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "sgld/sgld_runner.hpp"
#include "sweep/point_runner.hpp"
#include "sweep/sweep_grid.hpp"
#include "theory/saddle_point.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

namespace {

struct PlanArguments {
  std::string sweep_path;
  std::vector<std::string> overrides;
  bool json = false, yes = false;
  int samples = 3;               // points timed
  long long sample_steps = 200;  // SGLD steps timed per sample point
  int ranks = 0;                 // MPI ranks of the job (0: this machine's CPUs / cpus-per-task)
  int cpus_per_task = 1;         // OpenMP threads per rank
  double time_limit = 86400;     // longest job the partition allows, seconds
  double warn = 300;             // seconds before the limit at which the run is told to stop
};

// Modelled points: the scheduler's cost model over at most this many points; beyond, the mean
// of the first ones is extrapolated (the check of configs stops there too, as in `run`).
constexpr std::uint64_t kModelledPoints = 100000;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Wall seconds of one point on one rank: theory in full, SGLD from a short run of one replica.
double time_point(const SweepGrid& grid, std::uint64_t point, long long sample_steps) {
  PointConfig config = grid.config(point);
  const TheoryProblem problem{config.model, make_dataset(config)};
  double seconds = 0.0;
  TheorySummary summary;
  if (config.theory_enabled) {
    const auto start = std::chrono::steady_clock::now();
    solve_saddle_point(config.theory, problem, &summary);
    seconds += seconds_since(start);
  }
  if (config.sgld.enabled) {
    SgldOptions sample = config.sgld;
    const long long total_steps = sample.burn_in + sample.steps;
    sample.replicas = 1;
    sample.burn_in = 0;
    sample.steps = std::max<long long>(1, std::min(total_steps, sample_steps));
    sample.record_trace = false;
    const auto start = std::chrono::steady_clock::now();
    run_sgld(sample, config.model, problem.data, config.theory.point_index, nullptr);
    const double per_step = seconds_since(start) / static_cast<double>(sample.steps);
    seconds += per_step * static_cast<double>(total_steps) * config.sgld.replicas;
  }
  return seconds;
}

// "HH:MM:SS" or "D-HH:MM:SS" of a number of seconds, rounded up to minutes.
std::string slurm_time(double seconds) {
  long long minutes = static_cast<long long>(std::ceil(std::max(seconds, 60.0) / 60.0));
  const long long days = minutes / 1440;
  minutes %= 1440;
  char text[32];
  if (days > 0)
    std::snprintf(text, sizeof text, "%lld-%02lld:%02lld:00", days, minutes / 60, minutes % 60);
  else
    std::snprintf(text, sizeof text, "%02lld:%02lld:00", minutes / 60, minutes % 60);
  return text;
}

nlohmann::json plan(const SweepGrid& grid, const PlanArguments& args) {
  const std::uint64_t n = grid.size();
  const std::uint64_t modelled = std::min(n, kModelledPoints);
  std::vector<double> cost(modelled);
  std::uint64_t sgld_points = 0, replicas = 0, theory_points = 0;
  for (std::uint64_t p = 0; p < modelled; ++p) {
    const PointConfig c = grid.config(p);
    try {
      check_well_posed(TheoryProblem{c.model, make_dataset(c)});
    } catch (const std::invalid_argument& e) {
      throw ConfigError(grid.spec().name + ": point " + std::to_string(p) + " (" +
                        grid.describe(p) + "): " + e.what());
    }
    cost[p] = estimate_cost(c);
    theory_points += c.theory_enabled;
    if (c.sgld.enabled) {
      ++sgld_points;
      replicas += static_cast<std::uint64_t>(c.sgld.replicas);
    }
  }
  const double scale = static_cast<double>(n) / static_cast<double>(modelled);
  double total_cost = 0.0;
  for (double c : cost) total_cost += c;
  total_cost *= scale;

  // Samples: the most expensive point, the cheapest, and points evenly spaced in cost between.
  std::vector<std::uint64_t> order(modelled);
  for (std::uint64_t p = 0; p < modelled; ++p) order[p] = p;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return cost[a] > cost[b]; });
  std::vector<std::uint64_t> samples;
  const int wanted = static_cast<int>(std::min<std::uint64_t>(modelled, std::max(0, args.samples)));
  for (int k = 0; k < wanted; ++k) {
    const auto at = wanted == 1 ? 0 : static_cast<std::uint64_t>(k) * (modelled - 1) / (wanted - 1);
    if (std::find(samples.begin(), samples.end(), order[at]) == samples.end())
      samples.push_back(order[at]);
  }
  nlohmann::json timed = nlohmann::json::array();
  double seconds_per_cost = 0.0, max_point_seconds = 0.0;
  for (const auto p : samples) {
    const double seconds = time_point(grid, p, args.sample_steps);
    timed.push_back({{"point", p}, {"coordinates", grid.describe(p)}, {"seconds", seconds}});
    if (cost[p] > 0) seconds_per_cost = std::max(seconds_per_cost, seconds / cost[p]);
    max_point_seconds = std::max(max_point_seconds, seconds);
  }
  if (!samples.empty() && cost[order[0]] > 0)
    max_point_seconds = std::max(max_point_seconds, seconds_per_cost * cost[order[0]]);

  nlohmann::json out = {{"sweep", grid.spec().name},
                        {"hash", grid.spec().hash},
                        {"points", n},
                        {"theory_points", static_cast<double>(theory_points) * scale},
                        {"sgld_points", static_cast<double>(sgld_points) * scale},
                        {"replicas", static_cast<double>(replicas) * scale},
                        {"dimensions", nlohmann::json::array()},
                        {"timed", timed}};
  for (const auto& d : grid.dimensions())
    out["dimensions"].push_back({{"name", d.name}, {"length", d.length}});
  if (samples.empty()) return out;

  // Wall time with R ranks: rank 0 coordinates, R - 1 compute (one rank computes alone).
  const int ranks = std::max(1, args.ranks);
  const int workers = ranks > 1 ? ranks - 1 : 1;
  const double compute_seconds = seconds_per_cost * total_cost;
  const double wall = std::max(compute_seconds / workers, max_point_seconds);
  const double core_hours = compute_seconds * args.cpus_per_task / 3600.0;
  // A job does useful work for (limit - warning - start-up); start-up: MPI and reading the file.
  const double usable = std::max(60.0, args.time_limit - args.warn - 60.0);
  // Wall time with 25 % headroom for the estimate's error, plus the warning and start-up.
  const double wanted_time = std::min(args.time_limit, 1.25 * wall + args.warn + 60.0);
  const long long jobs = static_cast<long long>(std::ceil(1.25 * wall / usable));
  out["estimate"] = {{"ranks", ranks},
                     {"workers", workers},
                     {"cpus_per_task", args.cpus_per_task},
                     {"compute_seconds", compute_seconds},
                     {"wall_seconds", wall},
                     {"core_hours", core_hours},
                     {"longest_point_seconds", max_point_seconds},
                     {"suggested_time", slurm_time(wanted_time)},
                     {"suggested_time_seconds", std::ceil(wanted_time / 60.0) * 60.0},
                     // One spare chained job: a job that finds the sweep done costs seconds.
                     {"suggested_chain", std::max<long long>(0, jobs - 1) + (jobs > 1 ? 1 : 0)},
                     {"point_fits_job", max_point_seconds < args.time_limit - args.warn}};
  return out;
}

void print_text(const nlohmann::json& p) {
  std::cout << "sweep " << p["sweep"].get<std::string>() << " (hash "
            << p["hash"].get<std::string>() << "): valid\n  " << p["points"] << " points over";
  for (const auto& d : p["dimensions"])
    std::cout << " " << d["name"].get<std::string>() << "[" << d["length"] << "]";
  std::cout << "; " << p["theory_points"].get<double>() << " with theory, "
            << p["sgld_points"].get<double>() << " with SGLD (" << p["replicas"].get<double>()
            << " replicas)\n";
  for (const auto& t : p["timed"])
    std::printf("  timed point %llu (%s): %.3g s\n", t["point"].get<unsigned long long>(),
                t["coordinates"].get<std::string>().c_str(), t["seconds"].get<double>());
  if (!p.contains("estimate")) return;
  const auto& e = p["estimate"];
  std::printf(
      "  estimate: %.3g core-hours (%d cpus per rank); %.3g s wall on %d ranks (%d computing)\n",
      e["core_hours"].get<double>(), e["cpus_per_task"].get<int>(), e["wall_seconds"].get<double>(),
      e["ranks"].get<int>(), e["workers"].get<int>());
  std::printf("  suggested: --time %s --chain %lld\n",
              e["suggested_time"].get<std::string>().c_str(),
              e["suggested_chain"].get<long long>());
  if (!e["point_fits_job"].get<bool>())
    std::printf("  warning: the longest point (%.3g s) does not fit one job's time limit\n",
                e["longest_point_seconds"].get<double>());
}

}  // namespace

int run_plan(const Arguments& argv) {
  PlanArguments args;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("sweep", po::value(&args.sweep_path),
                                                    "sweep spec (YAML)")(
      "set", po::value(&args.overrides)->composing(), "override a key of the sweep document")(
      "samples", po::value(&args.samples)->default_value(3),
      "points to time (0: validate and count only)")(
      "sample-steps", po::value(&args.sample_steps)->default_value(200),
      "SGLD steps timed per sample point")("ranks", po::value(&args.ranks)->default_value(1),
                                           "MPI ranks of the job (rank 0 coordinates)")(
      "cpus-per-task", po::value(&args.cpus_per_task)->default_value(1), "OpenMP threads per rank")(
      "time-limit", po::value(&args.time_limit)->default_value(86400),
      "longest job allowed, seconds")("warn", po::value(&args.warn)->default_value(300),
                                      "stop warning before the limit, seconds")(
      "yes", po::bool_switch(&args.yes), "accept grids over 10^7 points")(
      "json", po::bool_switch(&args.json), "print one JSON object on stdout");
  parse_command_line(argv, options, "sweep", "usage: kernelsweep plan SWEEP.yaml [options]\n");
  if (args.sweep_path.empty()) throw po::error("plan needs a sweep file (YAML)");
  if (args.samples < 0) throw po::error("--samples must be >= 0");
  if (args.sample_steps < 1) throw po::error("--sample-steps must be >= 1");
  if (args.ranks < 1) throw po::error("--ranks must be >= 1");
  if (args.cpus_per_task < 1) throw po::error("--cpus-per-task must be >= 1");
  if (!(args.time_limit >= 60)) throw po::error("--time-limit must be >= 60 seconds");
  if (!(args.warn >= 0)) throw po::error("--warn must be >= 0");
  const SweepGrid grid(load_sweep_spec(args.sweep_path, args.overrides));
  check_grid_size(grid, args.yes);
  const nlohmann::json out = plan(grid, args);
  if (args.json)
    std::cout << out.dump() << "\n";
  else
    print_text(out);
  return kExitOk;
}

}  // namespace kernelsweep::cli
