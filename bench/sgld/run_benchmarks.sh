#!/bin/sh
# Runs the SGLD speed measurements in one session (same machine state), REPEAT times interleaved:
# machine ceilings, the C++ sampler in both precisions, the PyTorch anchor (once; it is ~50x
# slower), then bench/sgld/roofline.py, which takes the best of the repetitions of every figure.
# Usage: bench/sgld/run_benchmarks.sh [BUILD_DIR]   (env: STEPS=20 REPEAT=3 TORCH=1)
# Needs python3-torch for the anchor (apt-get install -y python3-torch); it is skipped without it.
set -eu
python=/usr/bin/python3  # Debian's python3-torch lives in the system interpreter
here=$(dirname "$0")
build=${1:-build/sgld}
steps=${STEPS:-20}
repeat=${REPEAT:-3}
log=$(mktemp)
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$repeat"); do
  "$build/bench/sgld_machine_bench" --benchmark_min_time=0.3 --benchmark_format=json \
    2>/dev/null >>"$log"
  for arch in rnn dnn; do
    for precision in float64 float32; do
      OMP_NUM_THREADS=2 "$build/kernelsweep" bench sgld --arch $arch --N 2048 --T 8 --P 4 \
        --steps "$steps" --precision $precision --json | tee -a "$log"
    done
  done
done
if [ "${TORCH:-1}" = 1 ] && $python -c "import torch" 2>/dev/null; then
  for arch in rnn dnn; do
    $python "$here/pytorch_sgld.py" --arch $arch --N 2048 --T 8 --P 4 --steps 10 --threads 2 \
      | tee -a "$log"
  done
fi
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
$python "$here/roofline.py" <"$log"
rm -f "$log"
