#include "theory/critical_point.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "model/deadline.hpp"
#include "theory/branch_solvers.hpp"
#include "theory/lambda_line.hpp"
#include "theory/linear_saddle_point.hpp"

namespace kernelsweep {

std::string to_string(TransitionOrder order) {
  switch (order) {
    case TransitionOrder::none:
      return "none";
    case TransitionOrder::first:
      return "first";
    case TransitionOrder::second:
      return "second";
  }
  return "unknown";
}

namespace {

struct SymmetricPoint {
  KernelStructure structure;
  BranchSolution solution;
};

// The symmetric branch of (network, task) at signal lam; throws if the solver breaks down.
SymmetricPoint symmetric_point(const TheoryOptions& theory, const NetworkSpec& network,
                               const TaskSpec& task, double lam) {
  TaskSpec at = task;
  at.lam = lam;
  SymmetricPoint point{KernelStructure(network, make_dataset(at, network.T)), {}};
  point.solution = solve_linear_symmetric(point.structure, theory);
  if (point.solution.status == Status::failed) {
    std::ostringstream msg;
    msg << "the symmetric branch failed at lam = " << lam << ": " << point.solution.message;
    throw std::runtime_error(msg.str());
  }
  return point;
}

}  // namespace

double symmetric_branch_instability(const TheoryOptions& theory, const NetworkSpec& network,
                                    const TaskSpec& task, double lam) {
  const SymmetricPoint p = symmetric_point(theory, network, task, lam);
  return odd_sector_instability(p.structure, p.solution.C, 1.0);
}

CriticalPointResult find_critical_signal(const TheoryOptions& theory, const NetworkSpec& network,
                                         const TaskSpec& task,
                                         const CriticalPointOptions& options) {
  if (network.activation != Activation::linear)
    throw std::invalid_argument(
        "critical: only the linear activation is supported (erf: scan lam "
        "with `solve` and watch the broken branch appear)");
  if (network.architecture != Architecture::rnn)
    throw std::invalid_argument(
        "critical: the dnn architecture has no transition (q = 0 identically)");
  {
    TaskSpec at = task;
    at.lam = 1.0;
    const KernelStructure s(network, make_dataset(at, network.T));
    if (!s.has_sign_symmetry())
      throw std::invalid_argument(
          "critical: this task has no W -> -W symmetry (inputs after t=0 or "
          "supervision at both parities), so no symmetry-breaking transition");
  }
  CriticalPointResult result;
  // Unstable where the odd-sector Hessian of F has a negative eigenvalue: equivalent to the map's
  // Jacobian eigenvalue exceeding 1 (see odd_sector_hessian_minimum), and cheaper.
  const auto unstable = [&](double lam) {
    ++result.solves;
    const SymmetricPoint p = symmetric_point(theory, network, task, lam);
    return odd_sector_hessian_minimum(p.structure, p.solution.C, 1.0) < 0.0;
  };
  double lo = options.lo, hi = options.hi;
  if (unstable(lo)) {
    std::ostringstream msg;
    msg << "the symmetric branch is already unstable at the lower end lam = " << lo;
    throw std::invalid_argument(msg.str());
  }
  if (hi <= lo) {
    hi = std::max(1.0, 2.0 * lo);
    while (!unstable(hi)) {
      lo = hi;
      hi *= 2.0;
      if (hi > 1e2) {
        result.message = "no instability of the symmetric branch up to lam = 100: no transition";
        return result;
      }
    }
  } else if (!unstable(hi)) {
    std::ostringstream msg;
    msg << "the symmetric branch is still stable at the upper end lam = " << hi;
    throw std::invalid_argument(msg.str());
  }
  for (int k = 0; k < options.max_bisections && hi - lo > options.tolerance * hi; ++k) {
    const double mid = 0.5 * (lo + hi);
    (unstable(mid) ? hi : lo) = mid;
  }
  result.found = true;
  result.lambda_c = 0.5 * (lo + hi);
  result.bracket_lo = lo;
  result.bracket_hi = hi;
  return result;
}

namespace {

// F of the lowest stable broken state minus F of the symmetric state (NaN without a stable broken
// state or a symmetric state).
double broken_advantage(const TheorySummary& s, double* residual) {
  double symmetric = std::numeric_limits<double>::quiet_NaN(), broken = symmetric;
  for (const auto& st : s.states) {
    if (st.kind == StateKind::symmetric) symmetric = st.free_energy;
    if (st.kind == StateKind::broken && st.stable && !(st.free_energy >= broken)) {
      broken = st.free_energy;
      *residual = std::max(*residual, st.residual);
    }
  }
  return broken - symmetric;
}

const StationaryState* lowest_stable_broken(const TheorySummary& s) {
  const StationaryState* best = nullptr;
  for (const auto& st : s.states)
    if (st.kind == StateKind::broken && st.stable && (!best || st.free_energy < best->free_energy))
      best = &st;
  return best;
}

// Natural continuation of the broken state C (at signal lam) downwards with steps halving on
// failure, the symmetric state followed alongside: the lowest signal with a broken solution
// (lambda_fold, to `tolerance`) and where their F difference changes sign (by secant).
void refine_first_order(const TheoryOptions& theory, const NetworkSpec& network,
                        const TaskSpec& task, double lam, Eigen::MatrixXd C,
                        const Eigen::MatrixXd& C_symmetric, double step, double tolerance,
                        CriticalPointResult* result) {
  TaskSpec unit = task;
  unit.lam = 1.0;
  const KernelStructure s(network, make_dataset(unit, network.T));
  NewtonOptions newton;
  newton.tolerance = theory.tolerance;
  newton.max_iterations = 12;
  const EntryList all = entries_where(s, true), even = entries_where(s, false);
  const auto advantage = [&](const Eigen::MatrixXd& Cb, const Eigen::MatrixXd& Cs, double a) {
    return linear_free_energy(Cb, evaluate_linear(s, Cb, a)) -
           linear_free_energy(Cs, evaluate_linear(s, Cs, a));
  };
  Eigen::MatrixXd Cs = C_symmetric;
  double previous = advantage(C, Cs, lam);
  bool crossed = previous > 0.0;
  while (step > tolerance * lam) {
    check_deadline();
    const double next = lam - step;
    const LinearSolveResult b = newton_solve(s, C, next, all, newton);
    const bool broken = b.converged && std::abs(s.order_parameter(b.C)) > 1e-6 * b.C.norm();
    const LinearSolveResult sym = newton_solve(s, Cs, next, even, newton);
    if (!broken || !sym.converged) {
      step *= 0.5;
      continue;
    }
    const double now = advantage(b.C, sym.C, next);
    if (!crossed && now > 0.0) {  // F(broken) - F(symmetric) changes sign in [next, lam]
      result->lambda_coexistence = next + (lam - next) * now / (now - previous);
      crossed = true;
    }
    result->residual = std::max(result->residual, b.residual);
    previous = now;
    lam = next;
    C = b.C;
    Cs = sym.C;
  }
  result->lambda_fold = lam;
}

}  // namespace

CriticalPointResult analyze_transition(const TheoryOptions& theory, const NetworkSpec& network,
                                       const TaskSpec& task, const CriticalPointOptions& options,
                                       int points) {
  CriticalPointResult result;
  try {
    ScopedDeadline deadline(theory.time_limit, "theory.time_limit");
    result = find_critical_signal(theory, network, task, options);
    if (!result.found) return result;
    // The line ends just below lambda_c, where the symmetric state is still stable.
    const double top = result.bracket_lo;
    std::vector<double> lams;
    for (int i = 0; i < points; ++i) lams.push_back(top * (0.3 + 0.7 * i / (points - 1)));
    result.lambda_resolution = lams[1] - lams[0];
    std::vector<TheorySummary> line;
    trace_lambda_line(theory, network, task, lams, &line);
    std::vector<double> advantage(lams.size());
    for (std::size_t i = 0; i < lams.size(); ++i) {
      if (line[i].status == Status::failed) throw TimeLimitExceeded(line[i].message);
      advantage[i] = broken_advantage(line[i], &result.residual);
    }
    std::size_t first = lams.size();
    for (std::size_t i = 0; i < lams.size(); ++i)
      if (std::isfinite(advantage[i])) {
        first = i;
        break;
      }
    if (first == lams.size()) {
      result.order = TransitionOrder::second;  // the broken branch bifurcates at lambda_c itself
      result.lambda_fold = result.lambda_coexistence = result.lambda_c;
      return result;
    }
    result.order = TransitionOrder::first;
    result.lambda_coexistence = result.lambda_c;  // if F(broken) > F(symmetric) on the whole line
    for (std::size_t i = first; i + 1 < lams.size(); ++i)
      if (advantage[i] > 0.0 && advantage[i + 1] <= 0.0) {
        const double t = advantage[i] / (advantage[i] - advantage[i + 1]);
        result.lambda_coexistence = lams[i] + t * (lams[i + 1] - lams[i]);
        break;
      }
    const TheorySummary& at = line[first];
    refine_first_order(theory, network, task, lams[first], lowest_stable_broken(at)->C,
                       at.states.front().C, result.lambda_resolution, 1e-8, &result);
    if (first == 0) result.message = "the broken branch reaches below the traced line";
  } catch (const TimeLimitExceeded& e) {
    result.status = Status::not_converged;
    result.order = TransitionOrder::none;
    result.message =
        std::string(e.what()) + (result.found ? " while tracing the broken branch" : "");
    result.found = false;
  }
  return result;
}

}  // namespace kernelsweep
