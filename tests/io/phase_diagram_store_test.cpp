// The store and the journal as a library: a round trip is bit-exact, a torn journal record is
// dropped, a damaged HDF5 file is rebuilt from the journal, mismatched sweeps are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/file_verification.hpp"
#include "io/hdf5_handle.hpp"
#include "io/results_session.hpp"
#include "run_helpers.hpp"
#include "support/sample_results.hpp"
#include "sweep/result_fields.hpp"

using namespace kernelsweep;
using namespace kernelsweep::testing;

namespace {

SweepGrid grid_of(const std::string& yaml) { return SweepGrid(parse_sweep_spec(YAML::Load(yaml), "s.yaml")); }

PointResult sample_result(std::uint64_t point) {
  PointResult r;
  r.point = point;
  r.status = Status::done;
  r.theory.emplace();
  r.theory->status = Status::done;
  r.theory->q = 1.0 / 3.0 + double(point);
  Eigen::MatrixXd H(4, 4);  // not symmetric: catches a transposed write
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) H(i, j) = 1.0 / (1 + i + 3 * j) + double(point);
  r.theory->H = H;
  r.theory->f = H.col(1);
  r.wall_time = 0.25;
  r.rank = 2;
  return r;
}

}  // namespace

TEST(PhaseDiagramStore, RoundTripIsBitExact) {
  const auto dir = scratch_dir("store");
  const SweepGrid grid = grid_of(theory_sweep(3));
  const std::string path = (dir / "d.h5").string();
  {
    ResultsSession session(path, grid, {}, {{"git_commit", "test"}});
    EXPECT_EQ(session.todo().size(), 6u);
    session.record(sample_result(4));
  }
  const PhaseDiagramStore store = PhaseDiagramStore::open(path, false);
  EXPECT_EQ(store.shape(), (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(store.sweep_hash(), grid.spec().hash);
  const auto status = store.statuses();
  EXPECT_EQ(status[4], 1);
  EXPECT_EQ(status[3], 0);
  const PointResult back = store.read_point(4);
  const PointResult expected = sample_result(4);
  EXPECT_EQ(back.theory->q, expected.theory->q);
  EXPECT_EQ(back.theory->H, expected.theory->H);  // row-major on disk, same matrix
  EXPECT_EQ(back.theory->f, expected.theory->f);
  EXPECT_EQ(back.rank, 2);
  EXPECT_TRUE(std::isnan(store.scalar("theory_q")[3]));  // NaN fill
}

TEST(ResultsSession, RefusesExistingFileWithoutResumeOrForceAndOtherSweeps) {
  const auto dir = scratch_dir("session");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  { ResultsSession session(path, grid, {}, {}); session.record(sample_result(1)); }
  EXPECT_THROW(ResultsSession(path, grid, {}, {}), ResultsFileError);
  try {
    ResultsSession(path, grid_of(theory_sweep(3, 6)), {true, false, false}, {});
    FAIL() << "a different sweep was accepted";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to a different sweep"), std::string::npos) << e.what();
  }
  {
    ResultsSession resumed(path, grid, {true, false, false}, {});
    EXPECT_EQ(resumed.already_done(), 1u);
    EXPECT_EQ(resumed.todo().size(), 5u);
  }
  ResultsSession forced(path, grid, {false, false, true}, {});
  EXPECT_EQ(forced.already_done(), 0u);
}

TEST(ResultsSession, TornJournalRecordIsDroppedAndDamagedFileRebuilt) {
  const auto dir = scratch_dir("journal");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  { ResultsSession s(path, grid, {}, {}); s.record(sample_result(0)); s.record(sample_result(5)); }
  // A killed append: half a record at the end of the journal.
  { std::ofstream(journal_path_for(path), std::ios::app | std::ios::binary) << std::string("\x40\0\0\0garbage", 11); }
  // A damaged HDF5 file: its superblock overwritten.
  { std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary); f.write("XXXXXXXXXXXXXXXX", 16); }
  const DiagramSnapshot snapshot = read_snapshot(path, false);  // status works on the damaged file
  EXPECT_FALSE(snapshot.file_readable);
  EXPECT_EQ(snapshot.results.size(), 2u);
  ResultsSession resumed(path, grid, {true, false, false}, {});
  EXPECT_EQ(resumed.already_done(), 2u);
  EXPECT_EQ(resumed.todo(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(resumed.store().read_point(5).theory->H, sample_result(5).theory->H);
  bool kept_aside = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    kept_aside |= entry.path().filename().string().rfind("d.h5.damaged-", 0) == 0;
  EXPECT_TRUE(kept_aside);
}

// A flipped bit in a recorded value: the file is damaged where HDF5 cannot tell, and damage
// elsewhere in it may be reached only by a write (HDF5 has crashed writing into such a file).
// Resume sets it aside and rebuilds it from the journal instead of writing into it.
TEST(ResultsSession, FileWithADamagedRecordedValueIsSetAsideAndRebuilt) {
  const auto dir = scratch_dir("flipped");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  { ResultsSession s(path, grid, {}, {}); s.record(sample_result(0)); s.record(sample_result(5)); }
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const double q5 = sample_result(5).theory->q;
  char pattern[sizeof q5];
  std::memcpy(pattern, &q5, sizeof q5);
  // Every copy of theory_q[5] (the value also lands in a per-point array), lowest mantissa bit.
  int copies = 0;
  for (auto at = bytes.begin();
       (at = std::search(at, bytes.end(), pattern, pattern + sizeof pattern)) != bytes.end(); ++at, ++copies)
    *at ^= 0x01;
  ASSERT_GE(copies, 1) << "theory_q of point 5 not found in the file";
  { std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<long>(bytes.size())); }
  ASSERT_NE(PhaseDiagramStore::open(path, false).read_point(5).theory->q, q5);

  ResultsSession resumed(path, grid, {true, false, false}, {});
  EXPECT_EQ(resumed.already_done(), 2u);
  EXPECT_EQ(resumed.todo(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(resumed.store().read_point(5).theory->q, q5);
  EXPECT_EQ(resumed.store().read_point(0).theory->H, sample_result(0).theory->H);
  std::string note;
  for (const auto& n : resumed.notes())
    if (n.find("differ from their journal records") != std::string::npos) note = n;
  ASSERT_FALSE(note.empty());
  const std::string kept = note.substr(note.find("kept as ") + 8, note.find(", rebuilt") - note.find("kept as ") - 8);
  std::ifstream kept_in(kept, std::ios::binary);  // the damaged file, byte for byte
  EXPECT_EQ(std::vector<char>(std::istreambuf_iterator<char>(kept_in), std::istreambuf_iterator<char>()), bytes);
}

// A kill during the write of point 5 (its journal record fsynced, its status still pending) leaves
// HDF5 metadata in the file that may point anywhere; then the journal record of point 5 is damaged
// (the fault harness: a smear over the journal's last record). Nothing accounts for point 5's group
// any more: writing over it failed ("cannot delete points/5", the resume refused every retry), so
// resume sets the file aside and rebuilds it from the journal, and point 5 is recomputed.
TEST(ResultsSession, InterruptedWriteWhoseJournalRecordIsDamagedIsRebuiltNotWrittenOver) {
  const auto dir = scratch_dir("interrupted");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  {
    ResultsSession s(path, grid, {}, {});
    s.record(sample_result(0));
    s.record(sample_result(5));
  }
  // Point 5 as a killed write leaves it: its status not yet written, its arrays' object header
  // garbage (the 64 bytes before theory_H's values, which a compact dataset keeps in its header).
  {
    const h5::File file = h5::File::open(path, true);
    h5::write_elements_int(file, "status", {5}, {0});
  }
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const Eigen::MatrixXd H5t = sample_result(5).theory->H.transpose();  // row-major in the file
  const char* pattern = reinterpret_cast<const char*>(H5t.data());
  const auto at = std::search(bytes.begin(), bytes.end(), pattern, pattern + 4 * sizeof(double));
  ASSERT_NE(at, bytes.end()) << "theory_H of point 5 not found in the file";
  ASSERT_GE(at - bytes.begin(), 64);
  std::fill(at - 64, at, '\xff');
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<long>(bytes.size()));
  }
  // Point 5's journal record (the last one) damaged: one payload byte flipped.
  const std::string jpath = journal_path_for(path);
  const auto journal_size = std::filesystem::file_size(jpath);
  {
    std::fstream j(jpath, std::ios::in | std::ios::out | std::ios::binary);
    j.seekg(static_cast<std::streamoff>(journal_size - 10));
    char c = 0;
    j.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    j.seekp(static_cast<std::streamoff>(journal_size - 10));
    j.write(&c, 1);
  }
  {  // The state this test is about: point 5 pending, its group listed, its arrays unreadable.
    const PhaseDiagramStore damaged = PhaseDiagramStore::open(path, false);
    ASSERT_EQ(damaged.statuses()[5], 0);
    ASSERT_EQ(damaged.points_with_arrays(), (std::vector<std::uint64_t>{0, 5}));
    PointResult r;
    EXPECT_ANY_THROW(damaged.read_point_arrays(5, &r));
    EXPECT_EQ(damaged.read_point(0).theory->H, sample_result(0).theory->H);
  }
  const auto verification = verify_results_file(path);
  EXPECT_EQ(verification.unaccounted, (std::vector<std::uint64_t>{5}));

  ResultsSession resumed(path, grid, {true, false, false}, {});
  EXPECT_EQ(resumed.already_done(), 1u);
  EXPECT_EQ(resumed.todo(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  std::string note;
  for (const auto& n : resumed.notes())
    if (n.find("interrupted write") != std::string::npos) note = n;
  ASSERT_FALSE(note.empty());
  EXPECT_NE(note.find("point(s) 5)"), std::string::npos) << note;
  resumed.record(sample_result(5));  // the recomputed point lands in the rebuilt file
  EXPECT_EQ(resumed.store().read_point(5).theory->H, sample_result(5).theory->H);
  EXPECT_EQ(resumed.store().read_point(0).theory->H, sample_result(0).theory->H);
  const std::string kept =
      note.substr(note.find("kept as ") + 8, note.find(", rebuilt") - note.find("kept as ") - 8);
  std::ifstream kept_in(kept, std::ios::binary);  // the damaged file, byte for byte
  EXPECT_EQ(
      std::vector<char>(std::istreambuf_iterator<char>(kept_in), std::istreambuf_iterator<char>()),
      bytes);
}

// A kill in the middle of writing point 5 (its journal record intact): the raw element of its
// message, a variable-length string, may already be on disk while the heap object it refers to
// is not, so the reference resolves to another point's string (here: point 0's, as the fault
// harness found in CI). Overwriting that element frees what it refers to: resuming into the file
// emptied point 0's message, a point already verified and done. The write-in-progress mark the
// kill leaves makes resume rebuild the file from the journal instead.
TEST(ResultsSession, FileLeftMidWriteIsRebuiltAndNoOtherPointsStringIsFreed) {
  const auto dir = scratch_dir("midwrite");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  PointResult zero = sample_result(0), five = sample_result(5);
  zero.message = "point zero's message";
  five.message = "point five's message";
  {
    ResultsSession s(path, grid, {}, {});
    s.record(zero);
    s.record(five);
  }
  {
    const h5::File file = h5::File::open(path, false);
    EXPECT_EQ(h5::double_attribute(file, "/", "write_in_progress"), 0.0);  // closed complete
  }
  std::uint64_t at = 0;
  {
    const h5::File file = h5::File::open(path, true);
    h5::write_elements_int(file, "status", {5}, {0});
    h5::set_attribute_int8(file, "/", "write_in_progress", 1);
    at = h5::raw_data_offset(file, "message");
  }
  std::vector<char> bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  constexpr std::size_t kReference = 16;  // u32 length + heap collection address + u32 index
  std::copy_n(bytes.begin() + static_cast<long>(at), kReference,
              bytes.begin() + static_cast<long>(at + 5 * kReference));
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<long>(bytes.size()));
  }
  {
    const PhaseDiagramStore left = PhaseDiagramStore::open(path, false);
    ASSERT_EQ(h5::read_strings(h5::File::open(path, false), "message")[5], zero.message);
    ASSERT_FALSE(left.last_write_completed());
  }

  {
    ResultsSession resumed(path, grid, {true, false, false}, {});
    EXPECT_EQ(resumed.already_done(), 2u);  // point 5 replayed from its journal record
    EXPECT_EQ(resumed.todo(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
    bool rebuilt = false;
    for (const auto& n : resumed.notes()) rebuilt |= n.find("left mid-write") != std::string::npos;
    EXPECT_TRUE(rebuilt);
  }
  const PhaseDiagramStore after = PhaseDiagramStore::open(path, false);
  EXPECT_TRUE(after.last_write_completed());
  EXPECT_EQ(after.read_point(0).message, zero.message);
  EXPECT_EQ(after.read_point(5).message, five.message);
  EXPECT_EQ(after.read_point(0).theory->H, zero.theory->H);
}

TEST(ResultsSession, RetryFailedRecomputesFailedPoints) {
  const auto dir = scratch_dir("retry");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(2));
  PointResult failed = sample_result(2);
  failed.status = Status::failed;
  failed.message = "boom";
  { ResultsSession s(path, grid, {}, {}); s.record(failed); }
  EXPECT_EQ(ResultsSession(path, grid, {true, false, false}, {}).todo().size(), 3u);
  EXPECT_EQ(ResultsSession(path, grid, {true, true, false}, {}).todo().size(), 4u);
  EXPECT_EQ(read_snapshot(path, false).results.at(2).message, "boom");
}

// Group commit: a batch lands in the journal as consecutive records (one fsync) and in the file
// bit-exact, statuses included. A batch whose journal append was cut short keeps its intact prefix:
// resume replays exactly those points and recomputes the rest; none is half recorded.
TEST(ResultsSession, GroupCommitRecordsABatchAndATornBatchKeepsItsIntactPrefix) {
  const auto dir = scratch_dir("batch");
  const std::string path = (dir / "d.h5").string();
  const SweepGrid grid = grid_of(theory_sweep(3));
  std::vector<PointResult> batch = {sample_result(5), sample_result(0), sample_result(3)};
  batch[2].status = Status::not_converged;
  batch[2].message = "theory: slow";
  std::uintmax_t journal_before = 0;
  {
    ResultsSession s(path, grid, {}, {});
    journal_before = std::filesystem::file_size(journal_path_for(path));
    const BatchCommit commit = s.record_batch(batch);
    EXPECT_EQ(commit.journal_bytes, std::filesystem::file_size(journal_path_for(path)) - journal_before);
    const auto status = s.store().statuses();
    EXPECT_EQ(status, (std::vector<std::int8_t>{1, 0, 0, 3, 0, 1}));
    for (const auto& r : batch) {
      const PointResult back = s.store().read_point(r.point);
      EXPECT_EQ(back.message, r.message);
      EXPECT_EQ(back.theory->H, r.theory->H);
      EXPECT_EQ(s.store().scalar("theory_q")[r.point], r.theory->q);
    }
  }
  // Cut the journal inside the batch's last record (a kill during the write), and lose the file.
  const auto full = std::filesystem::file_size(journal_path_for(path));
  std::filesystem::resize_file(journal_path_for(path), full - 7);
  std::filesystem::remove(path);
  ResultsSession resumed(path, grid, {true, true, false}, {});
  EXPECT_EQ(resumed.already_done(), 2u);  // points 5 and 0; point 3's record was torn
  EXPECT_EQ(resumed.todo(), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(resumed.store().read_point(0).theory->H, sample_result(0).theory->H);
}

namespace {

void expect_same_fields(const PointResult& a, const PointResult& b, const std::string& via) {
  for (const auto& f : result_fields()) {
    SCOPED_TRACE(via + ": " + f.name());
    ASSERT_EQ(part_present(f, a), part_present(f, b));
    if (f.kind() == FieldKind::text) {
      EXPECT_EQ(text_of(f, a), text_of(f, b));
    } else if (f.kind() == FieldKind::array) {
      const Eigen::MatrixXd* x = array_of(f, a);
      const Eigen::MatrixXd* y = array_of(f, b);
      ASSERT_EQ(x == nullptr, y == nullptr);
      if (x) {
        EXPECT_EQ(*x, *y);  // shape included: M x M, and n x 1 for 1-D arrays
      }
    } else {
      const double x = number_of(f, a), y = number_of(f, b);
      EXPECT_EQ(0, std::memcmp(&x, &y, sizeof x)) << x << " vs " << y;
    }
  }
}

}  // namespace

TEST(PhaseDiagramStore, EveryFieldRoundTripsThroughTheFileAndOneByOneKernelsStay2D) {
  const auto dir = scratch_dir("store-fields");
  const SweepGrid grid = grid_of(theory_sweep(3));
  const std::string path = (dir / "d.h5").string();
  const PointResult full = every_field_result(4, 3);
  PointResult one = every_field_result(1, 1);  // M = 1: kernels are 1 x 1, not vectors
  PointResult theory_only = every_field_result(2, 2);
  theory_only.sgld.reset();
  {
    ResultsSession session(path, grid, {}, {});
    const std::vector<PointResult> batch = {full, one, theory_only};
    session.record_batch(batch);
  }
  const PhaseDiagramStore store = PhaseDiagramStore::open(path, false);
  const auto back = store.read_points(true);
  ASSERT_EQ(back.size(), 3u);
  expect_same_fields(full, back.at(4), "hdf5");
  expect_same_fields(one, back.at(1), "hdf5 M=1");
  expect_same_fields(theory_only, back.at(2), "hdf5 theory only");
  // The journal holds the same (it is what resume replays).
  const DiagramSnapshot snapshot = read_snapshot(path, true);
  expect_same_fields(full, snapshot.results.at(4), "snapshot");
}

TEST(PhaseDiagramStore, RefusesAFileOfAnotherFormatInOneLine) {
  const auto dir = scratch_dir("store-format");
  const SweepGrid grid = grid_of(theory_sweep(2));
  const std::string path = (dir / "d.h5").string();
  { ResultsSession session(path, grid, {}, {}); }
  {
    PhaseDiagramStore store = PhaseDiagramStore::open(path, true);
    store.set_attribute("file_format", "kernelsweep-phase-diagram 1");
  }
  try {
    PhaseDiagramStore::open(path, false);
    FAIL() << "an old-format file was opened";
  } catch (const h5::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("kernelsweep-phase-diagram 1"), std::string::npos) << message;
    EXPECT_NE(message.find("re-run the sweep"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}
