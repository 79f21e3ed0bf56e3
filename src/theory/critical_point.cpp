#include "theory/critical_point.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "theory/branch_solvers.hpp"
#include "theory/linear_saddle_point.hpp"

namespace kernelsweep {

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
                                         const TaskSpec& task, const CriticalPointOptions& options) {
  if (network.activation != Activation::linear)
    throw std::invalid_argument("critical: only the linear activation is supported (erf: scan lam "
                                "with `solve` and watch the broken branch appear)");
  if (network.architecture != Architecture::rnn)
    throw std::invalid_argument("critical: the dnn architecture has no transition (q = 0 identically)");
  {
    TaskSpec at = task;
    at.lam = 1.0;
    const KernelStructure s(network, make_dataset(at, network.T));
    if (!s.has_sign_symmetry())
      throw std::invalid_argument("critical: this task has no W -> -W symmetry (inputs after t=0 or "
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
      if (hi > 1e6) {
        result.message = "no instability found up to lam = 1e6";
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

}  // namespace kernelsweep
