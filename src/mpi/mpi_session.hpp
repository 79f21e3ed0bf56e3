#pragma once
// The one wrapper over MPI (the only file that includes mpi.h is mpi_session.cpp). Starts MPI only
// when launched by mpirun/srun (so `kernelsweep run` without mpirun is a plain serial process),
// and offers exactly the messaging the scheduler needs: send bytes, probe without blocking, receive.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kernelsweep {

enum class MessageTag : int { task = 1, result = 2, stop = 3, interrupted = 4 };

struct Envelope {
  int source = 0;
  MessageTag tag = MessageTag::task;
  std::size_t bytes = 0;
};

class MpiSession {
 public:
  MpiSession();
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool parallel() const { return initialized_; }
  std::string library_version() const;

  void send(int destination, MessageTag tag, const std::vector<std::uint8_t>& bytes);
  // A pending message from `source` (-1: any), without blocking.
  std::optional<Envelope> poll(int source = -1);
  std::vector<std::uint8_t> receive(const Envelope& envelope);
  // Collective (every rank calls it at the same point): each rank's `mine` (at most 63 bytes
  // kept), indexed by rank, at rank 0; the other ranks get nothing. Serial: {mine}.
  std::vector<std::string> gather_at_coordinator(const std::string& mine);
  // Ends every rank of the job with `code` (mpirun returns it). Serial: std::_Exit(code).
  [[noreturn]] void abort(int code);

 private:
  bool initialized_ = false;
  int rank_ = 0, size_ = 1;
};

}  // namespace kernelsweep
