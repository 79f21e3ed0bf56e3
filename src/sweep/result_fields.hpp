#pragma once
// The field table: every output quantity of a grid point, named once, with its long name, units,
// a one-line description, its shape, and where it lives in PointResult. The results file, `solve
// --json`, `export` (CSV, JSON), the journal/wire codec and `status` all derive from it, so a new
// quantity is one new row in result_fields.cpp.
// Naming rule: part "theory", key "q" is the file variable / CSV column "theory_q" and the JSON
// path theory.q; point-level fields (part "") are top-level: "status", "message", ...
#include <Eigen/Core>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sweep/point_result.hpp"

namespace kernelsweep {

enum class FieldKind {
  real,      // float64 over the grid, NaN = not computed
  integer,   // int64 over the grid, -1 = not computed
  category,  // int8 over the grid with CF flag_values / flag_meanings (-1 = none)
  text,      // a variable-length UTF-8 string over the grid
  array,     // a per-point array (kernels, curves, traces): /points/<i>/<name>
};

template <class Part>
using FieldMember =
    std::variant<double Part::*, std::int64_t Part::*, Status Part::*,
                 std::optional<BranchKind> Part::*, std::optional<TransitionOrder> Part::*,
                 std::string Part::*, Eigen::MatrixXd Part::*>;

struct Field {
  std::string_view part;  // "", "theory" or "sgld"
  std::string_view key;
  std::string_view long_name;
  std::string_view units;  // UDUNITS: "1" dimensionless, "s", "s-1"; empty for flags and text
  std::string_view description;
  std::variant<FieldMember<PointResult>, FieldMember<TheoryResult>, FieldMember<SgldResult>> member;
  // Array fields: the names of the per-point dimensions (e.g. {"mu", "nu"}), always this many.
  std::vector<std::string_view> dims = {};

  FieldKind kind() const;
  std::string name() const;       // file variable / CSV column: theory_q, status
  std::string json_path() const;  // theory.q, status
  // Category fields: the names of the flag values 0, 1, ...
  std::span<const std::string_view> categories() const;
};

// Every field, in file order: point-level first, then theory, then SGLD.
const std::vector<Field>& result_fields();
const Field* find_field(std::string_view name);  // by file name; nullptr if unknown
// Names a sweep dimension may not take: the file's own variables and groups.
bool is_reserved_result_name(std::string_view name);

// Typed access to one field of a result. The getters return NaN / kMissingInteger / -1 / empty
// when the field's part is absent; setters create the part.
double number_of(const Field& field, const PointResult& result);  // real, integer, category
void set_number(const Field& field, PointResult* result, double value);
std::string text_of(const Field& field, const PointResult& result);
void set_text(const Field& field, PointResult* result, const std::string& value);
const Eigen::MatrixXd* array_of(const Field& field,
                                const PointResult& result);  // null or empty: none
void set_array(const Field& field, PointResult* result, Eigen::MatrixXd value);
bool part_present(const Field& field, const PointResult& result);
// Drops every array field (kernels, curves, traces): a summary of the point.
void clear_arrays(PointResult* result);

// JSON of a result by the field table: parts as nested objects, missing values omitted, reals as
// shortest round-trip numbers, categories by name, arrays as nested lists (matrices row by row;
// n x 1 arrays as flat lists) or, with binary_arrays, as raw doubles (the journal's exact form).
struct JsonOptions {
  bool arrays = true;
  bool binary_arrays = false;
  bool point_fields = true;  // status, message, wall_time, rank
};
nlohmann::json to_json(const PointResult& result, const JsonOptions& options = {});
// The inverse (for the journal codec and tests); unknown keys are errors.
PointResult result_from_json(const nlohmann::json& j);

// A matrix as raw little-endian doubles {rows, cols, data}: exact, compact (CBOR binary).
nlohmann::json binary_matrix(const Eigen::MatrixXd& m);
Eigen::MatrixXd matrix_from_binary(const nlohmann::json& j);

// Shortest text that reads back as the same double ("" for NaN): CSV cells.
std::string shortest_text(double x);

}  // namespace kernelsweep
