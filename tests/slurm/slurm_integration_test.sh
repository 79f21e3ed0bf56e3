#!/usr/bin/env bash
# Integration test on a real single-node SLURM (Debian's slurm-wlm, started by tools/slurm-local):
# a sweep that one job cannot finish within its 1-minute time limit is submitted with
# tools/submit --time 1 --max-requeue 1 --chain 5. The warning signal interrupts the run (exit 75),
# the job requeues itself once, then the chained jobs (--dependency=afterany, --resume) continue.
# Checks: every job ends, the sweep is complete, at least one interruption and one resume
# happened, the contributing SLURM jobs are in the file's provenance, and the file's results equal
# those of an uninterrupted run of the same sweep (kernelsweep export, and every HDF5 dataset bit
# for bit, except per-point wall time, rank and SGLD steps per second).
# Stops every daemon it started, by PID, also on failure. Exit 77 (CTest: skipped) only when this
# machine cannot start the daemons (not root, or no apt-get to install them).
#
# Usage: slurm_integration_test.sh KERNELSWEEP_BINARY
set -uo pipefail
ks=${1:?usage: slurm_integration_test.sh KERNELSWEEP_BINARY}
repo=$(cd "$(dirname "$0")/../.." && pwd)
t_start=$SECONDS
say() { echo "slurm_integration: [$((SECONDS - t_start)) s] $*"; }
die() { echo "slurm_integration: FAIL: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm_integration: SKIPPED: needs root to install and start munged, slurmctld and slurmd"
  exit 77
fi
[ -x "$ks" ] || die "kernelsweep binary '$ks' not found"
"$ks" run --help >/dev/null 2>&1 || die "'$ks' has no 'run' command"

python=
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import h5py, numpy' 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || die "no python3 with h5py and numpy (tools/setup installs python3-h5py)"

# A work directory whose path needs quoting everywhere (space and single quote).
work=$(mktemp -d /tmp/kernelsweep-slurm-test.XXXXXX)
dir="$work/sweep dir/it's"
mkdir -p "$dir/ref"
export OMPI_MCA_btl=self,vader  # shared memory only, no TCP listeners
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

started_cluster=0
job_ids=()
ref_pid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ ${#job_ids[@]} -gt 0 ] && command -v scancel >/dev/null; then scancel "${job_ids[@]}" 2>/dev/null || true; fi
  if [ -n "$ref_pid" ] && kill -0 "$ref_pid" 2>/dev/null; then kill "$ref_pid" 2>/dev/null; wait "$ref_pid" 2>/dev/null; fi
  if [ "$started_cluster" = 1 ]; then
    "$repo/tools/slurm-local" stop || rc=1
  fi
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "slurm_integration: files kept in $work" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 1. the cluster ----
if "$repo/tools/slurm-local" status >/dev/null 2>&1; then
  say "using the single-node SLURM that is already running (not stopping it afterwards)"
else
  t0=$SECONDS
  started_cluster=1
  "$repo/tools/slurm-local" start
  rc=$?
  if [ "$rc" -eq 77 ]; then
    started_cluster=0
    echo "slurm_integration: SKIPPED: this machine cannot install or start the SLURM daemons"
    exit 77
  fi
  [ "$rc" -eq 0 ] || die "tools/slurm-local start failed ($rc)"
  say "cluster started in $((SECONDS - t0)) s"
fi

# ---- 2. the sweep: 24 SGLD points of ~3 s CPU each, ~72 s on the one worker rank: more than a
# 1-minute job can do whatever the load, so at least one job is cut ----
sweep="$dir/phase sweep.yaml"
cat >"$sweep" <<'EOF'
name: slurm_test
seed: 11
base:
  model: {architecture: rnn, activation: linear, T: 3, N: 96}
  task: {kind: endpoint_classification, P: 3, D: 3}
  theory: {enabled: true}
  sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 2, steps: 24000, burn_in: 4000, thin: 20}
axes:
  - key: task.lam
    linspace: {start: 0.5, stop: 2.0, num: 12}
  - key: model.architecture
    values: [rnn, dnn]
EOF
out="$dir/phase diagram.h5"
ref="$dir/ref/reference.h5"

# The uninterrupted reference, in the background while the jobs run (one process, no MPI launcher).
(cd "$dir/ref" && t=$SECONDS && "$ks" run "$sweep" --out "$ref" >"$dir/ref/run.log" 2>&1; rc=$?
 echo "$((SECONDS - t))" >"$dir/ref/seconds"; exit $rc) &
ref_pid=$!

# ---- 3. submit: 1-minute limit (cuts it), warning 10 s before (slurmctld may send it up to
# ~30 s earlier), one self-requeue per job, five chained jobs: room for 12 runs of 20-50 s, while
# 2-4 do on an idle machine; the chained jobs that find the sweep complete end at once ----
ids=$("$repo/tools/submit" "$sweep" --out "$out" --kernelsweep "$ks" --ntasks 2 --time 1 \
      --warn 10 --grace 8 --max-requeue 1 --chain 5) || die "tools/submit failed"
mapfile -t job_ids <<<"$ids"
[ ${#job_ids[@]} -eq 6 ] || die "expected 6 job ids from tools/submit, got: $ids"
for id in "${job_ids[@]}"; do [[ "$id" =~ ^[0-9]+$ ]] || die "not a job id: '$id'"; done
say "submitted jobs ${job_ids[*]}"

# ---- 4. wait for every job to leave the queue (bounded; a stuck queue fails with its state) ----
deadline=$((SECONDS + 540))
while :; do
  queued=$(squeue -h -j "$(IFS=,; echo "${job_ids[*]}")" -o '%i %T %r' 2>/dev/null || true)
  [ -z "$queued" ] && break
  if [ $SECONDS -ge $deadline ]; then
    squeue; scontrol show job "${job_ids[@]}"; cat "$dir"/*.out
    die "jobs still queued after 540 s"
  fi
  sleep 2
done
say "all jobs left the queue"
wait "$ref_pid"; ref_rc=$?; ref_pid=
say "reference run exited $ref_rc after $(cat "$dir/ref/seconds" 2>/dev/null || echo '?') s (alongside the jobs)"
[ "$ref_rc" -eq 0 ] || { cat "$dir/ref/run.log"; die "reference run failed ($ref_rc)"; }

echo "---- job logs ----"
cat "$dir"/*.out
echo "---- job completion records ----"
grep -E "JobId=($(IFS='|'; echo "${job_ids[*]}")) " "${KERNELSWEEP_SLURM_DIR:-/tmp/kernelsweep-slurm}/jobcomp.txt" |
  sed -E 's/.*(JobId=[0-9]+).*(JobState=[A-Z_]+).*(StartTime=[^ ]+) (EndTime=[^ ]+).*(ExitCode=[^ ]+).*/\1 \2 \3 \4 \5/'

# ---- 5. checks ----
logs=$(cat "$dir"/*.out)
failures=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi; }
check "the run was interrupted at least once (exit 75)" grep -q "kernelsweep run exited with 75" <<<"$logs"
check "the job requeued itself" grep -q "interrupted, resumable: requeueing" <<<"$logs"
check "a resumed run continued the file" grep -q "run .*--resume" <<<"$logs"
check "some run completed the sweep" grep -q "kernelsweep run exited with 0" <<<"$logs"
finisher=$(sed -n 's/^kernelsweep-job .* job \([0-9]*\) restart [0-9]*: kernelsweep run exited with 0$/\1/p' <<<"$logs" | head -n1)
for id in "${job_ids[@]}"; do
  if [ -n "$finisher" ] && [ "$id" -gt "$finisher" ]; then
    check "job $id, chained after the sweep was complete, ended at once" \
      grep -q "job $id restart 0: sweep in .* is already complete; nothing to do" <<<"$logs"
  fi
done
if grep -q "job ${job_ids[1]} restart 0: starting" <<<"$logs"; then
  say "the chain continued the sweep (job ${job_ids[1]} ran kernelsweep)"
else
  say "note: the first job's two runs finished the sweep; the chain only checked it was complete"
fi

"$ks" status "$out" || true
status_json=$("$ks" status "$out" --json) || die "kernelsweep status failed"
"$python" - "$status_json" "${job_ids[@]}" <<'EOF' || failures=$((failures + 1))
import json, sys
s = json.loads(sys.argv[1]); ids = set(sys.argv[2:])
ok = True
def check(what, cond):
    global ok
    print(("ok: " if cond else "FAIL: ") + what, file=sys.stdout if cond else sys.stderr)
    ok &= bool(cond)
c = s["counts"]
check(f"all {s['points']} points done: {c}", s["points"] == 24 and c["done"] == 24 and c["pending"] == 0)
jobs = s.get("slurm_jobs", [])
print("slurm_jobs:", json.dumps(jobs))
text = json.dumps(jobs)
seen = {i for i in ids if f'"{i}"' in text or f": {i}" in text or f":{i}," in text}
check(f"the first job is among the contributing SLURM jobs {sorted(seen)}", sorted(ids, key=int)[0] in seen)
check("a requeued run (SLURM_RESTART_COUNT 1) contributed", any(str(j.get("SLURM_RESTART_COUNT", j.get("restart_count", ""))) == "1" for j in jobs if isinstance(j, dict)))
check("at least 2 invocations are recorded", s["runs"] >= 2)
sys.exit(0 if ok else 1)
EOF

# The results equal the uninterrupted run's: export (CSV without wall time and rank) and HDF5.
"$ks" export "$out" --format csv --out "$work/slurm.csv" || die "export of the SLURM file failed"
"$ks" export "$ref" --format csv --out "$work/ref.csv" || die "export of the reference failed"
"$python" - "$work/slurm.csv" "$work/ref.csv" "$out" "$ref" <<'EOF' || failures=$((failures + 1))
import csv, re, sys
import h5py, numpy as np
skip = re.compile(r"wall_time|rank|per_second|theory_seconds|^runs/")
def table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    keep = [i for i, h in enumerate(header) if not skip.search(h)]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows[1:]]
h1, r1 = table(sys.argv[1]); h2, r2 = table(sys.argv[2])
ok = h1 == h2 and r1 == r2 and len(r1) == 24
print(("ok" if ok else "FAIL") + f": export CSV equal ({len(r1)} rows, columns {h1})")
if not ok:
    for a, b in zip(r1, r2):
        if a != b: print("  slurm:", a, "\n  ref:  ", b)
def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out
with h5py.File(sys.argv[3], "r") as a, h5py.File(sys.argv[4], "r") as b:
    da, db = datasets(a), datasets(b)
    compared = []
    if sorted(da) != sorted(db):
        ok = False
        print("FAIL: dataset names differ:", sorted(set(da) ^ set(db)))
    for name in sorted(set(da) & set(db)):
        if skip.search(name):
            continue
        x, y = da[name][()], db[name][()]
        if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
            same = x.shape == y.shape and np.array_equal(x.view(np.uint8) if x.dtype.kind == "f" else x,
                                                           y.view(np.uint8) if y.dtype.kind == "f" else y)
        else:
            same = np.array_equal(np.asarray(x), np.asarray(y))
        if not same:
            ok = False
            print("FAIL: dataset differs:", name)
        compared.append(name)
    print(f"{'ok' if ok else 'FAIL'}: {len(compared)} HDF5 datasets compared bit for bit")
    if len(compared) < 5:
        ok = False
        print("FAIL: too few datasets compared:", compared)
sys.exit(0 if ok else 1)
EOF

say "integration test finished with $failures failure(s)"
[ "$failures" -eq 0 ]
