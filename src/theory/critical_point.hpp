#pragma once
// lambda_c: bisection in the signal strength on the stability of the symmetric branch
// (docs/theory.md 3.2: the largest odd-sector eigenvalue of the fixed-point map's Jacobian crosses 1).
#include <limits>
#include <string>

#include "theory/saddle_point.hpp"

namespace kernelsweep {

struct CriticalPointOptions {
  double lo = 0.0;  // bracket in lam; hi <= 0 means "search upwards from lo"
  double hi = 0.0;
  double tolerance = 1e-10;  // on lam, relative
  int max_bisections = 200;
};

enum class TransitionOrder { none, first, second };
std::string to_string(TransitionOrder order);

struct CriticalPointResult {
  bool found = false;
  double lambda_c = 0.0;  // spinodal: the symmetric branch becomes unstable (signal, like task.lam)
  // Where F(broken) = F(symmetric) (linear interpolation of the F difference between traced grid
  // signals); lambda_c for a second-order transition, NaN without one.
  double lambda_coexistence = std::numeric_limits<double>::quiet_NaN();
  // Lowest signal at which a stable broken state was traced (the fold ends the branch just below,
  // within lambda_resolution); lambda_c for a second-order transition, NaN without one.
  double lambda_fold = std::numeric_limits<double>::quiet_NaN();
  double lambda_resolution = 0.0;  // grid spacing of the traced line below lambda_c
  TransitionOrder order = TransitionOrder::none;
  // Largest relative fixed-point residual among the states the lambdas above were read from.
  double residual = 0.0;
  double bracket_lo = 0.0, bracket_hi = 0.0;
  int solves = 0;
  // not_converged when the analysis ran out of theory.time_limit (order is then unknown, not none).
  Status status = Status::done;
  std::string message;
};

// Linear activation only; throws std::invalid_argument for problems that have no transition.
// The task's own lam is ignored: the signal is the variable.
CriticalPointResult find_critical_signal(const TheoryOptions& theory, const NetworkSpec& network,
                                         const TaskSpec& task, const CriticalPointOptions& options);

// find_critical_signal, then the transition order: the broken branch traced below lambda_c (on
// `points` signals in [0.3 lambda_c, lambda_c]) gives lambda_fold and lambda_coexistence.
// No instability below options.hi (or, searching upwards, lam = 100): order none.
CriticalPointResult analyze_transition(const TheoryOptions& theory, const NetworkSpec& network,
                                       const TaskSpec& task, const CriticalPointOptions& options,
                                       int points = 36);

// Largest odd-sector eigenvalue of the symmetric branch at signal lam (> 1: unstable).
double symmetric_branch_instability(const TheoryOptions& theory, const NetworkSpec& network,
                                    const TaskSpec& task, double lam);

}  // namespace kernelsweep
