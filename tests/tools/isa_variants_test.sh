#!/usr/bin/env bash
# The instruction-set variants of the hot kernels must not share code through the linker: if an
# AVX-512 object defined an inline function (an Eigen or Random123 template, say) under the same
# name as another object, the linker would keep one copy for all, and a CPU without AVX-512 could
# run AVX-512 instructions. So every externally visible symbol an avx2 / avx512 object defines
# must be its own: its demangled name contains the variant's name.
# Usage: isa_variants_test.sh OBJECT...   (the variant object files; names contain the variant)
set -uo pipefail
failures=0
checked=0
for object in "$@"; do
  case "$object" in
    *_avx512*) variant=avx512 ;;
    *_avx2*) variant=avx2 ;;
    *) continue ;;
  esac
  checked=$((checked + 1))
  if [ ! -f "$object" ]; then failures=$((failures + 1)); echo "FAIL: no object file $object" >&2; continue; fi
  # Defined, global or weak symbols (upper-case types, plus u/V/W); local ones are private.
  # DW.ref.__gxx_personality_v0 is no code: a data word pointing to the one C++ personality
  # routine, the same in every object that can unwind (the Eigen kernels can throw bad_alloc).
  bad=$(nm -C --defined-only "$object" | awk '$2 ~ /^[A-Zuvw]$/ { $1 = ""; $2 = ""; print }' |
        grep -v -- "$variant" | grep -v -x -- ' *DW.ref.__gxx_personality_v0' || true)
  if [ -n "$bad" ]; then
    failures=$((failures + 1))
    echo "FAIL: $object ($variant) defines symbols not of its own variant:" >&2
    echo "$bad" | head -n 20 >&2
  fi
done
echo "isa_variants_test: $checked variant objects checked, $failures with foreign symbols"
[ "$checked" -gt 0 ] && [ "$failures" -eq 0 ]
