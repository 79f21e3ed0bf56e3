#include "mpi/mpi_session.hpp"

#include <mpi.h>

#include <cstdlib>
#include <stdexcept>

namespace kernelsweep {

namespace {

// mpirun (OpenMPI), srun (PMI/PMIx) and MPICH's hydra set one of these in every rank.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + ": " + std::string(text, static_cast<std::size_t>(length)));
  }
}

}  // namespace

MpiSession::MpiSession() {
  if (!launched_by_mpi()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialized_ = true;
  // Errors come back as codes, which check() turns into exceptions with MPI's own text.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  if (initialized_) MPI_Finalize();
}

std::string MpiSession::library_version() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string version(text, static_cast<std::size_t>(length));
  const auto comma = version.find(',');  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
  return version.substr(0, comma);
}

void MpiSession::send(int destination, MessageTag tag, const std::vector<std::uint8_t>& bytes) {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, destination, static_cast<int>(tag),
                 MPI_COMM_WORLD),
        "MPI_Send");
}

std::vector<std::string> MpiSession::gather_at_coordinator(const std::string& mine) {
  if (!initialized_) return {mine};
  constexpr int kWidth = 64;
  std::vector<char> own(kWidth, '\0');
  mine.copy(own.data(), kWidth - 1);
  std::vector<char> all(rank_ == 0 ? static_cast<std::size_t>(size_) * kWidth : 0);
  check(MPI_Gather(own.data(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, 0, MPI_COMM_WORLD),
        "MPI_Gather");
  std::vector<std::string> out;
  for (int r = 0; rank_ == 0 && r < size_; ++r)
    out.emplace_back(all.data() + std::size_t(r) * kWidth);
  return out;
}

std::optional<Envelope> MpiSession::poll(int source) {
  if (!initialized_) return std::nullopt;
  int flag = 0;
  MPI_Status status;
  check(MPI_Iprobe(source < 0 ? MPI_ANY_SOURCE : source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  return Envelope{status.MPI_SOURCE, static_cast<MessageTag>(status.MPI_TAG), static_cast<std::size_t>(count)};
}

std::vector<std::uint8_t> MpiSession::receive(const Envelope& e) {
  std::vector<std::uint8_t> bytes(e.bytes);
  check(MPI_Recv(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, e.source, static_cast<int>(e.tag),
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  return bytes;
}

void MpiSession::abort(int code) {
  if (initialized_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace kernelsweep
