// Records the phase-diagram answers of a fixed set of linear-theory problems (traced lam lines at
// T = 8, 5, 6 and single-point solves incl. the teacher_sequence T = 10 problem) and compares two
// such records, so that a speed change can be shown not to change the physics. Run:
//   build/<preset>/bench/theory_snapshot record FILE [quick]   (quick: skip the 200-point line)
//   build/<preset>/bench/theory_snapshot compare OLD NEW [rtol]
// Per point: status, selected index, stable count, number of states; per state: kind, status,
// stable, q, F. compare: the discrete fields must agree exactly, q and F to rtol (default 1e-9)
// relative to (1 + |value|).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "model/memory_tuning.hpp"
#include "theory/lambda_line.hpp"
#include "theory/saddle_point.hpp"

namespace kernelsweep {
namespace {

void write_summary(std::ostream& out, const std::string& label, const TheorySummary& s) {
  out << "point " << label << " status " << to_string(s.status) << " selected " << s.selected
      << " stable " << s.stable_count() << " states " << s.states.size() << "\n";
  for (const auto& st : s.states) {
    out << "state " << st.name << " " << to_string(st.status) << " " << (st.stable ? 1 : 0) << " "
        << st.q << " " << st.free_energy << " " << st.residual << " " << st.C.rows();
    // The upper triangle of C (ignored by the discrete/q/F comparison; compared as |dC|_F / |C|_F).
    for (Eigen::Index j = 0; j < st.C.cols(); ++j)
      for (Eigen::Index i = 0; i <= j; ++i) out << " " << st.C(i, j);
    out << "\n";
  }
}

// The trailing fields of a state line: residual, then C's size and upper triangle (empty if the
// record predates them).
std::vector<double> trailing_fields(std::istringstream& x, double* residual) {
  std::vector<double> c;
  int m = 0;
  if (!(x >> *residual >> m)) return c;
  for (double v; x >> v;) c.push_back(v);
  return c;
}

double relative_distance(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty()) return 0.0;
  double d = 0.0, n = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    d += (a[k] - b[k]) * (a[k] - b[k]);
    n += a[k] * a[k];
  }
  return n > 0.0 ? std::sqrt(d / n) : 0.0;
}

std::vector<double> grid(double lo, double hi, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(lo + (hi - lo) * i / double(n - 1));
  return out;
}

void record_line(std::ostream& out, const std::string& name, int T, const std::vector<double>& lams,
                 int random_seeds = 2) {
  NetworkSpec n;
  n.T = T;
  TheoryOptions options;
  options.random_seeds = random_seeds;
  std::vector<TheorySummary> line;
  const auto start = std::chrono::steady_clock::now();
  trace_lambda_line(options, n, TaskSpec{}, lams, &line);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << name << ": " << seconds << " s\n";
  for (std::size_t i = 0; i < lams.size(); ++i) {
    std::ostringstream label;
    label << name << "@" << std::setprecision(17) << lams[i];
    write_summary(out, label.str(), line[i]);
  }
}

void record_point(std::ostream& out, const std::string& name, int T, const TaskSpec& task) {
  NetworkSpec n;
  n.T = T;
  TheorySummary s;
  const auto start = std::chrono::steady_clock::now();
  solve_saddle_point(TheoryOptions{}, TheoryProblem{n, make_dataset(task, T)}, &s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << name << ": " << seconds << " s\n";
  write_summary(out, name, s);
}

int record(const std::string& file, bool quick) {
  std::ofstream out(file);
  out << std::setprecision(17);
  if (!quick) record_line(out, "T8x200", 8, grid(1.0, 2.0, 200));
  record_line(out, "T8x12", 8, grid(0.3, 2.0, 12));
  record_line(out, "T8x6_noseeds", 8, {1.0, 1.2, 1.4, 1.6, 1.8, 2.0}, 0);
  record_line(out, "T5x25", 5, grid(0.4, 0.9, 25));
  record_line(out, "T6x25", 6, grid(0.4, 0.6, 25));
  record_line(out, "T4x10", 4, grid(0.5, 1.5, 10));
  for (double lam : {0.3, 1.0}) {
    TaskSpec task;
    task.lam = lam;
    record_point(out, "T8point@" + std::to_string(lam), 8, task);
  }
  TaskSpec t6;
  t6.lam = 0.49;
  record_point(out, "T6point@0.49", 6, t6);
  for (const std::vector<int>& supervised : {std::vector<int>{0, 3, 6}, std::vector<int>{4, 9}}) {
    TaskSpec task;
    task.kind = TaskKind::teacher_sequence;
    task.lam = 1.0;
    task.supervised.mode = Supervision::Mode::list;
    task.supervised.times = supervised;
    record_point(out, "teacherT10_" + std::to_string(supervised.front()), 10, task);
  }
  return 0;
}

struct PointRecord {
  std::string header;
  std::vector<std::string> states;
};

// Point label -> its record, in file order.
std::vector<std::pair<std::string, PointRecord>> read_points(const std::string& file) {
  std::ifstream in(file);
  std::vector<std::pair<std::string, PointRecord>> points;
  for (std::string line; std::getline(in, line);) {
    std::istringstream x(line);
    std::string tag, label;
    x >> tag >> label;
    if (tag == "point")
      points.push_back({label, PointRecord{line, {}}});
    else if (!points.empty())
      points.back().second.states.push_back(line);
  }
  return points;
}

bool close(double a, double b, double rtol) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::abs(a - b) <= rtol * (1.0 + std::max(std::abs(a), std::abs(b)));
}

// Points are matched by label (points missing from either file are skipped and counted), states
// in order.
int compare(const std::string& old_file, const std::string& new_file, double rtol) {
  const auto a = read_points(old_file), b = read_points(new_file);
  int mismatches = 0, compared = 0;
  double worst = 0.0, worst_F = 0.0, worst_C = 0.0, worst_residual = 0.0;
  for (const auto& [label, old_point] : a) {
    const auto it =
        std::find_if(b.begin(), b.end(), [&](const auto& p) { return p.first == label; });
    if (it == b.end()) continue;
    ++compared;
    const PointRecord& new_point = it->second;
    bool same =
        old_point.header == new_point.header && old_point.states.size() == new_point.states.size();
    for (std::size_t i = 0; same && i < old_point.states.size(); ++i) {
      std::istringstream x(old_point.states[i]), y(new_point.states[i]);
      std::string tag, name1, status1, name2, status2;
      int stable1, stable2;
      double q1, F1, q2, F2;
      x >> tag >> name1 >> status1 >> stable1 >> q1 >> F1;
      y >> tag >> name2 >> status2 >> stable2 >> q2 >> F2;
      worst = std::max(worst, std::max(std::abs(q1 - q2) / (1.0 + std::abs(q1)),
                                       std::abs(F1 - F2) / (1.0 + std::abs(F1))));
      worst_F = std::max(worst_F, std::abs(F1 - F2) / std::max(std::abs(F1), 1e-300));
      double r1 = 0.0, r2 = 0.0;
      const std::vector<double> c1 = trailing_fields(x, &r1), c2 = trailing_fields(y, &r2);
      worst_C = std::max(worst_C, relative_distance(c1, c2));
      worst_residual = std::max(worst_residual, std::max(r1, r2));
      same = name1 == name2 && status1 == status2 && stable1 == stable2 && close(q1, q2, rtol) &&
             close(F1, F2, rtol);
    }
    if (same) continue;
    ++mismatches;
    std::cout << "differs:\n  " << old_point.header << "\n";
    for (const auto& line : old_point.states) std::cout << "    " << line << "\n";
    std::cout << "  " << new_point.header << "\n";
    for (const auto& line : new_point.states) std::cout << "    " << line << "\n";
  }
  std::cout << compared << " points compared, " << mismatches
            << " differ; largest relative difference of q or F among matching ones: " << worst
            << "\n"
            << "among matching states: max |dF| / |F| " << worst_F << ", max |dC|_F / |C|_F "
            << worst_C << ", max residual " << worst_residual << "\n";
  return mismatches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace kernelsweep

int main(int argc, char** argv) {
  kernelsweep::keep_freed_memory_for_reuse();  // as the kernelsweep executable does
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "record")
    return kernelsweep::record(args[1], args.size() > 2 && args[2] == "quick");
  if (args.size() >= 3 && args[0] == "compare")
    return kernelsweep::compare(args[1], args[2], args.size() > 3 ? std::stod(args[3]) : 1e-9);
  std::cerr << "usage: theory_snapshot record FILE [quick] | compare OLD NEW [rtol]\n";
  return 2;
}
