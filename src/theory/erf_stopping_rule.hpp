#pragma once
// The stopping rule of the stochastic erf fixed point (THEORY.md 3.3). R independent replicate
// iterations (independent random streams) each record one observable vector per iteration.
// Consecutive windows of W iterations are compared replicate by replicate; the replicate average of
// a window mean and of the window-to-window drift get standard errors from the spread across
// replicates, which is honest whatever the autocorrelation of the iteration (the batch-means error
// of one run's last samples under-states it ~20-fold).
#include <Eigen/Core>
#include <deque>
#include <vector>

namespace kernelsweep {

struct WindowComparison {
  bool ready = false;       // two full windows recorded
  Eigen::VectorXd mean;     // replicate average of the latest window's means
  Eigen::VectorXd stderr_;  // standard error of `mean` (spread across replicates / sqrt(R))
  Eigen::VectorXd drift;    // latest window mean - previous window mean, replicate average
  Eigen::VectorXd drift_stderr;
  std::vector<Eigen::VectorXd> replicate_means;   // the latest window's mean of every replicate
  std::vector<Eigen::VectorXd> replicate_drifts;  // and its change from the previous window
};

class ReplicateWindows {
 public:
  // window is rounded up to an even number: windows advance by half a window.
  ReplicateWindows(int replicates, int dimension, int window);

  // One iteration's observables of one replicate; every replicate records once per iteration.
  void add(int replicate, const Eigen::VectorXd& x);
  // True right after an iteration that completes a half window (the moments to test).
  bool at_half_window() const;
  // The last window against the one before it (both of length `window`, ending now).
  WindowComparison compare() const;
  // Forget everything recorded (e.g. after the estimator of the observables changed).
  void clear();

  int window() const { return 2 * half_; }
  int replicates() const { return static_cast<int>(blocks_.size()); }

 private:
  int half_;
  std::vector<std::deque<Eigen::VectorXd>> blocks_;  // per replicate: completed half-window sums
  std::vector<Eigen::VectorXd> current_;             // per replicate: the running half-window sum
  std::vector<int> count_;                           // per replicate: iterations in current_
};

}  // namespace kernelsweep
