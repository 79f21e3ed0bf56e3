#pragma once
// Blocks of standard normals from a counter-based generator (Random123 Philox4x32-10 + Box-Muller),
// for the N^2 draws of every SGLD step. The value at element index e of a draw is a pure function
// of (key, draw, stream, e): any sub-range can be generated alone, by any thread, in any order, so
// results do not depend on how a matrix is split into chunks or over how many threads.
//
// Layout: elements are grouped in batches of 64. Batch b uses the 16 Philox blocks with counters
// (16 b + g, draw_lo, draw_hi, stream), g = 0..15; the first 32 words are radius uniforms u1, the
// last 32 angle uniforms u2, and the batch is [r cos(2 pi u2) (32), r sin(2 pi u2) (32)] with
// r = sqrt(-2 log u1). This layout (rather than interleaving cos/sin pairs) is what lets the
// compiler vectorize the Philox rounds and Eigen vectorize log, sin and cos across the batch.
//
// The normals are computed in float. Their quantization (2^-32 in u1, so tails are cut at 6.6
// sigma; ~1e-7 relative rounding) is far below the O(eta) bias of the Langevin discretization, and
// float halves the cost of the transcendental functions, which bound the generator.
#include <Random123/philox.h>
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>

#include "random/philox_stream.hpp"

namespace kernelsweep {

class NormalBatchGenerator {
 public:
  static constexpr int kBatch = 64;
  using Philox = r123::Philox4x32;

  // The 64-bit Philox4x32 key is derived from the (seed, point, substream, purpose) stream, so the
  // key space of distinct replicas / points is that of PhiloxStream.
  NormalBatchGenerator(std::uint64_t seed, std::uint64_t point, std::uint64_t substream,
                       StreamPurpose purpose) {
    PhiloxStream stream(seed, point, substream, purpose);
    const auto block = stream.next_block();
    key_ = {{static_cast<std::uint32_t>(block[0]), static_cast<std::uint32_t>(block[0] >> 32)}};
  }

  // Writes the normals of elements [first, first + count) of (draw, stream) to out (Scalar float
  // or double).
  template <typename Scalar>
  void fill(Scalar* out, std::uint64_t first, std::uint64_t count, std::uint64_t draw,
            std::uint32_t stream) const;

  // Writes the 64 normals of batch `batch_index` of (draw, stream) to out.
  void generate_batch(std::uint64_t batch_index, std::uint64_t draw, std::uint32_t stream,
                      float* out) const;

  // The Philox4x32-10 output words of batch `batch_index`: words[w][g] is word w of the block with
  // counter (16 b + g, draw_lo, draw_hi, stream). Vectorized by hand in the AVX-512 variant
  // (random/cpu_dispatch.hpp); public so that the tests can check it against Random123's scalar
  // Philox4x32.
  void philox_words(std::uint64_t batch_index, std::uint64_t draw, std::uint32_t stream,
                    std::uint32_t (&words)[4][16]) const;

  const Philox::key_type& key() const { return key_; }

  // Batch 16 b + g must fit the 32-bit counter word: draws up to 2^36 elements.
  static constexpr std::uint64_t kMaxElements = (std::uint64_t{1} << 32) / 16 * kBatch;

 private:
  Philox::key_type key_{};
};

template <>
void NormalBatchGenerator::fill<float>(float*, std::uint64_t, std::uint64_t, std::uint64_t,
                                       std::uint32_t) const;
template <>
void NormalBatchGenerator::fill<double>(double*, std::uint64_t, std::uint64_t, std::uint64_t,
                                        std::uint32_t) const;

}  // namespace kernelsweep
