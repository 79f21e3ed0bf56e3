#include "sgld/langevin_network.hpp"

#include <cmath>

#include "model/activation.hpp"
#include "sgld/parallel_kernels.hpp"

namespace kernelsweep::sgld {

namespace {

// Noise stream ids per parameter block, part of the Philox counter.
std::uint32_t W_stream(int k) {
  return 1u + static_cast<std::uint32_t>(k);
}
std::uint32_t U_stream(int k) {
  return 1024u + static_cast<std::uint32_t>(k);
}
std::uint32_t a_stream(int k) {
  return 2048u + static_cast<std::uint32_t>(k);
}

template <typename Scalar, typename Derived>
void add_noise(Eigen::MatrixBase<Derived>& theta, const NormalBatchGenerator& generator,
               std::uint64_t draw, std::uint32_t stream, Scalar amplitude) {
  Matrix<Scalar> xi(theta.rows(), theta.cols());
  generator.fill(xi.data(), 0, static_cast<std::uint64_t>(xi.size()), draw, stream);
  theta += amplitude * xi;
}

}  // namespace

template <typename Scalar>
LangevinNetwork<Scalar>::LangevinNetwork(const NetworkSpec& network, const Dataset& data,
                                         std::uint64_t seed, std::uint64_t point_index,
                                         std::uint64_t replica)
    : network_(network),
      T_(network.T),
      N_(network.N),
      D_(data.D),
      P_(data.P),
      shared_(network.architecture == Architecture::rnn),
      scale_W_(static_cast<Scalar>(std::sqrt(network.w / network.N))),
      scale_U_(static_cast<Scalar>(std::sqrt(network.u / data.D))),
      scale_a_(static_cast<Scalar>(std::sqrt(network.v))),
      y_(data.targets),
      noise_(seed, point_index, replica, StreamPurpose::sgld_noise) {
  for (int t = 0; t < T_; ++t) {
    x_.push_back(data.inputs[static_cast<std::size_t>(t)].cast<Scalar>());
    supervised_.push_back(data.is_supervised(t) ? 1 : 0);
  }
  const int W_count = shared_ ? 1 : T_ - 1;
  const int layer_count = shared_ ? 1 : T_;
  parameters_.W_hat.assign(static_cast<std::size_t>(std::max(W_count, 0)), Matrix<Scalar>(N_, N_));
  parameters_.U_hat.assign(static_cast<std::size_t>(layer_count), Matrix<Scalar>(N_, D_));
  parameters_.a_hat.assign(static_cast<std::size_t>(layer_count), Vector<Scalar>(N_));
  draw_prior(NormalBatchGenerator(seed, point_index, replica, StreamPurpose::sgld_initial));
  h_.assign(static_cast<std::size_t>(T_), Matrix<Scalar>(N_, P_));
  phi_ = h_;
  g_ = h_;
  f_ = Eigen::MatrixXd::Zero(T_, P_);
}

template <typename Scalar>
void LangevinNetwork<Scalar>::draw_prior(const NormalBatchGenerator& generator) {
  for (std::size_t k = 0; k < parameters_.W_hat.size(); ++k) {
    auto& W = parameters_.W_hat[k];
    generator.fill(W.data(), 0, static_cast<std::uint64_t>(W.size()), 0,
                   W_stream(static_cast<int>(k)));
  }
  for (std::size_t k = 0; k < parameters_.U_hat.size(); ++k) {
    auto& U = parameters_.U_hat[k];
    generator.fill(U.data(), 0, static_cast<std::uint64_t>(U.size()), 0,
                   U_stream(static_cast<int>(k)));
    auto& a = parameters_.a_hat[k];
    generator.fill(a.data(), 0, static_cast<std::uint64_t>(a.size()), 0,
                   a_stream(static_cast<int>(k)));
  }
}

template <typename Scalar>
double LangevinNetwork<Scalar>::forward() {
  const Activation activation = network_.activation;
  double loss = 0.0;
  for (int t = 0; t < T_; ++t) {
    const auto ts = static_cast<std::size_t>(t);
    h_[ts].noalias() = scale_U_ * parameters_.U_hat[static_cast<std::size_t>(U_index(t))] * x_[ts];
    if (t > 0)
      add_scaled_product(h_[ts], parameters_.W_hat[static_cast<std::size_t>(W_index(t))],
                         phi_[ts - 1], scale_W_);
    phi_[ts] = activation_value(activation, h_[ts].array()).matrix();
    const auto& a = parameters_.a_hat[static_cast<std::size_t>(a_index(t))];
    const Eigen::Matrix<Scalar, 1, Eigen::Dynamic> readout = a.transpose() * phi_[ts];
    f_.row(t) = (readout.template cast<double>() * (static_cast<double>(scale_a_) / N_));
    if (supervised_[ts]) loss += (y_.row(t) - f_.row(t)).squaredNorm();
  }
  return loss * N_ / (2.0 * network_.kappa);
}

template <typename Scalar>
void LangevinNetwork<Scalar>::step(double eta, std::uint64_t step_index) {
  LangevinCoefficients<Scalar> c;
  c.decay = static_cast<Scalar>(std::exp(-eta));
  c.drift = static_cast<Scalar>(-std::expm1(-eta));
  c.noise = static_cast<Scalar>(std::sqrt(-std::expm1(-2.0 * eta)));
  apply_update(c, step_index);
}

template <typename Scalar>
void LangevinNetwork<Scalar>::apply_update(const LangevinCoefficients<Scalar>& c,
                                           std::uint64_t step_index) {
  const Activation activation = network_.activation;
  // dL/df at every (t, p); zero where t is not supervised.
  Matrix<Scalar> output_error = Matrix<Scalar>::Zero(T_, P_);
  for (int t = 0; t < T_; ++t)
    if (supervised_[static_cast<std::size_t>(t)])
      output_error.row(t) =
          (-(N_ / network_.kappa) * (y_.row(t) - f_.row(t))).template cast<Scalar>();
  const Scalar readout_scale = scale_a_ / static_cast<Scalar>(N_);
  auto add_readout_error = [&](int t, Matrix<Scalar>& dphi) {
    if (!supervised_[static_cast<std::size_t>(t)]) return;
    dphi.noalias() += readout_scale * parameters_.a_hat[static_cast<std::size_t>(a_index(t))] *
                      output_error.row(t);
  };

  // Backpropagation through time. Each W is read once per time step it acts at; the last read
  // of a W in this step is fused with its update (RNN: at t = 1; DNN: every layer).
  dphi_ = Matrix<Scalar>::Zero(N_, P_);
  add_readout_error(T_ - 1, dphi_);
  for (int t = T_ - 1; t >= 0; --t) {
    const auto ts = static_cast<std::size_t>(t);
    g_[ts] = (activation_derivative(activation, h_[ts].array()) * dphi_.array()).matrix();
    if (t == 0) break;
    auto& W = parameters_.W_hat[static_cast<std::size_t>(W_index(t))];
    if (!shared_ || t == 1) {
      const NoiseSource source{&noise_, step_index, W_stream(W_index(t))};
      if (shared_) {
        // grad W_hat = scale_W sum_{t>=1} g^t phi^{t-1 T}: one rank-(T-1)P product.
        Gcat_.resize(N_, (T_ - 1) * P_);
        Phicat_.resize(N_, (T_ - 1) * P_);
        for (int s = 1; s < T_; ++s) {
          Gcat_.middleCols((s - 1) * P_, P_) = g_[static_cast<std::size_t>(s)];
          Phicat_.middleCols((s - 1) * P_, P_) = phi_[static_cast<std::size_t>(s - 1)];
        }
        backprop_and_update(W, Z_, g_[ts], Gcat_, Phicat_, scale_W_, c, source);
      } else {
        backprop_and_update(W, Z_, g_[ts], g_[ts], phi_[ts - 1], scale_W_, c, source);
      }
    } else {
      transposed_product(Z_, W, g_[ts]);
    }
    dphi_ = scale_W_ * Z_;
    add_readout_error(t - 1, dphi_);
  }
  if (shared_ && T_ == 1)  // W never acts: a pure prior (Ornstein-Uhlenbeck) step
    backprop_and_update(parameters_.W_hat[0], Z_, empty_, empty_, empty_, scale_W_, c,
                        NoiseSource{&noise_, step_index, W_stream(0)});

  // U and a after the loop: the backward pass above reads the old a.
  const int layer_count = shared_ ? 1 : T_;
  std::vector<Matrix<Scalar>> grad_U(static_cast<std::size_t>(layer_count),
                                     Matrix<Scalar>::Zero(N_, D_));
  std::vector<Vector<Scalar>> grad_a(static_cast<std::size_t>(layer_count),
                                     Vector<Scalar>::Zero(N_));
  for (int t = 0; t < T_; ++t) {
    const auto ts = static_cast<std::size_t>(t);
    grad_U[static_cast<std::size_t>(U_index(t))].noalias() +=
        scale_U_ * g_[ts] * x_[ts].transpose();
    if (supervised_[ts])
      grad_a[static_cast<std::size_t>(a_index(t))].noalias() +=
          readout_scale * phi_[ts] * output_error.row(t).transpose();
  }
  for (int k = 0; k < layer_count; ++k) {
    const auto ks = static_cast<std::size_t>(k);
    auto& U = parameters_.U_hat[ks];
    U = c.decay * U - c.drift * grad_U[ks];
    if (c.noise != Scalar(0)) add_noise(U, noise_, step_index, U_stream(k), c.noise);
    auto& a = parameters_.a_hat[ks];
    a = c.decay * a - c.drift * grad_a[ks];
    if (c.noise != Scalar(0)) add_noise(a, noise_, step_index, a_stream(k), c.noise);
  }
}

template <typename Scalar>
NetworkParameters<Scalar> LangevinNetwork<Scalar>::gradient() const {
  LangevinNetwork copy = *this;
  copy.forward();
  LangevinCoefficients<Scalar> c;
  c.decay = 0;
  c.drift = -1;
  c.noise = 0;
  copy.apply_update(c, 0);
  return copy.parameters_;
}

template <typename Scalar>
double LangevinNetwork<Scalar>::prior_energy() const {
  double sum = 0.0;
  for (const auto& W : parameters_.W_hat) sum += W.template cast<double>().squaredNorm();
  for (const auto& U : parameters_.U_hat) sum += U.template cast<double>().squaredNorm();
  for (const auto& a : parameters_.a_hat) sum += a.template cast<double>().squaredNorm();
  return 0.5 * sum;
}

template <typename Scalar>
Eigen::MatrixXd LangevinNetwork<Scalar>::recurrent_matrix(int t) const {
  return static_cast<double>(scale_W_) *
         parameters_.W_hat[static_cast<std::size_t>(W_index(t))].template cast<double>();
}

template class LangevinNetwork<double>;
template class LangevinNetwork<float>;

}  // namespace kernelsweep::sgld
