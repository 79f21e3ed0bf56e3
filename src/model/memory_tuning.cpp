#include "model/memory_tuning.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kernelsweep {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  // Blocks up to 16 MB come from the heap, and up to 64 MB of freed heap stay mapped for reuse
  // (fixed values also stop glibc's own threshold adjustment). The theory's working set is a few
  // tens of MB; SGLD's large arrays above 16 MB are still mmapped and returned on free.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace kernelsweep
