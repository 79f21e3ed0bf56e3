#include "sgld/step_size.hpp"

#include <cmath>
#include <type_traits>

namespace kernelsweep::sgld {

namespace {

// Applies fn(block_of_a, block_of_b) to every parameter block (W, U, a) of two parameter sets.
// (A and B are NetworkParameters, either may be const.)
template <typename A, typename B, typename Fn>
void for_each_block(A& a, B& b, Fn fn) {
  for (std::size_t k = 0; k < a.W_hat.size(); ++k) fn(a.W_hat[k], b.W_hat[k]);
  for (std::size_t k = 0; k < a.U_hat.size(); ++k) fn(a.U_hat[k], b.U_hat[k]);
  for (std::size_t k = 0; k < a.a_hat.size(); ++k) fn(a.a_hat[k], b.a_hat[k]);
}

template <typename Scalar>
double dot(const NetworkParameters<Scalar>& a, const NetworkParameters<Scalar>& b) {
  double sum = 0.0;
  for_each_block(a, b, [&](const auto& x, const auto& y) {
    sum += x.template cast<double>().cwiseProduct(y.template cast<double>()).sum();
  });
  return sum;
}

template <typename Scalar>
void scale(NetworkParameters<Scalar>& a, double factor) {
  for_each_block(a, a, [&](auto& x, const auto&) { x *= static_cast<Scalar>(factor); });
}

// a += factor * b
template <typename Scalar>
void add(NetworkParameters<Scalar>& a, const NetworkParameters<Scalar>& b, double factor) {
  for_each_block(a, b, [&](auto& x, const auto& y) { x += static_cast<Scalar>(factor) * y; });
}

}  // namespace

template <typename Scalar>
CurvatureProbe<Scalar>::CurvatureProbe(std::uint64_t seed, std::uint64_t point_index,
                                       std::uint64_t replica)
    : generator_(seed, point_index, replica, StreamPurpose::sgld_initial) {}

template <typename Scalar>
double CurvatureProbe<Scalar>::measure(const LangevinNetwork<Scalar>& network, int iterations,
                                       Blocks blocks) {
  const auto project = [&](NetworkParameters<Scalar>& v) {
    if (blocks == Blocks::without_readout)
      for (auto& a : v.a_hat) a.setZero();
    if (blocks == Blocks::readout_only) {
      for (auto& W : v.W_hat) W.setZero();
      for (auto& U : v.U_hat) U.setZero();
    }
  };
  if (!has_direction_) {
    // Draw 1 of the initial-state generator (draw 0 is the prior draw of the network).
    direction_ = network.parameters();
    std::uint32_t stream = 8192;
    for_each_block(direction_, direction_, [&](auto& x, const auto&) {
      generator_.fill(x.data(), 0, static_cast<std::uint64_t>(x.size()), 1, stream++);
    });
    has_direction_ = true;
  }
  project(direction_);
  scale(direction_, 1.0 / std::sqrt(dot(direction_, direction_)));
  // Central differences are exact for the quadratic part of L; epsilon balances the cubic error
  // against rounding in the gradient (entries of the parameters are O(1)).
  const double epsilon = std::is_same_v<Scalar, float> ? 3e-2 : 1e-4;
  double lambda = 0.0;
  for (int i = 0; i < iterations; ++i) {
    LangevinNetwork<Scalar> plus = network, minus = network;
    add(plus.parameters(), direction_, epsilon);
    add(minus.parameters(), direction_, -epsilon);
    NetworkParameters<Scalar> product = plus.gradient();
    add(product, minus.gradient(), -1.0);
    scale(product, 1.0 / (2.0 * epsilon));  // H v
    project(product);
    const double norm = std::sqrt(dot(product, product));
    if (!(norm > 0.0) || !std::isfinite(norm)) return std::isfinite(norm) ? 0.0 : norm;
    // |H v| with |v| = 1 lies between |v^T H v| and lambda_max: the closer lower bound.
    lambda = norm;
    scale(product, 1.0 / norm);
    direction_ = std::move(product);
  }
  return lambda;
}

double step_size_from_curvature(double lambda_max, double safety) {
  return safety / (1.0 + lambda_max);
}

template class CurvatureProbe<double>;
template class CurvatureProbe<float>;

}  // namespace kernelsweep::sgld
