#include "model/task.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "model/network_spec.hpp"
#include "random/philox_stream.hpp"

namespace kernelsweep {

std::string to_string(Architecture architecture) {
  return architecture == Architecture::rnn ? "rnn" : "dnn";
}
std::string to_string(Activation activation) {
  return activation == Activation::linear ? "linear" : "erf";
}
std::string to_string(TaskKind kind) {
  switch (kind) {
    case TaskKind::endpoint_classification: return "endpoint_classification";
    case TaskKind::sinusoid: return "sinusoid";
    case TaskKind::teacher_sequence: return "teacher_sequence";
  }
  return "unknown";
}

bool Dataset::inputs_only_at_first_step() const {
  for (int t = 1; t < T; ++t)
    if (inputs[t].squaredNorm() > 0.0) return false;
  return true;
}

bool Dataset::is_supervised(int t) const {
  return std::binary_search(supervised_times.begin(), supervised_times.end(), t);
}

std::vector<int> Dataset::supervised_indices() const {
  std::vector<int> mu;
  for (int t : supervised_times)
    for (int p = 0; p < P; ++p) mu.push_back(index(t, p));
  return mu;
}

Eigen::VectorXd Dataset::supervised_targets() const {
  const auto mu = supervised_indices();
  Eigen::VectorXd y(static_cast<Eigen::Index>(mu.size()));
  for (std::size_t i = 0; i < mu.size(); ++i) y(i) = targets(mu[i] / P, mu[i] % P);
  return y;
}

std::vector<int> resolve_supervised_times(const TaskSpec& task, int T) {
  std::vector<int> times;
  switch (task.supervised.mode) {
    case Supervision::Mode::last: times = {T - 1}; break;
    case Supervision::Mode::all:
      for (int t = 0; t < T; ++t) times.push_back(t);
      break;
    case Supervision::Mode::list: times = task.supervised.times; break;
    case Supervision::Mode::task_default:
      if (task.kind == TaskKind::endpoint_classification) {
        times = {T - 1};
      } else if (task.kind == TaskKind::sinusoid) {
        for (int t = 0; t < T; ++t) times.push_back(t);
      } else {  // teacher: every other step, so the unsupervised ones test interpolation
        for (int t = 0; t < T; t += 2) times.push_back(t);
      }
      break;
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

namespace {

void fill_endpoint_classification(const TaskSpec& task, Dataset& data) {
  // x_p = sqrt(D) e_p at t = 0 only; yhat = +1 for the first half of the patterns, -1 otherwise;
  // a target exists only at the end point.
  data.inputs[0].topRows(task.P) = std::sqrt(double(task.D)) * Eigen::MatrixXd::Identity(task.P, task.P);
  for (int p = 0; p < task.P; ++p)
    data.targets(data.T - 1, p) = task.lam * (2 * p < task.P ? 1.0 : -1.0);
}

void fill_sinusoid(const TaskSpec& task, Dataset& data) {
  data.inputs[0](0, 0) = 1.0;
  for (int t = 0; t < data.T; ++t)
    data.targets(t, 0) = task.lam * std::cos(2.0 * std::numbers::pi * t / data.T);
}

// A linear teacher RNN of width 32: a weak random bulk plus a rotation of modulus 1 in a random
// plane (a complex-conjugate outlier pair), so its read-out oscillates with period T.
void fill_teacher_sequence(const TaskSpec& task, Dataset& data) {
  const int n = 32;
  PhiloxStream stream(task.seed, 0, 0, StreamPurpose::teacher);
  auto gaussian = [&](int rows, int cols) {
    Eigen::MatrixXd m(rows, cols);
    for (int j = 0; j < cols; ++j)
      for (int i = 0; i < rows; ++i) m(i, j) = stream.normal();
    return m;
  };
  const Eigen::MatrixXd bulk = 0.3 / std::sqrt(double(n)) * gaussian(n, n);
  const Eigen::MatrixXd plane = Eigen::HouseholderQR<Eigen::MatrixXd>(gaussian(n, 2))
                                    .householderQ() * Eigen::MatrixXd::Identity(n, 2);
  const double angle = 2.0 * std::numbers::pi / data.T;
  Eigen::Matrix2d rotation;
  rotation << std::cos(angle), -std::sin(angle), std::sin(angle), std::cos(angle);
  const Eigen::MatrixXd W = bulk + plane * rotation * plane.transpose();
  const Eigen::MatrixXd U = gaussian(n, task.D) / std::sqrt(double(task.D));
  const Eigen::VectorXd readout = plane.col(0) * std::sqrt(double(n)) + 0.3 * gaussian(n, 1);

  data.inputs[0] = gaussian(task.D, task.P);
  Eigen::MatrixXd h = U * data.inputs[0];
  Eigen::MatrixXd yhat(data.T, task.P);
  for (int t = 0; t < data.T; ++t) {
    if (t > 0) h = W * h;
    yhat.row(t) = (readout.transpose() * h) / std::sqrt(double(n));
  }
  const double rms = std::sqrt(yhat.squaredNorm() / double(yhat.size()));
  data.targets = task.lam * yhat / rms;
}

}  // namespace

Dataset make_dataset(const TaskSpec& task, int T) {
  Dataset data;
  data.T = T;
  data.P = task.P;
  data.D = task.D;
  data.inputs.assign(T, Eigen::MatrixXd::Zero(task.D, task.P));
  data.targets = Eigen::MatrixXd::Constant(T, task.P, std::numeric_limits<double>::quiet_NaN());
  switch (task.kind) {
    case TaskKind::endpoint_classification: fill_endpoint_classification(task, data); break;
    case TaskKind::sinusoid: fill_sinusoid(task, data); break;
    case TaskKind::teacher_sequence: fill_teacher_sequence(task, data); break;
  }
  data.supervised_times = resolve_supervised_times(task, T);
  for (int t : data.supervised_times) {
    if (t < 0 || t >= T) throw std::invalid_argument("supervised time step out of range");
    for (int p = 0; p < task.P; ++p)
      if (std::isnan(data.targets(t, p)))
        throw std::invalid_argument("task " + to_string(task.kind) + " defines no target at t=" +
                                    std::to_string(t));
  }
  return data;
}

double generalization_error(const Dataset& data, const Eigen::VectorXd& predictions) {
  double sum = 0.0;
  int count = 0;
  for (int t = 0; t < data.T; ++t)
    for (int p = 0; p < data.P; ++p) {
      const double y = data.targets(t, p);
      if (std::isnan(y)) continue;
      const double e = y - predictions(data.index(t, p));
      sum += e * e;
      ++count;
    }
  return count > 0 ? sum / (2.0 * count) : 0.0;
}

}  // namespace kernelsweep
