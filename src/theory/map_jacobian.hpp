#pragma once
// Monte-Carlo Jacobian of the kernel theory's fixed-point map on the state (C, H),
//   (C, H) -> (<phi phi^T>_p, <h h^T>_p),  p(h) ∝ N(h; 0, K(C)) exp(1/2 phi^T C_hat(C, H) phi),
// C_hat = w Sh^T(K^{-1} H K^{-1} - K^{-1}) + readout tilt (docs/theory.md 3.3), from draws of p.
// Score-function (likelihood-ratio) form, exact for any p: d<f>_p = Cov_p(f, d log w) with
//   d log w = 1/2 z^T dK z + 1/2 phi^T dC_hat phi  (z = K^{-1} h; the normalization drops out),
//   dK = w Sh(dC), dC_hat = w Sh^T(dG) + d(readout tilt), dG = d(K^{-1} H K^{-1} - K^{-1}).
// It needs only draws of p at the state (no derivative of a sampler), and its error bars come from
// independent batches of draws. The activation is the network's (linear: p is Gaussian).
#include <Eigen/Core>
#include <string>
#include <vector>

#include "theory/kernel_structure.hpp"

namespace kernelsweep {

struct MapJacobianEstimate {
  bool ok = false;
  std::string failure;
  // Packed over `entries`: rows are the outputs (C entries, then H entries), columns the inputs in
  // the same order (a unit input moves C_ij and C_ji together, as pack/unpack do).
  Eigen::MatrixXd J;
  Eigen::MatrixXd stderr_;                       // entrywise batch-means standard error
  std::vector<Eigen::MatrixXd> batch_estimates;  // J from each batch alone (J is their mean)
};

// draws: M x N draws of p at (C, H), split into `batches` contiguous groups of N / batches columns
// (independent groups: independent chains, or the same chains at several times). means_vanish:
// the averages of every output and score are known to be 0 and are not estimated (the odd-lag
// sector at a W -> -W invariant state: the same as adding every draw's mirror image, at half the
// cost; in the even sector mirror images change nothing).
MapJacobianEstimate estimate_map_jacobian(const KernelStructure& s, const Eigen::MatrixXd& C,
                                          const Eigen::MatrixXd& H, const Eigen::MatrixXd& draws,
                                          const EntryList& entries, int batches,
                                          bool means_vanish = false);

}  // namespace kernelsweep
