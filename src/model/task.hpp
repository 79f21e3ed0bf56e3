#pragma once
// Tasks of docs/theory.md section 2: inputs x_p^t, targets y = lam * yhat and the supervised time steps.
// Index convention everywhere: mu = t * P + p, M = T * P.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace kernelsweep {

enum class TaskKind { endpoint_classification, sinusoid, teacher_sequence };

struct Supervision {
  enum class Mode { task_default, last, all, list };
  Mode mode = Mode::task_default;
  std::vector<int> times;  // for Mode::list
};

struct TaskSpec {
  TaskKind kind = TaskKind::endpoint_classification;
  int P = 4;
  int D = 4;
  double lam = 1.0;  // signal strength lambda
  Supervision supervised;
  std::uint64_t seed = 1;  // teacher weights and teacher inputs
};

struct Dataset {
  int T = 0, P = 0, D = 0;
  std::vector<Eigen::MatrixXd> inputs;  // inputs[t] is D x P
  Eigen::MatrixXd targets;              // T x P, lam * yhat; NaN where the task defines no target
  std::vector<int> supervised_times;    // sorted, unique, in [0, T)

  int M() const { return T * P; }
  int index(int t, int p) const { return t * P + p; }
  bool inputs_only_at_first_step() const;
  bool is_supervised(int t) const;
  std::vector<int> supervised_indices() const;      // mu of every supervised entry
  Eigen::VectorXd supervised_targets() const;       // y at supervised_indices()
};

std::string to_string(TaskKind kind);
// The supervised time steps a task uses when the config does not say (last, all, or every other).
std::vector<int> resolve_supervised_times(const TaskSpec& task, int T);
Dataset make_dataset(const TaskSpec& task, int T);

// Mean squared error over every (t,p) where the task defines a target: 1/(2 n) sum (y - f)^2.
double generalization_error(const Dataset& data, const Eigen::VectorXd& predictions);

}  // namespace kernelsweep
