// The instruction-set variants of the hot kernels (random/cpu_dispatch.hpp) against independent
// references, for every variant this CPU can run: Philox words equal Random123's scalar
// Philox4x32-10; normals equal a double-precision Box-Muller of those words to float rounding;
// the passes over W equal plain loops to rounding. A portable binary on an AVX-512 machine runs
// all three variants here.
#include <gtest/gtest.h>

#include <Random123/philox.h>
#include <Random123/uniform.hpp>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "random/cpu_dispatch.hpp"
#include "random/normal_batch.hpp"
#include "random/normal_batch_kernels.hpp"
#include "sgld/simd_kernels.hpp"

namespace kernelsweep {
namespace {

constexpr KernelIsa kAll[] = {KernelIsa::baseline, KernelIsa::avx2, KernelIsa::avx512};

const char* name(KernelIsa isa) {
  return isa == KernelIsa::baseline ? "baseline" : isa == KernelIsa::avx2 ? "avx2" : "avx512";
}

TEST(IsaDispatch, SelectedVariantIsAvailableAndTheBaselineAlwaysIs) {
  EXPECT_TRUE(kernel_isa_available(KernelIsa::baseline));
  EXPECT_TRUE(kernel_isa_available(kernel_isa()));
  EXPECT_NE(normal_batch_kernels_for(static_cast<int>(KernelIsa::baseline)), nullptr);
}

TEST(IsaDispatch, PhiloxWordsOfEveryVariantEqualRandom123) {
  const NormalBatchGenerator generator(11, 2, 3, StreamPurpose::sgld_noise);
  const std::uint32_t key[2] = {generator.key()[0], generator.key()[1]};
  for (KernelIsa isa : kAll) {
    const NormalBatchKernels* kernels = normal_batch_kernels_for(static_cast<int>(isa));
    if (kernels == nullptr) continue;
    for (std::uint64_t batch : {std::uint64_t{0}, std::uint64_t{12345678}}) {
      const std::uint64_t draw = (std::uint64_t{7} << 32) + 99;
      const std::uint32_t stream = 0xFFFFFFF0u;
      std::uint32_t words[4][16];
      kernels->philox_words(key, batch, draw, stream, words);
      for (std::uint32_t g = 0; g < 16; ++g) {
        const r123::Philox4x32::ctr_type counter = {
            {static_cast<std::uint32_t>(batch * 16) + g, static_cast<std::uint32_t>(draw),
             static_cast<std::uint32_t>(draw >> 32), stream}};
        const auto expected = r123::Philox4x32()(counter, generator.key());
        for (int w = 0; w < 4; ++w) ASSERT_EQ(words[w][g], expected[w]) << name(isa);
      }
    }
  }
}

TEST(IsaDispatch, NormalsOfEveryVariantEqualABoxMullerInDouble) {
  const NormalBatchGenerator generator(5, 1, 0, StreamPurpose::sgld_noise);
  const std::uint32_t key[2] = {generator.key()[0], generator.key()[1]};
  for (KernelIsa isa : kAll) {
    const NormalBatchKernels* kernels = normal_batch_kernels_for(static_cast<int>(isa));
    if (kernels == nullptr) continue;
    for (std::uint64_t batch = 0; batch < 200; ++batch) {
      float out[64];
      std::uint32_t words[4][16];
      kernels->generate_batch(key, batch, 3, 8, out);
      kernels->philox_words(key, batch, 3, 8, words);
      for (int k = 0; k < 32; ++k) {
        const std::uint32_t w1 = k < 16 ? words[0][k] : words[1][k - 16];
        const std::uint32_t w2 = k < 16 ? words[2][k] : words[3][k - 16];
        // The uniforms as float (as the generator makes them), the rest in double.
        const double u1 = r123::u01<float>(w1), u2 = r123::u01<float>(w2);
        const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
        // float log/sin/cos: a few ulp of the float result, relative to max(r, 1).
        const double tolerance = 4e-6 * std::max(r, 1.0);
        ASSERT_NEAR(out[k], r * std::cos(a), tolerance) << name(isa) << " batch " << batch;
        ASSERT_NEAR(out[32 + k], r * std::sin(a), tolerance) << name(isa) << " batch " << batch;
      }
    }
  }
}

// Random N x K column-major data, uniform in [-1, 1].
std::vector<double> random_matrix(std::size_t size, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> x(size);
  for (double& v : x) v = u(rng);
  return x;
}

TEST(IsaDispatch, PassesOverWOfEveryVariantEqualPlainLoops) {
  const sgld::SimdIndex n = 67, K = 13, P = 3;  // not multiples of any vector width
  const auto W = random_matrix(n * n, 1), X = random_matrix(4 * K, 2), G = random_matrix(n * P, 3);
  const auto Gcat = random_matrix(n * K, 4), S = random_matrix(4 * K, 5);
  std::vector<float> xi(4 * n);
  for (std::size_t i = 0; i < xi.size(); ++i) xi[i] = static_cast<float>(std::sin(0.37 * i));
  const double tol = 1e-12;
  for (KernelIsa isa : kAll) {
    const sgld::SimdKernels<double>* kernels =
        sgld::simd_kernels_for<double>(static_cast<int>(isa));
    if (kernels == nullptr) continue;
    // Y[p][i] += sum_j x[4 j + p] W[j n + i] over a block of rows.
    std::vector<double> y(4 * n, 0.5);
    kernels->add_scaled_product_rows(y.data(), n, W.data(), n, X.data(), K, n);
    for (int p = 0; p < 4; ++p)
      for (sgld::SimdIndex i = 0; i < n; ++i) {
        double expected = 0.5;
        for (sgld::SimdIndex j = 0; j < K; ++j) expected += X[4 * j + p] * W[j * n + i];
        ASSERT_NEAR(y[p * n + i], expected, tol) << name(isa);
      }
    // z[j + p n] = W.col(j) . G.col(p) for the columns [5, 5 + 9).
    std::vector<double> z(n * P, -7.0);
    kernels->transposed_product_columns(z.data(), n, W.data(), G.data(), n, P, 5, 9);
    for (sgld::SimdIndex j = 0; j < n; ++j)
      for (sgld::SimdIndex p = 0; p < P; ++p) {
        double expected = -7.0;
        if (j >= 5 && j < 14) {
          expected = 0.0;
          for (sgld::SimdIndex i = 0; i < n; ++i) expected += W[j * n + i] * G[p * n + i];
        }
        ASSERT_NEAR(z[j + p * n], expected, tol) << name(isa) << " column " << j;
      }
    // Three columns (ncols = 3) of W <- decay W - Gcat s_c + noise xi_c.
    std::vector<double> w = W;
    double* columns[4] = {w.data(), w.data() + n, w.data() + 2 * n, w.data() + 2 * n};
    const double* s[4] = {S.data(), S.data() + K, S.data() + 2 * K, S.data() + 2 * K};
    const float* noise[4] = {xi.data(), xi.data() + n, xi.data() + 2 * n, xi.data() + 2 * n};
    kernels->update_columns(columns, n, 3, Gcat.data(), K, s, noise, 0.9, 0.01);
    for (int c = 0; c < 3; ++c)
      for (sgld::SimdIndex i = 0; i < n; ++i) {
        double gradient = 0;
        for (sgld::SimdIndex k = 0; k < K; ++k) gradient += S[c * K + k] * Gcat[k * n + i];
        const double expected = 0.9 * W[c * n + i] - gradient + 0.01 * xi[c * n + i];
        ASSERT_NEAR(w[c * n + i], expected, tol) << name(isa) << " column " << c;
      }
    for (sgld::SimdIndex i = 0; i < n; ++i) ASSERT_EQ(w[3 * n + i], W[3 * n + i]);  // untouched
  }
}

}  // namespace
}  // namespace kernelsweep
