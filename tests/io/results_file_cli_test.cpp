// The results file through the CLI: xarray opens it with named coordinates; exit codes; bad
// specs, mismatched resumes, unwritable and full output directories give clear errors and lose nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "io/results_session.hpp"
#include "run_helpers.hpp"
#include "support/sample_results.hpp"
#include "sweep/result_fields.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

TEST(ResultsFileCli, XarrayOpensTheFileWithNamedCoordinates) {
  const auto dir = scratch_dir("xarray");
  write_text(dir / "s.yaml", theory_sweep(10));
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5"), 0) << read_text(dir / "out.log");
  write_text(dir / "check.py", R"py(
import h5py, numpy, xarray
ds = xarray.open_dataset("d.h5", engine="h5netcdf")
assert list(ds.theory_q.dims) == ["architecture", "lam"], ds
assert list(ds.architecture.values) == ["rnn", "dnn"]
assert (ds.status.values == 1).all()
assert ds.status.attrs["flag_meanings"] == "pending done failed not_converged"
# Coordinates are numpy's own linspace values: sel with them needs no tolerance.
lams = numpy.linspace(0.2, 2.0, 10)
for k, lam in enumerate(lams):
    assert float(ds.lam[k]) == lam, (k, float(ds.lam[k]), lam)
    ds.theory_q.sel(architecture="rnn", lam=lam)
assert float(ds.theory_q.sel(architecture="rnn", lam=2.0)) > 0.5
assert ds.lam.attrs["units"] == "1" and ds.lam.attrs["config_key"] == "task.lam"
assert ds.theory_q.attrs["units"] == "1" and ds.theory_q.attrs["long_name"] == "order parameter q (theory)"
assert ds.theory_q.attrs["description"]
assert ds.wall_time.attrs["units"] == "s"
assert isinstance(ds.message.values[0, 0], str)
assert int(ds.theory_stable_states.min()) >= 1  # integers stay integers (int64 in the file: below)
with h5py.File("d.h5", "r") as f:
    for name in ("sweep_name", "sweep_hash", "file_format"):
        assert isinstance(f.attrs[name], str), (name, type(f.attrs[name]))
    assert isinstance(f["theory_q"].attrs["long_name"], str)
    assert f["theory_stable_states"].dtype == numpy.int64
    assert f["points/0/theory_H"].shape == (16, 16)
print("ok")
)py");
  EXPECT_EQ(shell(dir, "/usr/bin/python3 check.py"), 0) << read_text(dir / "out.log");
}

// One CSV line split into cells (RFC 4180 quoting).
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      cells.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  return cells;
}

TEST(ResultsFileCli, EveryFieldRoundTripsThroughExportCsvAndJson) {
  const auto dir = scratch_dir("export-fields");
  write_text(dir / "s.yaml", theory_sweep(3));
  const SweepGrid grid(load_sweep_spec((dir / "s.yaml").string()));
  const PointResult full = every_field_result(4, 3);
  { ResultsSession session((dir / "d.h5").string(), grid, {}, {}); session.record(full); }
  ASSERT_EQ(shell(dir, binary() + " export d.h5 --format csv --out d.csv"), 0) << read_text(dir / "out.log");
  std::ifstream csv(dir / "d.csv");
  std::string header_line, line;
  std::getline(csv, header_line);
  const auto header = csv_cells(header_line);
  std::vector<std::string> row;
  while (std::getline(csv, line))
    if (line.rfind("4,", 0) == 0) row = csv_cells(line);
  ASSERT_EQ(row.size(), header.size());
  std::size_t checked = 0;
  for (const auto& f : result_fields()) {
    if (f.kind() == FieldKind::array) continue;
    const auto column = std::find(header.begin(), header.end(), f.name());
    ASSERT_NE(column, header.end()) << f.name();
    const std::string& cell = row[static_cast<std::size_t>(column - header.begin())];
    switch (f.kind()) {
      case FieldKind::real: EXPECT_EQ(std::stod(cell), number_of(f, full)) << f.name(); break;
      case FieldKind::integer: EXPECT_EQ(std::stoll(cell), number_of(f, full)) << f.name(); break;
      case FieldKind::category:
        EXPECT_EQ(cell, f.categories()[static_cast<std::size_t>(number_of(f, full))]) << f.name();
        break;
      default: EXPECT_EQ(cell, text_of(f, full)) << f.name();
    }
    ++checked;
  }
  EXPECT_GT(checked, 30u);
  EXPECT_EQ(row[2], "1.1");  // lam = linspace(0.2, 2, 3)[1] = 1.1, no %.17g noise

  ASSERT_EQ(shell(dir, binary() + " export d.h5 --format json --arrays --out d.json"), 0) << read_text(dir / "out.log");
  const auto j = nlohmann::json::parse(read_text(dir / "d.json"));
  const auto& point = j["points"][4];
  EXPECT_TRUE(point["lam"].is_number_float());  // numeric coordinates
  EXPECT_EQ(point["lam"].get<double>(), 1.1);
  EXPECT_EQ(point["architecture"], "dnn");
  nlohmann::json fields = point;
  for (const char* coordinate : {"point", "lam", "architecture"}) fields.erase(coordinate);
  PointResult back = result_from_json(fields);
  for (const auto& f : result_fields()) {
    SCOPED_TRACE(f.name());
    if (f.kind() == FieldKind::text) {
      EXPECT_EQ(text_of(f, back), text_of(f, full));
    } else if (f.kind() == FieldKind::array) {
      ASSERT_NE(array_of(f, back), nullptr);
      EXPECT_EQ(*array_of(f, back), *array_of(f, full));
    } else {
      EXPECT_EQ(number_of(f, back), number_of(f, full));
    }
  }
  EXPECT_EQ(j["points"][0]["status"], "pending");
}

TEST(ResultsFileCli, ExitCodesAndErrorsNameTheKeyOrFile) {
  const auto dir = scratch_dir("cli");
  write_text(dir / "bad.yaml", "name: x\naxes: [{key: task.lam, linspace: {start: 0, stop: 1, num: -2}}]\n");
  EXPECT_EQ(shell(dir, binary() + " run bad.yaml --out d.h5"), 2);
  EXPECT_NE(read_text(dir / "out.log").find("bad.yaml: axes[0] (task.lam).linspace.num"), std::string::npos)
      << read_text(dir / "out.log");
  EXPECT_FALSE(std::filesystem::exists(dir / "d.h5"));

  write_text(dir / "s.yaml", theory_sweep(2));
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5"), 0) << read_text(dir / "out.log");
  const auto before = read_text(dir / "d.h5.journal");
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5"), 2);
  EXPECT_NE(read_text(dir / "out.log").find("already exists; pass --resume"), std::string::npos);
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume --set seed=99"), 2);
  EXPECT_NE(read_text(dir / "out.log").find("belongs to a different sweep"), std::string::npos);
  EXPECT_EQ(read_text(dir / "d.h5.journal"), before);  // nothing touched
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume"), 0);  // nothing left: complete
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --force --set seed=99"), 0);

  // A point that does not converge: exit 1, status lists it with its message, export has a row.
  write_text(dir / "nc.yaml", "name: nc\nbase: {theory: {max_iterations: 2, tolerance: 1e-300}}\n"
                              "axes: [{key: task.lam, values: [0.5, 1.5]}]\n");
  EXPECT_EQ(shell(dir, binary() + " run nc.yaml --out nc.h5"), 1) << read_text(dir / "out.log");
  EXPECT_EQ(shell(dir, binary() + " status nc.h5"), 0);
  EXPECT_NE(read_text(dir / "out.log").find("not_converged: theory"), std::string::npos) << read_text(dir / "out.log");
  EXPECT_EQ(shell(dir, binary() + " export nc.h5 --format csv --out nc.csv"), 0);
  EXPECT_EQ(read_text(dir / "nc.csv").find("point,lam,status,message,wall_time,rank,theory_status"), 0u);
  EXPECT_EQ(shell(dir, binary() + " export nc.h5 --format json"), 0);
  EXPECT_NE(read_text(dir / "out.log").find("\"sweep\": \"nc\""), std::string::npos);
}

TEST(ResultsFileCli, ReadOnlyDirectoryIsAClearError) {
  const auto dir = scratch_dir("readonly");
  write_text(dir / "s.yaml", theory_sweep(2));
  std::filesystem::create_directory(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                               std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
  std::filesystem::permissions(dir, std::filesystem::perms::others_all, std::filesystem::perm_options::add);
  std::filesystem::permissions(dir / "s.yaml", std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  // Root ignores permissions: run as nobody then.
  const std::string as_user = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  EXPECT_EQ(shell(dir, as_user + binary() + " run s.yaml --out ro/d.h5"), 2);
  const std::string log = read_text(dir / "out.log");
  EXPECT_NE(log.find("ro/d.h5"), std::string::npos) << log;
  EXPECT_NE(log.find("Permission denied"), std::string::npos) << log;
}

TEST(ResultsFileCli, FullDiskStopsCleanlyAndResumeCompletesIdentically) {
  const auto dir = scratch_dir("full");
  // Segments of 2 signals: points are recorded in small groups, so the disk fills between them.
  std::string spec = theory_sweep(12);
  spec.replace(spec.find("task: {P: 4, D: 4}"), 18, "task: {P: 4, D: 4}, theory: {line_points: 2}");
  write_text(dir / "s.yaml", spec);
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out ref.h5"), 0);
  // A file-size limit (ulimit -f, 1 KiB blocks) makes writes fail with EFBIG part-way, like a full disk.
  const int rc = shell(dir, "ulimit -f 400; " + binary() + " run s.yaml --out d.h5");
  EXPECT_EQ(rc, 2) << read_text(dir / "out.log");
  EXPECT_NE(read_text(dir / "out.log").find("results recorded so far are safe"), std::string::npos)
      << read_text(dir / "out.log");
  const auto partial = read_snapshot((dir / "d.h5").string(), false);
  EXPECT_GT(partial.results.size(), 0u);
  EXPECT_LT(partial.results.size(), 24u);
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume"), 0) << read_text(dir / "out.log");
  const auto a = PhaseDiagramStore::open((dir / "ref.h5").string(), false);
  const auto b = PhaseDiagramStore::open((dir / "d.h5").string(), false);
  for (const auto& name : {"theory_q", "theory_free_energy", "theory_residual"}) {
    const auto x = a.scalar(name), y = b.scalar(name);
    ASSERT_EQ(x.size(), y.size());
    EXPECT_EQ(0, std::memcmp(x.data(), y.data(), x.size() * sizeof(double))) << name;
  }
}
