// The normal generator's batch kernels (Philox4x32-10 words and Box-Muller), compiled once per
// instruction-set variant: CMake builds this file with -DKERNELSWEEP_VARIANT=<name> and that
// variant's flags, and everything here is in namespace kernelsweep::<name>, so variants share no
// symbol of ours. Eigen is used only through its packet functions, whose template argument is the
// variant's own packet type (Packet16f, Packet8f, Packet4f), and Philox is written out here rather
// than taken from Random123's inline class, so the linker cannot mix one variant's copy of an
// inline function into another (tests/tools check the objects for shared weak symbols).
// Its own file (not normal_batch.cpp) also because GCC 12 reports a false -Wuninitialized inside
// its AVX-512 intrinsics here (the _mm512_undefined pass-through operand; GCC bug 105593): this
// file alone is built with that warning off.
#include <Random123/philox.h>
#include <Eigen/Core>
#include <cstdint>
#include <numbers>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "random/normal_batch_kernels.hpp"

#ifndef KERNELSWEEP_VARIANT
#error "build with -DKERNELSWEEP_VARIANT=<variant name>"
#endif

namespace kernelsweep::KERNELSWEEP_VARIANT {

namespace {

// Random123's r123::u01<float>(word): (word + 1/2) 2^-32, i.e. in (0, 1], computed as it does.
inline float uniform01(std::uint32_t word) {
  constexpr float kScale = 1.0f / 4294967296.0f;  // 2^-32
  constexpr float kHalf = kScale / 2;
  return static_cast<float>(word) * kScale + kHalf;
}

// One Philox4x32-10 block (counter c, key k), stored as words[w][g]: the rounds of Random123's
// philox4x32round and bumpkey, written with 64-bit products.
inline void philox_scalar(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3,
                          std::uint32_t k0, std::uint32_t k1, std::uint32_t (*words)[16], int g) {
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t{PHILOX_M4x32_0} * c0;
    const std::uint64_t p1 = std::uint64_t{PHILOX_M4x32_1} * c2;
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
  words[0][g] = c0;
  words[1][g] = c1;
  words[2][g] = c2;
  words[3][g] = c3;
}

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

void philox_words(const std::uint32_t* key, std::uint64_t batch_index, std::uint64_t draw,
                  std::uint32_t stream, std::uint32_t (*words)[16]) {
  const auto draw_lo = static_cast<std::uint32_t>(draw),
             draw_hi = static_cast<std::uint32_t>(draw >> 32);
  const auto base = static_cast<std::uint32_t>(batch_index * 16);
#if defined(__AVX512F__)
  philox16(base, draw_lo, draw_hi, stream, key[0], key[1], words);
#else
  // Independent blocks in a straight loop: GCC vectorizes the Philox rounds across g.
  for (int g = 0; g < 16; ++g)
    philox_scalar(base + static_cast<std::uint32_t>(g), draw_lo, draw_hi, stream, key[0], key[1],
                  words, g);
#endif
}

void generate_batch(const std::uint32_t* key, std::uint64_t batch_index, std::uint64_t draw,
                    std::uint32_t stream, float* out) {
  alignas(64) std::uint32_t words[4][16];
  philox_words(key, batch_index, draw, stream, words);
  alignas(64) float u1[32], u2[32];
  for (int g = 0; g < 16; ++g) {
    u1[g] = uniform01(words[0][g]);
    u1[16 + g] = uniform01(words[1][g]);
    u2[g] = uniform01(words[2][g]);
    u2[16 + g] = uniform01(words[3][g]);
  }
  // out = [r cos(angle) (32), r sin(angle) (32)], r = sqrt(-2 log u1), angle = 2 pi u2: the same
  // packet operations Eigen's Array expressions (-2 u1.log()).sqrt() and 2 pi u2 evaluate to.
  using Packet = Eigen::internal::packet_traits<float>::type;
  constexpr int kLanes = Eigen::internal::packet_traits<float>::size;
  static_assert(32 % kLanes == 0);
  for (int q = 0; q < 32; q += kLanes) {
    using namespace Eigen::internal;
    const Packet r = psqrt(pmul(pset1<Packet>(-2.0f), plog(ploadu<Packet>(u1 + q))));
    const Packet angle = pmul(pset1<Packet>(float(2.0 * std::numbers::pi)), ploadu<Packet>(u2 + q));
    Packet sin_a, cos_a;
    sincos(angle, sin_a, cos_a);
    pstoreu(out + q, pmul(r, cos_a));
    pstoreu(out + 32 + q, pmul(r, sin_a));
  }
}

template <typename Scalar>
void fill(const std::uint32_t* key, Scalar* out, std::uint64_t first, std::uint64_t count,
          std::uint64_t draw, std::uint32_t stream) {
  if (count == 0) return;
  constexpr std::uint64_t kBatch = 64;
  const std::uint64_t last = first + count;  // exclusive
  alignas(64) float batch[kBatch];
  for (std::uint64_t b = first / kBatch; b * kBatch < last; ++b) {
    const std::uint64_t begin = b * kBatch;
    generate_batch(key, b, draw, stream, batch);
    const std::uint64_t lo = begin > first ? begin : first;
    const std::uint64_t hi = begin + kBatch < last ? begin + kBatch : last;
    for (std::uint64_t e = lo; e < hi; ++e) out[e - first] = static_cast<Scalar>(batch[e - begin]);
  }
}

}  // namespace kernelsweep::KERNELSWEEP_VARIANT

namespace kernelsweep {

#define KERNELSWEEP_CONCAT2(a, b) a##b
#define KERNELSWEEP_CONCAT(a, b) KERNELSWEEP_CONCAT2(a, b)

const NormalBatchKernels& KERNELSWEEP_CONCAT(normal_batch_kernels_, KERNELSWEEP_VARIANT)() {
  namespace v = KERNELSWEEP_VARIANT;
  static const NormalBatchKernels table{&v::philox_words, &v::generate_batch, &v::fill<float>,
                                        &v::fill<double>};
  return table;
}

}  // namespace kernelsweep
