#pragma once
// Matrix types of the SGLD sampler (templated on float / double) and the Langevin coefficients.
#include <Eigen/Core>

namespace kernelsweep::sgld {

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

// theta <- decay theta - drift grad + noise xi, the split Ornstein-Uhlenbeck step of docs/theory.md 4.
template <typename Scalar>
struct LangevinCoefficients {
  Scalar decay = 1, drift = 0, noise = 0;
};

}  // namespace kernelsweep::sgld
