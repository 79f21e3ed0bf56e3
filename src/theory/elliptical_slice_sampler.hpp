#pragma once
// Many independent elliptical slice sampling chains (Murray, Adams & MacKay 2010) for the erf
// single-site posterior p(h) ∝ N(h; 0, K) exp(beta/2 phi(h)^T C_hat phi(h)) of docs/theory.md 3.3, and
// the Monte-Carlo moments the saddle point needs (C, H, the integration-by-parts G, <V>) with
// batch-means standard errors across chains.
#include <Eigen/Core>

#include "model/network_spec.hpp"
#include "random/philox_stream.hpp"

namespace kernelsweep {

struct SingleSiteMoments {
  Eigen::MatrixXd C, H;        // <phi phi^T>, <h h^T>
  Eigen::MatrixXd G_by_parts;  // <grad^2 V + grad V grad V^T>
  Eigen::MatrixXd C_stderr, H_stderr;
  double mean_V = 0.0, mean_V_stderr = 0.0;  // V = 1/2 phi^T C_hat phi
};

class EllipticalSliceSampler {
 public:
  EllipticalSliceSampler(int M, int chains, Activation activation, PhiloxStream stream);

  // Every chain restarts from an independent draw of N(0, K), K = L L^T.
  void draw_from_prior(const Eigen::MatrixXd& L);
  // sweeps elliptical-slice updates of every chain under prior N(0, L L^T) and tilt C_hat.
  void sweep(const Eigen::MatrixXd& L, const Eigen::MatrixXd& C_hat, int sweeps);
  // Moments over the current chain states; standard errors from `batches` groups of chains.
  SingleSiteMoments measure(const Eigen::MatrixXd& C_hat, int batches = 20) const;
  // The same moments without standard errors (the per-iteration estimate of the fixed-point map).
  SingleSiteMoments moments(const Eigen::MatrixXd& C_hat) const;
  // The same over chains [first, first + count) only (for batch means of derived quantities).
  SingleSiteMoments moments(const Eigen::MatrixXd& C_hat, int first, int count) const;

  // Multiplies every chain's coordinate i by signs(i) (a symmetry of the tilted posterior, e.g.
  // h^t -> (-1)^t h^t under W -> -W).
  void reflect(const Eigen::VectorXd& signs) { h_ = signs.asDiagonal() * h_; }

  const Eigen::MatrixXd& states() const { return h_; }
  int chains() const { return static_cast<int>(h_.cols()); }

 private:
  Eigen::MatrixXd gaussian(int rows, int cols);
  Eigen::ArrayXd log_factor(const Eigen::MatrixXd& h, const Eigen::MatrixXd& C_hat) const;

  Activation activation_;
  PhiloxStream stream_;
  Eigen::MatrixXd h_;  // M x chains
};

}  // namespace kernelsweep
