#pragma once
// What a grid point produces, as the results file and the journal store it: a status, a message,
// named float64 scalars (one dataset each over the grid) and named kernels (per-point arrays).
// Also the unit of work the scheduler moves between ranks (PointTask -> TaskResult), and their
// byte encodings (CBOR: doubles travel bit-exact, so resumed results stay bit-identical).
#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sgld/sgld_runner.hpp"

namespace kernelsweep {


// The scalar datasets of the results file, in file order (NaN where not computed).
const std::vector<std::string>& scalar_result_names();

struct PointResult {
  std::uint64_t point = 0;
  Status status = Status::failed;
  std::string message;
  std::map<std::string, double> scalars;            // names from scalar_result_names()
  std::map<std::string, Eigen::MatrixXd> kernels;   // theory_H, theory_C, sgld_H, ... (see README)
  double wall_time = 0.0;  // seconds of computation summed over the point's tasks
  int rank = 0;            // rank that computed the theory (or the first SGLD task)
};

// A piece of one grid point: its theory (if enabled) and/or SGLD replicas [replica_begin, replica_end).
struct PointTask {
  std::uint64_t point = 0;
  bool theory = false;
  int replica_begin = 0, replica_end = 0;
  double cost = 0.0;  // estimated, arbitrary units; only the order matters
};

struct TaskResult {
  PointTask task;
  std::string error;  // a thrown exception's message: the point fails with it
  bool has_theory = false;
  std::map<std::string, double> theory_scalars;
  std::map<std::string, Eigen::MatrixXd> theory_kernels;
  int theory_status = 0;  // Status as int
  std::string theory_message;
  std::vector<SgldReplicaResult> replicas;
  double seconds = 0.0;
  int rank = 0;
};

std::vector<std::uint8_t> encode(const PointTask& task);
PointTask decode_task(const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> encode(const TaskResult& result);
TaskResult decode_task_result(const std::vector<std::uint8_t>& bytes);
std::vector<std::uint8_t> encode(const PointResult& result);
PointResult decode_point_result(const std::vector<std::uint8_t>& bytes);

}  // namespace kernelsweep
