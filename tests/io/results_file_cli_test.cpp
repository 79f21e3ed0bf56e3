// The results file through the CLI: xarray opens it with named coordinates; exit codes; bad
// specs, mismatched resumes, unwritable and full output directories give clear errors and lose nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "io/results_session.hpp"
#include "run_helpers.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

TEST(ResultsFileCli, XarrayOpensTheFileWithNamedCoordinates) {
  const auto dir = scratch_dir("xarray");
  write_text(dir / "s.yaml", theory_sweep(4));
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5"), 0) << read_text(dir / "out.log");
  const int rc = shell(dir, "/usr/bin/python3 -c 'import xarray; ds = xarray.open_dataset(\"d.h5\", engine=\"h5netcdf\"); "
                            "assert list(ds.theory_q.dims) == [\"architecture\", \"lam\"], ds; "
                            "assert list(ds.architecture.values) == [\"rnn\", \"dnn\"]; "
                            "assert abs(float(ds.lam[-1]) - 2.0) < 1e-15; "
                            "assert (ds.status.values == 1).all(); "
                            "assert float(ds.theory_q.sel(architecture=\"rnn\", lam=2.0)) > 0.5; "
                            "assert ds.status.attrs[\"flag_meanings\"] == \"pending done failed not_converged\"; "
                            "print(ds)'");
  EXPECT_EQ(rc, 0) << read_text(dir / "out.log");
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
  EXPECT_EQ(read_text(dir / "nc.csv").find("point,lam,status,theory_q"), 0u);
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
  write_text(dir / "s.yaml", theory_sweep(12));
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out ref.h5"), 0);
  // A file-size limit (ulimit -f, 1 KiB blocks) makes writes fail with EFBIG part-way, like a full disk.
  const int rc = shell(dir, "ulimit -f 100; " + binary() + " run s.yaml --out d.h5");
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
