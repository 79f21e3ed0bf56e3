#pragma once
// Independent reference computations for the theory tests, written from docs/theory.md with plain
// loops (no code shared with src/theory), so the tests compare against the specification, not the
// implementation.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>
#include <cmath>
#include <numbers>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"

namespace kernelsweep::reference {

inline Eigen::MatrixXd input_kernel(const Dataset& d, bool rnn) {
  const int M = d.M();
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(M, M);
  for (int t = 0; t < d.T; ++t)
    for (int s = 0; s < d.T; ++s)
      for (int p = 0; p < d.P; ++p)
        for (int q = 0; q < d.P; ++q) {
          if (!rnn && t != s) continue;
          double dot = 0.0;
          for (int k = 0; k < d.D; ++k) dot += d.inputs[t](k, p) * d.inputs[s](k, q);
          X(t * d.P + p, s * d.P + q) = dot / d.D;
        }
  return X;
}

// K(C)^{(t,p),(s,q)} = w C^{(t-1,p),(s-1,q)} + u X, zero shift term at t=0 or s=0 (DNN: t = s
// only).
inline Eigen::MatrixXd prior_covariance(const NetworkSpec& n, const Dataset& d,
                                        const Eigen::MatrixXd& C) {
  const bool rnn = n.architecture == Architecture::rnn;
  Eigen::MatrixXd K = n.u * input_kernel(d, rnn);
  for (int t = 1; t < d.T; ++t)
    for (int s = 1; s < d.T; ++s) {
      if (!rnn && t != s) continue;
      for (int p = 0; p < d.P; ++p)
        for (int q = 0; q < d.P; ++q)
          K(t * d.P + p, s * d.P + q) += n.w * C((t - 1) * d.P + p, (s - 1) * d.P + q);
    }
  return K;
}

inline Eigen::MatrixXd shift_transpose(const NetworkSpec& n, const Dataset& d,
                                       const Eigen::MatrixXd& G) {
  const bool rnn = n.architecture == Architecture::rnn;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(d.M(), d.M());
  for (int t = 0; t + 1 < d.T; ++t)
    for (int s = 0; s + 1 < d.T; ++s) {
      if (!rnn && t != s) continue;
      for (int p = 0; p < d.P; ++p)
        for (int q = 0; q < d.P; ++q)
          out(t * d.P + p, s * d.P + q) = G((t + 1) * d.P + p, (s + 1) * d.P + q);
    }
  return out;
}

// Readout groups: RNN one group of all supervised (t,p); DNN one group per supervised layer.
inline std::vector<std::vector<int>> readout_groups(const NetworkSpec& n, const Dataset& d) {
  std::vector<std::vector<int>> groups;
  if (n.architecture == Architecture::rnn) {
    groups.emplace_back();
    for (int t : d.supervised_times)
      for (int p = 0; p < d.P; ++p) groups.back().push_back(t * d.P + p);
  } else {
    for (int t : d.supervised_times) {
      groups.emplace_back();
      for (int p = 0; p < d.P; ++p) groups.back().push_back(t * d.P + p);
    }
  }
  return groups;
}

struct Readout {
  Eigen::MatrixXd tilt;  // v sum_g E r r^T E^T
  Eigen::VectorXd f;     // posterior-mean outputs
  double y_dot_r = 0.0;
};

inline Readout readout(const NetworkSpec& n, const Dataset& d, const Eigen::MatrixXd& C) {
  Readout out;
  out.tilt = Eigen::MatrixXd::Zero(d.M(), d.M());
  out.f = Eigen::VectorXd::Zero(d.M());
  for (const auto& g : readout_groups(n, d)) {
    const int m = static_cast<int>(g.size());
    Eigen::MatrixXd A(m, m);
    Eigen::VectorXd y(m);
    for (int a = 0; a < m; ++a) {
      y(a) = d.targets(g[a] / d.P, g[a] % d.P);
      for (int b = 0; b < m; ++b) A(a, b) = n.v * C(g[a], g[b]) + (a == b ? n.kappa : 0.0);
    }
    const Eigen::VectorXd r = A.inverse() * y;
    out.y_dot_r += y.dot(r);
    for (int a = 0; a < m; ++a)
      for (int b = 0; b < m; ++b) out.tilt(g[a], g[b]) += n.v * r(a) * r(b);
    // RNN: every mu; DNN: only the group's own layer.
    for (int mu = 0; mu < d.M(); ++mu) {
      if (n.architecture == Architecture::dnn && mu / d.P != g[0] / d.P) continue;
      for (int a = 0; a < m; ++a) out.f(mu) += n.v * C(mu, g[a]) * r(a);
    }
  }
  return out;
}

// |(K^{-1} - C_hat)^{-1} - C|_F / |C|_F for linear phi: zero exactly at a saddle point.
inline double linear_fixed_point_defect(const NetworkSpec& n, const Dataset& d,
                                        const Eigen::MatrixXd& C) {
  const Eigen::MatrixXd K = prior_covariance(n, d, C);
  const Eigen::MatrixXd K_inv = K.inverse();
  const Eigen::MatrixXd G = K_inv * C * K_inv - K_inv;
  const Eigen::MatrixXd C_hat = n.w * shift_transpose(n, d, G) + readout(n, d, C).tilt;
  const Eigen::MatrixXd next = (K_inv - C_hat).inverse();
  return (next - C).norm() / C.norm();
}

// docs/theory.md 3.1, KL form: F(C) = 1/2 [tr(K^{-1} C) - logdet(K^{-1} C) - M] + 1/2 y^T r.
inline double free_energy_kl(const NetworkSpec& n, const Dataset& d, const Eigen::MatrixXd& C) {
  const Eigen::MatrixXd K = prior_covariance(n, d, C);
  const Eigen::MatrixXd A = K.inverse() * C;
  return 0.5 * (A.trace() - std::log(A.determinant()) - d.M()) + 0.5 * readout(n, d, C).y_dot_r;
}

// dF/dC of free_energy_kl, derived by hand: 1/2 (K^{-1} - C^{-1} - w Sh^T(G) - tilt) with
// G = K^{-1} C K^{-1} - K^{-1} (the K(C) dependence) and tilt = v E r r^T E^T (the readout's).
inline Eigen::MatrixXd free_energy_gradient(const NetworkSpec& n, const Dataset& d,
                                            const Eigen::MatrixXd& C) {
  const Eigen::MatrixXd K_inv = prior_covariance(n, d, C).inverse();
  const Eigen::MatrixXd G = K_inv * C * K_inv - K_inv;
  return 0.5 * (K_inv - C.inverse() - n.w * shift_transpose(n, d, G) - readout(n, d, C).tilt);
}

// Hessian of free_energy_kl over packed entries (i <= j where `allowed`; coordinates x_k move
// C along E_ij + E_ji, or E_ii), by central differences of free_energy_gradient: H_kl =
// d/dx_l tr(dF/dC U_k). Symmetrized.
template <class Allowed>
Eigen::MatrixXd free_energy_hessian_fd(const NetworkSpec& n, const Dataset& d,
                                       const Eigen::MatrixXd& C, Allowed allowed, double h) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i < d.M(); ++i)
    for (int j = i; j < d.M(); ++j)
      if (allowed(i, j)) e.emplace_back(i, j);
  const int m = static_cast<int>(e.size());
  const auto packed_gradient = [&](const Eigen::MatrixXd& X) {
    const Eigen::MatrixXd g = free_energy_gradient(n, d, X);
    Eigen::VectorXd out(m);
    for (int k = 0; k < m; ++k)
      out(k) = (e[k].first == e[k].second ? 1.0 : 2.0) * g(e[k].first, e[k].second);
    return out;
  };
  Eigen::MatrixXd H(m, m);
  for (int l = 0; l < m; ++l) {
    Eigen::MatrixXd U = Eigen::MatrixXd::Zero(d.M(), d.M());
    U(e[l].first, e[l].second) = U(e[l].second, e[l].first) = 1.0;
    H.col(l) = (packed_gradient(C + h * U) - packed_gradient(C - h * U)) / (2 * h);
  }
  return 0.5 * (H + H.transpose());
}

// q(C) = (1/P) sum_p C^{(T-1,p),(T-2,p)} (docs/theory.md 3.2).
inline double order_parameter(const Dataset& d, const Eigen::MatrixXd& C) {
  double q = 0.0;
  for (int p = 0; p < d.P; ++p) q += C((d.T - 1) * d.P + p, (d.T - 2) * d.P + p);
  return q / d.P;
}

struct ConstrainedMinimum {
  bool converged = false;
  Eigen::MatrixXd C;
  double free_energy = 0.0;
  double multiplier = 0.0;  // dF/dq along the constrained minima (the Landau curve's slope)
  int iterations = 0;
};

// The Landau curve at q0 from its definition (docs/theory.md 3.2): min of free_energy_kl over C
// with q(C) = q0, by Newton on the KKT system with the finite-difference Hessian above (every entry
// of C; q is linear in C, so the constraint is a hyperplane). C0 must satisfy the constraint; steps
// are halved until F is defined (C, K positive definite). Converged when the packed gradient of
// F + multiplier q is below `tolerance` (max norm).
inline ConstrainedMinimum constrained_free_energy(const NetworkSpec& n, const Dataset& d,
                                                  const Eigen::MatrixXd& C0, double tolerance,
                                                  int max_iterations = 30) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i < d.M(); ++i)
    for (int j = i; j < d.M(); ++j) e.emplace_back(i, j);
  const int m = static_cast<int>(e.size());
  Eigen::VectorXd a = Eigen::VectorXd::Zero(m);  // dq/dx
  for (int k = 0; k < m; ++k)
    if (e[k].first / d.P == d.T - 2 && e[k].second / d.P == d.T - 1 &&
        e[k].first % d.P == e[k].second % d.P)
      a(k) = 1.0 / d.P;
  const auto packed_gradient = [&](const Eigen::MatrixXd& X) {
    const Eigen::MatrixXd g = free_energy_gradient(n, d, X);
    Eigen::VectorXd out(m);
    for (int k = 0; k < m; ++k)
      out(k) = (e[k].first == e[k].second ? 1.0 : 2.0) * g(e[k].first, e[k].second);
    return out;
  };
  const auto defined = [&](const Eigen::MatrixXd& X) {
    return Eigen::LLT<Eigen::MatrixXd>(X).info() == Eigen::Success &&
           Eigen::LLT<Eigen::MatrixXd>(prior_covariance(n, d, X)).info() == Eigen::Success;
  };
  ConstrainedMinimum out;
  out.C = C0;
  for (; out.iterations < max_iterations; ++out.iterations) {
    const Eigen::VectorXd g = packed_gradient(out.C);
    const double mu = a.dot(g) / a.squaredNorm();  // least-squares multiplier at this C
    if ((g - mu * a).lpNorm<Eigen::Infinity>() < tolerance) {
      out.converged = true;
      out.multiplier = mu;
      break;
    }
    const Eigen::MatrixXd H = free_energy_hessian_fd(
        n, d, out.C, [](int, int) { return true; }, 1e-5);
    Eigen::MatrixXd kkt = Eigen::MatrixXd::Zero(m + 1, m + 1);
    kkt.topLeftCorner(m, m) = H;
    kkt.block(0, m, m, 1) = a;
    kkt.block(m, 0, 1, m) = a.transpose();
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(m + 1);
    rhs.head(m) = -g;
    const Eigen::VectorXd step = kkt.fullPivLu().solve(rhs);
    Eigen::MatrixXd dC = Eigen::MatrixXd::Zero(d.M(), d.M());
    for (int k = 0; k < m; ++k) dC(e[k].first, e[k].second) = dC(e[k].second, e[k].first) = step(k);
    double t = 1.0;
    while (t > 1e-6 && !defined(out.C + t * dC)) t *= 0.5;
    out.C += t * dC;
  }
  out.free_energy = free_energy_kl(n, d, out.C);
  return out;
}

// NNGP prior kernel by the recursion C = K(C), block row by block row.
inline Eigen::MatrixXd linear_prior_kernel(const NetworkSpec& n, const Dataset& d) {
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(d.M(), d.M());
  for (int t = 0; t < d.T; ++t) C = prior_covariance(n, d, C);
  return C;
}

// Williams (1997): <phi(a) phi(b)> for (a, b) ~ N(0, S), phi = erf(sqrt(pi)/2 .).
inline Eigen::MatrixXd erf_arcsine(const Eigen::MatrixXd& S) {
  const double c = std::numbers::pi / 2.0;
  Eigen::MatrixXd out(S.rows(), S.cols());
  for (Eigen::Index i = 0; i < S.rows(); ++i)
    for (Eigen::Index j = 0; j < S.cols(); ++j)
      out(i, j) = 2.0 / std::numbers::pi *
                  std::asin(c * S(i, j) / std::sqrt((1.0 + c * S(i, i)) * (1.0 + c * S(j, j))));
  return out;
}

inline Eigen::MatrixXd erf_prior_kernel(const NetworkSpec& n, const Dataset& d) {
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(d.M(), d.M());
  for (int t = 0; t < d.T; ++t) C = erf_arcsine(prior_covariance(n, d, C));
  return C;
}

}  // namespace kernelsweep::reference
