#include "theory/erf_stopping_rule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kernelsweep {

ReplicateWindows::ReplicateWindows(int replicates, int dimension, int window)
    : half_(std::max(1, (window + 1) / 2)),
      blocks_(static_cast<std::size_t>(replicates)),
      current_(static_cast<std::size_t>(replicates), Eigen::VectorXd::Zero(dimension)),
      count_(static_cast<std::size_t>(replicates), 0) {
  if (replicates < 2) throw std::invalid_argument("the stopping rule needs at least 2 replicates");
}

void ReplicateWindows::add(int replicate, const Eigen::VectorXd& x) {
  const auto r = static_cast<std::size_t>(replicate);
  current_[r] += x;
  if (++count_[r] < half_) return;
  blocks_[r].push_back(current_[r] / half_);
  if (blocks_[r].size() > 4) blocks_[r].pop_front();  // two windows of two halves
  current_[r].setZero();
  count_[r] = 0;
}

bool ReplicateWindows::at_half_window() const {
  return std::all_of(count_.begin(), count_.end(), [](int c) { return c == 0; }) &&
         !blocks_.front().empty();
}

void ReplicateWindows::clear() {
  for (auto& b : blocks_) b.clear();
  for (auto& c : current_) c.setZero();
  std::fill(count_.begin(), count_.end(), 0);
}

WindowComparison ReplicateWindows::compare() const {
  WindowComparison w;
  const int R = replicates();
  for (const auto& b : blocks_)
    if (b.size() < 4) return w;
  w.ready = true;
  std::vector<Eigen::VectorXd>& drifts = w.replicate_drifts;
  for (const auto& b : blocks_) {
    const Eigen::VectorXd latest = 0.5 * (b[2] + b[3]);
    const Eigen::VectorXd previous = 0.5 * (b[0] + b[1]);
    w.replicate_means.push_back(latest);
    drifts.push_back(latest - previous);
  }
  const auto mean_and_stderr = [R](const std::vector<Eigen::VectorXd>& v, Eigen::VectorXd* mean,
                                   Eigen::VectorXd* stderr_) {
    *mean = Eigen::VectorXd::Zero(v.front().size());
    for (const auto& x : v) *mean += x / R;
    Eigen::VectorXd var = Eigen::VectorXd::Zero(mean->size());
    for (const auto& x : v) var += (x - *mean).cwiseAbs2() / (R - 1);
    *stderr_ = (var / R).cwiseSqrt();
  };
  mean_and_stderr(w.replicate_means, &w.mean, &w.stderr_);
  mean_and_stderr(drifts, &w.drift, &w.drift_stderr);
  return w;
}

}  // namespace kernelsweep
