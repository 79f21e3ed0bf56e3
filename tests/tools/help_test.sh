#!/usr/bin/env bash
# Every script in tools/ answers --help and -h with its usage on stdout and exit code 0, and does
# nothing else: apt-get, sudo, dpkg-query, cmake, ctest, mpirun, sbatch and the daemons of
# tools/slurm-local are replaced by stubs that record any call, and the test fails if one is made
# or if a file appears in the working directory.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stubs="$work/stubs"
mkdir -p "$stubs" "$work/cwd"
for cmd in apt-get sudo dpkg-query cmake ctest make mpirun sbatch scontrol srun slurmctld slurmd \
  munged mungekey kernelsweep; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 0\n' "$cmd" "$work/calls" >"$stubs/$cmd"
  chmod +x "$stubs/$cmd"
done
failures=0
checks=0
for script in "$repo"/tools/*; do
  [ -f "$script" ] && [ -x "$script" ] || continue
  name=${script#"$repo"/}
  for flag in --help -h; do
    checks=$((checks + 1))
    : >"$work/calls"
    out=$(cd "$work/cwd" && PATH="$stubs:$PATH" "$script" "$flag" 2>"$work/err")
    rc=$?
    problem=
    if [ "$rc" -ne 0 ]; then problem="exit code $rc"
    elif ! grep -qi "usage" <<<"$out"; then problem="no usage text on stdout"
    elif [ -s "$work/calls" ]; then problem="ran commands: $(tr '\n' ';' <"$work/calls")"
    elif [ -n "$(ls -A "$work/cwd")" ]; then problem="created files: $(ls -A "$work/cwd")"
    fi
    if [ -n "$problem" ]; then
      failures=$((failures + 1))
      echo "FAIL: $name $flag: $problem ($(head -c 300 "$work/err"))" >&2
      rm -rf "$work/cwd"/* "$work/cwd"/.[!.]* 2>/dev/null
    fi
  done
done
echo "help_test: $((checks - failures)) of $checks passed"
[ "$checks" -ge 12 ] && [ "$failures" -eq 0 ]
