#pragma once
// lambda_c: bisection in the signal strength on the stability of the symmetric branch
// (docs/theory.md 3.2: the largest odd-sector eigenvalue of the fixed-point map's Jacobian crosses 1).
#include <string>

#include "theory/saddle_point.hpp"

namespace kernelsweep {

struct CriticalPointOptions {
  double lo = 0.0;   // bracket in lam; hi <= 0 means "search upwards from lo"
  double hi = 0.0;
  double tolerance = 1e-10;  // on lam, relative
  int max_bisections = 200;
};

struct CriticalPointResult {
  bool found = false;
  double lambda_c = 0.0;
  double bracket_lo = 0.0, bracket_hi = 0.0;
  int solves = 0;
  std::string message;
};

// Linear activation only; throws std::invalid_argument for problems that have no transition.
// The task's own lam is ignored: the signal is the variable.
CriticalPointResult find_critical_signal(const TheoryOptions& theory, const NetworkSpec& network,
                                         const TaskSpec& task, const CriticalPointOptions& options);

// Largest odd-sector eigenvalue of the symmetric branch at signal lam (> 1: unstable).
double symmetric_branch_instability(const TheoryOptions& theory, const NetworkSpec& network,
                                    const TaskSpec& task, double lam);

}  // namespace kernelsweep
