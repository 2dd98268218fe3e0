#!/usr/bin/env python3
"""faiss k-means on the benchmark's data, for bench/run-kmeans.mjs (npm run bench:kmeans).

Reads the same .npy the browser benchmark clusters and prints one JSON line in the same format:
{backend, adapter, N, D, K, iterations, seconds, gflops, assign_gflops, objective}.
gflops = 2*N*K*D * iterations / training seconds (faiss initialises at random, so training is all
Lloyd rounds); assign_gflops = one nearest-centroid pass (index.search) over all rows.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:
    print(json.dumps({"backend": "faiss", "error": "faiss is not installed (apt-get install python3-faiss)"}))
    sys.exit(0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workload", default="")
    args = ap.parse_args()

    x = np.ascontiguousarray(np.load(args.npy).astype(np.float32))
    n, d = x.shape
    k = args.k
    faiss.omp_set_num_threads(args.threads)
    # No subsampling: faiss would otherwise train on at most 256 points per centroid.
    km = faiss.Kmeans(d, k, niter=args.iters, seed=args.seed, verbose=False, max_points_per_centroid=n)
    t0 = time.perf_counter()
    km.train(x)
    train = time.perf_counter() - t0
    t0 = time.perf_counter()
    dist, _ = km.index.search(x, 1)
    search = time.perf_counter() - t0
    flops = 2.0 * n * k * d
    print(
        json.dumps(
            {
                "backend": "faiss",
                "adapter": f"faiss {faiss.__version__} CPU, {args.threads} threads",
                "workload": args.workload,
                "N": n,
                "D": d,
                "K": k,
                "iterations": args.iters,
                "seconds": round(train, 3),
                "gflops": round(flops * args.iters / train / 1e9, 2),
                "assign_gflops": round(flops / search / 1e9, 2),
                "objective": float(dist.astype(np.float64).sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
