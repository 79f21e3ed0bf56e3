#!/usr/bin/env bash
# The rendered job script with the real kernelsweep under the real mpirun (no SLURM needed):
# SIGTERM to the batch shell (scancel, the time limit) stops the run cleanly and the job exits 75,
# although mpirun itself answers SIGTERM by killing the ranks and exiting 1 (the job forwards it as
# SIGUSR1, and reads the outcome from the file's run log). Usage: mpirun_signal_test.sh KERNELSWEEP
set -uo pipefail
bin=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
command -v mpirun >/dev/null || { echo "mpirun_signal_test: no mpirun, skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/stubs"
printf '#!/bin/bash\necho "scontrol $*" >>"%s/scontrol.log"\n' "$work" >"$work/stubs/scontrol"
chmod +x "$work/stubs/scontrol"
cat >"$work/s.yaml" <<'YAML'
name: slow
seed: 3
base: {model: {T: 4, N: 16}, task: {P: 4, D: 4}, sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 2, steps: 20000, burn_in: 100}}
axes: [{key: task.lam, linspace: {start: 0.2, stop: 2.0, num: 8}}]
YAML
"$repo/tools/submit" "$work/s.yaml" --out "$work/d.h5" --kernelsweep "$bin" --launcher mpirun --grace 30 --dry-run |
  sed -n '/^#!\/bin\/bash$/,/^exit "\$rc"$/p' >"$work/job.sh"
(cd "$work" && PATH="$work/stubs:$PATH" SLURM_JOB_ID=91 SLURM_RESTART_COUNT=0 OMPI_MCA_btl=self,vader \
  OMPI_MCA_rmaps_base_oversubscribe=1 exec bash "$work/job.sh" >"$work/job.out" 2>&1) &
shell=$!
for _ in $(seq 1 600); do
  "$bin" status "$work/d.h5" --json 2>/dev/null | grep -q '"done":[1-9]' && break
  sleep 0.1
done
kill -TERM "$shell"
wait "$shell"; rc=$?
failures=0
check() { if eval "$2"; then :; else echo "FAIL: $1" >&2; failures=$((failures + 1)); fi; }
check "job exits 75 after SIGTERM (got $rc)" '[ "$rc" -eq 75 ]'
check "the run stopped cleanly (its own end row says 75)" \
  '"$bin" status "$work/d.h5" --json | grep -o "\"exit_code\":[0-9]*" | tail -n1 | grep -qx "\"exit_code\":75"'
check "a cancel is not requeued" '[ ! -e "$work/scontrol.log" ]'
check "the file resumes to the end" '"$bin" run "$work/s.yaml" --out "$work/d.h5" --resume >/dev/null 2>&1'
if [ "$failures" -ne 0 ]; then cat "$work/job.out" >&2; exit 1; fi
echo "mpirun_signal_test: passed (job exit $rc)"
