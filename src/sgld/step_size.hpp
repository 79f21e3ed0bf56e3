#pragma once
// The automatic Langevin step size (sgld.eta: auto, THEORY.md section 4): the stiffest curvature
// of the likelihood term L, lambda_max = max |eigenvalue| of its Hessian in the standardized
// coordinates, by power iteration on Hessian-vector products (central differences of grad L).
// The split Ornstein-Uhlenbeck step treats the prior exactly; its drift step on L is stable for
// eta lambda_max < 2 and biased at O(eta lambda_max), so eta = safety / (1 + lambda_max).
#include <cstdint>

#include "random/normal_batch.hpp"
#include "sgld/langevin_network.hpp"

namespace kernelsweep::sgld {

template <typename Scalar>
class CurvatureProbe {
 public:
  // The start direction comes from (seed, point, replica): the measurement is reproducible.
  CurvatureProbe(std::uint64_t seed, std::uint64_t point_index, std::uint64_t replica);
  // lambda_max at the network's current parameters. Warm-started from the previous call's
  // direction, so later calls (the curvature changes slowly during burn-in) need few iterations.
  // Each iteration costs two gradient evaluations (about two Langevin steps).
  // blocks: the Hessian of all parameters, or restricted to W and U (what remains if the readout
  // a were sampled exactly), or to the readout a alone (closed form (v/kappa) lambda_max(C_SS)).
  enum class Blocks { all, without_readout, readout_only };
  double measure(const LangevinNetwork<Scalar>& network, int iterations,
                 Blocks blocks = Blocks::all);

 private:
  NormalBatchGenerator generator_;
  NetworkParameters<Scalar> direction_;
  bool has_direction_ = false;
};

// eta = safety / (1 + lambda_max).
double step_size_from_curvature(double lambda_max, double safety);

extern template class CurvatureProbe<double>;
extern template class CurvatureProbe<float>;

}  // namespace kernelsweep::sgld
