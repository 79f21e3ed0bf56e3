#pragma once
// The linear maps of docs/theory.md section 3 for one (network, dataset): the input kernel X, the
// time shifts Sh and Sh^T, the prior covariance K(C) = w Sh(C) + u X, the readout r (RNN: one joint
// readout; DNN: one per supervised layer) with the tilt v E r r^T E^T it adds to C_hat, and the
// order parameter q. Kernels are M x M with mu = t * P + p.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <utility>
#include <vector>

#include "model/network_spec.hpp"
#include "model/task.hpp"

namespace kernelsweep {

class KernelStructure {
 public:
  struct ReadoutGroup {
    std::vector<int> indices;  // supervised mu of this readout
    Eigen::VectorXd y;         // targets at those mu
    int first_covered = 0;     // predictions f_mu = v C_{mu,S} r for mu in [first, first + count)
    int covered_count = 0;
  };
  struct Readout {
    std::vector<Eigen::VectorXd> r;              // one per group
    std::vector<Eigen::LLT<Eigen::MatrixXd>> A;  // v C_SS + kappa I, factorized, one per group
    double y_dot_r = 0.0;
    Eigen::MatrixXd tilt;  // v sum_g E_g r_g r_g^T E_g^T
    bool ok = true;
  };

  KernelStructure(const NetworkSpec& network, const Dataset& data);

  int M() const { return M_; }
  int T() const { return T_; }
  int P() const { return P_; }
  const NetworkSpec& network() const { return network_; }
  const Dataset& data() const { return data_; }
  const Eigen::MatrixXd& input_kernel() const { return X_; }
  const std::vector<ReadoutGroup>& readout_groups() const { return groups_; }

  Eigen::MatrixXd shift(const Eigen::MatrixXd& C) const;
  Eigen::MatrixXd shift_transpose(const Eigen::MatrixXd& G) const;
  Eigen::MatrixXd prior_covariance(const Eigen::MatrixXd& C) const {
    return network_.w * shift(C) + network_.u * X_;
  }
  // The prior (NNGP) kernel of linear networks: the fixed point of C = K(C).
  Eigen::MatrixXd linear_prior_kernel() const;

  // amplitude scales every target (continuation in the signal: y -> amplitude * y).
  Readout readout(const Eigen::MatrixXd& C, double amplitude) const;
  Eigen::MatrixXd readout_tilt_derivative(const Readout& readout, const Eigen::MatrixXd& dC) const;
  // Whether the readout tilt depends on C_ij (both indices supervised in one readout group): only
  // then is its derivative along E_ij + E_ji nonzero.
  bool readout_depends_on(int i, int j) const;
  Eigen::VectorXd predictions(const Eigen::MatrixXd& C, const Readout& readout) const;

  // Entries that can be non-zero at all (DNN: same layer only).
  bool structurally_allowed(int i, int j) const {
    return network_.architecture == Architecture::rnn || i / P_ == j / P_;
  }
  bool is_odd_lag(int i, int j) const { return ((i / P_ - j / P_) & 1) != 0; }
  // The W -> -W symmetry of section 3.2: RNN, inputs only at t=0, supervised steps of one parity.
  bool has_sign_symmetry() const { return sign_symmetric_; }

  // q = (1/P) sum_p H^{(T-1,p),(T-2,p)}; 0 for T = 1.
  double order_parameter(const Eigen::MatrixXd& H) const;
  // B with 1/2 h^T B h = sum_p h^{T-1}_p h^{T-2}_p: the field that couples to P q.
  Eigen::MatrixXd order_parameter_field() const;

 private:
  NetworkSpec network_;
  Dataset data_;
  int T_, P_, M_;
  Eigen::MatrixXd X_;
  std::vector<ReadoutGroup> groups_;
  bool sign_symmetric_ = false;
};

// (i, j) pairs, i <= j, that a solver treats as unknowns; symmetric matrices are packed over them.
using EntryList = std::vector<std::pair<int, int>>;
EntryList entries_where(const KernelStructure& s, bool include_odd_lag);
Eigen::VectorXd pack(const Eigen::MatrixXd& A, const EntryList& entries);
Eigen::MatrixXd unpack(const Eigen::VectorXd& x, const EntryList& entries, int M);
Eigen::MatrixXd unit_symmetric(int i, int j, int M);

}  // namespace kernelsweep
