// The kernelsweep solve / critical commands as a user meets them: one clear "error: ..." line and
// exit code 2 for every class of bad input, a failed status (exit 1) for solver breakdown, and the
// JSON contract of `--json`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kernelsweep_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  Outcome run(const std::string& args) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string command =
        std::string(KERNELSWEEP_BINARY) + " " + args + " > " + out.string() + " 2> " + err.string();
    const int status = std::system(command.c_str());
    Outcome o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = read(out);
    o.err = read(err);
    return o;
  }

  // A bad input: exit code 2, exactly one line on stderr starting with "error:", naming `what`.
  void expect_bad_input(const std::string& args, const std::string& what) {
    const Outcome o = run(args);
    EXPECT_EQ(o.exit_code, 2) << args << "\n" << o.err;
    EXPECT_EQ(o.err.rfind("error: ", 0), 0u) << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
    EXPECT_NE(o.err.find(what), std::string::npos) << "expected '" << what << "' in: " << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }

  fs::path dir_;
};

TEST_F(Cli, SyntaxError) {
  expect_bad_input("solve " + write("p.yaml", "model: {T: 4\ntask: [").string(),
                   "YAML syntax error at line");
}

TEST_F(Cli, UnknownKeys) {
  expect_bad_input("solve " + write("p.yaml", "model:\n  depth: 3\n").string(),
                   "unknown key model.depth");
  expect_bad_input("solve " + write("q.yaml", "modle:\n  T: 3\n").string(), "unknown key modle");
  expect_bad_input("solve " + write("r.yaml", "").string() + " --set theory.foo=1",
                   "unknown key theory.foo");
}

TEST_F(Cli, WrongTypes) {
  expect_bad_input("solve " + write("p.yaml", "model:\n  T: four\n").string(),
                   "model.T must be an integer");
  expect_bad_input("solve " + write("q.yaml", "model:\n  w: [1, 2]\n").string(),
                   "model.w must be a number");
  expect_bad_input("solve " + write("r.yaml", "theory:\n  landau: maybe\n").string(),
                   "theory.landau must be true or false");
  expect_bad_input("solve " + write("s.yaml", "model:\n  architecture: lstm\n").string(),
                   "model.architecture must be one of rnn|dnn, got lstm");
  expect_bad_input("solve " + write("t.yaml", "- 1\n- 2\n").string(), "must be a map");
}

TEST_F(Cli, OutOfRange) {
  const std::string empty = write("p.yaml", "").string();
  expect_bad_input("solve " + empty + " --set model.T=-3",
                   "model.T must be an integer >= 1, got -3");
  expect_bad_input("solve " + empty + " --set model.kappa=0",
                   "model.kappa must be a number > 0, got 0");
  expect_bad_input("solve " + empty + " --set task.lam=-1", "task.lam must be a number >= 0");
  expect_bad_input("solve " + empty + " --set task.P=8", "task.D must be >= task.P");
  expect_bad_input("solve " + empty + " --set task.kind=sinusoid --set task.supervised=[0,9]",
                   "task.supervised must be");
  expect_bad_input("solve " + empty + " --set model.activation=erf --set theory.landau=true",
                   "theory.landau");
  expect_bad_input("solve " + empty + " --set model.T", "--set needs key.path=value");
}

// Inputs spanning fewer than P dimensions make K singular: refused before solving.
TEST_F(Cli, KernelNotPositiveDefinite) {
  expect_bad_input(
      "solve " + write("p.yaml", "task:\n  kind: teacher_sequence\n  P: 4\n  D: 2\n").string(),
      "K is not positive definite");
}

TEST_F(Cli, MissingFileAndCommand) {
  expect_bad_input("solve " + (dir_ / "absent.yaml").string(), "cannot open");
  expect_bad_input("frobnicate x.yaml", "unknown command");
}

// No file: every key at its default; "-": the config from standard input; both as with a file.
TEST_F(Cli, SolveWithoutAFileUsesDefaultsAndDashReadsStdin) {
  const Outcome defaults = run("solve --json --set theory.landau=false");
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  const auto a = nlohmann::json::parse(defaults.out);
  EXPECT_EQ(a["config"]["model"]["T"], 4);
  const Outcome piped = run("solve - --json < " + write("p.yaml", "model: {T: 4}\n").string());
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  const auto b = nlohmann::json::parse(piped.out);
  EXPECT_EQ(a["theory"]["q"], b["theory"]["q"]);
  EXPECT_EQ(a["theory"]["free_energy"], b["theory"]["free_energy"]);
}

TEST_F(Cli, StrictYamlRefusesDuplicatesExtraDocumentsNullsAndBadPaths) {
  expect_bad_input("solve " + write("d.yaml", "model: {T: 2, T: 3}\n").string(), "duplicate key model.T");
  expect_bad_input("solve " + write("two.yaml", "model: {T: 2}\n---\nmodel: {T: 3}\n").string(),
                   "holds 2 YAML documents");
  expect_bad_input("solve " + write("n.yaml", "model: {T: }\n").string(), "model.T has no value");
  expect_bad_input("solve " + write("s.yaml", "model:\n").string(), "model has no value");
  expect_bad_input("solve --set model.T.=3", "malformed key path");
  expect_bad_input("solve " + dir_.string(), "is a directory");
}

// A signal far beyond where the saddle point can be continued: status failed with a message and
// exit code 1, valid JSON, no crash.
TEST_F(Cli, SolverBreakdownIsReportedNotCrashed) {
  const Outcome o =
      run("solve " + write("p.yaml", "model: {architecture: dnn}\ntask: {lam: 1.0e6}\n").string() +
          " --json");
  EXPECT_EQ(o.exit_code, 1) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["theory"]["status"], "failed");
  EXPECT_NE(j["theory"]["message"].get<std::string>().find("breakdown"), std::string::npos);
}

TEST_F(Cli, SolveJsonContract) {
  const Outcome o =
      run("solve " + std::string(KERNELSWEEP_SOURCE_DIR) + "/sweeps/default_point.yaml --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);  // exactly one JSON document, or this throws
  ASSERT_TRUE(j.contains("config"));
  EXPECT_EQ(j["config"]["model"]["T"], 4);
  EXPECT_EQ(j["config"]["task"]["supervised"], nlohmann::json::array({3}));
  EXPECT_EQ(j["config"]["sgld"]["enabled"], false);
  const auto& t = j["theory"];
  EXPECT_EQ(t["status"], "done");
  EXPECT_EQ(t["branch"], "broken");
  ASSERT_EQ(t["H"].size(), 16u);
  ASSERT_EQ(t["H"][0].size(), 16u);
  ASSERT_EQ(t["f"].size(), 16u);
  double q = 0.0;  // q = (1/P) sum_p H^{(T-1,p),(T-2,p)} with mu = t P + p
  for (int p = 0; p < 4; ++p) q += t["H"][12 + p][8 + p].get<double>() / 4;
  EXPECT_NEAR(t["q"].get<double>(), q, 1e-12);
  EXPECT_LT(t["free_energy_broken"].get<double>(), t["free_energy_symmetric"].get<double>());
  EXPECT_EQ(t["free_energy_broken"], t["free_energy"]);
  EXPECT_LT(t["residual"].get<double>(), 1e-10);
  EXPECT_TRUE(t["iterations"].is_number_integer());
  ASSERT_TRUE(t.contains("landau_q"));
  EXPECT_EQ(t["landau_q"].size(), t["landau_F"].size());
  EXPECT_EQ(j["status"], "done");
  // theory.states: one object per entry of the state_* arrays; the reported one is stable and
  // has the lowest F of the stable ones; above lambda_c the symmetric state is a saddle.
  ASSERT_EQ(t["states"].size(), t["state_q"].size());
  ASSERT_GE(t["states"].size(), 2u);
  const auto& selected = t["states"][t["selected_state"].get<std::size_t>()];
  EXPECT_EQ(selected["q"], t["q"]);
  EXPECT_EQ(selected["free_energy"], t["free_energy"]);
  EXPECT_EQ(selected["kind"], "broken");
  EXPECT_EQ(t["stable"], true);
  bool saw_symmetric = false;
  for (std::size_t i = 0; i < t["states"].size(); ++i) {
    const auto& s = t["states"][i];
    EXPECT_EQ(s["q"], t["state_q"][i]);
    EXPECT_EQ(s["residual"], t["state_residual"][i]);
    EXPECT_FALSE(s.contains("map_eigenvalue"));  // erf only
    if (s["stable"] == true) {
      EXPECT_GE(s["free_energy"].get<double>(), t["free_energy"].get<double>());
    }
    if (s["kind"] == "symmetric") {
      saw_symmetric = true;
      EXPECT_EQ(s["stable"], false);
      EXPECT_EQ(s["q"], 0.0);
    }
  }
  EXPECT_TRUE(saw_symmetric);
}

// erf: every state carries the deciding eigenvalue of the fixed-point map's Jacobian with its
// Monte-Carlo error. At lam = 3 (far above the transition, P = D = 2, T = 3) the broken state is
// stable (eigenvalue below 1 by more than theory.stability_sigmas errors) and the symmetric
// state, a saddle there, is not.
TEST_F(Cli, ErfSolveJsonCarriesTheMapEigenvalueOfEveryState) {
  const Outcome o = run(
      "solve --json --set model.activation=erf --set model.T=3 --set task.P=2 --set task.D=2 "
      "--set task.lam=3 --set theory.samples=1000");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto t = nlohmann::json::parse(o.out)["theory"];
  ASSERT_EQ(t["status"], "done") << t["message"];
  ASSERT_EQ(t["states"].size(), 2u);
  const double sigmas = 3.0;  // theory.stability_sigmas' default
  EXPECT_EQ(t["stable"], true);
  EXPECT_EQ(t["map_eigenvalue_sector"], "full");  // a broken state has no W -> -W symmetry
  EXPECT_GT(t["map_eigenvalue_stderr"].get<double>(), 0.0);
  EXPECT_LT(t["map_eigenvalue"].get<double>() + sigmas * t["map_eigenvalue_stderr"].get<double>(), 1.0);
  for (const auto& s : t["states"]) {
    ASSERT_TRUE(s.contains("map_eigenvalue")) << s;
    const double lambda = s["map_eigenvalue"], error = s["map_eigenvalue_stderr"];
    if (s["kind"] == "broken") {
      EXPECT_EQ(s["stable"], true);
      EXPECT_EQ(lambda, t["map_eigenvalue"].get<double>());
    } else {
      EXPECT_EQ(s["kind"], "symmetric");
      EXPECT_EQ(s["stable"], false);
      EXPECT_GT(lambda - sigmas * error, 1.0);
    }
  }
  expect_bad_input("solve --set theory.stability_sigmas=0", "theory.stability_sigmas must be");
}

TEST_F(Cli, CriticalJson) {
  const Outcome o =
      run("critical " + std::string(KERNELSWEEP_SOURCE_DIR) + "/sweeps/default_point.yaml --json");
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  const double lambda_c = j["lambda_c"];
  EXPECT_GE(lambda_c, j["bracket"][0].get<double>());
  EXPECT_LE(lambda_c, j["bracket"][1].get<double>());
  EXPECT_LT(j["bracket"][1].get<double>() - j["bracket"][0].get<double>(), 1e-9);
  // The bracket straddles the transition: symmetric below, broken above.
  const std::string point = std::string(KERNELSWEEP_SOURCE_DIR) + "/sweeps/default_point.yaml";
  const auto below = nlohmann::json::parse(
      run("solve " + point + " --json --set task.lam=" + std::to_string(lambda_c * 0.99)).out);
  const auto above = nlohmann::json::parse(
      run("solve " + point + " --json --set task.lam=" + std::to_string(lambda_c * 1.01)).out);
  EXPECT_EQ(below["theory"]["branch"], "symmetric");
  EXPECT_EQ(above["theory"]["branch"], "broken");
  expect_bad_input("critical " + point + " --set theory.landau=false --set model.architecture=dnn",
                   "no transition");
}

}  // namespace
