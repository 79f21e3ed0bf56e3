#include "io/results_session.hpp"

#include "io/file_verification.hpp"

#include <chrono>
#include <filesystem>
#include <set>

#include "sweep/result_fields.hpp"

namespace kernelsweep {

namespace fs = std::filesystem;

namespace {

// Every record names its sweep, so a journal whose header is damaged is still checked.
nlohmann::json point_record(const PointResult& r, const std::string& sweep_hash) {
  return {
      {"type", "point"}, {"sweep_hash", sweep_hash}, {"result", nlohmann::json::binary(encode(r))}};
}

PointResult result_of(const nlohmann::json& record) {
  return decode_point_result(record.at("result").get_binary());
}

bool has_header(const JournalContents& contents) {
  for (const auto& rec : contents.records)
    if (rec.value("type", "") == "header") return true;
  return false;
}

std::string describe_skipped(const JournalContents& contents) {
  std::uint64_t bytes = 0;
  for (const auto& region : contents.skipped) bytes += region.bytes;
  return std::to_string(contents.skipped.size()) + " damaged journal region(s), " +
         std::to_string(bytes) + " bytes, first at byte " +
         std::to_string(contents.skipped.front().offset);
}

// "1, 13" (at most 8, then "...").
std::string list_points(const std::vector<std::uint64_t>& points) {
  std::string text;
  for (std::size_t i = 0; i < points.size() && i < 8; ++i)
    text += (i ? ", " : "") + std::to_string(points[i]);
  return points.size() > 8 ? text + ", ..." : text;
}

}  // namespace

std::string journal_sweep_problem(const JournalContents& contents, const std::string& expected_hash,
                                  const std::string& journal_path) {
  std::string found;
  for (const auto& rec : contents.records) {
    const std::string hash = rec.value("sweep_hash", "");
    if (hash.empty()) continue;
    if (hash != expected_hash)
      return journal_path + " belongs to a different sweep (hash " + hash + ", this sweep " +
             expected_hash + ")";
    found = hash;
  }
  // Intact records of an unknown sweep are never used; a journal with no intact record at all
  // has nothing to contradict the file with (its bytes are kept aside before it is reused).
  if (found.empty() && !contents.records.empty())
    return journal_path +
           ": no intact record names its sweep (damaged header?), so it cannot be checked "
           "against this sweep (hash " +
           expected_hash + ")";
  return "";
}

namespace {

void check_writable_directory(const std::string& path) {
  const fs::path parent = fs::absolute(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    throw ResultsFileError(path + ": the output directory " + parent.string() + " does not exist");
}

}  // namespace

std::string journal_path_for(const std::string& results_path) {
  return results_path + ".journal";
}

std::map<std::uint64_t, PointResult> latest_journal_points(const JournalContents& contents) {
  std::map<std::uint64_t, PointResult> points;
  for (const auto& rec : contents.records)
    if (rec.value("type", "") == "point") {
      PointResult r = result_of(rec);
      points[r.point] = std::move(r);
    }
  return points;
}

ResultsSession::ResultsSession(const std::string& path, const SweepGrid& grid,
                               const SessionOptions& options,
                               const std::map<std::string, std::string>& provenance)
    : path_(path), sweep_hash_(grid.spec().hash) {
  const std::string jpath = journal_path_for(path);
  check_writable_directory(path);
  lock_ = std::make_unique<OutputLock>(path);  // before anything below reads, renames or removes
  for (const std::string& p : {path, jpath})
    if (fs::is_directory(p))
      throw ResultsFileError(p + " is a directory; --out must name a file (nothing was removed)");
  const bool file_exists = fs::exists(path), journal_exists = fs::exists(jpath);
  if ((file_exists || journal_exists) && !options.resume && !options.force)
    throw ResultsFileError(
        path + " already exists; pass --resume to continue it or --force to overwrite it");
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
    const std::string problem = journal_sweep_problem(contents, grid.spec().hash, jpath);
    if (!problem.empty())
      throw ResultsFileError(problem + "; use another --out or --force to overwrite");
    if (!contents.skipped.empty())
      notes_.push_back("skipped " + describe_skipped(contents) +
                       "; every later intact record is kept");
  }

  // A file whose journal names no point holds no results (every point is journaled before the
  // file is written): it is made anew, whatever state a kill during its creation left it in.
  if (fs::exists(path) && fs::exists(jpath) && has_header(contents) && contents.skipped.empty() &&
      latest_journal_points(contents).empty()) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw ResultsFileError(path + ": cannot replace (no point recorded yet): " + ec.message());
  }

  // Every point the file holds is compared with its journal record before the file is opened
  // for writing (a flipped byte inside a value is invisible to HDF5).
  FileVerification verification;
  bool file_checked = false;
  if (fs::exists(path) && fs::exists(jpath)) {
    verification = verify_file_isolated(path, latest_journal_points(contents));
    // A file that does not read in full (a dataset, the run log, HDF5 crashing on its metadata)
    // is set aside before anything in this process touches it, and rebuilt from the journal.
    if (!verification.error.empty()) {
      set_aside_damaged(path, " does not read (" + verification.error + ")");
    } else if (!verification.damaged.empty()) {
      // Bytes changed after they were written: the damage may reach metadata that only a write
      // follows (HDF5 has crashed writing into such a file), and the file's points without an
      // intact journal record can no longer be vouched for. Rebuilt from the journal; those
      // points are recomputed.
      set_aside_damaged(path, " has " + std::to_string(verification.damaged.size()) +
                                  " recorded point(s) that differ from their journal records "
                                  "(damaged bytes)");
    } else if (!verification.unaccounted.empty()) {
      // A kill interrupted the write of these points and their journal records were damaged
      // since: the file's metadata around them may point anywhere (even past its end), and
      // writing over them has failed. Rebuilt from the journal; these points are recomputed.
      set_aside_damaged(path,
                        " has traces of an interrupted write that no intact journal record "
                        "accounts for (point(s) " +
                            list_points(verification.unaccounted) + ")");
    } else if (!verification.last_write_completed) {
      // A kill (or a failure) interrupted a write: what it left cannot be seen from the points'
      // values, only from the mark, and writing over it corrupts other points (an overwritten
      // string frees whatever its stale reference points to).
      set_aside_damaged(path,
                        " was left mid-write (its last run was killed or failed while writing "
                        "it); every point the journal holds is rewritten, the others recomputed");
    }
    file_checked = fs::exists(path);
  }

  // The HDF5 file: open and check, or (damaged) set aside, or create.
  if (fs::exists(path)) {
    try {
      store_ = std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::open(path, true));
    } catch (const h5::Error& e) {
      if (!fs::exists(jpath))
        throw ResultsFileError(
            path + " cannot be opened and has no journal to rebuild it from: " + e.what());
      set_aside_damaged(path, std::string(" was damaged (") + e.what() + ")");
    }
    if (store_ && (store_->sweep_hash() != grid.spec().hash || store_->shape() != grid.shape())) {
      const std::string mismatch = store_->sweep_hash() != grid.spec().hash
                                       ? " belongs to a different sweep (hash " +
                                             store_->sweep_hash() + ", this sweep " +
                                             grid.spec().hash + ")"
                                       : ": grid shape differs from the sweep's";
      // The journal (checked above, every record naming this sweep) outranks the file: a file
      // that disagrees with it is damaged (a flipped byte in its attributes), not foreign.
      if (contents.records.empty())
        throw ResultsFileError(path + mismatch + "; use another --out or --force to overwrite");
      store_.reset();
      set_aside_damaged(path, mismatch + " while its journal belongs to this sweep");
    }
  }
  const bool journal_existed = fs::exists(jpath);
  bool creating_file = false;
  try {
    journal_ = std::make_unique<JournalWriter>(jpath, contents);
    for (const auto& note : journal_->notes()) notes_.push_back(note);
    if (!has_header(contents))  // new, or its header was damaged (the sweep was checked above)
      journal_->append({{"type", "header"},
                        {"sweep_hash", grid.spec().hash},
                        {"sweep_yaml", grid.spec().normalized_yaml}});
    creating_file = !store_;
    if (!store_)
      store_ =
          std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::create(path, grid, provenance));
  } catch (const std::runtime_error& e) {  // JournalError, h5::Error: disk full, quota, permissions
    // Leave nothing half-made that would block a retry (a half-created file "already exists").
    store_.reset();
    journal_.reset();
    std::error_code ec;
    if (creating_file) fs::remove(path, ec);
    if (!journal_existed) fs::remove(jpath, ec);
    throw ResultsFileError(e.what());
  }

  // Replay what the journal has and the file lacks (killed between the two). A file whose metadata
  // a killed or failed write left inconsistent fails here: set it aside and rebuild from the
  // journal.
  const auto journal_results = latest_journal_points(contents);
  std::set<std::uint64_t> rewrite;  // points whose file content differs from the journal
  if (file_checked && verification.error.empty()) {
    rewrite.insert(verification.differing.begin(), verification.differing.end());
    if (!verification.unverified.empty())
      notes_.push_back(
          std::to_string(verification.unverified.size()) +
          " point(s) of the file have no intact journal record: kept (they read in full, "
          "but there is nothing to compare them with)");
  }
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
        if (status.at(point) != static_cast<std::int8_t>(result.status) || rewrite.count(point)) {
          batch.push_back(result);
          if (batch.size() == 256) write_batch();
          status[point] = static_cast<std::int8_t>(result.status);
          ++replayed;
        }
      write_batch();
      if (replayed)
        notes_.push_back(
            "rewrote " + std::to_string(replayed) + " point(s) from the journal into the file (" +
            std::to_string(rewrite.size()) + " of them were present but differed or did not read)");
      break;
    } catch (const h5::Error& e) {
      if (attempt > 0)
        throw ResultsFileError(path + ": cannot rebuild from the journal: " + e.what());
      store_.reset();
      set_aside_damaged(path, std::string(" was inconsistent (") + e.what() + ")");
      try {
        store_ =
            std::make_unique<PhaseDiagramStore>(PhaseDiagramStore::create(path, grid, provenance));
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

void ResultsSession::set_aside_damaged(const std::string& path, const std::string& why) {
  const std::string aside = unique_kept_name(path, "damaged");
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) throw ResultsFileError(path + " is damaged and cannot be moved aside: " + ec.message());
  notes_.push_back(path + why + "; kept as " + aside + ", rebuilt from the journal");
}

void ResultsSession::record(const PointResult& result) {
  record_batch({&result, 1});
}

BatchCommit ResultsSession::record_batch(std::span<const PointResult> results) {
  BatchCommit commit;
  if (results.empty()) return commit;
  using Clock = std::chrono::steady_clock;
  std::vector<nlohmann::json> records;
  records.reserve(results.size());
  for (const auto& r : results) records.push_back(point_record(r, sweep_hash_));
  const auto t0 = Clock::now();
  commit.journal_bytes = journal_->append_batch(records);  // durable from here on
  const auto t1 = Clock::now();
  store_->write_points(results);
  commit.journal_seconds = std::chrono::duration<double>(t1 - t0).count();
  commit.file_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return commit;
}

void ResultsSession::record_run(const nlohmann::json& row) {
  journal_->append({{"type", "run"}, {"sweep_hash", sweep_hash_}, {"row", row}});
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
    for (const char* name : {"sweep_name", "seed", "kernelsweep_version", "git_commit",
                             "library_versions", "created", "last_run_start", "last_run_end"})
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
      std::string expected = s.sweep_hash;
      for (const auto& rec : contents.records)
        if (expected.empty()) expected = rec.value("sweep_hash", "");
      // A foreign or unverifiable journal is reported, never layered onto the file.
      s.journal_problem = journal_sweep_problem(contents, expected, jpath);
      if (!contents.skipped.empty()) s.journal_note = "skipped " + describe_skipped(contents);
      for (const auto& rec :
           s.journal_problem.empty() ? contents.records : std::vector<nlohmann::json>{}) {
        const std::string type = rec.value("type", "");
        if (type == "header" && s.sweep_yaml.empty()) {
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
