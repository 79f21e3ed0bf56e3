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
  __m512i x0 =
      _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(base)),
                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  __m512i x1 = _mm512_set1_epi32(static_cast<int>(c1));
  __m512i x2 = _mm512_set1_epi32(static_cast<int>(c2));
  __m512i x3 = _mm512_set1_epi32(static_cast<int>(c3));
  const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
  for (int round = 0; round < 10; ++round) {
    const MulHiLo p0 = mulhilo(x0, m0), p1 = mulhilo(x2, m1);
    const __m512i y0 =
        _mm512_xor_si512(_mm512_xor_si512(p1.hi, x1), _mm512_set1_epi32(static_cast<int>(k0)));
    const __m512i y2 =
        _mm512_xor_si512(_mm512_xor_si512(p0.hi, x3), _mm512_set1_epi32(static_cast<int>(k1)));
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

// sin and cos of 0 <= a < 71476 (here a = 2 pi u2 <= 2 pi) from one argument reduction and one
// evaluation of each polynomial: Eigen's psincos_float (Eigen 3.4) computes both polynomials for
// either function and selects one, so calling sin and cos did all of it twice. The operations
// below are exactly those of psincos_float, so the normals stay bit-identical to a.cos(), a.sin().
template <typename Packet>
void sincos(const Packet& a, Packet& sin_a, Packet& cos_a) {
  using namespace Eigen::internal;
  using PacketI = typename unpacket_traits<Packet>::integer_packet;
  const Packet sign_mask = pset1frombits<Packet>(0x80000000u);
  Packet x = pabs(a);
  Packet y = pmul(x, pset1<Packet>(0.636619746685028076171875f));  // 2 / pi
  Packet y_round = padd(y, pset1<Packet>(12582912));               // 2^23 + 2^22: rounding
  EIGEN_OPTIMIZATION_BARRIER(y_round)
  PacketI y_int = preinterpret<PacketI>(y_round);
  y = psub(y_round, pset1<Packet>(12582912));
#if defined(EIGEN_HAS_SINGLE_INSTRUCTION_MADD)
  x = pmadd(y, pset1<Packet>(-1.57079601287841796875f), x);
  x = pmadd(y, pset1<Packet>(-3.1391647326017846353352069854736328125e-07f), x);
  x = pmadd(y, pset1<Packet>(-5.390302529957764765544681040410068817436695098876953125e-15f), x);
#else
  x = pmadd(y, pset1<Packet>(-1.5703125), x);
  EIGEN_OPTIMIZATION_BARRIER(x)
  x = pmadd(y, pset1<Packet>(-0.000483989715576171875), x);
  EIGEN_OPTIMIZATION_BARRIER(x)
  x = pmadd(y, pset1<Packet>(1.62865035235881805419921875e-07), x);
  x = pmadd(y, pset1<Packet>(5.5644315544167710640977020375430583953857421875e-11), x);
#endif
  const Packet sin_sign =
      pand(pxor(a, preinterpret<Packet>(plogical_shift_left<30>(y_int))), sign_mask);
  const Packet cos_sign = pand(
      preinterpret<Packet>(plogical_shift_left<30>(padd(y_int, pset1<PacketI>(1)))), sign_mask);
  const Packet poly_mask =
      preinterpret<Packet>(pcmp_eq(pand(y_int, pset1<PacketI>(1)), pzero(y_int)));
  const Packet x2 = pmul(x, x);
  Packet y1 = pset1<Packet>(2.4372266125283204019069671630859375e-05f);  // cos polynomial
  y1 = pmadd(y1, x2, pset1<Packet>(-0.00138865201734006404876708984375f));
  y1 = pmadd(y1, x2, pset1<Packet>(0.041666619479656219482421875f));
  y1 = pmadd(y1, x2, pset1<Packet>(-0.5f));
  y1 = pmadd(y1, x2, pset1<Packet>(1.f));
  Packet y2 = pset1<Packet>(  // sin polynomial
      -0.0001959234114083702898469196984621021329076029360294342041015625f);
  y2 = pmadd(y2, x2,
             pset1<Packet>(0.0083326873655616851693794799871284340042620897293090820312500000f));
  y2 = pmadd(y2, x2,
             pset1<Packet>(-0.1666666203982298255503735617821803316473960876464843750000000000f));
  y2 = pmul(y2, x2);
  y2 = pmadd(y2, x, x);
  sin_a = pxor(pselect(poly_mask, y2, y1), sin_sign);
  cos_a = pxor(pselect(poly_mask, y1, y2), cos_sign);
}

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
  // out = [radius cos(angle) (32), radius sin(angle) (32)].
  using Packet = Eigen::internal::packet_traits<float>::type;
  constexpr int kLanes = Eigen::internal::packet_traits<float>::size;
  static_assert(32 % kLanes == 0);
  for (int q = 0; q < 32; q += kLanes) {
    using namespace Eigen::internal;
    const Packet r = ploadu<Packet>(radius.data() + q);
    Packet sin_a, cos_a;
    sincos(ploadu<Packet>(angle.data() + q), sin_a, cos_a);
    pstoreu(out + q, pmul(r, cos_a));
    pstoreu(out + 32 + q, pmul(r, sin_a));
  }
}

}  // namespace kernelsweep
