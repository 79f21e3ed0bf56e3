#include "theory/kernel_structure.hpp"

#include <algorithm>

namespace kernelsweep {

KernelStructure::KernelStructure(const NetworkSpec& network, const Dataset& data)
    : network_(network), data_(data), T_(data.T), P_(data.P), M_(data.M()) {
  X_ = Eigen::MatrixXd::Zero(M_, M_);
  for (int t = 0; t < T_; ++t)
    for (int s = 0; s < T_; ++s) {
      if (network.architecture == Architecture::dnn && t != s) continue;
      X_.block(t * P_, s * P_, P_, P_) =
          data.inputs[t].transpose() * data.inputs[s] / double(data.D);
    }

  const auto add_group = [&](const std::vector<int>& times, int first, int count) {
    ReadoutGroup g;
    for (int t : times)
      for (int p = 0; p < P_; ++p) g.indices.push_back(t * P_ + p);
    g.y.resize(static_cast<Eigen::Index>(g.indices.size()));
    for (std::size_t k = 0; k < g.indices.size(); ++k)
      g.y(k) = data.targets(g.indices[k] / P_, g.indices[k] % P_);
    g.first_covered = first;
    g.covered_count = count;
    groups_.push_back(std::move(g));
  };
  if (!data.supervised_times.empty()) {
    if (network.architecture == Architecture::rnn) {
      add_group(data.supervised_times, 0, M_);
    } else {
      for (int t : data.supervised_times) add_group({t}, t * P_, P_);
    }
  }

  sign_symmetric_ = network.architecture == Architecture::rnn && T_ >= 2 &&
                    data.inputs_only_at_first_step() && !data.supervised_times.empty();
  for (int t : data.supervised_times)
    if (((t - data.supervised_times.front()) & 1) != 0) sign_symmetric_ = false;
}

Eigen::MatrixXd KernelStructure::shift(const Eigen::MatrixXd& C) const {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(M_, M_);
  if (network_.architecture == Architecture::rnn) {
    const int n = (T_ - 1) * P_;
    out.bottomRightCorner(n, n) = C.topLeftCorner(n, n);
  } else {
    for (int t = 1; t < T_; ++t)
      out.block(t * P_, t * P_, P_, P_) = C.block((t - 1) * P_, (t - 1) * P_, P_, P_);
  }
  return out;
}

Eigen::MatrixXd KernelStructure::shift_transpose(const Eigen::MatrixXd& G) const {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(M_, M_);
  if (network_.architecture == Architecture::rnn) {
    const int n = (T_ - 1) * P_;
    out.topLeftCorner(n, n) = G.bottomRightCorner(n, n);
  } else {
    for (int t = 0; t + 1 < T_; ++t)
      out.block(t * P_, t * P_, P_, P_) = G.block((t + 1) * P_, (t + 1) * P_, P_, P_);
  }
  return out;
}

Eigen::MatrixXd KernelStructure::linear_prior_kernel() const {
  // C = K(C) is solved exactly by T applications: row block t only depends on blocks < t.
  Eigen::MatrixXd C = network_.u * X_;
  for (int t = 1; t < T_; ++t) C = prior_covariance(C);
  return C;
}

KernelStructure::Readout KernelStructure::readout(const Eigen::MatrixXd& C,
                                                  double amplitude) const {
  Readout out;
  out.tilt = Eigen::MatrixXd::Zero(M_, M_);
  const double v = network_.v;
  for (const auto& g : groups_) {
    const int n = static_cast<int>(g.indices.size());
    Eigen::MatrixXd A(n, n);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) A(a, b) = v * C(g.indices[a], g.indices[b]);
    A.diagonal().array() += network_.kappa;
    Eigen::LLT<Eigen::MatrixXd> llt(A);
    if (llt.info() != Eigen::Success) out.ok = false;
    Eigen::VectorXd r = llt.solve(amplitude * g.y);
    out.y_dot_r += amplitude * g.y.dot(r);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) out.tilt(g.indices[a], g.indices[b]) += v * r(a) * r(b);
    out.r.push_back(std::move(r));
    out.A.push_back(std::move(llt));
  }
  return out;
}

Eigen::MatrixXd KernelStructure::readout_tilt_derivative(const Readout& readout,
                                                         const Eigen::MatrixXd& dC) const {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(M_, M_);
  const double v = network_.v;
  for (std::size_t k = 0; k < groups_.size(); ++k) {
    const auto& g = groups_[k];
    const auto& r = readout.r[k];
    const int n = static_cast<int>(g.indices.size());
    Eigen::MatrixXd dA(n, n);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b) dA(a, b) = v * dC(g.indices[a], g.indices[b]);
    const Eigen::VectorXd dr = -readout.A[k].solve(dA * r);
    for (int a = 0; a < n; ++a)
      for (int b = 0; b < n; ++b)
        out(g.indices[a], g.indices[b]) += v * (dr(a) * r(b) + r(a) * dr(b));
  }
  return out;
}

Eigen::VectorXd KernelStructure::predictions(const Eigen::MatrixXd& C,
                                             const Readout& readout) const {
  Eigen::VectorXd f = Eigen::VectorXd::Zero(M_);
  for (std::size_t k = 0; k < groups_.size(); ++k) {
    const auto& g = groups_[k];
    for (int mu = g.first_covered; mu < g.first_covered + g.covered_count; ++mu)
      for (std::size_t a = 0; a < g.indices.size(); ++a)
        f(mu) += network_.v * C(mu, g.indices[a]) * readout.r[k](static_cast<Eigen::Index>(a));
  }
  return f;
}

double KernelStructure::order_parameter(const Eigen::MatrixXd& H) const {
  if (T_ < 2) return 0.0;
  double q = 0.0;
  for (int p = 0; p < P_; ++p) q += H((T_ - 1) * P_ + p, (T_ - 2) * P_ + p);
  return q / P_;
}

Eigen::MatrixXd KernelStructure::order_parameter_field() const {
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(M_, M_);
  if (T_ < 2) return B;
  for (int p = 0; p < P_; ++p) {
    B((T_ - 1) * P_ + p, (T_ - 2) * P_ + p) = 1.0;
    B((T_ - 2) * P_ + p, (T_ - 1) * P_ + p) = 1.0;
  }
  return B;
}

EntryList entries_where(const KernelStructure& s, bool include_odd_lag) {
  EntryList entries;
  for (int j = 0; j < s.M(); ++j)
    for (int i = 0; i <= j; ++i) {
      if (!s.structurally_allowed(i, j)) continue;
      if (!include_odd_lag && s.is_odd_lag(i, j)) continue;
      entries.emplace_back(i, j);
    }
  return entries;
}

Eigen::VectorXd pack(const Eigen::MatrixXd& A, const EntryList& entries) {
  Eigen::VectorXd x(static_cast<Eigen::Index>(entries.size()));
  for (std::size_t k = 0; k < entries.size(); ++k) x(k) = A(entries[k].first, entries[k].second);
  return x;
}

Eigen::MatrixXd unpack(const Eigen::VectorXd& x, const EntryList& entries, int M) {
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(M, M);
  for (std::size_t k = 0; k < entries.size(); ++k) {
    A(entries[k].first, entries[k].second) = x(k);
    A(entries[k].second, entries[k].first) = x(k);
  }
  return A;
}

Eigen::MatrixXd unit_symmetric(int i, int j, int M) {
  Eigen::MatrixXd E = Eigen::MatrixXd::Zero(M, M);
  E(i, j) = 1.0;
  E(j, i) = 1.0;
  return E;
}

bool KernelStructure::readout_depends_on(int i, int j) const {
  for (const auto& g : groups_) {
    const bool has_i = std::find(g.indices.begin(), g.indices.end(), i) != g.indices.end();
    const bool has_j = std::find(g.indices.begin(), g.indices.end(), j) != g.indices.end();
    if (has_i && has_j) return true;
  }
  return false;
}

}  // namespace kernelsweep
