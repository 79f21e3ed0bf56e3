#pragma once
// What a grid point produces: a typed tree (point status/message/timings, the theory part, the
// SGLD part). Every quantity of it is described once in the field table (sweep/result_fields.hpp),
// from which the HDF5 file, `solve --json`, `export`, and the journal/wire codec are derived.
// Also the unit of work the scheduler moves between ranks (PointTask -> TaskResult) and their byte
// encodings (CBOR: doubles travel bit-exact, so resumed results stay bit-identical).
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/status.hpp"
#include "sgld/sgld_runner.hpp"
#include "theory/critical_point.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {

// The reported theory state's kind (the file's theory_branch flag values; StateKind's order).
enum class BranchKind : std::int8_t { symmetric = 0, broken = 1, other = 2 };
static_assert(static_cast<int>(StateKind::symmetric) == 0 &&
              static_cast<int>(StateKind::broken) == 1 && static_cast<int>(StateKind::other) == 2);

// Integers not computed; NaN plays this role for reals.
constexpr std::int64_t kMissingInteger = -1;

struct TheoryResult {
  Status status = Status::failed;
  std::string message;
  std::optional<BranchKind> branch;  // none when no state was selected
  double q = NAN, q_stderr = NAN;
  double free_energy = NAN, free_energy_stderr = NAN;
  double residual = NAN;
  std::int64_t iterations = kMissingInteger;
  double generalization_error = NAN;
  double free_energy_symmetric = NAN, free_energy_broken = NAN, q_broken = NAN;
  double seconds = NAN;  // wall time of the theory solve
  // erf stopping-rule evidence (the last two windows); missing for the linear theory.
  std::int64_t replicates = kMissingInteger;
  double q_drift = NAN, q_drift_stderr = NAN, kernel_drift_ratio = NAN, g_mismatch_ratio = NAN;
  // erf: the deciding eigenvalue of the fixed-point map's Jacobian at the selected state, its
  // Monte-Carlo error and sector (odd-lag | even-lag | full); missing for the linear theory.
  double map_eigenvalue = NAN, map_eigenvalue_stderr = NAN;
  std::string map_eigenvalue_sector;
  std::int64_t stable_states = kMissingInteger;  // distinct stable states found (1: no coexistence)
  std::int64_t selected_state = kMissingInteger;  // the reported state's entry in the state_* arrays
  // Every stationary state found, one entry each (n x 1): the selected one and the metastable and
  // unstable others; kind codes as BranchKind, stable 1 / 0.
  Eigen::MatrixXd state_q, state_free_energy, state_stable, state_kind, state_residual;
  Eigen::MatrixXd state_map_eigenvalue, state_map_eigenvalue_stderr;  // erf only (linear: NaN)
  Eigen::MatrixXd H, C, f;             // f is M x 1
  Eigen::MatrixXd H_stderr, C_stderr;  // erf Monte-Carlo errors (empty for linear)
  Eigen::MatrixXd landau_q, landau_F;  // Landau curve F(q), n x 1 (when asked)
  // theory.critical: the transition of the point's network and task in lam (the same along a lam
  // line): spinodal, coexistence and fold signals, the order, and the residual behind them.
  double lambda_c = NAN, lambda_coexistence = NAN, lambda_fold = NAN;
  double lambda_resolution = NAN, transition_residual = NAN;
  std::optional<TransitionOrder> transition_order;
};

struct SgldResult {
  Status status = Status::failed;
  std::string message;
  std::int64_t replicas = kMissingInteger;  // replicas entering the statistics
  std::int64_t failed_replicas = kMissingInteger;
  double q_mean = NAN, q_stderr = NAN, abs_q_mean = NAN, abs_q_stderr = NAN;
  double cka_H = NAN, cka_C = NAN;
  double outlier_eigenvalue = NAN;  // largest over layers (RNN: the one W)
  double bulk_radius = NAN, generalization_error = NAN, steps_per_second = NAN;
  Eigen::MatrixXd H, C, H_stderr, f;    // f is M x 1
  Eigen::MatrixXd outlier_eigenvalues;  // per layer, L x 1 (RNN: 1)
  Eigen::MatrixXd energy_trace;         // replica x measurement (when recorded)
  // Convergence diagnostics (they decide not_converged) and the sign alignment.
  double rhat_abs_q = NAN, rhat_energy = NAN, rhat_kernel = NAN, ess_abs_q_total = NAN;
  double q_sign_fraction = NAN, check_abs_q_mean = NAN;
  Eigen::MatrixXd eta, curvature, tau_abs_q, ess_abs_q;  // per replica, R x 1
  Eigen::MatrixXd eigenvalues_re, eigenvalues_im;        // replica x (k eigenvalues per layer)
};

struct PointResult {
  std::uint64_t point = 0;
  Status status = Status::failed;
  std::string message;
  double wall_time = 0.0;  // seconds of computation summed over the point's tasks
  std::int64_t rank = 0;   // rank that computed the theory (or the first SGLD task)
  std::optional<TheoryResult> theory;
  std::optional<SgldResult> sgld;
};

// The parts built from the solvers' summaries (the solvers know nothing of the file).
TheoryResult make_theory_result(const TheorySummary& summary, double seconds);
// theory: the point's theory result, for the CKA of the kernels (may be null).
SgldResult make_sgld_result(const SgldSummary& summary, const TheoryResult* theory);
// The point's status and message from its parts (the worse status; messages prefixed by part).
void combine_parts(PointResult* result);

// A piece of one grid point: its theory (if enabled) and/or SGLD replicas [replica_begin,
// replica_end).
// Group tasks compute for several points at once:
//   theory_line  the theory of a lam line segment, traced by continuation (trace_lambda_line)
//   transition   theory.critical: the transition analysis of a lam line (lam-independent)
// `line` lists every point the computation covers (a segment: in increasing lam), `record` the
// ones whose results are wanted (the pending ones). The computation depends on `line` only, so a
// resumed sweep, which records fewer points, still gets bit-identical results.
enum class WorkKind : std::int8_t { point = 0, theory_line = 1, transition = 2 };

struct PointTask {
  std::uint64_t point = 0;  // group tasks: line.front()
  bool theory = false;
  int replica_begin = 0, replica_end = 0;
  double cost = 0.0;  // estimated, arbitrary units; only the order matters
  WorkKind kind = WorkKind::point;
  std::vector<std::uint64_t> line, record;
};
// The points a task's results are recorded for.
std::vector<std::uint64_t> recorded_points(const PointTask& task);

struct TaskResult {
  PointTask task;
  std::string error;  // a thrown exception's message: the point fails with it
  // point: the point's theory; transition: the transition fields, shared by every recorded point.
  std::optional<TheoryResult> theory;
  std::vector<SgldReplicaResult> replicas;
  // theory_line: one theory result per recorded point, in task.record's order.
  std::vector<TheoryResult> line_theory;
  double seconds = 0.0;
  int rank = 0;
};

// Copies the transition fields (lambda_c ... transition_order) of `transition` into `into`, with
// its status (the worse of both) and message (appended).
void merge_transition(const TheoryResult& transition, TheoryResult* into);

std::vector<std::uint8_t> encode(const PointTask& task);
PointTask decode_task(const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> encode(const TaskResult& result);
TaskResult decode_task_result(const std::vector<std::uint8_t>& bytes);
// The journal's record of a point: the field table's tree, matrices as raw doubles. A record of
// an older schema (before the field table) is refused with std::runtime_error naming it.
std::vector<std::uint8_t> encode(const PointResult& result);
PointResult decode_point_result(const std::vector<std::uint8_t>& bytes);

}  // namespace kernelsweep
