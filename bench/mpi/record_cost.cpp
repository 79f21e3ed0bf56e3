// Cost of recording finished points (journal append + fsync, then the HDF5 file) as a function of
// the group-commit batch size, without MPI or computation in the way: the coordinator's "record"
// in isolation. Writes synthetic theory-like results (M x M kernels, every scalar) into a fresh
// file per batch size and reports ms per commit and per point, split into journal and file, and
// the least-squares fit record(n) = fixed + per_point n that coordinator_sim uses.
// Usage: record_cost [--dir DIR] [--points N] [--M m] [--batches 1,4,16,64] [--repeat k]
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "io/results_session.hpp"

using namespace kernelsweep;

namespace {

// A theory point as a sweep records it: the theory scalars and the kernels H, C (M x M) and f.
PointResult synthetic(std::uint64_t point, int M) {
  PointResult r;
  r.point = point;
  r.status = Status::done;
  r.theory.emplace();
  TheoryResult& t = *r.theory;
  t.status = Status::done;
  t.branch = BranchKind::broken;
  t.q = std::sin(double(point));
  t.free_energy = t.free_energy_broken = std::cos(double(point));
  t.free_energy_symmetric = t.free_energy + 0.1;
  t.q_broken = t.q;
  t.residual = 1e-14;
  t.iterations = 12;
  t.generalization_error = 0.01;
  t.seconds = 0.05;
  Eigen::MatrixXd H(M, M), C(M, M);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      H(i, j) = std::cos(0.1 * i * j + double(point));
      C(i, j) = std::sin(0.2 * i + j + double(point));
    }
  t.H = H;
  t.C = C;
  t.f = H.col(0);
  r.wall_time = 0.05;
  r.rank = 1;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path().string();
  int points = 1024, M = 16, repeat = 1;
  std::vector<int> batches = {1, 2, 4, 8, 16, 32, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir")
      dir = v;
    else if (a == "--points")
      points = std::stoi(v);
    else if (a == "--M")
      M = std::stoi(v);
    else if (a == "--repeat")
      repeat = std::stoi(v);
    else if (a == "--batches") {
      batches.clear();
      std::stringstream in(v);
      for (std::string x; std::getline(in, x, ',');) batches.push_back(std::stoi(x));
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const std::string yaml =
      "name: record_cost\nbase: {model: {T: 4}, task: {P: 4, D: 4}}\naxes:\n"
      "  - {key: task.lam, linspace: {start: 0.2, stop: 2.0, num: " +
      std::to_string(points) + "}}\n";
  const SweepGrid grid(parse_sweep_spec(YAML::Load(yaml), "record_cost.yaml"));
  std::vector<PointResult> results;
  for (int p = 0; p < points; ++p) results.push_back(synthetic(std::uint64_t(p), M));
  std::printf("%d points, kernels %dx%d, in %s\n", points, M, M, dir.c_str());
  std::printf(
      "| batch | ms per commit | ms per point | journal ms per commit | file ms per commit |\n"
      "| --- | --- | --- | --- | --- |\n");
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int samples = 0;
  for (int rep = 0; rep < repeat; ++rep)
    for (const int b : batches) {
      const std::string path = dir + "/record_cost_" + std::to_string(b) + ".h5";
      std::filesystem::remove(path);
      std::filesystem::remove(journal_path_for(path));
      ResultsSession session(path, grid, {}, {});
      double journal = 0, file = 0;
      int commits = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (int p = 0; p < points; p += b) {
        const std::size_t n = std::size_t(std::min(b, points - p));
        const BatchCommit c =
            session.record_batch(std::span<const PointResult>(results).subspan(std::size_t(p), n));
        journal += c.journal_seconds;
        file += c.file_seconds;
        ++commits;
      }
      const double total =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("| %d | %.3f | %.3f | %.3f | %.3f |\n", b, 1e3 * total / commits,
                  1e3 * total / points, 1e3 * journal / commits, 1e3 * file / commits);
      const double x = double(points) / commits, y = total / commits;
      sx += x, sy += y, sxx += x * x, sxy += x * y;
      ++samples;
      std::filesystem::remove(path);
      std::filesystem::remove(journal_path_for(path));
    }
  const double n = samples, var = sxx / n - (sx / n) * (sx / n);
  if (var > 0) {
    const double per_point = (sxy / n - sx / n * sy / n) / var, fixed = sy / n - per_point * sx / n;
    std::printf("fit: record(n) = %.3f ms + %.3f ms n\n", 1e3 * fixed, 1e3 * per_point);
  }
  return 0;
}
