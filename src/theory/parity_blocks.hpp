#pragma once
// W -> -W invariant kernels (no odd-lag entries; tasks with the sign symmetry of docs/theory.md
// 3.2) are block diagonal once the indices are ordered by the parity of their time step, and so
// are K(C), K^{-1}, G, C_hat and the fixed-point map's image (the shift and the readout keep the
// lag's parity). Every O(M^3) step of the linear equations then splits into two of half the size
// (a quarter of the work), and the Jacobian of R splits into the even- and odd-lag sectors.
#include <Eigen/Core>
#include <string>
#include <vector>

#include "theory/kernel_structure.hpp"
#include "theory/linear_saddle_point.hpp"

namespace kernelsweep {

class ParityBlocks {
 public:
  explicit ParityBlocks(const KernelStructure& s);
  // Indices mu = t P + p with t even (odd), increasing.
  const std::vector<int>& even() const { return even_; }
  const std::vector<int>& odd() const { return odd_; }
  Eigen::MatrixXd even_block(const Eigen::MatrixXd& A) const { return A(even_, even_); }
  Eigen::MatrixXd odd_block(const Eigen::MatrixXd& A) const { return A(odd_, odd_); }
  // The M x M matrix with these blocks (odd-lag entries zero).
  Eigen::MatrixXd merge(const Eigen::MatrixXd& even_part, const Eigen::MatrixXd& odd_part) const;
  // Parity order: position -> mu (even() then odd()), and mu -> position.
  const std::vector<int>& order() const { return order_; }
  int position(int mu) const { return position_[static_cast<std::size_t>(mu)]; }
  bool odd_time(int mu) const { return ((mu / P_) & 1) != 0; }
  // The blocks of the input kernel X, and how many indices of each block have a successor
  // mu + P (mu < (T - 1) P: the first ones of the block).
  const Eigen::MatrixXd& input_even() const { return X_even_; }
  const Eigen::MatrixXd& input_odd() const { return X_odd_; }
  int shifted_even() const { return shifted_even_; }
  int shifted_odd() const { return shifted_odd_; }

 private:
  int M_ = 0, P_ = 1;
  std::vector<int> even_, odd_, order_, position_;
  Eigen::MatrixXd X_even_, X_odd_;
  int shifted_even_ = 0, shifted_odd_ = 0;
};

// Whether the blockwise evaluation applies: a task with the W -> -W symmetry, solved over entries
// without odd lags (the packed unknowns cannot leave the invariant subspace).
bool parity_blocks_apply(const KernelStructure& s, const EntryList& entries);

// Whether every odd-lag entry of C is exactly zero.
bool is_parity_invariant(const KernelStructure& s, const Eigen::MatrixXd& C);

// evaluate_linear(s, C, amplitude) (field 0) for a C without odd-lag entries on a task with the
// sign symmetry, computed blockwise: the same quantities (to rounding), the same failure messages.
LinearEvaluation evaluate_linear_invariant(const KernelStructure& s, const ParityBlocks& blocks,
                                           const Eigen::MatrixXd& C, double amplitude);

// The entries of one W -> -W sector (odd: odd lags), in the order of entries_where(s, true).
EntryList sector_entries(const KernelStructure& s, bool odd);

// The image of C under the fixed-point map, all that the fixed-point iteration needs.
struct FixedPointImage {
  bool ok = false;  // as LinearEvaluation::ok
  std::string failure;
  Eigen::MatrixXd next_C;
  double fixed_point_residual = 0.0;  // |next_C - C|_F / |C|_F
};

// next_C = (K^{-1} - C_hat)^{-1} of evaluate_linear(s, C, amplitude) for a C without odd-lag
// entries (task with the sign symmetry), with every step on the two blocks: K(C) and C_hat are
// assembled blockwise (the shift maps the odd block into the even one and back), and what the map
// does not need (C^{-1}, log-determinants) is skipped. Same numbers, same failure messages.
FixedPointImage invariant_fixed_point_map(const KernelStructure& s, const ParityBlocks& blocks,
                                          const Eigen::MatrixXd& C, double amplitude);

}  // namespace kernelsweep
