#!/usr/bin/env bash
# cmake --install into a fresh prefix: the executable runs, the installed tools answer --help and
# find their job templates (kernelsweep-submit renders a job from the installed files), the
# example sweeps and documentation are there, and the installed Python package imports and
# solves a point with the numbers of the installed executable.
# Usage: install_test.sh BUILD_DIR PYTHON (PYTHON empty: no Python package built)
set -uo pipefail
build=$1
python=${2:-}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
failures=0
checks=0
expect() { local what=$1; shift; checks=$((checks + 1)); if "$@"; then :; else failures=$((failures + 1)); echo "FAIL: $what" >&2; fi; }
cmake --install "$build" --prefix "$prefix" >"$prefix/install.log" 2>&1
expect "cmake --install succeeds: $(tail -n 3 "$prefix/install.log")" [ $? -eq 0 ]
for f in bin/kernelsweep bin/kernelsweep-submit bin/kernelsweep-plot share/kernelsweep/slurm/single-node.sbatch \
         share/kernelsweep/slurm/multi-node.sbatch share/kernelsweep/sweeps/demo.yaml \
         share/doc/kernelsweep/LICENSE share/doc/kernelsweep/CITATION.cff share/doc/kernelsweep/docs/theory.md; do
  expect "installed: $f" [ -e "$prefix/$f" ]
done
expect "installed kernelsweep runs" "$prefix/bin/kernelsweep" --version
expect "kernelsweep-submit --help" bash -c '"$1/bin/kernelsweep-submit" --help | grep -q "^Usage: tools/submit"' _ "$prefix"
expect "kernelsweep-plot --help" bash -c '"$1/bin/kernelsweep-plot" --help | grep -q "^usage: tools/plot"' _ "$prefix"
# The installed submit finds the installed templates and the installed executable (no PATH).
cp "$prefix/share/kernelsweep/sweeps/demo.yaml" "$prefix/demo.yaml"
echo "cpus_per_node = 2" >"$prefix/profile"
out=$(cd "$prefix" && PATH=/usr/bin:/bin KERNELSWEEP_PROFILE="$prefix/profile" "$prefix/bin/kernelsweep-submit" demo.yaml --out "$prefix/d.h5" \
      --time 10 --ntasks 2 --samples 0 --dry-run 2>"$prefix/err")
expect "installed submit renders a job: $(cat "$prefix/err")" grep -q "^KS_BIN=$prefix/bin/kernelsweep$" <<<"$out"
expect "from the installed single-node template" grep -q "kernelsweep sweep job, one node" <<<"$out"
if [ -n "$python" ]; then
  site=$(find "$prefix/lib" -type d -name kernelsweep -path "*-packages/*" | head -n1)
  expect "python package installed under lib/python3.X/site-packages" [ -n "$site" ] && [ -f "$site/__init__.py" ]
  q_py=$(cd / && PYTHONPATH=$(dirname "$site") "$python" -c \
    'import kernelsweep as ks; print(repr(ks.solve({"model": {"T": 4}, "task": {"lam": 1.5}})["theory"]["q"]))')
  printf 'model: {T: 4}\ntask: {lam: 1.5}\n' >"$prefix/p.yaml"
  q_cli=$("$prefix/bin/kernelsweep" solve "$prefix/p.yaml" --json | "$python" -c 'import json,sys; print(repr(json.load(sys.stdin)["theory"]["q"]))')
  expect "installed package gives the installed CLI's q ($q_py vs $q_cli)" [ -n "$q_py" ] && [ "$q_py" = "$q_cli" ]
fi
echo "install_test: $((checks - failures)) of $checks passed"
[ "$failures" -eq 0 ]
