// Out of line so that only this file instantiates Eigen's AVX-512 float log/sin/cos packets: GCC 12
// reports a false -Wuninitialized inside its own intrinsics there (the _mm512_undefined
// pass-through operand; GCC bug 105593), and this file alone is built with that warning off.
#include "random/normal_batch.hpp"

#include <Random123/uniform.hpp>
#include <numbers>

namespace kernelsweep {

void NormalBatchGenerator::generate_batch(std::uint64_t batch_index, std::uint64_t draw,
                                          std::uint32_t stream, float* out) const {
  alignas(64) std::uint32_t words[4][16];
  const auto draw_lo = static_cast<std::uint32_t>(draw),
             draw_hi = static_cast<std::uint32_t>(draw >> 32);
  const auto base = static_cast<std::uint32_t>(batch_index * 16);
  // Independent blocks in a straight loop: GCC vectorizes the Philox rounds across g.
  for (int g = 0; g < 16; ++g) {
    const Philox::ctr_type ctr = {{base + static_cast<std::uint32_t>(g), draw_lo, draw_hi, stream}};
    const Philox::ctr_type r = Philox()(ctr, key_);
    words[0][g] = r[0];
    words[1][g] = r[1];
    words[2][g] = r[2];
    words[3][g] = r[3];
  }
  using Array32 = Eigen::Array<float, 32, 1>;
  Array32 u1, u2;
  for (int g = 0; g < 16; ++g) {
    u1(g) = r123::u01<float>(words[0][g]);
    u1(16 + g) = r123::u01<float>(words[1][g]);
    u2(g) = r123::u01<float>(words[2][g]);
    u2(16 + g) = r123::u01<float>(words[3][g]);
  }
  const Array32 radius = (-2.0f * u1.log()).sqrt();
  const Array32 angle = float(2.0 * std::numbers::pi) * u2;
  Eigen::Map<Array32> cos_half(out), sin_half(out + 32);
  cos_half = radius * angle.cos();
  sin_half = radius * angle.sin();
}

}  // namespace kernelsweep
