#pragma once
// Lam lines of a sweep grid, the theory's unit of work (docs/theory.md 3.2, README "Lam lines"):
// the points that differ only in task.lam (the lam dimension, with at most theory-irrelevant zip
// partners: sgld.* and model.N). Along a line the linear theory is traced by continuation in
// segments of at most theory.line_points signals, and the transition analysis (theory.critical)
// is done once per line. Segments depend on the grid alone, never on ranks or on which points are
// already done, so every rank layout and every resume gives bit-identical results.
#include <cstdint>
#include <vector>

#include "sweep/point_result.hpp"
#include "sweep/sweep_grid.hpp"

namespace kernelsweep {

class LamLines {
 public:
  explicit LamLines(const SweepGrid& grid);
  // Every point of p's line, in increasing lam (ties: increasing index); {p} without a lam
  // dimension.
  std::vector<std::uint64_t> line_of(std::uint64_t point) const;
  // The line's first point (lam coordinate 0): the line's name.
  std::uint64_t line_key(std::uint64_t point) const;
  // The segments of p's line: consecutive distinct signals split into ceil(n / max_points) runs
  // of nearly equal length; points sharing a signal stay together.
  std::vector<std::vector<std::uint64_t>> segments_of(std::uint64_t point, int max_points) const;
  double lam_of(std::uint64_t point) const;

 private:
  const SweepGrid& grid_;
  int dimension_ = -1;  // the lam dimension; -1: none
  int lam_axis_ = -1;
  std::uint64_t stride_ = 1;  // flat-index step along the lam dimension
};

// A point whose theory a sweep traces along its line: linear, theory enabled, theory.branch auto,
// theory.line_points > 1.
bool traces_lam_line(const PointConfig& config);

// The work of a theory_line task: trace_lambda_line over the segment task.line, one result per
// point of task.record. The theory.time_limit and `seconds` of each result are per point (the
// segment's limit is that times its signal count, its time is shared equally).
void run_theory_line(const SweepGrid& grid, const PointTask& task, TaskResult* result);
// The work of a transition task: transition_result of the line's first point as result->theory
// (shared by every recorded point).
void run_transition(const SweepGrid& grid, const PointTask& task, TaskResult* result);
// The transition analysis of a config's network and task (lam is ignored) as a theory part that
// holds only the transition fields, its status and a "transition: ..." message (merge_transition
// adds it to a point's theory). A timed-out analysis is not_converged with the order missing.
TheoryResult transition_result(const PointConfig& config);

}  // namespace kernelsweep
