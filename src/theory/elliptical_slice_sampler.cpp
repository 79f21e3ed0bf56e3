#include "theory/elliptical_slice_sampler.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include "model/activation.hpp"

namespace kernelsweep {

EllipticalSliceSampler::EllipticalSliceSampler(int M, int chains, Activation activation,
                                               PhiloxStream stream)
    : activation_(activation), stream_(stream), h_(Eigen::MatrixXd::Zero(M, chains)) {}

Eigen::MatrixXd EllipticalSliceSampler::gaussian(int rows, int cols) {
  Eigen::MatrixXd z(rows, cols);
  for (Eigen::Index j = 0; j < z.cols(); ++j)
    for (Eigen::Index i = 0; i < z.rows(); ++i) z(i, j) = stream_.normal();
  return z;
}

void EllipticalSliceSampler::draw_from_prior(const Eigen::MatrixXd& L) {
  h_ = L.triangularView<Eigen::Lower>() * gaussian(static_cast<int>(h_.rows()), chains());
}

Eigen::ArrayXd EllipticalSliceSampler::log_factor(const Eigen::MatrixXd& h,
                                                  const Eigen::MatrixXd& C_hat) const {
  const Eigen::MatrixXd phi = activation_value(activation_, h.array()).matrix();
  return 0.5 * (phi.array() * (C_hat * phi).array()).colwise().sum().transpose();
}

void EllipticalSliceSampler::sweep(const Eigen::MatrixXd& L, const Eigen::MatrixXd& C_hat,
                                   int sweeps) {
  const int M = static_cast<int>(h_.rows());
  const int n = chains();
  const double two_pi = 2.0 * std::numbers::pi;
  for (int s = 0; s < sweeps; ++s) {
    const Eigen::MatrixXd nu = L.triangularView<Eigen::Lower>() * gaussian(M, n);
    const Eigen::ArrayXd current = log_factor(h_, C_hat);
    Eigen::ArrayXd threshold(n), angle(n), lo(n), hi(n);
    for (int c = 0; c < n; ++c) {
      threshold(c) = current(c) + std::log(stream_.uniform());
      angle(c) = two_pi * stream_.uniform();
      lo(c) = angle(c) - two_pi;
      hi(c) = angle(c);
    }
    std::vector<int> pending(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c) pending[static_cast<std::size_t>(c)] = c;
    // Shrink the bracket of every pending chain until its proposal is accepted; the bracket
    // collapses onto the current state, so this terminates (a cap guards against round-off).
    for (int round = 0; round < 200 && !pending.empty(); ++round) {
      const int m = static_cast<int>(pending.size());
      Eigen::MatrixXd proposal(M, m);
      for (int k = 0; k < m; ++k) {
        const int c = pending[static_cast<std::size_t>(k)];
        proposal.col(k) = h_.col(c) * std::cos(angle(c)) + nu.col(c) * std::sin(angle(c));
      }
      const Eigen::ArrayXd value = log_factor(proposal, C_hat);
      std::vector<int> still;
      for (int k = 0; k < m; ++k) {
        const int c = pending[static_cast<std::size_t>(k)];
        if (value(k) > threshold(c)) {
          h_.col(c) = proposal.col(k);
        } else {
          (angle(c) < 0.0 ? lo(c) : hi(c)) = angle(c);
          angle(c) = lo(c) + (hi(c) - lo(c)) * stream_.uniform();
          still.push_back(c);
        }
      }
      pending.swap(still);
    }
  }
}

SingleSiteMoments EllipticalSliceSampler::moments(const Eigen::MatrixXd& C_hat) const {
  return moments(C_hat, 0, chains());
}

SingleSiteMoments EllipticalSliceSampler::moments(const Eigen::MatrixXd& C_hat, int first,
                                                  int count) const {
  const int n = count;
  const Eigen::MatrixXd h = h_.middleCols(first, count);
  const Eigen::MatrixXd phi = activation_value(activation_, h.array()).matrix();
  const Eigen::MatrixXd dphi = activation_derivative(activation_, h.array()).matrix();
  const Eigen::MatrixXd d2phi = activation_second_derivative(activation_, h.array()).matrix();
  const Eigen::MatrixXd tilt_phi = C_hat * phi;
  const Eigen::MatrixXd grad_V = (dphi.array() * tilt_phi.array()).matrix();
  SingleSiteMoments m;
  m.C = phi * phi.transpose() / n;
  m.H = h * h.transpose() / n;
  m.G_by_parts = C_hat.cwiseProduct(dphi * dphi.transpose() / n) + grad_V * grad_V.transpose() / n;
  m.G_by_parts.diagonal() += (d2phi.array() * tilt_phi.array()).rowwise().mean().matrix();
  m.mean_V = 0.5 * (phi.array() * tilt_phi.array()).colwise().sum().mean();
  return m;
}

SingleSiteMoments EllipticalSliceSampler::measure(const Eigen::MatrixXd& C_hat, int batches) const {
  const int M = static_cast<int>(h_.rows());
  const int n = chains();
  batches = std::max(2, std::min(batches, n));
  SingleSiteMoments m = moments(C_hat);
  const Eigen::MatrixXd phi = activation_value(activation_, h_.array()).matrix();
  const Eigen::ArrayXd V = 0.5 * (phi.array() * (C_hat * phi).array()).colwise().sum().transpose();

  // Batch means over groups of chains (chains are independent, so groups are too).
  Eigen::MatrixXd C_sq = Eigen::MatrixXd::Zero(M, M), H_sq = Eigen::MatrixXd::Zero(M, M);
  double V_sq = 0.0;
  const int size = n / batches;
  for (int b = 0; b < batches; ++b) {
    const auto cols = Eigen::seqN(b * size, size);
    const Eigen::MatrixXd Cb =
        phi(Eigen::all, cols) * phi(Eigen::all, cols).transpose() / size - m.C;
    const Eigen::MatrixXd Hb = h_(Eigen::all, cols) * h_(Eigen::all, cols).transpose() / size - m.H;
    C_sq += Cb.cwiseProduct(Cb);
    H_sq += Hb.cwiseProduct(Hb);
    const double Vb = V.segment(b * size, size).mean() - m.mean_V;
    V_sq += Vb * Vb;
  }
  const double norm = 1.0 / (double(batches) * (batches - 1));
  m.C_stderr = (C_sq * norm).cwiseSqrt();
  m.H_stderr = (H_sq * norm).cwiseSqrt();
  m.mean_V_stderr = std::sqrt(V_sq * norm);
  return m;
}

}  // namespace kernelsweep
