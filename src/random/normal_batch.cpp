// Out of line so that only this file instantiates Eigen's AVX-512 float log/sin/cos packets: GCC 12
// reports a false -Wuninitialized inside its own intrinsics there (the _mm512_undefined
// pass-through operand; GCC bug 105593), and this file alone is built with that warning off.
#include "random/normal_batch.hpp"

#include <Random123/uniform.hpp>
#include <numbers>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace kernelsweep {

namespace {

#if defined(__AVX512F__)
// Philox4x32-10 on 16 counters at once, one 32-bit word per lane. GCC vectorizes Random123's
// scalar rounds with 64-bit lanes and a full 64 x 64 multiply (vpmullq, 3 uops, 15 cycles
// latency); the round only needs 32 x 32 -> 64 products, which vpmuludq does on the even lanes:
// two of them (even lanes, and odd lanes shifted down) give the high and low words of all 16.
// Same arithmetic as r123::Philox4x32, so the stream is bit-identical (tests/sgld check it).
struct MulHiLo {
  __m512i hi, lo;
};

inline MulHiLo mulhilo(__m512i a, __m512i multiplier) {
  const __m512i even = _mm512_mul_epu32(a, multiplier);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), multiplier);
  constexpr __mmask16 odd_lanes = 0xAAAA;
  return {_mm512_mask_blend_epi32(odd_lanes, _mm512_srli_epi64(even, 32), odd),
          _mm512_mask_blend_epi32(odd_lanes, even, _mm512_slli_epi64(odd, 32))};
}

void philox16(std::uint32_t base, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
              std::uint32_t k0, std::uint32_t k1, std::uint32_t (*words)[16]) {
  __m512i x0 = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(base)),
                                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                                  14, 15));
  __m512i x1 = _mm512_set1_epi32(static_cast<int>(c1));
  __m512i x2 = _mm512_set1_epi32(static_cast<int>(c2));
  __m512i x3 = _mm512_set1_epi32(static_cast<int>(c3));
  const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
  for (int round = 0; round < 10; ++round) {
    const MulHiLo p0 = mulhilo(x0, m0), p1 = mulhilo(x2, m1);
    const __m512i y0 = _mm512_xor_si512(_mm512_xor_si512(p1.hi, x1),
                                        _mm512_set1_epi32(static_cast<int>(k0)));
    const __m512i y2 = _mm512_xor_si512(_mm512_xor_si512(p0.hi, x3),
                                        _mm512_set1_epi32(static_cast<int>(k1)));
    x0 = y0;
    x1 = p1.lo;
    x2 = y2;
    x3 = p0.lo;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
  _mm512_storeu_si512(words[0], x0);
  _mm512_storeu_si512(words[1], x1);
  _mm512_storeu_si512(words[2], x2);
  _mm512_storeu_si512(words[3], x3);
}
#endif

}  // namespace

void NormalBatchGenerator::philox_words(std::uint64_t batch_index, std::uint64_t draw,
                                        std::uint32_t stream, std::uint32_t (&words)[4][16]) const {
  const auto draw_lo = static_cast<std::uint32_t>(draw),
             draw_hi = static_cast<std::uint32_t>(draw >> 32);
  const auto base = static_cast<std::uint32_t>(batch_index * 16);
#if defined(__AVX512F__)
  philox16(base, draw_lo, draw_hi, stream, key_[0], key_[1], words);
#else
  // Independent blocks in a straight loop: GCC vectorizes the Philox rounds across g.
  for (int g = 0; g < 16; ++g) {
    const Philox::ctr_type ctr = {{base + static_cast<std::uint32_t>(g), draw_lo, draw_hi, stream}};
    const Philox::ctr_type r = Philox()(ctr, key_);
    words[0][g] = r[0];
    words[1][g] = r[1];
    words[2][g] = r[2];
    words[3][g] = r[3];
  }
#endif
}

void NormalBatchGenerator::generate_batch(std::uint64_t batch_index, std::uint64_t draw,
                                          std::uint32_t stream, float* out) const {
  alignas(64) std::uint32_t words[4][16];
  philox_words(batch_index, draw, stream, words);
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
