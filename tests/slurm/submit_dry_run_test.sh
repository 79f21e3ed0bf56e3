#!/usr/bin/env bash
# tools/submit --dry-run against the documented templates (slurm/*.sbatch): options rendered as
# #SBATCH lines, paths quoted so that bash reads them back exactly, the chain's sbatch commands,
# bad options rejected with one line on stderr and exit 2. Then the rendered job script itself is
# run outside SLURM with stub srun/mpirun/scontrol and a stub kernelsweep, to check its logic:
# fresh run vs --resume, requeue on exit 75 up to --max-requeue, "already complete" exits at once,
# and the batch shell forwarding the warning signal to mpirun.
# Then: the sweep is validated by the real binary first (bad sweeps: exit 2, one line, nothing
# written), the plan's estimate and suggested --time, --cpus-per-task / OMP_NUM_THREADS, a cluster
# profile, and the warning when the request cannot fit a node.
# Needs no SLURM. Argument: the kernelsweep executable (for the validation checks; skipped
# without it).
set -uo pipefail
real_kernelsweep=${1:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
submit="$repo/tools/submit"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*" >&2; }
expect() { local what=$1; shift; if "$@"; then pass; else fail "$what"; fi; }

# A directory and files whose names need quoting: spaces, a single and a double quote, a dollar.
dir="$work/runs with space/it's \"q\" \$HOME"
mkdir -p "$dir"
sweep="$dir/my sweep.yaml"
out="$dir/phase diagram.h5"
echo "name: test" >"$sweep"
bin="$dir/bin dir/kernelsweep"
mkdir -p "$(dirname "$bin")"
# Stub kernelsweep for rendering: `plan` prints a plan (suggesting --time 00:20:00 --chain 2).
plan_json='{"sweep":"test","hash":"0","points":6,"theory_points":6,"sgld_points":2,"replicas":8,"dimensions":[],"timed":[{"point":0,"coordinates":"lam=1","seconds":2.0}],"estimate":{"ranks":2,"workers":1,"cpus_per_task":1,"compute_seconds":700,"wall_seconds":700,"core_hours":0.19,"longest_point_seconds":300,"suggested_time":"00:20:00","suggested_time_seconds":1200,"suggested_chain":2,"point_fits_job":true}}'
printf '#!/bin/sh\nif [ "$1" = plan ]; then echo '"'%s'"'; echo "$*" >>"$PLAN_LOG"; fi\nexit 0\n' "$plan_json" >"$bin"
chmod +x "$bin"
export PLAN_LOG="$work/plan.log"
# A profile with the node size, so that no test asks a real sinfo.
profile="$work/profile"
echo "cpus_per_node = 2" >"$profile"
export KERNELSWEEP_PROFILE="$profile"

render() { "$submit" "$@" --dry-run 2>"$work/err"; }  # the plan's summary: in $work/err
reject() {  # expected-substring args...
  local want=$1; shift
  local o e rc
  o=$("$submit" "$@" 2>"$work/err"); rc=$?
  e=$(cat "$work/err")
  if [ "$rc" -ne 2 ]; then fail "exit $rc, not 2, for: $*"; return; fi
  if [ -n "$o" ]; then fail "stdout not empty for: $*"; return; fi
  if [ "$(wc -l <<<"$e")" -ne 1 ] || [[ "$e" != "tools/submit: error: "* ]]; then fail "not one error line for: $* -> $e"; return; fi
  if [[ "$e" != *"$want"* ]]; then fail "error for $* does not mention '$want': $e"; return; fi
  pass
}


# ---- 1. single node, srun, every option rendered ----
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --ntasks 3 --time 01:30:00 --partition short \
  --account proj-42 --chain 2 --warn 240 --grace 60 --max-requeue 4 --retry-failed --fail-fast --yes \
  --sbatch-option=--qos=long)
rc=$?
expect "dry run exits 0 (got $rc)" [ "$rc" -eq 0 ]
has() { grep -qxF -- "$1" <<<"$r" || { fail "rendered script lacks line: $1"; return 1; }; pass; }
has "#SBATCH --job-name=ks-phase_diagram"
has "#SBATCH --nodes=1"
has "#SBATCH --ntasks=3"
has "#SBATCH --cpus-per-task=1"
has "KS_CPUS_PER_TASK=1"
has "#SBATCH --time=01:30:00"
has "#SBATCH --partition=short"
has "#SBATCH --account=proj-42"
has "#SBATCH --signal=USR1@240"
has "#SBATCH --output=ks-phase_diagram-%j.out"
has "#SBATCH --qos=long"
has "#SBATCH --requeue"
has "#SBATCH --open-mode=append"
has "KS_LAUNCHER=srun"
has "KS_MAX_REQUEUE=4"
has "KS_RESUME=0"
has "KS_RUN_OPTIONS=(--grace 60 --retry-failed --fail-fast --yes)"
expect "single-node template used" grep -q "kernelsweep sweep job, one node" <<<"$r"
expect "no placeholder left" bash -c '! grep -q "@[A-Z_]*@" <<<"$1"' _ "$r"

script=$(sed -n '/^#!\/bin\/bash$/,/^exit "\$rc"$/p' <<<"$r")
expect "script is valid bash" bash -n <(echo "$script")
# Every #SBATCH line precedes the first command (sbatch stops reading directives there), and the
# first command is the trap (a requeued run must trap the warning before anything else).
first_cmd=$(grep -nvE '^[[:space:]]*(#|$)' <<<"$script" | head -n1)
last_sbatch=$(grep -n '^#SBATCH' <<<"$script" | tail -n1 | cut -d: -f1)
expect "first command is the trap, got: $first_cmd" grep -q "^[0-9]*:trap 'ks_forward USR1' USR1" <<<"$first_cmd"
expect "all #SBATCH lines before the first command" [ "$last_sbatch" -lt "${first_cmd%%:*}" ]

# The settings read back by bash are exactly the absolute paths given.
settings=$(sed -n '/^# ---- settings/,/^$/p' <<<"$script")
eval "$settings"
expect "KS_SWEEP round-trips: $KS_SWEEP" [ "$KS_SWEEP" = "$sweep" ]
expect "KS_OUT round-trips: $KS_OUT" [ "$KS_OUT" = "$out" ]
expect "KS_BIN round-trips: $KS_BIN" [ "$KS_BIN" = "$bin" ]

# The submission: the first job, then 2 chained jobs with afterany dependencies and --resume.
subs=$(grep '^# sbatch' <<<"$r")
expect "3 sbatch commands" [ "$(wc -l <<<"$subs")" -eq 3 ]
first=$(sed -n 1p <<<"$subs"); second=$(sed -n 2p <<<"$subs"); third=$(sed -n 3p <<<"$subs")
args_of() { eval "set -- ${1#\# }"; printf '%s|' "$@"; }
expect "first: $first" [ "$(args_of "$first")" = "sbatch|--parsable|$out.sbatch|" ]
expect "second: $second" [ "$(args_of "$second")" = "sbatch|--parsable|--dependency=afterany:<job 1>|$out.sbatch|--resume|" ]
expect "third: $third" [ "$(args_of "$third")" = "sbatch|--parsable|--dependency=afterany:<job 2>|$out.sbatch|--resume|" ]
expect "dry run writes no script" [ ! -e "$out.sbatch" ]

# ---- 2. mpirun: the batch shell gets the signal (B:) ----
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --launcher mpirun --time 2:00:00)
has "#SBATCH --signal=B:USR1@300"
has "KS_LAUNCHER=mpirun"
has "KS_RUN_OPTIONS=(--grace 100)"
has "#SBATCH --ntasks=2"
expect "no chain by default" [ "$(grep -c '^# sbatch' <<<"$r")" -eq 1 ]
# Default --ntasks: the node's CPUs (profile: 2) / --cpus-per-task.
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --time 10)
has "#SBATCH --ntasks=2"
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --time 10 --cpus-per-task 2)
has "#SBATCH --ntasks=1"
has "#SBATCH --cpus-per-task=2"
has "KS_CPUS_PER_TASK=2"
# Without --time: the plan's suggestion; the plan was asked with the job's ranks and threads.
: >"$PLAN_LOG"
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --ntasks 2 --cpus-per-task 1)
has "#SBATCH --time=00:20:00"
expect "plan asked with --ranks 2: $(cat "$PLAN_LOG")" grep -q -- "--ranks 2 --cpus-per-task 1" "$PLAN_LOG"
expect "estimate printed on stderr: $(cat "$work/err")" grep -q "0.19 core-hours.*suggested --time 00:20:00 --chain 2" "$work/err"
expect "points and replicas printed" grep -q "6 points, 8 SGLD replicas" "$work/err"
# A request that cannot fit a node: a warning, the script is still rendered.
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --time 10 --ntasks 3)
has "#SBATCH --ntasks=3"
expect "warning for 3 tasks on a 2-CPU node: $(cat "$work/err")" grep -q "warning: 3 tasks x 1 CPUs per node exceed the 2 CPUs" "$work/err"
# A cluster profile: defaults for options, module and setup lines, extra #SBATCH lines; the
# command line wins over it.
cat >"$work/cluster" <<'PROFILE'
# my cluster
partition = long
account = proj7
cpus_per_node = 8
module = gcc/12 openmpi/4.1
module = hdf5/1.14
setup = export HDF5_USE_FILE_LOCKING=FALSE
sbatch = --qos=normal
PROFILE
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --time 10 --profile "$work/cluster" --account mine)
has "#SBATCH --partition=long"
has "#SBATCH --account=mine"
has "#SBATCH --ntasks=8"
has "#SBATCH --qos=normal"
has "module load gcc/12 openmpi/4.1"
has "module load hdf5/1.14"
has "export HDF5_USE_FILE_LOCKING=FALSE"
echo "colour = blue" >"$work/bad-profile"
reject "unknown key 'colour'" "$sweep" --out "$out" --kernelsweep "$bin" --profile "$work/bad-profile" --dry-run

# Short limits: the warning defaults to half the limit.
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --time 4)
has "#SBATCH --signal=USR1@120"
has "#SBATCH --time=4"

# ---- 3. multi node ----
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --nodes 4 --ntasks 64 --time 1-00:00:00)
has "#SBATCH --nodes=4"
has "#SBATCH --ntasks=64"
has "#SBATCH --ntasks-per-node=16"
has "#SBATCH --time=1-00:00:00"
expect "multi-node template used" grep -q "kernelsweep sweep job, several nodes" <<<"$r"
# The two templates share the job part verbatim.
body() { sed -n '/^# ---- the job/,$p' "$1"; }
expect "templates share the job body" diff <(body "$repo/slurm/single-node.sbatch") <(body "$repo/slurm/multi-node.sbatch")

# ---- 4. bad options: exit 2, one line on stderr naming the problem, nothing on stdout ----
base=("$sweep" --out "$out" --kernelsweep "$bin" --dry-run)
reject "unknown option '--bogus'" "${base[@]}" --bogus
reject "unknown option '-x'" "${base[@]}" -x
reject "--nodes" "${base[@]}" --nodes 0
reject "--nodes" "${base[@]}" --nodes two
reject "--ntasks" "${base[@]}" --ntasks -3
reject "fewer than --nodes" "${base[@]}" --nodes 4 --ntasks 2
reject "--time" "${base[@]}" --time 1:2:3:4
reject "--time" "${base[@]}" --time 2h
reject "--time" "${base[@]}" --time 00:61:00
reject "1-minute" "${base[@]}" --time 0:30
reject "--launcher" "${base[@]}" --launcher ssh
reject "--partition" "${base[@]}" --partition "a b"
reject "--account" "${base[@]}" --account "x;rm"
reject "--chain" "${base[@]}" --chain -1
reject "--chain needs a value" "${base[@]}" --chain
reject "--warn" "${base[@]}" --time 10 --warn 400
reject "--grace" "${base[@]}" --warn 100 --grace 100
reject "exclude each other" "${base[@]}" --resume --force
reject "given twice" "${base[@]}" --time 10 --time 20
reject "--sbatch-option" "${base[@]}" "--sbatch-option=--comment=a b"
reject "--out FILE is required" "$sweep" --kernelsweep "$bin" --dry-run
reject "exactly one SWEEP.yaml" --out "$out" --kernelsweep "$bin" --dry-run
reject "exactly one SWEEP.yaml" "$sweep" "$sweep" --out "$out" --kernelsweep "$bin" --dry-run
reject "does not exist" "$dir/missing.yaml" --out "$out" --kernelsweep "$bin" --dry-run
reject "does not exist" "${base[@]/#$out/$dir/no such dir/x.h5}"
reject "not an executable" "$sweep" --out "$out" --kernelsweep "$dir/nope" --dry-run
touch "$out"
reject "--resume to continue" "${base[@]}"
expect "--resume accepted on an existing file" "$submit" "${base[@]}" --resume >/dev/null
r=$(render "$sweep" --out "$out" --kernelsweep "$bin" --resume)
has "KS_RESUME=1"
rm -f "$out"

# ---- 5. the job script's logic, outside SLURM ----
# Stubs: srun/mpirun exec the command (so signals reach it as they reach a rank); scontrol logs.
stubs="$work/stubs"
mkdir -p "$stubs"
cat >"$stubs/srun" <<'EOF'
#!/bin/bash
echo "srun $*" >>"$STUB_LOG"
while [[ "$1" == --* ]]; do shift; done
exec "$@"
EOF
cat >"$stubs/mpirun" <<'EOF'
#!/bin/bash
echo "mpirun root_ok=${OMPI_ALLOW_RUN_AS_ROOT:-0} $*" >>"$STUB_LOG"
exec "$@"
EOF
cat >"$stubs/scontrol" <<'EOF'
#!/bin/bash
echo "scontrol $*" >>"$STUB_LOG"
EOF
# Stub kernelsweep: `status F --exit-code` exits 75 (pending) unless F contains "complete", then
# 1 if F contains "failed", else 0; `run` logs its arguments and its OpenMP settings and exits
# with $STUB_RC, or (STUB_RC=wait) waits for SIGUSR1 and exits 75; `plan` prints the plan.
export PLAN_JSON="$plan_json"
cat >"$bin" <<'EOF'
#!/bin/bash
if [ "$1" = plan ]; then echo "$PLAN_JSON"; exit 0; fi
if [ "$1" = status ]; then
  if [ "$3" != --exit-code ]; then echo "status without --exit-code: $*" >>"$STUB_LOG"; exit 9; fi
  if ! grep -q complete "$2"; then exit 75; fi
  if grep -q failed "$2"; then exit 1; fi
  exit 0
fi
printf 'run:' >>"$STUB_LOG"; printf ' [%s]' "$@" >>"$STUB_LOG"; echo >>"$STUB_LOG"
echo "omp=${OMP_NUM_THREADS:-unset} srun_cpus=${SRUN_CPUS_PER_TASK:-unset}" >>"$STUB_LOG"
if [ "$STUB_RC" = wait ]; then
  trap 'echo "kernelsweep got USR1" >>"$STUB_LOG"; exit 75' USR1
  trap 'echo "kernelsweep got TERM" >>"$STUB_LOG"; exit 75' TERM
  echo ready >"$STUB_LOG.ready"
  for _ in $(seq 1 100); do sleep 0.1; done
  exit 9
fi
exit "$STUB_RC"
EOF
chmod +x "$stubs"/* "$bin"
export STUB_LOG="$work/stub.log"
"$submit" "$sweep" --out "$out" --kernelsweep "$bin" --max-requeue 2 --cpus-per-task 2 --ntasks 1 --dry-run |
  sed -n '/^#!\/bin\/bash$/,/^exit "\$rc"$/p' >"$work/job.sh"
"$submit" "$sweep" --out "$out" --kernelsweep "$bin" --launcher mpirun --dry-run |
  sed -n '/^#!\/bin\/bash$/,/^exit "\$rc"$/p' >"$work/job-mpirun.sh"
job() {  # restart-count stub-rc script [args] -> exit code; log in $STUB_LOG
  local restarts=$1 stub_rc=$2 script=$3; shift 3
  : >"$STUB_LOG"
  (cd "$work" && PATH="$stubs:$PATH" SLURM_JOB_ID=4242 SLURM_RESTART_COUNT=$restarts STUB_RC=$stub_rc \
    bash "$script" "$@" >"$work/job.out" 2>&1)
}
q() { printf '[%s]' "$@"; }
job 0 0 "$work/job.sh"; rc=$?
expect "fresh run: exit 0 (got $rc)" [ "$rc" -eq 0 ]
expect "fresh run: srun --mpi=pmix" grep -q '^srun --mpi=pmix' "$STUB_LOG"
expect "fresh run: OMP_NUM_THREADS = SRUN_CPUS_PER_TASK = --cpus-per-task: $(cat "$STUB_LOG")" grep -qxF "omp=2 srun_cpus=2" "$STUB_LOG"
expect "fresh run: no --resume: $(cat "$STUB_LOG")" grep -qxF "run: [run] $(q "$sweep") [--out] $(q "$out") [--grace] [100]" "$STUB_LOG"
echo partial >"$out"
job 1 75 "$work/job.sh"; rc=$?
expect "requeued run resumes: $(cat "$STUB_LOG")" grep -qxF "run: [run] $(q "$sweep") [--out] $(q "$out") [--resume] [--grace] [100]" "$STUB_LOG"
expect "exit 75 -> scontrol requeue 4242" grep -qxF "scontrol requeue 4242" "$STUB_LOG"
expect "exit 75 passed on (got $rc)" [ "$rc" -eq 75 ]
job 2 75 "$work/job.sh"; rc=$?
expect "no requeue past --max-requeue" bash -c '! grep -q scontrol "$1"' _ "$STUB_LOG"
expect "exit 75 without requeue (got $rc)" [ "$rc" -eq 75 ]
job 0 75 "$work/job.sh" --resume; rc=$?
expect "chained job resumes" grep -qF "[--resume]" "$STUB_LOG"
job 0 1 "$work/job.sh" --resume; rc=$?
expect "failed points: exit 1, no requeue (got $rc)" bash -c '[ "$1" -eq 1 ] && ! grep -q scontrol "$2"' _ "$rc" "$STUB_LOG"
echo complete >"$out"
job 0 0 "$work/job.sh" --resume; rc=$?
expect "complete sweep: exit 0 without running (got $rc): $(cat "$STUB_LOG")" bash -c '[ "$1" -eq 0 ] && ! grep -q "^run:" "$2" && ! grep -q srun "$2"' _ "$rc" "$STUB_LOG"
expect "complete sweep: says so" grep -q "already complete" "$work/job.out"
echo "complete failed" >"$out"
"$submit" "$sweep" --out "$out" --kernelsweep "$bin" --resume --retry-failed --dry-run |
  sed -n '/^#!\/bin\/bash$/,/^exit "\$rc"$/p' >"$work/job-retry.sh"
job 0 0 "$work/job-retry.sh" --resume; rc=$?
expect "--retry-failed: a sweep with failed points is not complete: $(cat "$STUB_LOG")" grep -qF "[--resume] [--grace] [100] [--retry-failed]" "$STUB_LOG"
job 0 0 "$work/job.sh" --resume; rc=$?
expect "without --retry-failed: failed points do not keep it running" bash -c '! grep -q "^run:" "$1"' _ "$STUB_LOG"
rm -f "$out"
job 0 0 "$work/job.sh" --resume; rc=$?
expect "chained job without a file starts it: $(cat "$STUB_LOG")" grep -qxF "run: [run] $(q "$sweep") [--out] $(q "$out") [--grace] [100]" "$STUB_LOG"

# mpirun: the batch shell gets SIGUSR1 (B:USR1) and forwards it to mpirun; the job requeues.
: >"$STUB_LOG"; rm -f "$STUB_LOG.ready"
(cd "$work" && PATH="$stubs:$PATH" SLURM_JOB_ID=77 SLURM_RESTART_COUNT=0 STUB_RC=wait \
  exec bash "$work/job-mpirun.sh" >"$work/job.out" 2>&1) &
shell=$!
for _ in $(seq 1 100); do [ -e "$STUB_LOG.ready" ] && break; sleep 0.1; done
kill -USR1 "$shell"
wait "$shell"; rc=$?
expect "mpirun job: batch shell survived USR1 and passed on 75 (got $rc): $(cat "$work/job.out")" [ "$rc" -eq 75 ]
expect "mpirun job: signal forwarded to the ranks" grep -qxF "kernelsweep got USR1" "$STUB_LOG"
expect "mpirun job: requeued" grep -qxF "scontrol requeue 77" "$STUB_LOG"
if [ "$(id -u)" -eq 0 ]; then
  expect "mpirun as root: OMPI_ALLOW_RUN_AS_ROOT set" grep -q '^mpirun root_ok=1' "$STUB_LOG"
fi

# scancel (SIGTERM to the batch shell, forwarded): the run exits 75, but a cancel is no requeue.
: >"$STUB_LOG"; rm -f "$STUB_LOG.ready"
(cd "$work" && PATH="$stubs:$PATH" SLURM_JOB_ID=78 SLURM_RESTART_COUNT=0 STUB_RC=wait \
  exec bash "$work/job.sh" >"$work/job.out" 2>&1) &
shell=$!
for _ in $(seq 1 100); do [ -e "$STUB_LOG.ready" ] && break; sleep 0.1; done
kill -TERM "$shell"
wait "$shell"; rc=$?
expect "SIGTERM to the job: exit 75 passed on (got $rc): $(cat "$work/job.out")" [ "$rc" -eq 75 ]
expect "SIGTERM to the job: no requeue" bash -c '! grep -q scontrol "$1"' _ "$STUB_LOG"
expect "SIGTERM to the job: says why" grep -q "interrupted by SIGTERM to the job: not requeueing" "$work/job.out"

# ---- 6. the sweep is validated by the real binary before anything is rendered or queued ----
if [ -n "$real_kernelsweep" ]; then
  good="$work/good.yaml"
  printf 'name: ok\nbase: {model: {T: 2}, task: {P: 2, D: 2}}\naxes:\n  - {key: task.lam, values: [0.5, 1.0, 1.5]}\n' >"$good"
  printf 'name: bad\naxes:\n  - {key: task.lam, values: [-2]}\n' >"$work/negative.yaml"
  printf 'name: bad\naxes: []\n' >"$work/no-axes.yaml"
  real=("--out" "$work/v.h5" --kernelsweep "$real_kernelsweep" --dry-run)
  reject "the sweep is not valid" "$work/negative.yaml" "${real[@]}"
  reject "task.lam" "$work/negative.yaml" "${real[@]}"
  reject "the sweep is not valid" "$work/no-axes.yaml" "${real[@]}"
  expect "nothing written for a bad sweep" [ ! -e "$work/v.h5.sbatch" ] && [ ! -e "$work/v.h5" ]
  r=$("$submit" "$good" "${real[@]}" --samples 2 2>"$work/err"); rc=$?
  expect "a valid sweep renders (exit $rc): $(cat "$work/err")" [ "$rc" -eq 0 ]
  expect "its plan counts 3 points: $(cat "$work/err")" grep -q "sweep ok: 3 points" "$work/err"
  expect "and estimates core-hours" grep -q "core-hours" "$work/err"
  t=$(sed -n 's/^#SBATCH --time=//p' <<<"$r")
  expect "suggested --time of a sub-second sweep: minutes (warning + start-up), got $t" bash -c '[[ "$1" =~ ^00:0[0-9]:00$ ]]' _ "$t"
  # The job templates' test of the outcome: status --exit-code of a complete sweep is 0; an
  # unreadable file is bad input (2).
  (cd "$work" && OMP_NUM_THREADS=1 "$real_kernelsweep" run "$good" --out "$work/done.h5" >/dev/null 2>&1)
  "$real_kernelsweep" status "$work/done.h5" --exit-code >/dev/null; rc=$?
  expect "status --exit-code of a complete sweep: 0 (got $rc)" [ "$rc" -eq 0 ]
  # Pending: a run of 40 SGLD points interrupted by SIGINT after a second (exit 75).
  printf 'name: slow\nbase: {model: {N: 32, T: 2}, task: {P: 2, D: 2}, sgld: {enabled: true, max_rhat: 100, min_ess: 0, replicas: 2, steps: 3000, burn_in: 500}}\naxes:\n  - {key: task.lam, linspace: {start: 0.1, stop: 2, num: 40}}\n' >"$work/slow.yaml"
  OMP_NUM_THREADS=1 "$real_kernelsweep" run "$work/slow.yaml" --out "$work/slow.h5" --grace 1 >/dev/null 2>&1 &
  pid=$!
  sleep 1.5
  kill -INT "$pid"
  wait "$pid"; rc=$?
  expect "interrupted run exits 75 (got $rc)" [ "$rc" -eq 75 ]
  "$real_kernelsweep" status "$work/slow.h5" --exit-code >/dev/null; rc=$?
  expect "status --exit-code of an interrupted sweep: 75 (got $rc)" [ "$rc" -eq 75 ]
  "$real_kernelsweep" status "$work/missing.h5" --exit-code >/dev/null 2>&1; rc=$?
  expect "status --exit-code of a missing file: 2 (got $rc)" [ "$rc" -eq 2 ]
else
  echo "submit_dry_run_test: no kernelsweep given; validation checks not run" >&2
fi

echo "submit_dry_run_test: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
