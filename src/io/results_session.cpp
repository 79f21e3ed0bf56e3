#include "io/results_session.hpp"

#include <chrono>
#include <filesystem>
#include <set>

#include "sweep/result_fields.hpp"

namespace kernelsweep {

namespace fs = std::filesystem;

namespace {

nlohmann::json point_record(const PointResult& r) {
  return {{"type", "point"}, {"result", nlohmann::json::binary(encode(r))}};
}

PointResult result_of(const nlohmann::json& record) {
  return decode_point_result(record.at("result").get_binary());
}

std::string timestamp() {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count());
}

// Latest record per point (a retried point's later result wins).
std::map<std::uint64_t, PointResult> journal_points(const JournalContents& contents) {
  std::map<std::uint64_t, PointResult> points;
  for (const auto& rec : contents.records)
    if (rec.value("type", "") == "point") {
      PointResult r = result_of(rec);
      points[r.point] = std::move(r);
    }
  return points;
}

std::string journal_hash(const JournalContents& contents) {
  for (const auto& rec : contents.records)
    if (rec.value("type", "") == "header") return rec.value("sweep_hash", "");
  return "";
}

void check_writable_directory(const std::string& path) {
  const fs::path parent = fs::absolute(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    throw ResultsFileError(path + ": the output directory " + parent.string() + " does not exist");
}

}  // namespace

std::string journal_path_for(const std::string& results_path) { return results_path + ".journal"; }

ResultsSession::ResultsSession(const std::string& path, const SweepGrid& grid, const SessionOptions& options,
                               const std::map<std::string, std::string>& provenance)
    : path_(path) {
  const std::string jpath = journal_path_for(path);
  check_writable_directory(path);
  const bool file_exists = fs::exists(path), journal_exists = fs::exists(jpath);
  if ((file_exists || journal_exists) && !options.resume && !options.force)
    throw ResultsFileError(path + " already exists; pass --resume to continue it or --force to overwrite it");
  if (options.force && !options.resume) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw ResultsFileError(path + ": cannot remove for --force: " + ec.message());
    fs::remove(jpath, ec);
    if (ec) throw ResultsFileError(jpath + ": cannot remove for --force: " + ec.message());
  }

  JournalContents contents;
  if (fs::exists(jpath)) {
    try {
      contents = read_journal(jpath);
    } catch (const JournalError& e) {
      throw ResultsFileError(e.what());
    }
    const std::string hash = journal_hash(contents);
    if (!hash.empty() && hash != grid.spec().hash)
      throw ResultsFileError(jpath + " belongs to a different sweep (hash " + hash + ", this sweep " +
                             grid.spec().hash + "); use another --out or --force to overwrite");
    if (contents.dropped_bytes)
      notes_.push_back("dropped a torn journal record (" + std::to_string(contents.dropped_bytes) + " bytes)");
  }

  // The HDF5 file: open and check, or (damaged) set aside, or create.
  if (fs::exists(path)) {
    try {
      store_ = std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::open(path, true));
    } catch (const h5::Error& e) {
      if (!fs::exists(jpath))
        throw ResultsFileError(path + " cannot be opened and has no journal to rebuild it from: " + e.what());
      const std::string aside = path + ".damaged-" + timestamp();
      std::error_code ec;
      fs::rename(path, aside, ec);
      if (ec) throw ResultsFileError(path + " is damaged and cannot be moved aside: " + ec.message());
      notes_.push_back(path + " was damaged (" + e.what() + "); kept as " + aside + ", rebuilt from the journal");
    }
    if (store_ && store_->sweep_hash() != grid.spec().hash)
      throw ResultsFileError(path + " belongs to a different sweep (hash " + store_->sweep_hash() +
                             ", this sweep " + grid.spec().hash + "); use another --out or --force to overwrite");
    if (store_ && store_->shape() != grid.shape())
      throw ResultsFileError(path + ": grid shape differs from the sweep's");
  }
  try {
    journal_ = std::make_unique<JournalWriter>(jpath, contents.valid_bytes);
    if (contents.records.empty())
      journal_->append({{"type", "header"}, {"sweep_hash", grid.spec().hash},
                        {"sweep_yaml", grid.spec().normalized_yaml}});
    if (!store_) store_ = std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::create(path, grid, provenance));
  } catch (const JournalError& e) {
    throw ResultsFileError(e.what());
  } catch (const h5::Error& e) {
    throw ResultsFileError(e.what());
  }

  // Replay what the journal has and the file lacks (killed between the two). A file whose metadata
  // a killed or failed write left inconsistent fails here: set it aside and rebuild from the journal.
  const auto journal_results = journal_points(contents);
  std::vector<std::int8_t> status;
  for (int attempt = 0;; ++attempt) {
    try {
      status = store_->statuses();
      std::size_t replayed = 0;
      std::vector<PointResult> batch;
      // Replayed in batches, like the coordinator records: two flushes per batch, not per point.
      const auto write_batch = [&] {
        store_->write_points(batch);
        batch.clear();
      };
      for (const auto& [point, result] : journal_results)
        if (status.at(point) != static_cast<std::int8_t>(result.status)) {
          batch.push_back(result);
          if (batch.size() == 256) write_batch();
          status[point] = static_cast<std::int8_t>(result.status);
          ++replayed;
        }
      write_batch();
      if (replayed) notes_.push_back("replayed " + std::to_string(replayed) + " points from the journal into the file");
      break;
    } catch (const h5::Error& e) {
      if (attempt > 0) throw ResultsFileError(path + ": cannot rebuild from the journal: " + e.what());
      store_.reset();
      const std::string aside = path + ".damaged-" + timestamp();
      std::error_code ec;
      fs::rename(path, aside, ec);
      if (ec) throw ResultsFileError(path + " is damaged and cannot be moved aside: " + ec.message());
      notes_.push_back(path + " was inconsistent (" + e.what() + "); kept as " + aside + ", rebuilt from the journal");
      try {
        store_ = std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::create(path, grid, provenance));
      } catch (const h5::Error& create_error) {
        throw ResultsFileError(create_error.what());
      }
    }
  }
  std::set<std::string> known_runs;
  for (const auto& row : store_->run_rows()) known_runs.insert(row);
  for (const auto& rec : contents.records)
    if (rec.value("type", "") == "run" && !known_runs.count(rec.at("row").dump())) {
      store_->append_run_row(rec.at("row").dump());
      known_runs.insert(rec.at("row").dump());
    }

  for (std::uint64_t p = 0; p < status.size(); ++p) {
    const auto s = static_cast<Status>(status[p]);
    if (s == Status::done) ++already_done_;
    if (s == Status::pending || (options.retry_failed && s != Status::done)) todo_.push_back(p);
  }
}

void ResultsSession::record(const PointResult& result) { record_batch({&result, 1}); }

BatchCommit ResultsSession::record_batch(std::span<const PointResult> results) {
  BatchCommit commit;
  if (results.empty()) return commit;
  using Clock = std::chrono::steady_clock;
  std::vector<nlohmann::json> records;
  records.reserve(results.size());
  for (const auto& r : results) records.push_back(point_record(r));
  const auto t0 = Clock::now();
  commit.journal_bytes = journal_->append_batch(records);  // durable from here on
  const auto t1 = Clock::now();
  store_->write_points(results);
  commit.journal_seconds = std::chrono::duration<double>(t1 - t0).count();
  commit.file_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return commit;
}

void ResultsSession::record_run(const nlohmann::json& row) {
  journal_->append({{"type", "run"}, {"row", row}});
  store_->append_run_row(row.dump());
}

DiagramSnapshot read_snapshot(const std::string& path, bool with_kernels) {
  DiagramSnapshot s;
  s.path = path;
  const std::string jpath = journal_path_for(path);
  std::set<std::string> rows;
  try {
    const PhaseDiagramStore store = PhaseDiagramStore::open(path, false);
    s.file_readable = true;
    s.sweep_yaml = store.sweep_yaml();
    s.sweep_hash = store.sweep_hash();
    for (const char* name : {"sweep_name", "seed", "kernelsweep_version", "git_commit", "library_versions",
                             "created", "last_run_start", "last_run_end"})
      try {
        s.attributes[name] = store.attribute(name);
      } catch (const h5::Error&) {
      }
    s.status = store.statuses();
    s.results = store.read_points(with_kernels);
    for (const auto& row : store.run_rows()) {
      rows.insert(row);
      s.runs.push_back(nlohmann::json::parse(row, nullptr, false));
    }
  } catch (const std::exception& e) {
    s.file_error = e.what();
  }
  if (fs::exists(jpath)) {
    s.journal_present = true;
    try {
      const JournalContents contents = read_journal(jpath);
      for (const auto& rec : contents.records) {
        const std::string type = rec.value("type", "");
        if (type == "header" && s.sweep_hash.empty()) {
          s.sweep_hash = rec.value("sweep_hash", "");
          s.sweep_yaml = rec.value("sweep_yaml", "");
        } else if (type == "point") {
          PointResult r = result_of(rec);
          if (!with_kernels) clear_arrays(&r);
          s.results[r.point] = std::move(r);
        } else if (type == "run" && !rows.count(rec.at("row").dump())) {
          rows.insert(rec.at("row").dump());
          s.runs.push_back(rec.at("row"));
        }
      }
    } catch (const std::exception& e) {
      s.file_error += std::string(s.file_error.empty() ? "" : "; ") + "journal: " + e.what();
    }
  }
  if (s.status.empty() && !s.sweep_yaml.empty()) {
    try {
      const SweepGrid grid(sweep_spec_from_normalized(s.sweep_yaml, jpath));
      s.status.assign(grid.size(), 0);
    } catch (const std::exception&) {
    }
  }
  for (const auto& [p, r] : s.results)
    if (p < s.status.size()) s.status[p] = static_cast<std::int8_t>(r.status);
  return s;
}

}  // namespace kernelsweep
