#pragma once
// A finite-width RNN or DNN (docs/theory.md section 1) in standardized coordinates,
//   W = sqrt(w/N) W_hat, U = sqrt(u/D) U_hat, a = sqrt(v) a_hat   (every hat entry N(0,1) a
//   priori),
// with its forward pass, the likelihood term L = N/(2 kappa) sum_S (y - f)^2, backpropagation
// through time, and the split Ornstein-Uhlenbeck Langevin step of docs/theory.md section 4.
// RNN: one W_hat, U_hat, a_hat shared by all t. DNN: W_hat^(t) for t = 1..T-1 (stored at t-1),
// U_hat^(t) and a_hat^(t) for t = 0..T-1.
#include <cstdint>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"
#include "random/normal_batch.hpp"
#include "sgld/sgld_types.hpp"

namespace kernelsweep::sgld {

template <typename Scalar>
struct NetworkParameters {
  std::vector<Matrix<Scalar>> W_hat;  // N x N
  std::vector<Matrix<Scalar>> U_hat;  // N x D
  std::vector<Vector<Scalar>> a_hat;  // N
};

template <typename Scalar>
class LangevinNetwork {
 public:
  // Draws the initial parameters from the prior: stream (seed, point, replica, sgld_initial); the
  // step noise comes from (seed, point, replica, sgld_noise).
  LangevinNetwork(const NetworkSpec& network, const Dataset& data, std::uint64_t seed,
                  std::uint64_t point_index, std::uint64_t replica);

  // Forward pass at the current parameters; returns L and caches h, phi, f for step().
  double forward();
  // One Langevin step theta <- e^-eta theta - (1 - e^-eta) grad L + sqrt(1 - e^-2eta) xi, with the
  // normals of draw `step_index`. Needs forward() at the current parameters first.
  void step(double eta, std::uint64_t step_index);
  // The same pass with arbitrary coefficients; decay 0, drift -1, noise 0 turns the parameters
  // into grad L (this is how the tests check the production backward pass against differences).
  void apply_update(const LangevinCoefficients<Scalar>& coefficients, std::uint64_t step_index);

  // grad L with respect to the hat parameters, at the current parameters (the state is unchanged).
  NetworkParameters<Scalar> gradient() const;

  double prior_energy() const;  // 1/2 (|W_hat|^2 + |U_hat|^2 + |a_hat|^2)

  const NetworkParameters<Scalar>& parameters() const { return parameters_; }
  NetworkParameters<Scalar>& parameters() { return parameters_; }
  // h[t] and phi[t] are N x P; f is T x P (from the last forward()).
  const std::vector<Matrix<Scalar>>& preactivations() const { return h_; }
  const std::vector<Matrix<Scalar>>& activations() const { return phi_; }
  const Eigen::MatrixXd& outputs() const { return f_; }
  // The actual (not standardized) recurrent matrix of layer t >= 1 (RNN: the shared W).
  Eigen::MatrixXd recurrent_matrix(int t) const;
  const NetworkSpec& network() const { return network_; }

 private:
  int W_index(int t) const { return shared_ ? 0 : t - 1; }
  int U_index(int t) const { return shared_ ? 0 : t; }
  int a_index(int t) const { return shared_ ? 0 : t; }
  void draw_prior(const NormalBatchGenerator& generator);

  NetworkSpec network_;
  int T_, N_, D_, P_;
  bool shared_;
  Scalar scale_W_, scale_U_, scale_a_;
  std::vector<Matrix<Scalar>> x_;  // inputs, D x P per t
  Eigen::MatrixXd y_;              // targets, T x P
  std::vector<char> supervised_;   // per t
  NormalBatchGenerator noise_;
  NetworkParameters<Scalar> parameters_;
  std::vector<Matrix<Scalar>> h_, phi_;  // forward cache
  Eigen::MatrixXd f_;
  // backward work space
  std::vector<Matrix<Scalar>> g_;
  Matrix<Scalar> dphi_, Z_, Gcat_, Phicat_, empty_;
};

extern template class LangevinNetwork<double>;
extern template class LangevinNetwork<float>;

}  // namespace kernelsweep::sgld
