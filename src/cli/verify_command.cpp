// kernelsweep status diagram.h5 --verify [--json]: every point of the file compared with its
// journal record (io/file_verification.hpp). Exit 0 if every point matches, 1 if some differ
// (`run --resume` rewrites them from the journal) or some carry traces no journal record accounts
// for (`run --resume` rebuilds the file), 2 if there is nothing to verify against.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "io/file_verification.hpp"

namespace kernelsweep::cli {

int run_verify(const std::string& path, bool json) {
  const FileVerification v = verify_results_file(path);
  if (json) {
    std::cout << nlohmann::json{{"file", path},
                                {"error", v.error},
                                {"checked", v.checked},
                                {"differing", v.differing},
                                {"unverified", v.unverified},
                                {"unaccounted", v.unaccounted}}
                     .dump()
              << "\n";
  } else if (!v.error.empty()) {
    std::cerr << "error: " << v.error << "\n";
  } else {
    std::cout << path << ": " << v.checked << " point(s) checked against the journal, "
              << v.differing.size() << " differ, " << v.unverified.size()
              << " without a journal record\n";
    for (const auto p : v.differing)
      std::cout << "  point " << p << " differs from its journal record\n";
    for (const auto p : v.unaccounted)
      std::cout << "  point " << p
                << " has traces of an interrupted write and no intact journal record\n";
    if (!v.differing.empty())
      std::cout << "  kernelsweep run SWEEP --out " << path << " --resume rewrites them\n";
    if (!v.unaccounted.empty())
      std::cout << "  kernelsweep run SWEEP --out " << path
                << " --resume rebuilds the file from the journal and recomputes them\n";
  }
  if (!v.error.empty()) return kExitBadInput;
  return v.differing.empty() && v.unaccounted.empty() ? kExitOk : kExitFailed;
}

}  // namespace kernelsweep::cli
