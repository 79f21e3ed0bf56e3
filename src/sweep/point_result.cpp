#include "sweep/point_result.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sweep/result_fields.hpp"

namespace kernelsweep {

using json = nlohmann::json;

namespace {

// Records carry the schema version: a journal from before the field table is refused by name.
constexpr int kSchemaVersion = 2;

Eigen::MatrixXd column(const Eigen::VectorXd& v) {
  return v;
}

json task_json(const PointTask& t) {
  return {{"point", t.point},
          {"theory", t.theory},
          {"replica_begin", t.replica_begin},
          {"replica_end", t.replica_end},
          {"cost", t.cost},
          {"kind", static_cast<int>(t.kind)},
          {"line", t.line},
          {"record", t.record}};
}

PointTask task_from(const json& j) {
  PointTask t;
  t.point = j.at("point").get<std::uint64_t>();
  t.theory = j.at("theory").get<bool>();
  t.replica_begin = j.at("replica_begin").get<int>();
  t.replica_end = j.at("replica_end").get<int>();
  t.cost = j.at("cost").get<double>();
  t.kind = static_cast<WorkKind>(j.at("kind").get<int>());
  t.line = j.at("line").get<std::vector<std::uint64_t>>();
  t.record = j.at("record").get<std::vector<std::uint64_t>>();
  return t;
}

json moments_json(const sgld::KernelMoments& m) {
  return {
      {"mean", binary_matrix(m.mean)}, {"variance", binary_matrix(m.variance)}, {"count", m.count}};
}

sgld::KernelMoments moments_from(const json& j) {
  sgld::KernelMoments m;
  m.mean = matrix_from_binary(j.at("mean"));
  m.variance = matrix_from_binary(j.at("variance"));
  m.count = j.at("count").get<long long>();
  return m;
}

json replica_json(const SgldReplicaResult& rep) {
  return {{"replica", rep.replica},
          {"failed", rep.failed},
          {"message", rep.message},
          {"H", binary_matrix(rep.H)},
          {"C", binary_matrix(rep.C)},
          {"f", binary_matrix(column(rep.f))},
          {"q", rep.q},
          {"abs_q", rep.abs_q},
          {"outlier_eigenvalue", binary_matrix(column(rep.outlier_eigenvalue))},
          {"bulk_radius", rep.bulk_radius},
          {"energy_trace", rep.energy_trace},
          {"steps", rep.steps},
          {"seconds", rep.seconds},
          {"eta", rep.eta},
          {"curvature", rep.curvature},
          {"step_check", rep.step_check},
          {"sign_symmetric", rep.sign_symmetric},
          {"q_trace", rep.q_trace},
          {"energy_samples", rep.energy_samples},
          {"trace_stride", rep.trace_stride},
          {"H_halves", {moments_json(rep.H_halves[0]), moments_json(rep.H_halves[1])}},
          {"eigenvalues_re", binary_matrix(rep.top_eigenvalues.real())},
          {"eigenvalues_im", binary_matrix(rep.top_eigenvalues.imag())}};
}

SgldReplicaResult replica_from(const json& rj) {
  SgldReplicaResult rep;
  rep.replica = rj.at("replica").get<int>();
  rep.failed = rj.at("failed").get<bool>();
  rep.message = rj.at("message").get<std::string>();
  rep.H = matrix_from_binary(rj.at("H"));
  rep.C = matrix_from_binary(rj.at("C"));
  rep.f = matrix_from_binary(rj.at("f"));
  rep.q = rj.at("q").get<double>();
  rep.abs_q = rj.at("abs_q").get<double>();
  rep.outlier_eigenvalue = matrix_from_binary(rj.at("outlier_eigenvalue"));
  rep.bulk_radius = rj.at("bulk_radius").get<double>();
  rep.energy_trace = rj.at("energy_trace").get<std::vector<double>>();
  rep.steps = rj.at("steps").get<long long>();
  rep.seconds = rj.at("seconds").get<double>();
  rep.eta = rj.at("eta").get<double>();
  rep.curvature = rj.at("curvature").get<double>();
  rep.step_check = rj.at("step_check").get<bool>();
  rep.sign_symmetric = rj.at("sign_symmetric").get<bool>();
  rep.q_trace = rj.at("q_trace").get<std::vector<double>>();
  rep.energy_samples = rj.at("energy_samples").get<std::vector<double>>();
  rep.trace_stride = rj.at("trace_stride").get<long long>();
  for (std::size_t h = 0; h < 2; ++h) rep.H_halves[h] = moments_from(rj.at("H_halves").at(h));
  const Eigen::MatrixXd re = matrix_from_binary(rj.at("eigenvalues_re"));
  const Eigen::MatrixXd im = matrix_from_binary(rj.at("eigenvalues_im"));
  rep.top_eigenvalues = Eigen::MatrixXcd(re.rows(), re.cols());
  rep.top_eigenvalues.real() = re;
  rep.top_eigenvalues.imag() = im;
  return rep;
}

std::vector<std::uint8_t> to_bytes(const json& j) {
  return json::to_cbor(j);
}

json from_bytes(const std::vector<std::uint8_t>& bytes) {
  try {
    return json::from_cbor(bytes);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("corrupt message: ") + e.what());
  }
}

const JsonOptions kExact{.arrays = true, .binary_arrays = true, .point_fields = true};

json theory_json(const TheoryResult& theory) {
  PointResult holder;
  holder.theory = theory;
  return to_json(holder, kExact).at("theory");
}

TheoryResult theory_from(const json& j) {
  return *result_from_json({{"theory", j}}).theory;
}

}  // namespace

TheoryResult make_theory_result(const TheorySummary& s, double seconds) {
  TheoryResult t;
  t.status = s.status;
  t.message = s.message;
  t.seconds = seconds;
  const auto n = static_cast<Eigen::Index>(s.states.size());
  t.state_q.resize(n, 1);
  t.state_free_energy.resize(n, 1);
  t.state_stable.resize(n, 1);
  t.state_kind.resize(n, 1);
  t.state_residual.resize(n, 1);
  t.state_map_eigenvalue.resize(n, 1);
  t.state_map_eigenvalue_stderr.resize(n, 1);
  const StationaryState* broken = nullptr;
  for (Eigen::Index i = 0; i < n; ++i) {
    const StationaryState& state = s.states[static_cast<std::size_t>(i)];
    t.state_q(i) = state.q;
    t.state_free_energy(i) = state.free_energy;
    t.state_stable(i) = state.stable ? 1.0 : 0.0;
    t.state_kind(i) = static_cast<int>(state.kind);
    t.state_residual(i) = state.residual;
    t.state_map_eigenvalue(i) = state.map_eigenvalue;
    t.state_map_eigenvalue_stderr(i) = state.map_eigenvalue_stderr;
    if (state.kind == StateKind::symmetric && std::isnan(t.free_energy_symmetric))
      t.free_energy_symmetric = state.free_energy;
    // The broken branch: its lowest-F converged q > 0 member (its W -> -W image has the same F).
    if (state.kind == StateKind::broken && state.status != Status::failed && state.q > 0 &&
        (broken == nullptr || state.free_energy < broken->free_energy))
      broken = &state;
  }
  if (broken != nullptr) {
    t.free_energy_broken = broken->free_energy;
    t.q_broken = broken->q;
  }
  if (!s.states.empty()) t.stable_states = s.stable_count();
  if (s.landau) {
    t.landau_q = Eigen::Map<const Eigen::VectorXd>(s.landau->q.data(),
                                                   static_cast<Eigen::Index>(s.landau->q.size()));
    t.landau_F = Eigen::Map<const Eigen::VectorXd>(s.landau->F.data(),
                                                   static_cast<Eigen::Index>(s.landau->F.size()));
  }
  if (s.selected < 0) return t;
  t.selected_state = s.selected;
  const BranchSolution& b = s.solution();
  t.branch = static_cast<BranchKind>(static_cast<int>(b.kind));
  t.q = b.q;
  t.free_energy = b.free_energy;
  t.residual = b.residual;
  t.iterations = b.iterations;
  t.map_eigenvalue = b.map_eigenvalue;
  t.map_eigenvalue_stderr = b.map_eigenvalue_stderr;
  t.map_eigenvalue_sector = b.map_eigenvalue_sector;
  t.generalization_error = s.generalization_error;
  t.H = b.H;
  t.C = b.C;
  t.f = column(b.f);
  if (b.C_stderr.size() > 0) {  // Monte-Carlo errors exist for the erf theory only
    t.q_stderr = b.q_stderr;
    t.free_energy_stderr = b.free_energy_stderr;
    t.H_stderr = b.H_stderr;
    t.C_stderr = b.C_stderr;
    t.replicates = b.replicates;
    t.q_drift = b.q_drift;
    t.q_drift_stderr = b.q_drift_stderr;
    t.kernel_drift_ratio = b.kernel_drift_ratio;
    t.g_mismatch_ratio = b.g_mismatch_ratio;
  }
  return t;
}

SgldResult make_sgld_result(const SgldSummary& s, const TheoryResult* theory) {
  SgldResult g;
  g.status = s.status;
  g.message = s.message;
  g.replicas = s.replicas;
  g.failed_replicas = s.failed_replicas;
  g.steps_per_second = s.steps_per_second;
  if (s.replicas == 0) return g;
  g.q_mean = s.q_mean;
  g.q_stderr = s.q_stderr;
  g.abs_q_mean = s.abs_q_mean;
  g.abs_q_stderr = s.abs_q_stderr;
  g.bulk_radius = s.bulk_radius;
  g.generalization_error = s.generalization_error;
  g.H = s.H;
  g.C = s.C;
  g.H_stderr = s.H_stderr;
  g.f = column(s.f);
  g.outlier_eigenvalues = column(s.outlier_eigenvalue);
  if (s.outlier_eigenvalue.size() > 0) g.outlier_eigenvalue = s.outlier_eigenvalue.maxCoeff();
  g.rhat_abs_q = s.rhat_abs_q;
  g.rhat_energy = s.rhat_energy;
  g.rhat_kernel = s.rhat_kernel;
  g.ess_abs_q_total = s.ess_abs_q_total;
  g.q_sign_fraction = s.q_sign_fraction;
  g.check_abs_q_mean = s.check_abs_q_mean;
  g.eta = column(s.eta);
  g.curvature = column(s.curvature);
  g.tau_abs_q = column(s.tau_abs_q);
  g.ess_abs_q = column(s.ess_abs_q);
  // Spectra: one row per replica, the k eigenvalues of each layer's W in turn (layer-major).
  if (!s.top_eigenvalues.empty() && s.top_eigenvalues.front().size() > 0) {
    const auto n = static_cast<Eigen::Index>(s.top_eigenvalues.size());
    const Eigen::Index width = s.top_eigenvalues.front().size();
    g.eigenvalues_re = Eigen::MatrixXd::Constant(n, width, NAN);
    g.eigenvalues_im = Eigen::MatrixXd::Constant(n, width, NAN);
    for (Eigen::Index r = 0; r < n; ++r) {
      const Eigen::MatrixXcd& e = s.top_eigenvalues[static_cast<std::size_t>(r)];
      for (Eigen::Index i = 0; i < std::min(width, e.size()); ++i) {
        g.eigenvalues_re(r, i) = e.data()[i].real();
        g.eigenvalues_im(r, i) = e.data()[i].imag();
      }
    }
  }
  if (theory != nullptr && theory->H.size() > 0 && theory->H.rows() == s.H.rows()) {
    g.cka_H = centered_kernel_alignment(s.H, theory->H);
    g.cka_C = centered_kernel_alignment(s.C, theory->C);
  }
  std::size_t measurements = 0;
  for (const auto& trace : s.energy_trace) measurements = std::max(measurements, trace.size());
  if (measurements > 0) {
    g.energy_trace = Eigen::MatrixXd::Constant(static_cast<Eigen::Index>(s.energy_trace.size()),
                                               static_cast<Eigen::Index>(measurements), NAN);
    for (std::size_t r = 0; r < s.energy_trace.size(); ++r)
      for (std::size_t k = 0; k < s.energy_trace[r].size(); ++k)
        g.energy_trace(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(k)) =
            s.energy_trace[r][k];
  }
  return g;
}

void combine_parts(PointResult* r) {
  std::string message = r->message;
  const auto add = [&](const char* part, Status status, const std::string& text) {
    r->status = worse(r->status, status);
    if (status != Status::done && !text.empty())
      message += (message.empty() ? "" : "; ") + std::string(part) + ": " + text;
  };
  if (r->theory) add("theory", r->theory->status, r->theory->message);
  if (r->sgld) add("sgld", r->sgld->status, r->sgld->message);
  r->message = message;
}

std::vector<std::uint64_t> recorded_points(const PointTask& task) {
  return task.kind == WorkKind::point ? std::vector<std::uint64_t>{task.point} : task.record;
}

void merge_transition(const TheoryResult& transition, TheoryResult* into) {
  into->lambda_c = transition.lambda_c;
  into->lambda_coexistence = transition.lambda_coexistence;
  into->lambda_fold = transition.lambda_fold;
  into->lambda_resolution = transition.lambda_resolution;
  into->transition_residual = transition.transition_residual;
  into->transition_order = transition.transition_order;
  into->status = worse(into->status, transition.status);
  if (!transition.message.empty())
    into->message.append(into->message.empty() ? "" : "; ").append(transition.message);
}

std::vector<std::uint8_t> encode(const PointTask& task) {
  return to_bytes(task_json(task));
}
PointTask decode_task(const std::vector<std::uint8_t>& bytes) {
  return task_from(from_bytes(bytes));
}

std::vector<std::uint8_t> encode(const TaskResult& r) {
  json replicas = json::array();
  for (const auto& rep : r.replicas) replicas.push_back(replica_json(rep));
  json line_theory = json::array();
  for (const auto& t : r.line_theory) line_theory.push_back(theory_json(t));
  return to_bytes({{"task", task_json(r.task)},
                   {"error", r.error},
                   {"theory", r.theory ? theory_json(*r.theory) : json(nullptr)},
                   {"line_theory", line_theory},
                   {"replicas", replicas},
                   {"seconds", r.seconds},
                   {"rank", r.rank}});
}

TaskResult decode_task_result(const std::vector<std::uint8_t>& bytes) {
  const json j = from_bytes(bytes);
  TaskResult r;
  r.task = task_from(j.at("task"));
  r.error = j.at("error").get<std::string>();
  if (!j.at("theory").is_null()) r.theory = theory_from(j.at("theory"));
  for (const auto& t : j.at("line_theory")) r.line_theory.push_back(theory_from(t));
  for (const auto& rj : j.at("replicas")) r.replicas.push_back(replica_from(rj));
  r.seconds = j.at("seconds").get<double>();
  r.rank = j.at("rank").get<int>();
  return r;
}

std::vector<std::uint8_t> encode(const PointResult& r) {
  json j = to_json(r, kExact);
  j["point"] = r.point;
  j["schema"] = kSchemaVersion;
  return to_bytes(j);
}

PointResult decode_point_result(const std::vector<std::uint8_t>& bytes) {
  json j = from_bytes(bytes);
  if (!j.contains("schema"))
    throw std::runtime_error(
        "a point record from before kernelsweep's result schema 2 (written by an older version): "
        "re-run the sweep into a new file");
  if (j.at("schema").get<int>() != kSchemaVersion)
    throw std::runtime_error("a point record of result schema " + j.at("schema").dump() +
                             " (this build reads " + std::to_string(kSchemaVersion) + ")");
  j.erase("schema");
  if (!j.contains("point")) throw std::runtime_error("corrupt point record: no point index");
  return result_from_json(j);
}

}  // namespace kernelsweep
