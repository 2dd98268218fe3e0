#!/usr/bin/env python3
"""faiss k-means on the benchmark's data, for bench/run-kmeans.mjs (npm run bench:kmeans).

Reads the same .npy the browser benchmark clusters and prints one JSON line in the same format:
{backend, adapter, N, D, K, iterations, seconds, gflops, assign_gflops, objective}.
gflops = 2*N*K*D * iterations / training seconds (faiss initialises at random, so training is all
Lloyd rounds); assign_gflops = one nearest-centroid pass (index.search) over all rows.

With --hierarchy JSON (a Strata HierarchyConfig: levels [{k, sampleSize}], resamplingSteps,
strategy, nIters, seed): the same hierarchical k-means with resampling (algorithm.md section 2)
with faiss.Kmeans for every k-means run, the same levels, k, r, m and Lloyd rounds; prints
{backend, workload, K, seconds, level_seconds, objective} where objective is level 1's sum of
squared distances, as the browser bench reports it. faiss seeds at random and splits the largest
cluster when one goes empty; Strata seeds with k-means++ and keeps an empty cluster's centroid.
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


def kmeans(x, k, iters, seed):
    """One faiss k-means on all of x (no subsampling), then every row's nearest centroid."""
    n, d = x.shape
    k = min(k, n)
    km = faiss.Kmeans(
        d, k, niter=iters, seed=seed, verbose=False, max_points_per_centroid=n + 1, min_points_per_centroid=1
    )
    km.train(x)
    dist, lab = km.index.search(x, 1)
    return km.centroids, km.index, dist[:, 0], lab[:, 0]


def closest_rows(dist, lab, k, r):
    """The r members of each cluster closest to its centroid (all of a cluster with at most r)."""
    order = np.lexsort((dist, lab))
    lab_sorted = lab[order]
    starts = np.searchsorted(lab_sorted, np.arange(k))
    rank = np.arange(len(order)) - starts[lab_sorted]
    return np.sort(order[rank < r])


def hierarchy(x, config, workload):
    if config.get("strategy", "closest") != "closest":
        raise ValueError("only the 'closest' resampling strategy is mirrored here")
    iters = config["nIters"]
    steps = config["resamplingSteps"]
    seed = config.get("seed", 0)
    level_seconds = []
    objective = None
    inp = x
    t0 = time.perf_counter()
    for t, level in enumerate(config["levels"]):
        tl = time.perf_counter()
        k = min(level["k"], len(inp))
        r = level["sampleSize"]
        cent, index, dist, lab = kmeans(inp, k, iters, seed + 1000 * t)
        if r > 1:
            for s in range(1, steps + 1):
                rows = closest_rows(dist, lab, k, r)
                cent, index, _, _ = kmeans(np.ascontiguousarray(inp[rows]), k, iters, seed + 1000 * t + s)
                d2, l2 = index.search(inp, 1)
                dist, lab = d2[:, 0], l2[:, 0]
        if t == 0:
            objective = float(dist.astype(np.float64).sum())
        level_seconds.append(round(time.perf_counter() - tl, 3))
        inp = np.ascontiguousarray(cent)
    seconds = time.perf_counter() - t0
    return {
        "backend": "faiss",
        "adapter": f"faiss {faiss.__version__} CPU, {faiss.omp_get_max_threads()} threads",
        "workload": workload,
        "N": x.shape[0],
        "D": x.shape[1],
        "K": "/".join(str(l["k"]) for l in config["levels"]),
        "sample_sizes": "/".join(str(l["sampleSize"]) for l in config["levels"]),
        "resampling_steps": steps,
        "iterations": iters,
        "seconds": round(seconds, 3),
        "level_seconds": level_seconds,
        "objective": objective,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", required=True)
    ap.add_argument("--k", type=int, default=0)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workload", default="")
    ap.add_argument("--hierarchy", default=None, help="a Strata HierarchyConfig as JSON")
    args = ap.parse_args()

    x = np.ascontiguousarray(np.load(args.npy).astype(np.float32))
    n, d = x.shape
    k = args.k
    faiss.omp_set_num_threads(args.threads)
    if args.hierarchy:
        print(json.dumps(hierarchy(x, json.loads(args.hierarchy), args.workload)))
        return
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
