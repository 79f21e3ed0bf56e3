#!/usr/bin/env python3
"""Roofline of `kernelsweep bench sgld` from one session's measurements (run_benchmarks.sh).

Reads JSON lines on stdin: Google Benchmark's JSON from sgld_machine_bench (one object, possibly
pretty-printed over many lines), `kernelsweep bench sgld --json` lines and pytorch_sgld.py lines.
Every figure is the best of its repetitions: on a shared machine the other jobs only ever slow a
run down, so the best run is the closest to what the hardware does (ceilings and steps alike).

Per step, with s = bytes per scalar and passes over the N x N matrices as in
src/sgld/langevin_network.cpp:
  RNN: 2T-3 read-only passes (T-1 forward, T-2 backward) + 1 read+write pass (backward at t=1
       fused with the update); N^2 normals.
  DNN: T-1 read-only passes (forward) + T-1 read+write passes (backward fused with the update of
       each layer); (T-1) N^2 normals.
  roofline time = read bytes / read bandwidth + 2 x rw bytes / rw bandwidth + normals / generator
  rate, all at 2 threads, the bandwidths measured over as many matrices as the step touches (1 for
  the RNN, T-1 for the DNN: sgld_machine_bench measures 1 and 7, i.e. T = 8). Also printed: the multiply-adds of the rank-(T-1)P (RNN) or rank-P (DNN)
  gradient in the update pass, the one part that is compute- rather than memory-bound.
"""
import json
import sys
from collections import defaultdict


def main():
    text = sys.stdin.read()
    decoder = json.JSONDecoder()
    objects, i = [], 0
    while i < len(text):
        if text[i] in "{":
            obj, i = decoder.raw_decode(text, i)
            objects.append(obj)
        else:
            i += 1
    ceiling = defaultdict(float)
    steps = defaultdict(float)
    torch = defaultdict(float)
    for obj in objects:
        if "benchmarks" in obj:
            for b in obj["benchmarks"]:
                if b.get("run_type") == "aggregate" or not b["name"].endswith("threads:2"):
                    continue
                rate = b.get("bytes_per_second") or b.get("items_per_second")
                key = b["name"].split("/real_time")[0]  # e.g. read_bandwidth<double>/7
                ceiling[key] = max(ceiling[key], rate)
        elif obj.get("benchmark") == "sgld":
            key = (obj["arch"], obj["precision"], obj["N"], obj["T"], obj["P"])
            steps[key] = max(steps[key], obj["steps_per_second"])
        elif obj.get("benchmark") == "pytorch_sgld":
            key = (obj["arch"], obj["precision"])
            torch[key] = max(torch[key], obj["steps_per_second"])
    for name in sorted(ceiling):
        unit = "G normals/s" if "normal" in name else "GB/s"
        print(f"ceiling {name} (2 threads): {ceiling[name] / 1e9:.2f} {unit}")
    for (arch, precision, N, T, P), rate in sorted(steps.items()):
        s = 8 if precision == "float64" else 4
        scalar = "double" if s == 8 else "float"
        # Bandwidth over the step's own working set: 1 matrix (RNN) or T-1 (DNN).
        count = 1 if arch == "rnn" else T - 1
        read_bw = ceiling[f"read_bandwidth<{scalar}>/{count}"]
        rw_bw = ceiling[f"read_write_bandwidth<{scalar}>/{count}"]
        normal_rate = ceiling["normal_throughput"]
        if not (read_bw and rw_bw and normal_rate):
            print(f"{arch} {precision}: {rate:.2f} steps/s (no ceilings measured)")
            continue
        matrix = N * N * s
        if arch == "rnn":
            reads, rws, normals, fma = (2 * T - 3) * matrix, matrix, N * N, (T - 1) * P * N * N
        else:
            reads, rws, normals, fma = (T - 1) * matrix, (T - 1) * matrix, (T - 1) * N * N, (T - 1) * P * N * N
        t_memory = reads / read_bw + 2 * rws / rw_bw
        t_normals = normals / normal_rate
        roof = t_memory + t_normals
        line = (f"{arch} {precision}: {rate:.2f} steps/s = {1e3 / rate:.1f} ms/step; roofline "
                f"{1e3 * roof:.1f} ms ({1e3 * t_memory:.1f} ms W traffic + {1e3 * t_normals:.1f} ms "
                f"normals) = {1 / roof:.1f} steps/s; measured / roofline time = {1 / rate / roof:.2f}x; "
                f"update-pass gradient {fma / 1e6:.0f} M multiply-adds")
        if (arch, precision) in torch:
            line += f"; PyTorch {torch[(arch, precision)]:.2f} steps/s ({rate / torch[(arch, precision)]:.0f}x)"
        print(line)


if __name__ == "__main__":
    main()
