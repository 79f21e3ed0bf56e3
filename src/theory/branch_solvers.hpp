#pragma once
// Per-activation branch solvers behind solve_saddle_point: symmetric and broken branches of the
// linear theory (continuation in signal amplitude, Newton), of the erf theory (Monte Carlo), and
// the linear Landau curve. amplitude multiplies every target (continuation in lambda).
#include <optional>

#include "theory/kernel_structure.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

// Fills summary->states, selected, status and message for a linear problem at signal 1.
void solve_linear_point(const KernelStructure& s, const TheoryOptions& options,
                        TheorySummary* summary);

BranchSolution solve_linear_symmetric(const KernelStructure& s, const TheoryOptions& options,
                                      double amplitude = 1.0);
LandauCurve linear_landau_curve(const KernelStructure& s, const TheoryOptions& options,
                                const BranchSolution& symmetric, const BranchSolution* broken);

BranchSolution solve_erf_branch(const KernelStructure& s, const TheoryOptions& options,
                                bool broken_seed);

}  // namespace kernelsweep
