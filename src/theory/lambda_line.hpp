#pragma once
// The linear theory along a line of signals lam (docs/theory.md 3.2): every branch found by the state
// search at a few seed signals is followed in lam by pseudo-arclength continuation (which passes
// folds), and at each lam the lowest-F stable state is selected, the others kept as metastable or
// unstable states. The whole line is one unit of work: the result depends only on (options,
// network, task, lams), never on how a sweep is partitioned.
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

// lams strictly increasing and >= 0 (throws std::invalid_argument otherwise); task.lam is ignored.
// out receives one summary per lam, as solve_saddle_point would fill it (states, selected, status,
// generalization error); options.time_limit bounds the whole line. Linear activation only.
void trace_lambda_line(const TheoryOptions& options, const NetworkSpec& network,
                       const TaskSpec& task, const std::vector<double>& lams,
                       std::vector<TheorySummary>* out);

}  // namespace kernelsweep
