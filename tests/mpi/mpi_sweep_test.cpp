// Sweeps over MPI ranks: SIGKILL the whole `mpirun -np 3` job at random moments, resume each time;
// the final file equals an uninterrupted single-rank run bit for bit at every point, and no point
// is recorded twice. Signals give exit code 75 and a resumable file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "../io/run_helpers.hpp"
#include "io/phase_diagram_store.hpp"
#include "io/results_session.hpp"
#include "sweep/result_fields.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

namespace {

// Theory and SGLD (4 replicas, split across ranks) on 16 cheap points; long enough (~3 s on 2
// workers) that the random kills below land mid-sweep, not after it finished.
const char* kSweep =
    "name: killtest\nseed: 11\n"
    "base: {model: {T: 4, N: 16}, task: {P: 4, D: 4}, sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 4, steps: 6000, burn_in: 100}}\n"
    "axes:\n  - {key: model.architecture, values: [rnn, dnn]}\n"
    "  - {key: task.lam, linspace: {start: 0.2, stop: 2.0, num: 8}}\n";

std::vector<std::string> mpirun(int ranks, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"mpirun", "--oversubscribe", "--allow-run-as-root", "-np", std::to_string(ranks),
                                   binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

pid_t spawn(const std::filesystem::path& dir, const std::vector<std::string>& argv) {
  std::fflush(stdout);  // or the child's freopen would print our buffered lines again
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    const std::string log = (dir / "run.log").string();
    freopen(log.c_str(), "a", stdout);
    freopen(log.c_str(), "a", stderr);
    setenv("OMPI_MCA_btl", "self,vader", 1);
    std::vector<char*> raw;
    for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
    raw.push_back(nullptr);
    execvp(raw[0], raw.data());
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Every process below `root` (ranks are in their own process groups, so kill by pid).
std::vector<pid_t> descendants(pid_t root) {
  std::map<pid_t, pid_t> parent;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text(entry.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2) parent[std::stoi(name)] = ppid;
  }
  std::vector<pid_t> found = {root};
  for (std::size_t i = 0; i < found.size(); ++i)
    for (const auto& [pid, ppid] : parent)
      if (ppid == found[i]) found.push_back(pid);
  return found;
}

void kill_everything(pid_t root) {
  for (const pid_t pid : descendants(root)) kill(pid, SIGKILL);
  wait_for(root);
}

void expect_same_results(const std::string& reference, const std::string& candidate) {
  const auto a = read_snapshot(reference, true), b = read_snapshot(candidate, true);
  ASSERT_EQ(a.status.size(), b.status.size());
  for (std::size_t p = 0; p < a.status.size(); ++p) {
    ASSERT_EQ(a.status[p], 1) << "reference point " << p;
    ASSERT_EQ(b.status[p], 1) << "point " << p;
    const auto& x = a.results.at(p);
    const auto& y = b.results.at(p);
    for (const auto& f : result_fields()) {
      if (f.name() == "sgld_steps_per_second" || f.name() == "wall_time" || f.name() == "theory_seconds" ||
          f.name() == "rank")
        continue;  // timings and placement, not results
      ASSERT_EQ(part_present(f, x), part_present(f, y)) << "point " << p << " " << f.name();
      if (f.kind() == FieldKind::array) {
        const Eigen::MatrixXd* m = array_of(f, x);
        const Eigen::MatrixXd* n = array_of(f, y);
        ASSERT_EQ(m == nullptr, n == nullptr) << p << " " << f.name();
        if (m == nullptr) continue;
        ASSERT_EQ(m->size(), n->size());
        EXPECT_EQ(0, std::memcmp(m->data(), n->data(), sizeof(double) * m->size())) << p << " " << f.name();
      } else if (f.kind() == FieldKind::text) {
        EXPECT_EQ(text_of(f, x), text_of(f, y)) << p << " " << f.name();
      } else {
        const double u = number_of(f, x), v = number_of(f, y);
        EXPECT_EQ(0, std::memcmp(&u, &v, sizeof(double))) << "point " << p << " " << f.name();
      }
    }
  }
}

}  // namespace

TEST(MpiSweep, SigkillAtRandomMomentsThenResumeIsBitIdentical) {
  const auto dir = scratch_dir("sigkill");
  write_text(dir / "s.yaml", kSweep);
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out ref.h5"), 0) << read_text(dir / "out.log");

  std::random_device entropy;
  std::mt19937 random(entropy());
  std::uniform_real_distribution<double> moment(0.3, 2.5);
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<std::string> args = {"run", "s.yaml", "--out", "d.h5"};
    if (attempt > 0) args.push_back("--resume");
    const pid_t job = spawn(dir, mpirun(3, args));
    const double delay = moment(random);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    kill_everything(job);
    std::cout << "attempt " << attempt << ": SIGKILL after " << delay << " s, points recorded: "
              << read_snapshot((dir / "d.h5").string(), false).results.size() << "/16" << std::endl;
  }
  const pid_t last = spawn(dir, mpirun(3, {"run", "s.yaml", "--out", "d.h5", "--resume"}));
  ASSERT_EQ(wait_for(last), 0) << read_text(dir / "run.log");
  expect_same_results((dir / "ref.h5").string(), (dir / "d.h5").string());

  // Exactly once: one journal record per point.
  std::map<std::uint64_t, int> records;
  for (const auto& rec : read_journal((dir / "d.h5.journal").string()).records)
    if (rec.value("type", "") == "point") ++records[decode_point_result(rec.at("result").get_binary()).point];
  EXPECT_EQ(records.size(), 16u);
  for (const auto& [point, count] : records) EXPECT_EQ(count, 1) << "point " << point << " recorded twice";
  // Three ranks took part: the workers 1 and 2 computed points.
  std::set<int> ranks;
  for (const auto& [p, r] : read_snapshot((dir / "d.h5").string(), false).results) ranks.insert(r.rank);
  EXPECT_TRUE(ranks.count(1) || ranks.count(2));
}

// The theory's answers do not depend on the process: a serial run and an mpirun -np 3 run of the
// same sweep agree bit for bit, kernels included. Small sizes matter (T = 3: parity blocks of 6,
// below Eigen's GEMM threshold): the variant kernels once made the last bits depend on the
// alignment malloc gave a buffer, which differs between the two runs (caught by
// slurm_integration; 61 of the T = 3 point datasets differed).
TEST(MpiSweep, SerialAndMpiRunsOfTheTheoryAreBitIdentical) {
  const auto dir = scratch_dir("layout");
  write_text(dir / "s.yaml",
             "name: layout\nseed: 11\n"
             "base: {model: {architecture: rnn, activation: linear}, task: {P: 3, D: 3}, "
             "sgld: {enabled: false}}\n"
             "axes:\n  - {key: model.T, values: [2, 3, 5]}\n"
             "  - {key: task.lam, linspace: {start: 0.5, stop: 2.0, num: 4}}\n"
             "  - {key: model.architecture, values: [rnn, dnn]}\n");
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out serial.h5"), 0) << read_text(dir / "out.log");
  ASSERT_EQ(wait_for(spawn(dir, mpirun(3, {"run", "s.yaml", "--out", "mpi.h5"}))), 0)
      << read_text(dir / "run.log");
  expect_same_results((dir / "serial.h5").string(), (dir / "mpi.h5").string());
}

TEST(MpiSweep, SignalOnTheJobExits75AndResumes) {
  const auto dir = scratch_dir("signal");
  write_text(dir / "s.yaml", kSweep);
  // Longer SGLD runs, and the signal only once a point is recorded: the sweep is surely mid-way.
  const pid_t job = spawn(dir, mpirun(3, {"run", "s.yaml", "--out", "d.h5", "--grace", "30", "--set",
                                          "base.sgld.steps=6000"}));
  for (int i = 0; i < 600; ++i) {
    if (std::filesystem::exists(dir / "d.h5.journal") &&
        read_snapshot((dir / "d.h5").string(), false).results.size() > 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(job, SIGUSR1);  // mpirun forwards SIGUSR1 to every rank
  const int rc = wait_for(job);
  EXPECT_EQ(rc, 75) << read_text(dir / "run.log");
  EXPECT_NE(read_text(dir / "run.log").find("interrupted (SIGUSR1)"), std::string::npos) << read_text(dir / "run.log");
  const pid_t resumed = spawn(dir, mpirun(2, {"run", "s.yaml", "--out", "d.h5", "--resume", "--set",
                                              "base.sgld.steps=6000"}));
  EXPECT_EQ(wait_for(resumed), 0) << read_text(dir / "run.log");
  const auto snapshot = read_snapshot((dir / "d.h5").string(), false);
  for (const auto s : snapshot.status) EXPECT_EQ(s, 1);
}

// A signal while the last task runs: the task finishes within the grace period, nothing is left
// to resume, and the run ends 0 like an uninterrupted one (a job script that saw 75 would requeue
// a finished sweep). One task: a lam line of five T = 8 signals, traced together (seconds).
TEST(MpiSweep, SignalDuringTheLastTaskEndsTheCompleteSweepWithExit0) {
  const auto dir = scratch_dir("lastsignal");
  write_text(dir / "s.yaml",
             "name: last\nseed: 5\nbase: {model: {T: 8}, task: {P: 4, D: 4}}\n"
             "axes:\n  - {key: task.lam, values: [1.0, 1.1, 1.2, 1.3, 1.4]}\n");
  const pid_t job = spawn(dir, {binary(), "run", "s.yaml", "--out", "d.h5", "--grace", "120"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(job, SIGTERM);
  EXPECT_EQ(wait_for(job), 0) << read_text(dir / "run.log");
  const std::string log = read_text(dir / "run.log");
  EXPECT_NE(log.find("SIGTERM received"), std::string::npos) << "finished before the signal: " << log;
  EXPECT_NE(log.find("SIGTERM arrived after the last point was computed: the sweep is complete"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("resume with --resume"), std::string::npos) << log;
  ASSERT_EQ(shell(dir, binary() + " status d.h5 --json"), 0);
  EXPECT_EQ(nlohmann::json::parse(read_text(dir / "out.log"))["complete"], true);
}

// Ranks on other kernel variants (nodes with other CPUs; here KERNELSWEEP_ISA on rank 0 only, an
// MPMD launch): the run row lists every rank's variant, and the coordinator warns in one line
// naming the variant that gives the same bits everywhere. On a CPU whose best is baseline the
// ranks agree and nothing is said.
TEST(MpiSweep, RanksOnOtherKernelVariantsAreRecordedAndWarned) {
  const auto dir = scratch_dir("rank-isa");
  write_text(dir / "s.yaml",
             "name: isa\nseed: 3\nbase: {model: {T: 3}, task: {P: 2, D: 2}}\n"
             "axes:\n  - {key: task.lam, linspace: {start: 0.2, stop: 1.0, num: 4}}\n");
  const std::vector<std::string> argv = {"mpirun",
                                         "--oversubscribe",
                                         "--allow-run-as-root",
                                         "-np",
                                         "1",
                                         "-x",
                                         "KERNELSWEEP_ISA=baseline",
                                         binary(),
                                         "run",
                                         "s.yaml",
                                         "--out",
                                         "d.h5",
                                         ":",
                                         "-np",
                                         "2",
                                         binary(),
                                         "run",
                                         "s.yaml",
                                         "--out",
                                         "d.h5"};
  ASSERT_EQ(wait_for(spawn(dir, argv)), 0) << read_text(dir / "run.log");
  std::vector<std::string> ranks;
  for (const auto& row : PhaseDiagramStore::open((dir / "d.h5").string(), false).run_rows()) {
    const auto j = nlohmann::json::parse(row);
    if (j.value("event", "") == "start")
      ranks = j.at("rank_kernel_isa").get<std::vector<std::string>>();
  }
  ASSERT_EQ(ranks.size(), 3u);
  EXPECT_EQ(ranks[0], "baseline");
  EXPECT_EQ(ranks[1], ranks[2]);
  const std::string log = read_text(dir / "run.log");
  if (ranks[1] == "baseline") {
    EXPECT_EQ(log.find("warning"), std::string::npos) << log;
  } else {
    EXPECT_NE(
        log.find("warning: the ranks run different kernel variants (rank 0 baseline, rank 1 " +
                 ranks[1] + ", rank 2 " + ranks[2] + ")"),
        std::string::npos)
        << log;
    EXPECT_NE(log.find("KERNELSWEEP_ISA=baseline on every rank gives the same bits"),
              std::string::npos)
        << log;
  }
  EXPECT_NE(log.find("4/4 done"), std::string::npos) << log;
}

TEST(MpiSweep, SingleProcessSigtermExits75AndStatusListsSlurmJobs) {
  const auto dir = scratch_dir("serial");
  write_text(dir / "s.yaml", kSweep);
  // Longer SGLD runs (as in the test above): the 600-step sweep can finish within 0.7 s on a fast build.
  const pid_t job = spawn(dir, {"env", "SLURM_JOB_ID=4242", "SLURM_ARRAY_TASK_ID=3", binary(), "run", "s.yaml",
                                "--out", "d.h5", "--grace", "0.2", "--set", "base.sgld.steps=6000"});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  kill(job, SIGTERM);
  const int rc = wait_for(job);
  ASSERT_NE(rc, 0) << "finished before the signal";
  EXPECT_EQ(rc, 75) << read_text(dir / "run.log");
  EXPECT_EQ(shell(dir, binary() + " status d.h5 --json"), 0);
  const auto status = nlohmann::json::parse(read_text(dir / "out.log"));
  ASSERT_EQ(status["slurm_jobs"].size(), 1u) << status.dump();
  EXPECT_EQ(status["slurm_jobs"][0]["SLURM_JOB_ID"], "4242");
  EXPECT_EQ(status["slurm_jobs"][0]["SLURM_ARRAY_TASK_ID"], "3");
  EXPECT_GT(status["counts"]["pending"].get<int>(), 0);
  EXPECT_EQ(status["complete"], false);
  // Resumed to the end, the file says it is complete (chained SLURM jobs rely on it).
  ASSERT_EQ(shell(dir, binary() + " run s.yaml --out d.h5 --resume --set base.sgld.steps=6000"), 0);
  ASSERT_EQ(shell(dir, binary() + " status d.h5 --json"), 0);
  const auto final_status = nlohmann::json::parse(read_text(dir / "out.log"));
  EXPECT_EQ(final_status["complete"], true);
  EXPECT_EQ(final_status["counts"]["pending"], 0);
}
