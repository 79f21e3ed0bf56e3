#pragma once
// Activations phi and their first two derivatives, elementwise on Eigen arrays.
// erf is scaled as erf(sqrt(pi)/2 h) so that phi'(0) = 1 (docs/theory.md section 1).
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>
#include <cmath>
#include <numbers>

#include "model/network_spec.hpp"

namespace kernelsweep {

inline constexpr double kErfScale = 0.88622692545275801365;  // sqrt(pi)/2

template <typename Derived>
auto activation_value(Activation a, const Eigen::ArrayBase<Derived>& h) {
  using Scalar = typename Derived::Scalar;
  using Plain = typename Derived::PlainObject;
  if (a == Activation::linear) return Plain(h);
  return Plain((Scalar(kErfScale) * h).erf());
}

template <typename Derived>
auto activation_derivative(Activation a, const Eigen::ArrayBase<Derived>& h) {
  using Scalar = typename Derived::Scalar;
  using Plain = typename Derived::PlainObject;
  if (a == Activation::linear) return Plain(Plain::Ones(h.rows(), h.cols()));
  // d/dh erf(s h) = (2 s / sqrt(pi)) exp(-s^2 h^2) = exp(-pi h^2 / 4)
  return Plain((Scalar(-std::numbers::pi / 4.0) * h.square()).exp());
}

template <typename Derived>
auto activation_second_derivative(Activation a, const Eigen::ArrayBase<Derived>& h) {
  using Scalar = typename Derived::Scalar;
  using Plain = typename Derived::PlainObject;
  if (a == Activation::linear) return Plain(Plain::Zero(h.rows(), h.cols()));
  return Plain(Scalar(-std::numbers::pi / 2.0) * h * (Scalar(-std::numbers::pi / 4.0) * h.square()).exp());
}

}  // namespace kernelsweep
