// What the user can do to a results file, through the CLI: a second writer (plain, --resume,
// --force) while a run is live is refused and touches nothing; a SIGKILLed run's lock does not
// block the resume; export never overwrites the results; status does not layer another sweep's
// journal; bad option values and directories are one-line errors (exit 2); a point over
// --point-timeout fails and the sweep goes on.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "io/results_session.hpp"
#include "io/run_provenance.hpp"
#include "run_helpers.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

namespace {

// SGLD points that take a few seconds in all: long enough to act while the run is live.
const char* kSlowSweep =
    "name: slow\nseed: 3\n"
    "base: {model: {T: 4, N: 16}, task: {P: 4, D: 4}, sgld: {enabled: true, max_rhat: 100, "
    "min_ess: 0, replicas: 2, steps: "
    "20000, burn_in: 100}}\n"
    "axes: [{key: task.lam, linspace: {start: 0.2, stop: 2.0, num: 8}}]\n";

std::size_t recorded_points(const std::filesystem::path& out) {
  if (!std::filesystem::exists(journal_path_for(out.string()))) return 0;
  return latest_journal_points(read_journal(journal_path_for(out.string()))).size();
}

// Waits until the live run has recorded at least one point (so it surely holds the file).
bool wait_until_recording(const std::filesystem::path& out) {
  for (int i = 0; i < 1200; ++i) {
    if (recorded_points(out) > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

bool any_damaged_copy(const std::filesystem::path& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().find("damaged") != std::string::npos) return true;
  return false;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST(ReliabilityCli, SecondWriterWhileLiveIsRefusedAndTouchesNothing) {
  const auto dir = scratch_dir("live");
  write_text(dir / "s.yaml", kSlowSweep);
  const pid_t live = spawn_in(dir, {binary(), "run", "s.yaml", "--out", "d.h5"});
  ASSERT_TRUE(wait_until_recording(dir / "d.h5")) << read_text(dir / "run.log");
  for (const std::string extra : {"", " --resume", " --force"}) {
    EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5" + extra), 2) << extra;
    const std::string log = read_text(dir / "out.log");
    EXPECT_NE(log.find("d.h5 is being written by another run (host "), std::string::npos) << log;
    EXPECT_NE(log.find("pid " + std::to_string(live)), std::string::npos) << log;
    EXPECT_EQ(lines(log), 1u) << log;
  }
  for (const std::string target : {"d.h5", "d.h5.journal", "d.h5.lock"}) {
    EXPECT_EQ(shell(dir, binary() + " export d.h5 --format csv --out " + target), 2) << target;
    EXPECT_NE(read_text(dir / "out.log").find("refusing to overwrite"), std::string::npos)
        << read_text(dir / "out.log");
  }
  // The reader-friendly writer: h5py and xarray open the live file. A reader that opens it during
  // a commit (a few ms, no SWMR) may get an HDF5 error and retries, as the README says; seen once
  // under ctest -j2 load ("address of object past end of allocation"): the first read failing is
  // no failure, twenty failing in a row (two seconds) are.
  EXPECT_EQ(shell(dir,
                  "/usr/bin/python3 -c 'import h5py, time, xarray\n"
                  "for attempt in range(20):\n"
                  "    try:\n"
                  "        h5py.File(\"d.h5\", \"r\")[\"status\"][...]\n"
                  "        xarray.open_dataset(\"d.h5\", engine=\"h5netcdf\").load()\n"
                  "        break\n"
                  "    except Exception as error:\n"
                  "        last = error\n"
                  "        time.sleep(0.1)\n"
                  "else:\n"
                  "    raise SystemExit(\"20 reads of the live file failed: %s\" % last)'"),
            0)
      << read_text(dir / "out.log");
  EXPECT_EQ(wait_exit_code(live), 0) << read_text(dir / "run.log");
  EXPECT_NE(read_text(dir / "run.log").find("8/8 done"), std::string::npos)
      << read_text(dir / "run.log");
  EXPECT_FALSE(any_damaged_copy(dir));
  const JournalContents journal = read_journal((dir / "d.h5.journal").string());
  EXPECT_TRUE(journal.skipped.empty());
  EXPECT_EQ(journal.dropped_bytes, 0u);
  std::map<std::uint64_t, int> records;
  for (const auto& rec : journal.records)
    if (rec.value("type", "") == "point")
      ++records[decode_point_result(rec.at("result").get_binary()).point];
  EXPECT_EQ(records.size(), 8u);
  for (const auto& [point, count] : records) EXPECT_EQ(count, 1) << point;
  EXPECT_FALSE(std::filesystem::exists(dir / "d.h5.lock"));  // removed by the run at its end
}

TEST(ReliabilityCli, SigkilledRunDoesNotBlockTheResume) {
  const auto dir = scratch_dir("killed-lock");
  write_text(dir / "s.yaml", kSlowSweep);
  const pid_t live = spawn_in(dir, {binary(), "run", "s.yaml", "--out", "d.h5"});
  ASSERT_TRUE(wait_until_recording(dir / "d.h5")) << read_text(dir / "run.log");
  kill(live, SIGKILL);
  wait_exit_code(live);
  EXPECT_TRUE(std::filesystem::exists(dir / "d.h5.lock"));  // left behind, but nobody holds it
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume"), 0)
      << read_text(dir / "out.log");
}

TEST(ReliabilityCli, StatusDoesNotLayerAnotherSweepsJournal) {
  const auto dir = scratch_dir("foreign");
  write_text(dir / "a.yaml", theory_sweep(3, 5));
  write_text(dir / "b.yaml", theory_sweep(3, 6));
  ASSERT_EQ(shell(dir, binary() + " run b.yaml --out b.h5"), 0);  // complete, 6 points
  {
    // a.h5: all 6 points pending (created, nothing computed).
    const SweepGrid grid(load_sweep_spec((dir / "a.yaml").string()));
    ResultsSession session((dir / "a.h5").string(), grid, {}, file_provenance("test"));
  }
  std::filesystem::copy_file(dir / "b.h5.journal", dir / "a.h5.journal",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(shell(dir, binary() + " status a.h5 --json"), 0) << read_text(dir / "out.log");
  const auto status = nlohmann::json::parse(read_text(dir / "out.log"));
  EXPECT_EQ(status["complete"], false);
  EXPECT_EQ(status["counts"]["pending"], 6);
  EXPECT_NE(status["journal_problem"].get<std::string>().find("belongs to a different sweep"),
            std::string::npos);
  EXPECT_EQ(shell(dir, binary() + " status a.h5"), 0);
  EXPECT_NE(read_text(dir / "out.log").find("journal NOT used"), std::string::npos)
      << read_text(dir / "out.log");
}

TEST(ReliabilityCli, BadOptionValuesAndDirectoriesAreOneLineErrors) {
  const auto dir = scratch_dir("strict");
  write_text(dir / "s.yaml", theory_sweep(2));
  std::filesystem::create_directory(dir / "conf");
  for (const std::string args :
       {"run s.yaml --out d.h5 --grace nan", "run s.yaml --out d.h5 --grace -1",
        "run s.yaml --out d.h5 --progress-interval -1", "run s.yaml --out d.h5 --point-timeout inf",
        "run s.yaml --out d.h5 --point-timeout -3", "run conf --out d.h5", "solve conf"}) {
    EXPECT_EQ(shell(dir, binary() + " " + args), 2) << args;
    const std::string log = read_text(dir / "out.log");
    EXPECT_EQ(lines(log), 1u) << args << ": " << log;
    EXPECT_EQ(log.rfind("error: ", 0), 0u) << args << ": " << log;
    EXPECT_FALSE(std::filesystem::exists(dir / "d.h5")) << args;
  }
  EXPECT_NE(read_text(dir / "out.log").find("conf: is a directory"), std::string::npos);
  // --force never deletes a directory.
  std::filesystem::create_directory(dir / "out.h5");
  write_text(dir / "out.h5" / "keep", "precious");
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out out.h5 --force"), 2);
  EXPECT_NE(read_text(dir / "out.log").find("is a directory"), std::string::npos)
      << read_text(dir / "out.log");
  EXPECT_EQ(read_text(dir / "out.h5" / "keep"), "precious");
  // A 10^35-point grid: the size message (before any allocation), not bad_alloc.
  std::string huge = "name: huge\naxes:\n";
  for (const char* key :
       {"task.lam", "model.w", "model.u", "model.v", "model.kappa", "theory.tolerance", "sgld.eta"})
    huge += std::string("  - {key: ") + key + ", linspace: {start: 0.1, stop: 0.2, num: 100000}}\n";
  write_text(dir / "huge.yaml", huge);
  // More than a file holds: refused with or without --yes, before its 7 x 10^5 values are checked.
  for (const std::string yes : {"", " --yes"}) {
    EXPECT_EQ(shell(dir, binary() + " run huge.yaml --out h.h5" + yes), 2);
    EXPECT_NE(read_text(dir / "out.log")
                  .find("the grid has 1e+35 points, more than one results file holds"),
              std::string::npos)
        << read_text(dir / "out.log");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "h.h5"));
  // 10^8 points: a results file holds them, but only with --yes.
  write_text(
      dir / "big.yaml",
      "name: big\naxes:\n  - {key: task.lam, linspace: {start: 0.1, stop: 0.2, num: 10000}}\n"
      "  - {key: model.w, linspace: {start: 0.1, stop: 0.2, num: 10000}}\n");
  EXPECT_EQ(shell(dir, binary() + " run big.yaml --out b.h5"), 2);
  EXPECT_NE(read_text(dir / "out.log").find("the grid has 100000000 points (> 10^7); pass --yes"),
            std::string::npos)
      << read_text(dir / "out.log");
  EXPECT_FALSE(std::filesystem::exists(dir / "b.h5"));
}

TEST(ReliabilityCli, PointOverItsTimeLimitFailsAndTheSweepGoesOn) {
  const auto dir = scratch_dir("timeout");
  // One point needs ~100x the steps of the others; the limit sits between the two.
  write_text(
      dir / "s.yaml",
      "name: limits\nseed: 2\n"
      "base: {model: {T: 4, N: 16}, task: {P: 4, D: 4}, theory: {enabled: false},"
      " sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 2, steps: 400, burn_in: 10}}\n"
      "axes: [{key: sgld.steps, values: [400, 100000, 400]}]\n");
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --point-timeout 0.2"), 1)
      << read_text(dir / "out.log");
  const auto s = read_snapshot((dir / "d.h5").string(), false);
  ASSERT_EQ(s.status.size(), 3u);
  EXPECT_EQ(s.status[0], 1);
  EXPECT_EQ(s.status[2], 1);
  EXPECT_EQ(s.status[1], 2);
  EXPECT_NE(s.results.at(1).message.find("time limit (--point-timeout: 0.2 s) exceeded"),
            std::string::npos)
      << s.results.at(1).message;
}

TEST(ReliabilityCli, DiskFullWhileTheFileIsCreatedLeavesNothingThatBlocksARetry) {
  const auto dir = scratch_dir("full-create");
  write_text(dir / "s.yaml", theory_sweep(4));
  // A file-size limit (1 KiB blocks) small enough that creating the file itself fails.
  for (const int blocks : {1, 4, 8, 16}) {
    const int rc = shell(
        dir, "ulimit -f " + std::to_string(blocks) + "; " + binary() + " run s.yaml --out d.h5");
    EXPECT_EQ(rc, 2) << blocks << ": " << read_text(dir / "out.log");  // was 139 (segfault at exit)
    EXPECT_FALSE(std::filesystem::exists(dir / "d.h5")) << blocks;
    EXPECT_FALSE(std::filesystem::exists(dir / "d.h5.journal")) << blocks;
  }
  EXPECT_EQ(shell(dir, binary() + " run s.yaml --out d.h5"), 0) << read_text(dir / "out.log");
}

// Every run row names the kernels' instruction-set variant; a resume under another variant (its
// points may differ in the last bits) says so in one warning line, under the same one it does not.
TEST(ReliabilityCli, RunRowsNameTheKernelVariantAndAResumeUnderAnotherOneWarns) {
  const auto dir = scratch_dir("isa");
  write_text(dir / "s.yaml", theory_sweep(2));
  ASSERT_EQ(shell(dir, "KERNELSWEEP_ISA=baseline " + binary() + " run s.yaml --out d.h5"), 0)
      << read_text(dir / "out.log");
  const auto variants_of_runs = [&] {
    std::vector<std::string> out;
    for (const auto& row : PhaseDiagramStore::open((dir / "d.h5").string(), false).run_rows()) {
      const auto j = nlohmann::json::parse(row);
      if (j.value("event", "") == "start") out.push_back(j.value("kernel_isa", "?"));
    }
    return out;
  };
  EXPECT_EQ(variants_of_runs(), (std::vector<std::string>{"baseline"}));
  ASSERT_EQ(shell(dir, "KERNELSWEEP_ISA=baseline " + binary() + " run s.yaml --out d.h5 --resume"),
            0);
  EXPECT_EQ(read_text(dir / "out.log").find("warning"), std::string::npos)
      << read_text(dir / "out.log");
  // The best variant this CPU has: baseline on a CPU without AVX2, then no warning is due.
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume"), 0);
  const auto variants = variants_of_runs();
  ASSERT_EQ(variants.size(), 3u);
  const std::string log = read_text(dir / "out.log");
  if (variants[2] == "baseline") {
    EXPECT_EQ(log.find("warning"), std::string::npos) << log;
  } else {
    EXPECT_NE(
        log.find("warning: an earlier run of this file used the baseline kernels, this one uses " +
                 variants[2]),
        std::string::npos)
        << log;
  }
}
