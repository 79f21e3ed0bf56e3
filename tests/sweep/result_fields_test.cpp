// The field table: the naming rule holds for every field, and every field survives the JSON text,
// the journal codec and the wire codec unchanged (values built from the table itself, so a field
// added later is covered without touching this test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "support/sample_results.hpp"
#include "sweep/result_fields.hpp"

using namespace kernelsweep;

namespace {

void expect_same_fields(const PointResult& a, const PointResult& b, const std::string& via) {
  for (const auto& f : result_fields()) {
    SCOPED_TRACE(via + ": " + f.name());
    ASSERT_EQ(part_present(f, a), part_present(f, b));
    switch (f.kind()) {
      case FieldKind::text:
        EXPECT_EQ(text_of(f, a), text_of(f, b));
        break;
      case FieldKind::array: {
        const Eigen::MatrixXd* x = array_of(f, a);
        const Eigen::MatrixXd* y = array_of(f, b);
        ASSERT_EQ(x == nullptr, y == nullptr);
        if (x) {
          ASSERT_EQ(x->rows(), y->rows());
          ASSERT_EQ(x->cols(), y->cols());
          EXPECT_EQ(*x, *y);
        }
        break;
      }
      default: {
        const double x = number_of(f, a), y = number_of(f, b);
        EXPECT_EQ(0, std::memcmp(&x, &y, sizeof x)) << x << " vs " << y;
      }
    }
  }
}

}  // namespace

TEST(ResultFields, EveryFieldFollowsTheNamingRuleAndIsDescribed) {
  std::set<std::string> names;
  for (const auto& f : result_fields()) {
    SCOPED_TRACE(f.name());
    EXPECT_TRUE(names.insert(f.name()).second) << "duplicate name";
    if (f.part.empty()) {
      EXPECT_EQ(f.name(), std::string(f.key));
      EXPECT_EQ(f.json_path(), std::string(f.key));
    } else {
      EXPECT_TRUE(f.part == "theory" || f.part == "sgld");
      EXPECT_EQ(f.name(), std::string(f.part) + "_" + std::string(f.key));
      EXPECT_EQ(f.json_path(), std::string(f.part) + "." + std::string(f.key));
    }
    EXPECT_EQ(find_field(f.name()), &f);
    EXPECT_FALSE(f.long_name.empty());
    EXPECT_NE(f.long_name, f.key) << "long_name must say more than the variable name";
    EXPECT_FALSE(f.description.empty());
    const FieldKind k = f.kind();
    if (k == FieldKind::real || k == FieldKind::integer || k == FieldKind::array) {
      EXPECT_FALSE(f.units.empty());
    }
    if (k == FieldKind::category) {
      EXPECT_GE(f.categories().size(), 2u);
    }
    EXPECT_EQ(k == FieldKind::array, !f.dims.empty());
  }
  // The scalar datasets every existing plot and notebook reads keep their names.
  for (const char* name :
       {"status", "message", "wall_time", "rank", "theory_q", "theory_free_energy", "theory_branch",
        "sgld_abs_q_mean", "sgld_cka_H", "theory_H", "sgld_H"})
    EXPECT_NE(find_field(name), nullptr) << name;
}

TEST(ResultFields, JsonPathsAreTheFileNames) {
  const PointResult r = kernelsweep::testing::every_field_result(3, 4);
  const nlohmann::json j = to_json(r);
  std::size_t seen = 0;
  for (const auto& [key, value] : j.items()) {
    if (key == "theory" || key == "sgld") {
      for (const auto& [sub, x] : value.items()) {
        const Field* f = find_field(key + "_" + sub);
        ASSERT_NE(f, nullptr) << key << "." << sub;
        EXPECT_EQ(f->json_path(), key + "." + sub);
        ++seen;
      }
    } else {
      ASSERT_NE(find_field(key), nullptr) << key;
      ++seen;
    }
  }
  EXPECT_EQ(seen, result_fields().size());  // every field filled, every field in the JSON
}

TEST(ResultFields, JsonTextRoundTripIsExact) {
  const PointResult r = kernelsweep::testing::every_field_result(7, 3);
  const std::string text = to_json(r).dump();
  PointResult back = result_from_json(nlohmann::json::parse(text));
  back.point = r.point;
  expect_same_fields(r, back, "json text");
  // Integers stay integers, categories are names, 1-D arrays are flat lists, 2-D nested.
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_TRUE(j["theory"]["iterations"].is_number_integer());
  EXPECT_TRUE(j["status"].is_string());
  EXPECT_TRUE(j["theory"]["f"][0].is_number());
  EXPECT_TRUE(j["theory"]["H"][0].is_array());
}

TEST(ResultFields, ShortestTextRoundTripsAndHasNoNoise) {
  EXPECT_EQ(shortest_text(0.7), "0.7");
  EXPECT_EQ(shortest_text(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(shortest_text(NAN), "");
  for (const double x : {1.0 / 3.0, 1e-300, 6.02214076e23, -2.5})
    EXPECT_EQ(std::stod(shortest_text(x)), x);
}

TEST(PointResultCodec, JournalRecordIsBitExactForEveryField) {
  const PointResult r = kernelsweep::testing::every_field_result(17, 5);
  const PointResult back = decode_point_result(encode(r));
  EXPECT_EQ(back.point, 17u);
  expect_same_fields(r, back, "journal");
}

TEST(PointResultCodec, MissingPartsAndNaNStayMissing) {
  PointResult r;
  r.point = 2;
  r.status = Status::not_converged;
  r.message = "theory: residual 1e-3";
  r.theory.emplace();
  r.theory->q = 0.1 + 0.2;  // everything else of the theory part: not computed
  const PointResult back = decode_point_result(encode(r));
  EXPECT_FALSE(back.sgld.has_value());
  ASSERT_TRUE(back.theory.has_value());
  EXPECT_EQ(back.theory->q, 0.1 + 0.2);
  EXPECT_TRUE(std::isnan(back.theory->free_energy));
  EXPECT_FALSE(back.theory->branch.has_value());
  EXPECT_EQ(back.status, Status::not_converged);
  EXPECT_EQ(back.message, r.message);
}

TEST(PointResultCodec, RecordOfTheOldSchemaIsRefusedByName) {
  // The pre-table layout: {point, status, message, scalars, kernels, wall_time, rank}.
  const nlohmann::json old = {{"point", 1},
                              {"status", 1},
                              {"message", ""},
                              {"scalars", nlohmann::json::object()},
                              {"kernels", nlohmann::json::object()},
                              {"wall_time", 0.1},
                              {"rank", 1}};
  try {
    decode_point_result(nlohmann::json::to_cbor(old));
    FAIL() << "an old record was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("older version"), std::string::npos) << e.what();
  }
}

TEST(PointResultCodec, TaskResultCarriesTheTheoryPartExactly) {
  const PointResult full = kernelsweep::testing::every_field_result(4, 4);
  TaskResult t;
  t.task.point = 4;
  t.task.theory = true;
  t.task.cost = 1.5;
  t.theory = full.theory;
  t.seconds = 0.25;
  t.rank = 3;
  const TaskResult back = decode_task_result(encode(t));
  ASSERT_TRUE(back.theory.has_value());
  PointResult a, b;
  a.theory = t.theory;
  b.theory = back.theory;
  expect_same_fields(a, b, "wire");
  EXPECT_EQ(back.rank, 3);
}

TEST(PointResultCodec, LineTaskCarriesItsPointsAndEveryPointsTheoryExactly) {
  TaskResult t;
  t.task.point = 7;
  t.task.theory = true;
  t.task.kind = WorkKind::theory_line;
  t.task.line = {7, 9, 11, 13};
  t.task.record = {9, 13};
  t.line_theory = {*kernelsweep::testing::every_field_result(9, 4).theory,
                   *kernelsweep::testing::every_field_result(13, 4).theory};
  const TaskResult back = decode_task_result(encode(t));
  EXPECT_EQ(back.task.kind, WorkKind::theory_line);
  EXPECT_EQ(back.task.line, t.task.line);
  EXPECT_EQ(back.task.record, t.task.record);
  EXPECT_EQ(recorded_points(back.task), t.task.record);
  ASSERT_EQ(back.line_theory.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    PointResult a, b;
    a.theory = t.line_theory[i];
    b.theory = back.line_theory[i];
    expect_same_fields(a, b, "line wire");
  }
}
