#!/bin/sh
# Runs the SGLD speed measurements in one session (same machine state): machine ceilings, the C++
# sampler in both precisions, and the PyTorch anchor. Usage: bench/sgld/run_benchmarks.sh [BUILD_DIR]
# Needs python3-torch for the anchor (apt-get install -y python3-torch); it is skipped without it.
set -eu
python=/usr/bin/python3  # Debian's python3-torch lives in the system interpreter
build=${1:-build/sgld}
steps=${STEPS:-20}
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/sgld_machine_bench" --benchmark_min_time=0.5 2>/dev/null | grep -E "^(read|normal)"
for arch in rnn dnn; do
  for precision in float64 float32; do
    OMP_NUM_THREADS=2 "$build/kernelsweep" bench sgld --arch $arch --N 2048 --T 8 --P 4 \
      --steps "$steps" --precision $precision --json
  done
  if $python -c "import torch" 2>/dev/null; then
    $python "$(dirname "$0")/pytorch_sgld.py" --arch $arch --N 2048 --T 8 --P 4 --steps "$steps" --threads 2
  fi
done
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
