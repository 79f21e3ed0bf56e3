#include "sweep/point_result.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace kernelsweep {

using json = nlohmann::json;

const std::vector<std::string>& scalar_result_names() {
  static const std::vector<std::string> names = {
      "theory_q", "theory_q_stderr", "theory_free_energy", "theory_free_energy_stderr",
      "theory_residual", "theory_iterations", "theory_branch", "theory_generalization_error",
      "theory_free_energy_symmetric", "theory_free_energy_broken", "theory_q_broken",
      "sgld_q_mean", "sgld_q_stderr", "sgld_abs_q_mean", "sgld_abs_q_stderr", "sgld_cka_H", "sgld_cka_C",
      "sgld_outlier_eigenvalue", "sgld_bulk_radius", "sgld_generalization_error",
      "sgld_steps_per_second"};
  return names;
}

namespace {

// Matrices as raw little-endian doubles: exact, compact.
json matrix_record(const Eigen::MatrixXd& m) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(m.size()) * sizeof(double));
  if (!bytes.empty()) std::memcpy(bytes.data(), m.data(), bytes.size());
  return {{"rows", m.rows()}, {"cols", m.cols()}, {"data", json::binary(std::move(bytes))}};
}

Eigen::MatrixXd matrix_from_record(const json& j) {
  Eigen::MatrixXd m(j.at("rows").get<Eigen::Index>(), j.at("cols").get<Eigen::Index>());
  const auto& bytes = j.at("data").get_binary();
  if (bytes.size() != static_cast<std::size_t>(m.size()) * sizeof(double))
    throw std::runtime_error("corrupt matrix record");
  if (!bytes.empty()) std::memcpy(m.data(), bytes.data(), bytes.size());
  return m;
}

json matrices(const std::map<std::string, Eigen::MatrixXd>& ms) {
  json j = json::object();
  for (const auto& [name, m] : ms) j[name] = matrix_record(m);
  return j;
}

std::map<std::string, Eigen::MatrixXd> matrices(const json& j) {
  std::map<std::string, Eigen::MatrixXd> ms;
  for (const auto& [name, m] : j.items()) ms[name] = matrix_from_record(m);
  return ms;
}

// CBOR keeps doubles bit-exact, NaN included (JSON text would turn NaN into null).
json scalars(const std::map<std::string, double>& s) {
  json j = json::object();
  for (const auto& [name, x] : s) j[name] = x;
  return j;
}

std::map<std::string, double> scalars(const json& j) {
  std::map<std::string, double> s;
  for (const auto& [name, x] : j.items()) s[name] = x.get<double>();
  return s;
}

json task_json(const PointTask& t) {
  return {{"point", t.point}, {"theory", t.theory}, {"replica_begin", t.replica_begin},
          {"replica_end", t.replica_end}, {"cost", t.cost}};
}

PointTask task_from(const json& j) {
  PointTask t;
  t.point = j.at("point").get<std::uint64_t>();
  t.theory = j.at("theory").get<bool>();
  t.replica_begin = j.at("replica_begin").get<int>();
  t.replica_end = j.at("replica_end").get<int>();
  t.cost = j.at("cost").get<double>();
  return t;
}

std::vector<std::uint8_t> to_bytes(const json& j) { return json::to_cbor(j); }

json from_bytes(const std::vector<std::uint8_t>& bytes) {
  try {
    return json::from_cbor(bytes);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("corrupt message: ") + e.what());
  }
}

}  // namespace

std::vector<std::uint8_t> encode(const PointTask& task) { return to_bytes(task_json(task)); }
PointTask decode_task(const std::vector<std::uint8_t>& bytes) { return task_from(from_bytes(bytes)); }

std::vector<std::uint8_t> encode(const TaskResult& r) {
  json replicas = json::array();
  for (const auto& rep : r.replicas) {
    replicas.push_back({{"replica", rep.replica}, {"failed", rep.failed}, {"message", rep.message},
                        {"H", matrix_record(Eigen::MatrixXd(rep.H))}, {"C", matrix_record(Eigen::MatrixXd(rep.C))}, {"f", matrix_record(Eigen::MatrixXd(rep.f))},
                        {"q", rep.q}, {"abs_q", rep.abs_q},
                        {"outlier_eigenvalue", matrix_record(Eigen::MatrixXd(rep.outlier_eigenvalue))},
                        {"bulk_radius", rep.bulk_radius}, {"energy_trace", rep.energy_trace},
                        {"steps", rep.steps}, {"seconds", rep.seconds}});
  }
  return to_bytes({{"task", task_json(r.task)}, {"error", r.error}, {"has_theory", r.has_theory},
                   {"theory_scalars", scalars(r.theory_scalars)},
                   {"theory_kernels", matrices(r.theory_kernels)},
                   {"theory_status", r.theory_status}, {"theory_message", r.theory_message},
                   {"replicas", replicas}, {"seconds", r.seconds}, {"rank", r.rank}});
}

TaskResult decode_task_result(const std::vector<std::uint8_t>& bytes) {
  const json j = from_bytes(bytes);
  TaskResult r;
  r.task = task_from(j.at("task"));
  r.error = j.at("error").get<std::string>();
  r.has_theory = j.at("has_theory").get<bool>();
  r.theory_scalars = scalars(j.at("theory_scalars"));
  r.theory_kernels = matrices(j.at("theory_kernels"));
  r.theory_status = j.at("theory_status").get<int>();
  r.theory_message = j.at("theory_message").get<std::string>();
  for (const auto& rj : j.at("replicas")) {
    SgldReplicaResult rep;
    rep.replica = rj.at("replica").get<int>();
    rep.failed = rj.at("failed").get<bool>();
    rep.message = rj.at("message").get<std::string>();
    rep.H = matrix_from_record(rj.at("H"));
    rep.C = matrix_from_record(rj.at("C"));
    rep.f = matrix_from_record(rj.at("f"));
    rep.q = rj.at("q").get<double>();
    rep.abs_q = rj.at("abs_q").get<double>();
    rep.outlier_eigenvalue = matrix_from_record(rj.at("outlier_eigenvalue"));
    rep.bulk_radius = rj.at("bulk_radius").get<double>();
    rep.energy_trace = rj.at("energy_trace").get<std::vector<double>>();
    rep.steps = rj.at("steps").get<long long>();
    rep.seconds = rj.at("seconds").get<double>();
    r.replicas.push_back(std::move(rep));
  }
  r.seconds = j.at("seconds").get<double>();
  r.rank = j.at("rank").get<int>();
  return r;
}

std::vector<std::uint8_t> encode(const PointResult& r) {
  return to_bytes({{"point", r.point}, {"status", static_cast<int>(r.status)}, {"message", r.message},
                   {"scalars", scalars(r.scalars)}, {"kernels", matrices(r.kernels)},
                   {"wall_time", r.wall_time}, {"rank", r.rank}});
}

PointResult decode_point_result(const std::vector<std::uint8_t>& bytes) {
  const json j = from_bytes(bytes);
  PointResult r;
  r.point = j.at("point").get<std::uint64_t>();
  r.status = static_cast<Status>(j.at("status").get<int>());
  r.message = j.at("message").get<std::string>();
  r.scalars = scalars(j.at("scalars"));
  r.kernels = matrices(j.at("kernels"));
  r.wall_time = j.at("wall_time").get<double>();
  r.rank = j.at("rank").get<int>();
  return r;
}

}  // namespace kernelsweep
