#!/usr/bin/env bash
# tools/plot renders every figure type from small real results files (a lam x T sweep with SGLD,
# and a theory-only sweep on a denser lam grid overlaid on it), in PNG, SVG and PDF, and shows
# what it must: one facet per T unless --sel fixes it (never silently the first T), labels and
# units from the variables' attributes, titles from the sweep name (stored as bytes), lambda_c
# markers where the file stores theory_lambda_c, the W spectrum with its eigenvalues where
# stored; bad requests exit 2 with one line. SVG text is kept as text, so it can be searched.
# Usage: plot_test.sh KERNELSWEEP
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
ks=$1
plot="$repo/tools/plot"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
expect() { local what=$1; shift; checks=$((checks + 1)); if "$@"; then :; else failures=$((failures + 1)); echo "FAIL: $what" >&2; fi; }
cd "$work" || exit 1
cat >sgld.yaml <<'YAML'
name: plot_test
seed: 3
base:
  model: {N: 16}
  task: {P: 2, D: 2}
  sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 2, steps: 200, burn_in: 50, thin: 5}
axes:
  - {key: task.lam, values: [0.5, 1.0, 1.5]}
  - {key: model.T, values: [2, 3]}
YAML
cat >dense.yaml <<'YAML'
name: plot_dense
base: {task: {P: 2, D: 2}}
axes:
  - {key: task.lam, linspace: {start: 0.2, stop: 1.6, num: 15}}
  - {key: model.T, values: [2, 3]}
YAML
OMP_NUM_THREADS=1 "$ks" run sgld.yaml --out sgld.h5 >/dev/null 2>&1 || { echo "FAIL: kernelsweep run sgld.yaml" >&2; exit 1; }
OMP_NUM_THREADS=1 "$ks" run dense.yaml --out dense.h5 >/dev/null 2>&1 || { echo "FAIL: kernelsweep run dense.yaml" >&2; exit 1; }
# A copy with attributes and stored quantities the plot must use: long_name/units, lambda_c, a
# W spectrum (random points in the unit disc) at point 5.
cp sgld.h5 extra.h5
cp sgld.h5 bare.h5
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
with h5py.File("extra.h5", "a") as f:
    f["theory_q"].attrs["long_name"] = "order parameter q"
    f["theory_q"].attrs["units"] = "a.u."
    f["lam"].attrs["long_name"] = "signal strength lambda"
    f["theory_lambda_c"][...] = 0.8125  # as theory.critical would store it
    rng = np.random.default_rng(1)
    z = np.sqrt(rng.uniform(size=64)) * np.exp(2j * np.pi * rng.uniform(size=64))
    f["points/5"].create_dataset("sgld_W_eigenvalues", data=np.stack([z.real, z.imag], axis=1))
PY
valid() {  # file kind
  case "$2" in
    png) [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ;;
    pdf) [ "$(head -c 5 "$1")" = "%PDF-" ] ;;
    svg) grep -q "<svg" "$1" ;;
  esac
}
render() {  # out args...
  local out=$1; shift
  rm -f "$out"
  "$plot" "$@" --out "$out" >/dev/null 2>"$work/err"
}
for kind in png svg pdf; do
  render "curves.$kind" sgld.h5; expect "curves.$kind rendered: $(cat err)" valid "curves.$kind" $kind
  render "map.$kind" sgld.h5 --kind map --axes T lam; expect "map.$kind rendered: $(cat err)" valid "map.$kind" $kind
  render "kernels.$kind" sgld.h5 --kind kernels --sel lam=1.5 --sel T=3; expect "kernels.$kind rendered: $(cat err)" valid "kernels.$kind" $kind
  render "spectrum.$kind" extra.h5 --kind spectrum --sel lam=1.5 --sel T=3; expect "spectrum.$kind rendered: $(cat err)" valid "spectrum.$kind" $kind
  render "overlay.$kind" dense.h5 sgld.h5 --label theory --label SGLD; expect "overlay.$kind rendered: $(cat err)" valid "overlay.$kind" $kind
done
# Facets: both T without --sel, only the chosen one with it.
expect "a facet per T" bash -c 'grep -q "T = 2" curves.svg && grep -q "T = 3" curves.svg'
render sel.svg sgld.h5 --sel T=3
expect "--sel T=3: one panel" bash -c '! grep -q "T = 2" sel.svg'
# Title from the sweep name (bytes in the file), not b'...'.
expect "title is the sweep name" grep -q ">plot_test<" curves.svg
expect "no bytes repr in the title" bash -c "! grep -q \"b'plot_test'\" curves.svg"
# Labels and units from the attributes; the variable name where there are none.
render labels.svg extra.h5
expect "y label from long_name and units" grep -q "order parameter q \[a.u.\]" labels.svg
expect "x label from long_name" grep -q "signal strength lambda" labels.svg
expect "label from the file's own long_name" grep -q "order parameter q (theory)" curves.svg
/usr/bin/python3 -c 'import h5py; f = h5py.File("bare.h5", "a"); del f["theory_q"].attrs["long_name"]; del f["theory_q"].attrs["units"]' 2>/dev/null
render bare.svg bare.h5
expect "fallback label: the variable name" grep -q ">theory_q<" bare.svg
# lambda_c marker where stored.
expect "lambda_c marker" grep -q "lambda_c = 0.8125" labels.svg
# Overlay: the files' labels in the legend, both sweep names in the title.
expect "overlay legend labels" bash -c 'grep -q ">theory<" overlay.svg && grep -q "SGLD (± s.e.)" overlay.svg'
# The theory line of the overlay is the dense file's only: one theory legend entry.
expect "one theory line in the overlay" [ "$(grep -c ">theory<" overlay.svg)" -eq 1 ]
expect "overlay title" grep -q "plot_dense + plot_test" overlay.svg
# Kernels: theory and SGLD, H and C; spectrum: the stored eigenvalues, the bulk circle.
expect "four kernel panels" bash -c 'for t in "theory H" "SGLD H" "theory C" "SGLD C"; do grep -q ">$t<" kernels.svg || exit 1; done'
expect "spectrum eigenvalues" grep -q "eigenvalues of W (64)" spectrum.svg
expect "spectrum bulk circle" grep -q "bulk radius" spectrum.svg
# Refusals: exit 2 and one line.
refuse() {
  local want=$1; shift
  "$plot" "$@" >/dev/null 2>err; local rc=$?
  expect "refused with exit 2 (got $rc): $*" [ "$rc" -eq 2 ]
  expect "one error line naming '$want': $(cat err)" bash -c '[ "$(wc -l <"$1")" -eq 1 ] && grep -q -- "$2" "$1"' _ err "$want"
}
refuse "fix lam, T with --sel" sgld.h5 --kind kernels --out x.png
refuse "T has no value 7" sgld.h5 --sel T=7 --out x.png
refuse "no such dimension" sgld.h5 --sel N=7 --out x.png
refuse "must end in .png, .svg or .pdf" sgld.h5 --out x.jpg
refuse "has the variable nope" sgld.h5 --kind map --axes T lam --variable nope --out x.png
echo "plot_test: $((checks - failures)) of $checks passed"
[ "$failures" -eq 0 ]
