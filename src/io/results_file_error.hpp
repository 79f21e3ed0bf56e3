#pragma once
// Bad use of a results file (exists, different sweep, another run writes it, unwritable
// directory): exit code 2.
#include <stdexcept>

namespace kernelsweep {

class ResultsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kernelsweep
