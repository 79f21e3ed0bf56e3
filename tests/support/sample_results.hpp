#pragma once
// Results for round-trip tests and benchmarks, built from the field table alone: every field gets a
// distinct value (reals that are not short decimals, every category, non-ASCII text, non-symmetric
// matrices of each array's rank), so a field that is dropped, renamed, transposed or rounded by any
// output path shows up.
#include <cmath>
#include <cstring>
#include <string>

#include "sweep/result_fields.hpp"

namespace kernelsweep::testing {

inline PointResult every_field_result(std::uint64_t point, int M) {
  PointResult r;
  r.point = point;
  int k = 0;
  for (const auto& f : result_fields()) {
    ++k;
    switch (f.kind()) {
      case FieldKind::real:
        set_number(f, &r, 1.0 / 3.0 + double(k) + 0.001 * double(point));
        break;
      case FieldKind::integer:
        set_number(f, &r, double(k + 7 * point));
        break;
      case FieldKind::category:
        set_number(f, &r, double((k + point) % f.categories().size()));
        break;
      case FieldKind::text:
        set_text(f, &r, "µ-" + f.name() + ", \"quoted\" ✓ " + std::to_string(point));
        break;
      case FieldKind::array: {
        const int rows = M, cols = f.dims.size() == 2 ? M + (f.dims[0] == "mu" ? 0 : 1) : 1;
        Eigen::MatrixXd m(rows, cols);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) m(i, j) = 1.0 / (1 + i + 3 * j + k) + double(point);
        set_array(f, &r, m);
        break;
      }
    }
  }
  return r;
}

}  // namespace kernelsweep::testing

namespace kernelsweep::testing {

// Timings and placement: they differ between two runs of the same sweep and are not results.
inline bool is_timing_field(const Field& f) {
  const std::string n = f.name();
  return n == "wall_time" || n == "rank" || n == "theory_seconds" || n == "sgld_steps_per_second";
}

// The first field in which two results differ in any bit (arrays with their shapes), "" if
// none; timings skipped if asked.
inline std::string first_differing_field(const PointResult& a, const PointResult& b,
                                         bool skip_timings) {
  for (const auto& f : result_fields()) {
    if (skip_timings && is_timing_field(f)) continue;
    if (part_present(f, a) != part_present(f, b)) return f.name();
    if (f.kind() == FieldKind::text) {
      if (text_of(f, a) != text_of(f, b)) return f.name();
    } else if (f.kind() == FieldKind::array) {
      const Eigen::MatrixXd* x = array_of(f, a);
      const Eigen::MatrixXd* y = array_of(f, b);
      if ((x == nullptr) != (y == nullptr)) return f.name();
      if (x && (x->rows() != y->rows() || x->cols() != y->cols() ||
                std::memcmp(x->data(), y->data(),
                            sizeof(double) * static_cast<std::size_t>(x->size())) != 0))
        return f.name();
    } else {
      const double u = number_of(f, a), v = number_of(f, b);
      if (std::memcmp(&u, &v, sizeof u) != 0) return f.name();
    }
  }
  return "";
}

// Every field equal bit for bit (arrays with their shapes); timings skipped if asked.
inline bool same_results(const PointResult& a, const PointResult& b, bool skip_timings) {
  return first_differing_field(a, b, skip_timings).empty();
}

}  // namespace kernelsweep::testing
