#include "sweep/theory_lines.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "theory/critical_point.hpp"
#include "theory/kernel_structure.hpp"
#include "theory/lambda_line.hpp"

namespace kernelsweep {

namespace {

// Keys that may advance together with task.lam without changing the theory.
bool theory_irrelevant(const std::string& key) {
  return key.rfind("sgld.", 0) == 0 || key == "model.N";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

LamLines::LamLines(const SweepGrid& grid) : grid_(grid) {
  const auto& dims = grid.dimensions();
  const auto& axes = grid.spec().axes;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    int lam = -1;
    bool clean = true;
    for (const int a : dims[d].axes) {
      const std::string& key = axes[static_cast<std::size_t>(a)].key;
      if (key == "task.lam")
        lam = a;
      else if (!theory_irrelevant(key))
        clean = false;
    }
    if (lam < 0 || !clean) continue;
    dimension_ = static_cast<int>(d);
    lam_axis_ = lam;
    for (std::size_t e = d + 1; e < dims.size(); ++e) stride_ *= dims[e].length;
    return;
  }
}

double LamLines::lam_of(std::uint64_t point) const {
  if (dimension_ < 0) return grid_.config(point).task.lam;
  const auto index = grid_.coordinates(point)[static_cast<std::size_t>(dimension_)];
  return grid_.spec().axes[static_cast<std::size_t>(lam_axis_)].values[index].as<double>();
}

std::uint64_t LamLines::line_key(std::uint64_t point) const {
  if (dimension_ < 0) return point;
  const auto index = grid_.coordinates(point)[static_cast<std::size_t>(dimension_)];
  return point - index * stride_;
}

std::vector<std::uint64_t> LamLines::line_of(std::uint64_t point) const {
  if (dimension_ < 0) return {point};
  const std::uint64_t first = line_key(point);
  const std::size_t length = grid_.dimensions()[static_cast<std::size_t>(dimension_)].length;
  std::vector<std::pair<double, std::uint64_t>> line;
  for (std::size_t k = 0; k < length; ++k) {
    const std::uint64_t p = first + k * stride_;
    line.emplace_back(lam_of(p), p);
  }
  std::sort(line.begin(), line.end());
  std::vector<std::uint64_t> out;
  for (const auto& [lam, p] : line) out.push_back(p);
  return out;
}

std::vector<std::vector<std::uint64_t>> LamLines::segments_of(std::uint64_t point,
                                                              int max_points) const {
  const std::vector<std::uint64_t> line = line_of(point);
  // Runs of equal signal: one traced signal each.
  std::vector<std::vector<std::uint64_t>> signals;
  double previous = NAN;
  for (const auto p : line) {
    const double lam = lam_of(p);
    if (signals.empty() || lam != previous) signals.emplace_back();
    signals.back().push_back(p);
    previous = lam;
  }
  const std::size_t n = signals.size();
  const std::size_t per = static_cast<std::size_t>(std::max(1, max_points));
  const std::size_t count = (n + per - 1) / per;
  std::vector<std::vector<std::uint64_t>> segments(count);
  for (std::size_t k = 0; k < count; ++k)
    for (std::size_t i = k * n / count; i < (k + 1) * n / count; ++i)
      segments[k].insert(segments[k].end(), signals[i].begin(), signals[i].end());
  return segments;
}

bool traces_lam_line(const PointConfig& c) {
  return c.theory_enabled && c.model.activation == Activation::linear &&
         c.theory.branch == BranchChoice::automatic && c.theory_line_points > 1;
}

void run_theory_line(const SweepGrid& grid, const PointTask& task, TaskResult* result) {
  if (task.line.empty()) throw std::invalid_argument("theory line task without points");
  const auto start = std::chrono::steady_clock::now();
  std::vector<PointConfig> configs;
  std::vector<double> lams;
  for (const auto p : task.line) {
    configs.push_back(grid.config(p));
    lams.push_back(configs.back().task.lam);
  }
  std::sort(lams.begin(), lams.end());
  lams.erase(std::unique(lams.begin(), lams.end()), lams.end());
  const PointConfig& first = configs.front();
  TheoryOptions options = first.theory;
  options.point_index = task.line.front();  // the segment's random streams: its first point's
  if (options.time_limit > 0) options.time_limit *= static_cast<double>(lams.size());
  std::vector<TheorySummary> summaries;
  trace_lambda_line(options, first.model, first.task, lams, &summaries);
  const double share = seconds_since(start) / static_cast<double>(lams.size());
  for (const auto p : task.record) {
    const auto at = std::find(task.line.begin(), task.line.end(), p);
    if (at == task.line.end())
      throw std::invalid_argument("point " + std::to_string(p) + " is not on the traced line");
    const PointConfig& c = configs[static_cast<std::size_t>(at - task.line.begin())];
    const auto i = static_cast<std::size_t>(std::lower_bound(lams.begin(), lams.end(), c.task.lam) -
                                            lams.begin());
    TheorySummary summary = summaries[i];
    const auto landau_start = std::chrono::steady_clock::now();
    if (c.theory.landau && summary.status != Status::failed && summary.selected >= 0)
      add_landau_curve(c.theory, TheoryProblem{c.model, make_dataset(c)}, &summary);
    result->line_theory.push_back(make_theory_result(summary, share + seconds_since(landau_start)));
  }
}

TheoryResult transition_result(const PointConfig& c) {
  CriticalPointResult analysis;
  analysis.status = Status::done;
  if (c.model.architecture == Architecture::dnn) {
    analysis.message = "no transition: a DNN has no weight sharing, q = 0 identically";
  } else {
    TaskSpec at = c.task;
    at.lam = 1.0;
    const KernelStructure s(c.model, make_dataset(at, c.model.T));
    if (!s.has_sign_symmetry()) {
      analysis.message = "no transition: the task has no W -> -W symmetry";
    } else {
      try {
        analysis = analyze_transition(c.theory, c.model, c.task, CriticalPointOptions{});
      } catch (const std::invalid_argument& e) {
        analysis = CriticalPointResult{};
        analysis.status = Status::not_converged;
        analysis.message = e.what();
      }
    }
  }
  TheoryResult t;
  t.status = analysis.status;
  if (!analysis.message.empty()) t.message = "transition: " + analysis.message;
  t.lambda_c = analysis.found ? analysis.lambda_c : NAN;
  t.lambda_coexistence = analysis.lambda_coexistence;
  t.lambda_fold = analysis.lambda_fold;
  t.lambda_resolution = analysis.found ? analysis.lambda_resolution : NAN;
  t.transition_residual = analysis.found ? analysis.residual : NAN;
  if (analysis.status == Status::done) t.transition_order = analysis.order;  // else unknown
  return t;
}

void run_transition(const SweepGrid& grid, const PointTask& task, TaskResult* result) {
  if (task.line.empty()) throw std::invalid_argument("transition task without points");
  const auto start = std::chrono::steady_clock::now();
  result->theory = transition_result(grid.config(task.line.front()));
  result->theory->seconds = seconds_since(start);
}

}  // namespace kernelsweep
