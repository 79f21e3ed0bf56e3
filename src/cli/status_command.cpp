// kernelsweep status diagram.h5 [--json]: counts, failures with messages, contributing runs and
// SLURM jobs. Reads the file without locking it and layers the journal on top, so it works on a
// file a run is writing right now and on a damaged file.
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "io/results_session.hpp"

namespace po = boost::program_options;

namespace kernelsweep::cli {

int run_status(const Arguments& argv) {
  std::string path;
  bool json = false, exit_code = false, verify = false;
  std::size_t limit = 20;
  po::options_description options("options");
  options.add_options()("help,h", "show this help")("file", po::value(&path), "results file (HDF5)")
      ("json", po::bool_switch(&json), "print one JSON object on stdout")
      ("verify", po::bool_switch(&verify), "compare every point of the file with its journal record")
      ("failures", po::value(&limit)->default_value(20), "how many failures to list (text output)")
      ("exit-code", po::bool_switch(&exit_code),
       "exit 0 if complete, 1 if complete with failed / not_converged points, 75 if points are pending");
  parse_command_line(argv, options, "file", "usage: kernelsweep status diagram.h5 [--json] [--exit-code] [--verify]\n");
  if (path.empty()) throw po::error("status needs a results file");
  if (verify) return run_verify(path, json);
  const DiagramSnapshot s = read_snapshot(path, false);
  if (!s.file_readable && !s.journal_present) {
    std::cerr << "error: " << s.file_error << "\n";
    return kExitBadInput;
  }
  std::unique_ptr<SweepGrid> grid;
  try {
    grid = std::make_unique<SweepGrid>(sweep_spec_from_normalized(s.sweep_yaml, path));
  } catch (const std::exception&) {
  }
  std::map<std::string, std::size_t> counts = {{"pending", 0}, {"done", 0}, {"failed", 0}, {"not_converged", 0}};
  for (const auto st : s.status) ++counts[to_string(static_cast<Status>(st))];
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& [p, r] : s.results)
    if (r.status == Status::failed || r.status == Status::not_converged)
      failures.push_back({{"point", p}, {"coordinates", grid ? grid->describe(p) : ""},
                          {"status", to_string(r.status)}, {"message", r.message}});
  // Jobs that contributed: distinct SLURM ids over the run rows.
  nlohmann::json jobs = nlohmann::json::array();
  std::set<std::string> seen;
  for (const auto& row : s.runs) {
    if (!row.is_object() || !row.contains("slurm") || row["slurm"].empty()) continue;
    const std::string key = row["slurm"].dump();
    if (seen.insert(key).second) jobs.push_back(row["slurm"]);
  }
  std::size_t runs = 0;
  for (const auto& row : s.runs) runs += row.is_object() && row.value("event", "") == "start";
  const nlohmann::json out = {{"file", path}, {"file_readable", s.file_readable}, {"file_error", s.file_error},
                              {"journal", s.journal_present}, {"sweep_hash", s.sweep_hash},
                              {"sweep_name", grid ? grid->spec().name : ""}, {"points", s.status.size()},
                              {"counts", counts}, {"complete", counts["pending"] == 0 && s.journal_problem.empty()},
                              {"journal_problem", s.journal_problem},
                              {"failures", failures}, {"runs", runs},
                              {"run_rows", s.runs}, {"slurm_jobs", jobs}, {"attributes", s.attributes}};
  // --exit-code: the outcome for scripts (the job templates decide whether to run) without
  // parsing output: 75 pending, 1 complete with failures, 0 complete.
  int outcome = kExitOk;
  if (exit_code && counts["pending"] > 0)
    outcome = kExitInterrupted;
  else if (exit_code && counts["failed"] + counts["not_converged"] > 0)
    outcome = kExitFailed;
  if (json) {
    std::cout << out.dump() << "\n";
    return outcome;
  }
  std::cout << path << ": sweep " << out["sweep_name"].get<std::string>() << " (hash " << s.sweep_hash << "), "
            << s.status.size() << " points\n";
  if (!s.file_readable) std::cout << "  file unreadable (" << s.file_error << "); counts from the journal\n";
  if (!s.journal_problem.empty()) std::cout << "  journal NOT used: " << s.journal_problem << "\n";
  std::cout << "  done " << counts["done"] << ", failed " << counts["failed"] << ", not_converged "
            << counts["not_converged"] << ", pending " << counts["pending"] << "\n";
  std::cout << "  runs: " << runs << "\n";
  for (const auto& job : jobs) std::cout << "  slurm: " << job.dump() << "\n";
  std::size_t listed = 0;
  for (const auto& f : failures) {
    if (listed++ == limit) {
      std::cout << "  ... " << failures.size() - limit << " more failures (--failures N, --json)\n";
      break;
    }
    std::cout << "  point " << f["point"] << " (" << f["coordinates"].get<std::string>() << ") "
              << f["status"].get<std::string>() << ": " << f["message"].get<std::string>() << "\n";
  }
  return outcome;
}

}  // namespace kernelsweep::cli
