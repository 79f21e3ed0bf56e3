#include "sweep/result_fields.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace kernelsweep {

namespace {

using Point = PointResult;
using Theory = TheoryResult;
using Sgld = SgldResult;

template <class T>
FieldMember<Point> point(T Point::*m) {
  return m;
}
template <class T>
FieldMember<Theory> theory(T Theory::*m) {
  return m;
}
template <class T>
FieldMember<Sgld> sgld(T Sgld::*m) {
  return m;
}

const std::vector<std::string_view> kMatrix = {"mu", "nu"};
const std::vector<std::string_view> kVector = {"mu"};

constexpr std::array<std::string_view, 4> kStatusNames = {"pending", "done", "failed",
                                                          "not_converged"};
constexpr std::array<std::string_view, 3> kBranchNames = {"symmetric", "broken", "other"};
constexpr std::array<std::string_view, 3> kTransitionOrderNames = {"none", "first", "second"};

std::vector<Field> make_fields() {
  return {
      // The point.
      {"", "status", "point status", "",
       "pending, done, failed or not_converged: the worse of the theory and SGLD parts",
       point(&Point::status)},
      {"", "message", "point message", "",
       "why the point failed or did not converge (empty when done)", point(&Point::message)},
      {"", "wall_time", "computation time of the point", "s",
       "wall-clock seconds of computation, summed over the point's tasks",
       point(&Point::wall_time)},
      {"", "rank", "MPI rank", "1",
       "rank that computed the theory (or the first SGLD task); -1 not yet", point(&Point::rank)},
      // The kernel theory (docs/theory.md section 3).
      {"theory", "status", "theory status", "", "done only for a converged local minimum of F",
       theory(&Theory::status)},
      {"theory", "message", "theory message", "", "why the solve failed or did not converge",
       theory(&Theory::message)},
      {"theory", "branch", "theory branch", "",
       "kind of the reported state: symmetric, broken or other", theory(&Theory::branch)},
      {"theory", "q", "order parameter q (theory)", "1",
       "temporal coherence q of the reported state: mean odd-lag overlap of the hidden kernel",
       theory(&Theory::q)},
      {"theory", "q_stderr", "standard error of q (theory)", "1",
       "Monte-Carlo standard error of q (erf only)", theory(&Theory::q_stderr)},
      {"theory", "free_energy", "free energy F (theory)", "1",
       "free energy per neuron of the reported state", theory(&Theory::free_energy)},
      {"theory", "free_energy_stderr", "standard error of F (theory)", "1",
       "Monte-Carlo standard error of the free energy (erf only)",
       theory(&Theory::free_energy_stderr)},
      {"theory", "residual", "fixed-point residual", "1",
       "relative residual |Phi(C) - C|_F / |C|_F of the state", theory(&Theory::residual)},
      {"theory", "iterations", "solver iterations", "1",
       "fixed-point or Monte-Carlo iterations used", theory(&Theory::iterations)},
      {"theory", "generalization_error", "generalization error (theory)", "1",
       "mean squared error 1/(2n) sum (y - f)^2 over every target of the task",
       theory(&Theory::generalization_error)},
      {"theory", "free_energy_symmetric", "free energy of the symmetric branch", "1",
       "F of the q = 0 (symmetric) state", theory(&Theory::free_energy_symmetric)},
      {"theory", "free_energy_broken", "free energy of the broken branch", "1",
       "F of the q != 0 (broken) state, where it exists", theory(&Theory::free_energy_broken)},
      {"theory", "q_broken", "order parameter q of the broken branch", "1",
       "q of the broken state, where it exists", theory(&Theory::q_broken)},
      {"theory", "seconds", "theory solve time", "s", "wall-clock seconds of the theory solve",
       theory(&Theory::seconds)},
      {"theory", "replicates", "erf replicate iterations", "1",
       "independent replicate iterations behind the erf error bars", theory(&Theory::replicates)},
      {"theory", "q_drift", "drift of q (erf)", "1",
       "change of q between the last two stopping-rule windows", theory(&Theory::q_drift)},
      {"theory", "q_drift_stderr", "standard error of the drift of q (erf)", "1",
       "Monte-Carlo standard error of q_drift (replicate spread)", theory(&Theory::q_drift_stderr)},
      {"theory", "kernel_drift_ratio", "kernel drift over its error (erf)", "1",
       "|change of (C, H)|_F between the last two windows over the norm of its standard error",
       theory(&Theory::kernel_drift_ratio)},
      {"theory", "g_mismatch_ratio", "G-estimator mismatch over its error (erf)", "1",
       "|G_direct - G_by_parts|_F at the final tilt over the norm of its standard error",
       theory(&Theory::g_mismatch_ratio)},
      {"theory", "map_eigenvalue", "deciding eigenvalue of the fixed-point map (erf)", "1",
       "largest real part of the leading eigenvalues of the fixed-point map's Jacobian at the "
       "reported state (unstable: the one above 1 by the most errors); > 1: unstable",
       theory(&Theory::map_eigenvalue)},
      {"theory", "map_eigenvalue_stderr", "standard error of map_eigenvalue (erf)", "1",
       "Monte-Carlo standard error of map_eigenvalue (replicate spread)",
       theory(&Theory::map_eigenvalue_stderr)},
      {"theory", "map_eigenvalue_sector", "sector of map_eigenvalue (erf)", "",
       "odd-lag or even-lag (W -> -W invariant state), else full", theory(&Theory::map_eigenvalue_sector)},
      {"theory", "selected_state", "index of the reported state", "1",
       "entry of the reported state in the state_* arrays (0-based); -1 when none was selected",
       theory(&Theory::selected_state)},
      {"theory", "stable_states", "number of stable states", "1",
       "distinct local minima of F found at this point (more than 1: coexistence, the others "
       "metastable)",
       theory(&Theory::stable_states)},
      // theory.critical: the transition in lam of the point's network and task.
      {"theory", "lambda_c", "critical signal lambda_c", "1",
       "theory.critical: signal lam at which the symmetric state becomes unstable (spinodal)",
       theory(&Theory::lambda_c)},
      {"theory", "lambda_coexistence", "coexistence signal", "1",
       "theory.critical: lam where the broken and symmetric states have equal F (lambda_c for a "
       "second-order transition)",
       theory(&Theory::lambda_coexistence)},
      {"theory", "lambda_fold", "fold signal", "1",
       "theory.critical: lowest lam of the traced stable broken branch (its fold; lambda_c for a "
       "second-order transition)",
       theory(&Theory::lambda_fold)},
      {"theory", "lambda_resolution", "resolution of the coexistence and fold signals", "1",
       "theory.critical: lam spacing of the traced line the coexistence and fold are read from",
       theory(&Theory::lambda_resolution)},
      {"theory", "transition_order", "order of the transition", "",
       "theory.critical: none (no instability up to lam = 100), first or second",
       theory(&Theory::transition_order)},
      {"theory", "transition_residual", "residual of the transition analysis", "1",
       "theory.critical: largest relative fixed-point residual of the states the signals were "
       "read from",
       theory(&Theory::transition_residual)},
      {"theory", "H", "hidden kernel H (theory)", "1",
       "H_mu,nu, mu = t P + p, of the reported state", theory(&Theory::H), kMatrix},
      {"theory", "C", "activation kernel C (theory)", "1",
       "C_mu,nu, mu = t P + p, of the reported state", theory(&Theory::C), kMatrix},
      {"theory", "f", "posterior-mean output f (theory)", "1",
       "f_mu at every (t, p) of the reported state", theory(&Theory::f), kVector},
      {"theory", "H_stderr", "standard error of H (theory)", "1",
       "Monte-Carlo standard error of H (erf only)", theory(&Theory::H_stderr), kMatrix},
      {"theory", "C_stderr", "standard error of C (theory)", "1",
       "Monte-Carlo standard error of C (erf only)", theory(&Theory::C_stderr), kMatrix},
      {"theory",
       "state_q",
       "q of every stationary state",
       "1",
       "order parameter of each stationary state found (selected, metastable and unstable)",
       theory(&Theory::state_q),
       {"state"}},
      {"theory",
       "state_free_energy",
       "F of every stationary state",
       "1",
       "free energy of each stationary state",
       theory(&Theory::state_free_energy),
       {"state"}},
      {"theory",
       "state_stable",
       "stability of every stationary state",
       "1",
       "1 if the state is a local minimum of F (positive-definite Hessian), else 0",
       theory(&Theory::state_stable),
       {"state"}},
      {"theory",
       "state_kind",
       "kind of every stationary state",
       "1",
       "0 symmetric, 1 broken (q != 0), 2 other (e.g. a q = 0 period-4 state)",
       theory(&Theory::state_kind),
       {"state"}},
      {"theory",
       "state_residual",
       "residual of every stationary state",
       "1",
       "relative fixed-point residual of each stationary state",
       theory(&Theory::state_residual),
       {"state"}},
      {"theory",
       "state_map_eigenvalue",
       "fixed-point map eigenvalue of every stationary state (erf)",
       "1",
       "deciding eigenvalue of the map's Jacobian at each state (NaN for the linear theory)",
       theory(&Theory::state_map_eigenvalue),
       {"state"}},
      {"theory",
       "state_map_eigenvalue_stderr",
       "standard error of state_map_eigenvalue (erf)",
       "1",
       "Monte-Carlo standard error of each state's map eigenvalue",
       theory(&Theory::state_map_eigenvalue_stderr),
       {"state"}},
      {"theory",
       "landau_q",
       "Landau curve: q",
       "1",
       "order parameter values of the Landau curve F(q)",
       theory(&Theory::landau_q),
       {"landau_point"}},
      {"theory",
       "landau_F",
       "Landau curve: F(q)",
       "1",
       "constrained free energy at landau_q",
       theory(&Theory::landau_F),
       {"landau_point"}},
      // SGLD replicas of finite-width networks (docs/theory.md section 4).
      {"sgld", "status", "SGLD status", "",
       "done; not_converged when R-hat, ESS or the eta/2 check fails; failed when a replica "
       "diverged",
       sgld(&Sgld::status)},
      {"sgld", "message", "SGLD message", "", "why the replicas failed", sgld(&Sgld::message)},
      {"sgld", "replicas", "SGLD replicas", "1", "replicas entering the statistics",
       sgld(&Sgld::replicas)},
      {"sgld", "failed_replicas", "failed SGLD replicas", "1", "replicas that diverged",
       sgld(&Sgld::failed_replicas)},
      {"sgld", "q_mean", "order parameter q (SGLD)", "1", "replica mean of the time-averaged q",
       sgld(&Sgld::q_mean)},
      {"sgld", "q_stderr", "standard error of q (SGLD)", "1",
       "standard error of q_mean across replicas", sgld(&Sgld::q_stderr)},
      {"sgld", "abs_q_mean", "order parameter |q| (SGLD)", "1",
       "replica mean of the time-averaged |q|", sgld(&Sgld::abs_q_mean)},
      {"sgld", "abs_q_stderr", "standard error of |q| (SGLD)", "1",
       "standard error of abs_q_mean across replicas", sgld(&Sgld::abs_q_stderr)},
      {"sgld", "cka_H", "CKA of H, SGLD vs theory", "1",
       "centered kernel alignment of the SGLD and theory H", sgld(&Sgld::cka_H)},
      {"sgld", "cka_C", "CKA of C, SGLD vs theory", "1",
       "centered kernel alignment of the SGLD and theory C", sgld(&Sgld::cka_C)},
      {"sgld", "outlier_eigenvalue", "outlier eigenvalue of W", "1",
       "largest |Re| eigenvalue of W (DNN: the largest over layers), replica mean of its modulus",
       sgld(&Sgld::outlier_eigenvalue)},
      {"sgld", "bulk_radius", "bulk radius of the W spectrum", "1",
       "circular-law radius of the W eigenvalues", sgld(&Sgld::bulk_radius)},
      {"sgld", "generalization_error", "generalization error (SGLD)", "1",
       "mean squared error of the replica-mean outputs", sgld(&Sgld::generalization_error)},
      {"sgld", "steps_per_second", "SGLD speed", "s-1", "Langevin steps per second per replica",
       sgld(&Sgld::steps_per_second)},
      {"sgld", "rhat_abs_q", "split R-hat of |q|", "1",
       "across replicas; not_converged above sgld.max_rhat", sgld(&Sgld::rhat_abs_q)},
      {"sgld", "rhat_energy", "split R-hat of the energy", "1",
       "across replicas; not_converged above sgld.max_rhat", sgld(&Sgld::rhat_energy)},
      {"sgld", "rhat_kernel", "largest split R-hat of the H entries", "1",
       "over the sign-aligned entries of H; not_converged above sgld.max_rhat",
       sgld(&Sgld::rhat_kernel)},
      {"sgld", "ess", "effective sample size of |q|", "1",
       "summed over replicas (integrated autocorrelation time); not_converged below sgld.min_ess",
       sgld(&Sgld::ess_abs_q_total)},
      {"sgld", "q_sign_fraction", "fraction of replicas with q > 0", "1",
       "before the W -> -W sign alignment of the kernels", sgld(&Sgld::q_sign_fraction)},
      {"sgld", "check_abs_q_mean", "|q| at eta/2 (SGLD)", "1",
       "replica mean of |q| of the sgld.check_step replicas", sgld(&Sgld::check_abs_q_mean)},
      {"sgld",
       "eta",
       "SGLD step size used",
       "1",
       "step size after burn-in, per replica (eta: auto measures it)",
       sgld(&Sgld::eta),
       {"replica"}},
      {"sgld",
       "curvature",
       "largest curvature of the likelihood",
       "1",
       "largest Hessian eigenvalue measured for eta: auto, per replica",
       sgld(&Sgld::curvature),
       {"replica"}},
      {"sgld",
       "tau",
       "integrated autocorrelation time of |q|",
       "1",
       "in measurements (sgld.thin steps), per replica",
       sgld(&Sgld::tau_abs_q),
       {"replica"}},
      {"sgld",
       "ess_per_replica",
       "effective sample size of |q| per replica",
       "1",
       "effective samples of |q| in each replica",
       sgld(&Sgld::ess_abs_q),
       {"replica"}},
      {"sgld",
       "eigenvalues_re",
       "top eigenvalues of W: real part",
       "1",
       "per replica the sgld.spectrum_k largest-modulus eigenvalues of each W, layer by layer",
       sgld(&Sgld::eigenvalues_re),
       {"replica", "eigenvalue"}},
      {"sgld",
       "eigenvalues_im",
       "top eigenvalues of W: imaginary part",
       "1",
       "imaginary parts matching eigenvalues_re",
       sgld(&Sgld::eigenvalues_im),
       {"replica", "eigenvalue"}},
      {"sgld", "H", "hidden kernel H (SGLD)", "1", "replica mean of the time-averaged H",
       sgld(&Sgld::H), kMatrix},
      {"sgld", "C", "activation kernel C (SGLD)", "1", "replica mean of the time-averaged C",
       sgld(&Sgld::C), kMatrix},
      {"sgld", "H_stderr", "standard error of H (SGLD)", "1", "standard error of H across replicas",
       sgld(&Sgld::H_stderr), kMatrix},
      {"sgld", "f", "mean output f (SGLD)", "1", "replica mean of the time-averaged outputs",
       sgld(&Sgld::f), kVector},
      {"sgld",
       "outlier_eigenvalues",
       "outlier eigenvalue per layer",
       "1",
       "replica mean of the largest |Re| eigenvalue's modulus of each W (RNN: one)",
       sgld(&Sgld::outlier_eigenvalues),
       {"layer"}},
      {"sgld",
       "energy_trace",
       "SGLD energy trace",
       "1",
       "energy at every measurement, per replica (when recorded)",
       sgld(&Sgld::energy_trace),
       {"replica", "measurement"}},
  };
}

template <class P>
const P* part_pointer(const PointResult& r) {
  if constexpr (std::is_same_v<P, PointResult>)
    return &r;
  else if constexpr (std::is_same_v<P, TheoryResult>)
    return r.theory ? &*r.theory : nullptr;
  else
    return r.sgld ? &*r.sgld : nullptr;
}

template <class P>
P* part_for_writing(PointResult* r) {
  if constexpr (std::is_same_v<P, PointResult>)
    return r;
  else if constexpr (std::is_same_v<P, TheoryResult>) {
    if (!r->theory) r->theory.emplace();
    return &*r->theory;
  } else {
    if (!r->sgld) r->sgld.emplace();
    return &*r->sgld;
  }
}

template <class M>
struct class_of;
template <class T, class P>
struct class_of<T P::*> {
  using type = P;
  using value = T;
};

template <class Visitor>
bool with_member(const Field& field, const PointResult& r, Visitor&& visit) {
  return std::visit(
      [&](const auto& part_member) {
        return std::visit(
            [&](auto m) {
              using P = typename class_of<decltype(m)>::type;
              const P* p = part_pointer<P>(r);
              if (p == nullptr) return false;
              visit(p->*m);
              return true;
            },
            part_member);
      },
      field.member);
}

template <class Visitor>
void with_member(const Field& field, PointResult* r, Visitor&& visit) {
  std::visit(
      [&](const auto& part_member) {
        std::visit(
            [&](auto m) {
              using P = typename class_of<decltype(m)>::type;
              visit(part_for_writing<P>(r)->*m);
            },
            part_member);
      },
      field.member);
}

// Optional enumerations stored as categories (-1 = none).
template <class T>
constexpr bool is_optional_category = std::is_same_v<T, std::optional<BranchKind>> ||
                                      std::is_same_v<T, std::optional<TransitionOrder>>;

nlohmann::json number_json(double x) {
  return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x);
}

nlohmann::json text_matrix(const Eigen::MatrixXd& m, std::size_t dims) {
  nlohmann::json out = nlohmann::json::array();
  if (dims == 1) {
    for (Eigen::Index i = 0; i < m.size(); ++i) out.push_back(number_json(m(i)));
    return out;
  }
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index k = 0; k < m.cols(); ++k) row.push_back(number_json(m(i, k)));
    out.push_back(std::move(row));
  }
  return out;
}

double number_from_json(const nlohmann::json& x) {
  return x.is_null() ? NAN : x.get<double>();
}

Eigen::MatrixXd matrix_from_text(const nlohmann::json& j, std::size_t dims) {
  if (dims == 1) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(j.size()), 1);
    for (std::size_t i = 0; i < j.size(); ++i)
      m(static_cast<Eigen::Index>(i), 0) = number_from_json(j[i]);
    return m;
  }
  const auto rows = static_cast<Eigen::Index>(j.size());
  const auto cols = rows ? static_cast<Eigen::Index>(j[0].size()) : 0;
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const auto& row = j[static_cast<std::size_t>(i)];
    if (static_cast<Eigen::Index>(row.size()) != cols) throw std::runtime_error("ragged matrix");
    for (Eigen::Index k = 0; k < cols; ++k)
      m(i, k) = number_from_json(row[static_cast<std::size_t>(k)]);
  }
  return m;
}

int category_index(std::span<const std::string_view> names, const std::string& text,
                   const Field& f) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == text) return static_cast<int>(i);
  throw std::runtime_error(f.json_path() + ": unknown value '" + text + "'");
}

}  // namespace

FieldKind Field::kind() const {
  FieldKind k = FieldKind::real;
  std::visit(
      [&](const auto& part_member) {
        std::visit(
            [&](auto m) {
              using T = typename class_of<decltype(m)>::value;
              if constexpr (std::is_same_v<T, double>)
                k = FieldKind::real;
              else if constexpr (std::is_same_v<T, std::int64_t>)
                k = FieldKind::integer;
              else if constexpr (std::is_same_v<T, Status> || is_optional_category<T>)
                k = FieldKind::category;
              else if constexpr (std::is_same_v<T, std::string>)
                k = FieldKind::text;
              else
                k = FieldKind::array;
            },
            part_member);
      },
      member);
  return k;
}

std::string Field::name() const {
  return part.empty() ? std::string(key) : std::string(part) + "_" + std::string(key);
}
std::string Field::json_path() const {
  return part.empty() ? std::string(key) : std::string(part) + "." + std::string(key);
}

std::span<const std::string_view> Field::categories() const {
  std::span<const std::string_view> names;
  std::visit(
      [&](const auto& pm) {
        std::visit(
            [&](auto m) {
              using T = typename class_of<decltype(m)>::value;
              if constexpr (std::is_same_v<T, Status>)
                names = kStatusNames;
              else if constexpr (std::is_same_v<T, std::optional<BranchKind>>)
                names = kBranchNames;
              else if constexpr (std::is_same_v<T, std::optional<TransitionOrder>>)
                names = kTransitionOrderNames;
            },
            pm);
      },
      member);
  return names;
}

const std::vector<Field>& result_fields() {
  static const std::vector<Field> fields = make_fields();
  return fields;
}

const Field* find_field(std::string_view name) {
  for (const auto& f : result_fields())
    if (f.name() == name) return &f;
  return nullptr;
}

bool is_reserved_result_name(std::string_view name) {
  return name == "points" || name == "runs" || name == "provenance" || find_field(name) != nullptr;
}

bool part_present(const Field& field, const PointResult& r) {
  return with_member(field, r, [](const auto&) {});
}

double number_of(const Field& field, const PointResult& r) {
  double x = field.kind() == FieldKind::real ? NAN : -1.0;
  with_member(field, r, [&](const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, double>)
      x = value;
    else if constexpr (std::is_same_v<T, std::int64_t>)
      x = static_cast<double>(value);
    else if constexpr (std::is_same_v<T, Status>)
      x = static_cast<int>(value);
    else if constexpr (is_optional_category<T>)
      x = value ? static_cast<int>(*value) : -1.0;
  });
  return x;
}

void set_number(const Field& field, PointResult* r, double x) {
  with_member(field, r, [&](auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, double>)
      value = x;
    else if constexpr (std::is_same_v<T, std::int64_t>)
      value = static_cast<std::int64_t>(x);
    else if constexpr (std::is_same_v<T, Status>)
      value = static_cast<Status>(static_cast<int>(x));
    else if constexpr (is_optional_category<T>) {
      if (x < 0)
        value.reset();
      else
        value = static_cast<typename T::value_type>(static_cast<int>(x));
    }
  });
}

std::string text_of(const Field& field, const PointResult& r) {
  std::string text;
  with_member(field, r, [&](const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) text = value;
  });
  return text;
}

void set_text(const Field& field, PointResult* r, const std::string& text) {
  with_member(field, r, [&](auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) value = text;
  });
}

const Eigen::MatrixXd* array_of(const Field& field, const PointResult& r) {
  const Eigen::MatrixXd* out = nullptr;
  with_member(field, r, [&](const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Eigen::MatrixXd>) out = &value;
  });
  return out && out->size() > 0 ? out : nullptr;
}

void set_array(const Field& field, PointResult* r, Eigen::MatrixXd m) {
  with_member(field, r, [&](auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Eigen::MatrixXd>)
      value = std::move(m);
  });
}

void clear_arrays(PointResult* r) {
  for (const auto& f : result_fields())
    if (f.kind() == FieldKind::array && part_present(f, *r)) set_array(f, r, Eigen::MatrixXd());
}

nlohmann::json to_json(const PointResult& r, const JsonOptions& options) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : result_fields()) {
    if (f.part.empty() && !options.point_fields) continue;
    if (!part_present(f, r)) continue;
    nlohmann::json value;
    switch (f.kind()) {
      case FieldKind::real: {
        const double x = number_of(f, r);
        if (std::isnan(x)) continue;
        value = x;
        break;
      }
      case FieldKind::integer: {
        const double x = number_of(f, r);
        if (x < 0) continue;
        value = static_cast<std::int64_t>(x);
        break;
      }
      case FieldKind::category: {
        const double x = number_of(f, r);
        if (x < 0) continue;
        value = std::string(f.categories()[static_cast<std::size_t>(x)]);
        break;
      }
      case FieldKind::text:
        value = text_of(f, r);
        break;
      case FieldKind::array: {
        const Eigen::MatrixXd* m = array_of(f, r);
        if (!options.arrays || m == nullptr) continue;
        value = options.binary_arrays ? binary_matrix(*m) : text_matrix(*m, f.dims.size());
        break;
      }
    }
    if (f.part.empty())
      j[std::string(f.key)] = std::move(value);
    else
      j[std::string(f.part)][std::string(f.key)] = std::move(value);
  }
  // A part without any value still says it was there.
  if (r.theory && !j.contains("theory")) j["theory"] = nlohmann::json::object();
  if (r.sgld && !j.contains("sgld")) j["sgld"] = nlohmann::json::object();
  return j;
}

PointResult result_from_json(const nlohmann::json& j) {
  PointResult r;
  for (const auto& [key, value] : j.items()) {
    if (key == "point") {
      r.point = value.get<std::uint64_t>();
      continue;
    }
    if (key == "theory" || key == "sgld") {
      if (key == "theory")
        r.theory.emplace();
      else
        r.sgld.emplace();
      for (const auto& [sub, x] : value.items()) {
        const Field* f = find_field(key + "_" + sub);
        if (f == nullptr) throw std::runtime_error("unknown result field " + key + "." + sub);
        switch (f->kind()) {
          case FieldKind::real:
            set_number(*f, &r, number_from_json(x));
            break;
          case FieldKind::integer:
            set_number(*f, &r, x.get<double>());
            break;
          case FieldKind::category:
            set_number(*f, &r, category_index(f->categories(), x.get<std::string>(), *f));
            break;
          case FieldKind::text:
            set_text(*f, &r, x.get<std::string>());
            break;
          case FieldKind::array:
            set_array(*f, &r,
                      x.is_object() ? matrix_from_binary(x) : matrix_from_text(x, f->dims.size()));
            break;
        }
      }
      continue;
    }
    const Field* f = find_field(key);
    if (f == nullptr || !f->part.empty()) throw std::runtime_error("unknown result field " + key);
    switch (f->kind()) {
      case FieldKind::category:
        set_number(*f, &r, category_index(f->categories(), value.get<std::string>(), *f));
        break;
      case FieldKind::text:
        set_text(*f, &r, value.get<std::string>());
        break;
      default:
        set_number(*f, &r, number_from_json(value));
        break;
    }
  }
  return r;
}

nlohmann::json binary_matrix(const Eigen::MatrixXd& m) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(m.size()) * sizeof(double));
  if (!bytes.empty()) std::memcpy(bytes.data(), m.data(), bytes.size());
  return {
      {"rows", m.rows()}, {"cols", m.cols()}, {"data", nlohmann::json::binary(std::move(bytes))}};
}

Eigen::MatrixXd matrix_from_binary(const nlohmann::json& j) {
  Eigen::MatrixXd m(j.at("rows").get<Eigen::Index>(), j.at("cols").get<Eigen::Index>());
  const auto& bytes = j.at("data").get_binary();
  if (bytes.size() != static_cast<std::size_t>(m.size()) * sizeof(double))
    throw std::runtime_error("corrupt matrix record");
  if (!bytes.empty()) std::memcpy(m.data(), bytes.data(), bytes.size());
  return m;
}

std::string shortest_text(double x) {
  if (std::isnan(x)) return "";
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, x).ptr;
  return std::string(buffer, end);
}

}  // namespace kernelsweep
