// One writer per results file: the lock beside the output excludes a second holder (another
// process, or another open of it in this process), names the holder, and is released by the
// kernel when the holder is SIGKILLed. Derived outputs never overwrite a results file.
#include "io/output_lock.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "io/results_session.hpp"
#include "run_helpers.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

namespace {

std::string refusal(const std::string& results_path) {
  try {
    OutputLock lock(results_path);
  } catch (const ResultsFileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(OutputLock, SecondHolderIsRefusedWithTheHolderNamed) {
  const auto dir = scratch_dir("lock-same");
  const std::string out = (dir / "d.h5").string();
  {
    OutputLock first(out);
    EXPECT_TRUE(std::filesystem::exists(out + ".lock"));
    const std::string message = refusal(out);
    EXPECT_NE(message.find("is being written by another run"), std::string::npos) << message;
    EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
    EXPECT_NE(message.find("host "), std::string::npos) << message;
    EXPECT_NE(output_lock_holder(out).find("pid " + std::to_string(::getpid())), std::string::npos);
  }
  // Released (and the lock file removed) when the holder ends.
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
  EXPECT_EQ(output_lock_holder(out), "");
  EXPECT_EQ(refusal(out), "");
}

TEST(OutputLock, SigkilledHolderReleasesTheLockAndItsSlurmJobIsNamed) {
  const auto dir = scratch_dir("lock-kill");
  const std::string out = (dir / "d.h5").string();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    setenv("SLURM_JOB_ID", "777", 1);
    try {
      OutputLock lock(out);
      (void)!write(ready[1], "x", 1);
      pause();
    } catch (...) {
    }
    _exit(1);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  const std::string message = refusal(out);
  EXPECT_NE(message.find("pid " + std::to_string(child)), std::string::npos) << message;
  EXPECT_NE(message.find("SLURM job 777"), std::string::npos) << message;
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  // The lock file is still there (nobody removed it) but nobody holds it any more.
  EXPECT_TRUE(std::filesystem::exists(out + ".lock"));
  EXPECT_EQ(output_lock_holder(out), "");
  EXPECT_EQ(refusal(out), "");
}

TEST(OutputLock, ExportRefusesToOverwriteAResultsFileItsJournalOrItsLock) {
  const auto dir = scratch_dir("clobber");
  const std::string out = (dir / "d.h5").string();
  write_text(dir / "d.h5.journal", "journal bytes");
  write_text(dir / "d.h5", "not even HDF5, but it has a journal");
  write_text(dir / "plain.h5", std::string("\x89HDF\r\n\x1a\n", 8) + "rest");
  for (const std::string& path :
       {out, out + ".journal", out + ".lock", (dir / "plain.h5").string()}) {
    try {
      refuse_to_clobber_results(path);
      ADD_FAILURE() << path << " was not refused";
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find("refusing to overwrite"), std::string::npos) << e.what();
    }
  }
  write_text(dir / "old.csv", "a,b\n");
  EXPECT_NO_THROW(refuse_to_clobber_results((dir / "old.csv").string()));
  EXPECT_NO_THROW(refuse_to_clobber_results((dir / "new.csv").string()));
}
