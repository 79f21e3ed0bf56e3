#!/usr/bin/env python3
"""PyTorch anchor for `kernelsweep bench sgld`: the same SGLD step (docs/theory.md section 4) written
with autograd. Linear RNN (shared W, U, a) or DNN (per-layer), endpoint task (x_p = sqrt(D) e_p at
t = 0, targets +-lam at t = T-1), standardized coordinates, split Ornstein-Uhlenbeck update.

    apt-get install -y python3-torch      # Debian 12: torch 1.13.1 (benchmark only)
    python3 bench/sgld/pytorch_sgld.py --arch rnn --N 2048 --T 8 --P 4 --steps 20 --threads 2
"""
import argparse
import json
import math
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=["rnn", "dnn"], default="rnn")
    parser.add_argument("--N", type=int, default=2048)
    parser.add_argument("--T", type=int, default=8)
    parser.add_argument("--P", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=["float64", "float32"], default="float64")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float64 if args.precision == "float64" else torch.float32
    torch.manual_seed(1)
    N, T, P, D = args.N, args.T, args.P, args.P
    w = u = v = 1.0
    kappa, lam, eta = 0.1, 1.0, 0.004
    x0 = math.sqrt(D) * torch.eye(D, P, dtype=dtype)
    y = lam * torch.tensor([1.0] * (P // 2) + [-1.0] * (P - P // 2), dtype=dtype)
    n_w = 1 if args.arch == "rnn" else T - 1
    n_layers = 1 if args.arch == "rnn" else T
    params = ([torch.randn(N, N, dtype=dtype, requires_grad=True) for _ in range(n_w)]
              + [torch.randn(N, D, dtype=dtype, requires_grad=True) for _ in range(n_layers)]
              + [torch.randn(N, dtype=dtype, requires_grad=True) for _ in range(n_layers)])
    W_hat, U_hat, a_hat = params[:n_w], params[n_w:n_w + n_layers], params[n_w + n_layers:]
    sw, su, sa = math.sqrt(w / N), math.sqrt(u / D), math.sqrt(v)
    decay, drift, noise = math.exp(-eta), -math.expm1(-eta), math.sqrt(-math.expm1(-2 * eta))

    def loss():
        h = su * U_hat[0] @ x0  # inputs only at t = 0
        for t in range(1, T):
            h = sw * W_hat[0 if args.arch == "rnn" else t - 1] @ h
        a = a_hat[0 if args.arch == "rnn" else T - 1]
        f = sa / N * (a @ h)
        return N / (2 * kappa) * ((y - f) ** 2).sum()

    def step():
        L = loss()
        # DNN: U^(t>0) (no input there) and a^(t<T-1) (no target there) have zero gradient.
        grads = torch.autograd.grad(L, params, allow_unused=True)
        with torch.no_grad():
            for theta, g in zip(params, grads):
                theta.mul_(decay)
                if g is not None:
                    theta.add_(g, alpha=-drift)
                theta.add_(torch.randn_like(theta), alpha=noise)

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"benchmark": "pytorch_sgld", "arch": args.arch, "N": N, "T": T, "P": P,
                      "precision": args.precision, "threads": args.threads, "torch": torch.__version__,
                      "steps_per_second": args.steps / seconds}))


if __name__ == "__main__":
    main()
