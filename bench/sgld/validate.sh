#!/bin/sh
# Longer SGLD validations (docs/sgld-validation.md):
#  1. kernel error vs N: linear RNN and DNN, endpoint task T=3, P=2, lam=0.6 (below lambda_c);
#     max |H_sgld - H_theory|, CKA(H), and the largest replica standard error.
#  2. broken phase: the default point (linear, T=4, P=4, w=u=v=1, kappa=0.1; lambda_c = 0.8112 from
#     `kernelsweep critical sweeps/default_point.yaml`), N=256, below (lam=0.5) and above
#     (lam=1.5): <|q|>, and the W outlier |Re| vs the bulk radius, RNN vs DNN.
# Usage: [T8=1] bench/sgld/validate.sh [BUILD_DIR] [N list]   (e.g. "128 256 512 1024"; ~1 core-hour
# for the full list; STEPS overrides the number of steps).
set -eu
build=${1:-build/sgld}
widths=${2:-"128 256 512"}
steps=${STEPS:-8000}
summarize='import json,sys
d=json.load(sys.stdin); s=d["sgld"]; t=d["theory"]
import math
H=s["H"]; Ht=t["H"]; E=s["H_stderr"]
err=max(abs(H[i][j]-Ht[i][j]) for i in range(len(H)) for j in range(len(H)))
se=max(E[i][j] for i in range(len(E)) for j in range(len(E)))
o=s["outlier_eigenvalue"]; o=o if isinstance(o,list) else [o]
print("| %s | %s | %s | %.4f | %.4f | %.6f | %.3f | %.3f (theory %.3f) | %s | %.3f | %.0f |" % (
  sys.argv[1], sys.argv[2], sys.argv[3], err, se, s["cka_H"], s["q_mean"], s["abs_q_mean"], t["q"],
  " ".join("%.3f" % x for x in o), s["bulk_radius"], s["steps_per_second"]))'
echo "| arch | N | lam | max abs(H - H_theory) | max stderr | CKA(H) | q | abs(q) | outlier abs(Re) | bulk radius | steps/s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for N in $widths; do
  for arch in rnn dnn; do
    "$build/kernelsweep" solve sweeps/default_point.yaml --json --set model.architecture=$arch \
      --set model.T=3 --set task.P=2 --set task.D=2 --set task.lam=0.6 --set theory.landau=false \
      --set model.N=$N --set sgld.enabled=true --set sgld.replicas=4 --set sgld.steps=$steps \
      --set sgld.burn_in=$((steps / 5)) --set sgld.thin=5 --set sgld.eta=0.005 |
      python3 -c "$summarize" $arch $N 0.6
  done
done
for lam in 0.5 1.5; do
  for arch in rnn dnn; do
    "$build/kernelsweep" solve sweeps/default_point.yaml --json --set model.architecture=$arch \
      --set task.lam=$lam --set theory.landau=false --set model.N=256 --set sgld.enabled=true \
      --set sgld.replicas=4 --set sgld.steps=$((2 * steps)) --set sgld.burn_in=$((steps / 2)) \
      --set sgld.thin=5 --set sgld.eta=0.003 |
      python3 -c "$summarize" $arch 256 $lam
  done
done
# 3. T=8 with the defaults (eta: auto, 4 replicas, 20000 steps, burn-in 5000, thin 10): the broken
#    phase at lam 0.6, 1.2, 2.0 with every convergence diagnostic, and prior-sampler draws vs the
#    NNGP kernel in N (RNN vs DNN). Columns: see bench/sgld/validation_point.cpp.
if [ "${T8:-0}" = 1 ]; then
  for lam in 2.0 1.2 0.6; do
    "$build/bench/sgld_validation_point" rnn 8 256 $lam 20000 5000 4 auto langevin 0 | grep '^|'
  done
  for N in 64 256 1024; do
    for arch in rnn dnn; do
      "$build/bench/sgld_validation_point" $arch 8 $N 1.0 200 0 4 auto prior 0 | grep '^| nngp'
    done
  done
fi
