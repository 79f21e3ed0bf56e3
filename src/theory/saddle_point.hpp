#pragma once
// The kernel-theory saddle point of one grid point (docs/theory.md section 3), Ceres-style:
//   TheorySummary summary;  solve_saddle_point(options, problem, &summary);  summary.report();
// Solves the symmetric branch and, where the W -> -W symmetry allows it, the broken branch;
// selects by free energy (or as asked), and optionally computes the Landau curve F(q).
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "model/network_spec.hpp"
#include "model/status.hpp"
#include "model/task.hpp"

namespace kernelsweep {

enum class BranchChoice { automatic, symmetric, broken };
std::string to_string(BranchChoice choice);

struct TheoryOptions {
  BranchChoice branch = BranchChoice::automatic;
  double tolerance = 1e-12;       // relative fixed-point residual |Phi(C) - C|_F / |C|_F (linear)
  int max_iterations = 400;       // fixed-point iterations (linear) / Monte-Carlo iterations (erf)
  int samples = 4000;             // erf: elliptical-slice chains
  std::uint64_t seed = 1;         // erf: Monte-Carlo stream
  std::uint64_t point_index = 0;  // grid point, part of every random stream's key
  bool landau = false;
  // Wall-clock bound of one solve (seconds; <= 0: none). A solve that runs out ends as failed or
  // not_converged with a message (config key theory.time_limit).
  double time_limit = 120.0;
  // Linear theory: random perturbations of the symmetric state minimized as extra seeds (keyed by
  // seed and point_index through Philox), besides the symmetric, odd-lag and lag-2 seeds.
  int random_seeds = 2;
  // erf: max_iterations is a cap (the broken branch gets twice); the drift-based stopping rule
  // usually ends earlier (config default for erf: 4000). The samples are split among replicates.
  // Independent replicate iterations (independent streams): the error bars and the stopping rule's
  // drift test come from their spread.
  int replicates = 8;
  // erf: stopping-rule window in iterations; 0 = three relaxation times of the slowest mode of the
  // linear theory's map at the damping used.
  int window = 0;
  // erf: settled when the window-to-window drift of (C, H) and of q is within this many Monte-Carlo
  // errors (for (C, H): norm of the drift / norm of its error), the G-estimator mismatch within one
  // more.
  double drift_sigmas = 2.0;
  // erf: a settled state is stable (and can be done) when every leading eigenvalue of the
  // fixed-point map's Jacobian is below 1 by more than this many Monte-Carlo errors, unstable when
  // one is above 1 by as many; otherwise its stability is undetermined (not_converged).
  double stability_sigmas = 3.0;
};

struct TheoryProblem {
  NetworkSpec network;
  Dataset data;
};

// What a stationary state is (docs/theory.md 3.2): symmetric = the W -> -W invariant state
// continued from the prior kernel; broken = q != 0; other = any further state (q = 0 with a
// different lag profile, e.g. the T = 8 period-4 state, and every state of a task without the W ->
// -W symmetry).
enum class StateKind { symmetric, broken, other };
std::string to_string(StateKind kind);

// One stationary state of F (a "branch" at this signal).
struct BranchSolution {
  std::string name;  // to_string(kind): "symmetric" | "broken" | "other"
  Status status = Status::failed;
  std::string message;
  Eigen::MatrixXd C, H;
  Eigen::MatrixXd C_stderr, H_stderr;  // erf: Monte-Carlo standard errors; empty for linear
  Eigen::VectorXd f;                   // posterior-mean outputs at every mu
  double q = 0.0, q_stderr = 0.0;
  double free_energy = 0.0, free_energy_stderr = 0.0;
  double residual = 0.0;
  int iterations = 0;
  StateKind kind = StateKind::symmetric;
  // Linear theory: the packed Hessian of F(C) (KL form, every allowed entry, both symmetry sectors)
  // is positive definite within kStabilityTolerance: a local minimum of F. erf: every leading
  // eigenvalue of the fixed-point map's Jacobian on (C, H) (both sectors of a W -> -W invariant
  // state) is below 1 by more than theory.stability_sigmas Monte-Carlo errors (map_stability.hpp).
  bool stable = false;
  // Smallest Hessian eigenvalue when it was computed (unstable states); NaN otherwise (erf: NaN).
  double hessian_minimum = 0.0;
  // erf only (NaN / empty for linear): the deciding eigenvalue of the fixed-point map's Jacobian
  // (largest real part; when unstable, the one above 1 by the most errors), its Monte-Carlo
  // standard error, and its sector ("odd-lag" | "even-lag" for a W -> -W invariant state, else
  // "full"). Dimensionless; > 1: unstable.
  double map_eigenvalue = std::numeric_limits<double>::quiet_NaN();
  double map_eigenvalue_stderr = std::numeric_limits<double>::quiet_NaN();
  std::string map_eigenvalue_sector;
  std::string origin;  // how the state was found (seed or continuation), for reports
  // erf only (0 for linear): the stopping rule's evidence, from the last two windows.
  int replicates = 0;               // independent replicate iterations behind the error bars
  int window = 0;                   // iterations per stopping-rule window
  double q_drift = 0.0;             // change of q from the previous window to the last one
  double q_drift_stderr = 0.0;      // its Monte-Carlo standard error (replicate spread)
  double kernel_drift_ratio = 0.0;  // |change of (C, H)|_F / norm of its standard error
  double residual_ratio = 0.0;      // |map output - state|_F (window means) / norm of its error
  double g_mismatch = 0.0;          // |G_direct - G_by_parts|_F / |G|_F, window mean
  double g_mismatch_ratio = 0.0;  // |mean of G_direct - G_by_parts|_F / norm of its standard error
};
using StationaryState = BranchSolution;

struct LandauCurve {
  std::vector<double> q, F;
  std::string message;  // why the curve stops early, if it does
};

struct TheorySummary {
  Status status = Status::failed;
  std::string message;
  // Every distinct stationary state found (symmetric first when it exists); the answer is the
  // lowest-F stable one, states[selected].
  std::vector<StationaryState> states;
  int selected = -1;
  int stable_count() const;
  double generalization_error = 0.0;
  std::optional<LandauCurve> landau;

  const StationaryState& solution() const { return states.at(static_cast<std::size_t>(selected)); }
  std::string report() const;  // a human-readable, multi-line summary
};

void solve_saddle_point(const TheoryOptions& options, const TheoryProblem& problem,
                        TheorySummary* summary);

// The Landau curve F(q) from the symmetric (and broken) states of a solved summary (linear RNN,
// T >= 2; otherwise a curve with only a message). solve_saddle_point calls it when options.landau.
void add_landau_curve(const TheoryOptions& options, const TheoryProblem& problem,
                      TheorySummary* summary);

// Throws std::invalid_argument if the problem cannot be posed (e.g. K not positive definite at the
// prior: inputs of rank < P). Called by solve_saddle_point; exposed for configuration checks.
void check_well_posed(const TheoryProblem& problem);

}  // namespace kernelsweep
