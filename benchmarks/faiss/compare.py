#!/usr/bin/python3
"""FAISS side by side with winnow's neighbour search (BenchmarkNeighbours).

Reads a float32 .npy written by BenchmarkNeighbours (benchmarks/data/<set>.npy)
and runs, with FAISS (Debian's python3-faiss) on the same vectors:

  exact   IndexFlatL2, every row's 21 nearest (itself included), as the
          recall reference (skipped above --exact-max rows: then the
          reference is exact search for --sample rows only)
  ivf     IndexIVFFlat with winnow's defaults (or --lists): nlist lists,
          k-means on 64 rows a list, for each nprobe of --probes

and prints, per configuration, the wall seconds (train, add, search of
every row) and
recall@20 as winnow measures it: the share of found neighbours no farther
than the exact 20th (ties and duplicates count), over every row (or the
sample), plus the overlap of the 1,000 most typical and most outlying rows
(spec §6 typicality from the found distances) with those of exact search.

Both probe per query (the nprobe centroids nearest to the query), but
winnow counts every measured pair for both of its rows (a row is also
searched among the rows whose probes include its list), so at equal
nprobe it does the same work and finds more: compare recall at equal
time too. Threads: --threads (default 2, this machine's cores).

  /usr/bin/python3 benchmarks/faiss/compare.py benchmarks/data/synth100k.npy --probes 16,32,48,64
"""
import argparse
import math
import time

import faiss
import numpy as np

K = 20


def typicality(d):
    """Spec §6 objectives from an (n, K) array of neighbour distances."""
    sigma = d.mean()
    return np.exp(-d / sigma).mean(axis=1)


def top(w, n, outliers):
    order = np.lexsort((np.arange(len(w)), w if outliers else -w))
    return set(order[:n].tolist())


def drop_self(dist, idx, rows):
    """Removes each row's own entry (or the last when absent) from k+1 results."""
    own = idx == rows[:, None]
    order = np.argsort(own, axis=1, kind="stable")[:, :K]
    d = np.take_along_axis(dist, order, axis=1).astype(np.float64)
    return np.sqrt(np.maximum(d, 0))


def recall(found, exact_kth):
    # float32 distances computed two ways: allow their rounding
    return float((found <= exact_kth[:, None] * (1 + 1e-5) + 1e-6).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npy")
    ap.add_argument("--lists", type=int, default=0, help="0: winnow's default, about 2*sqrt(rows)")
    ap.add_argument("--probes", default="16,32,64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--exact-max", type=int, default=200_000)
    ap.add_argument("--sample", type=int, default=1000)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    x = np.ascontiguousarray(np.load(a.npy).astype(np.float32))
    n, d = x.shape
    nl = a.lists or max(1, min(round(2 * math.sqrt(n)), n // 16))
    print(f"{a.npy}: {n} x {d}, FAISS {faiss.__version__}, {a.threads} threads")
    rows = np.arange(n)
    if n <= a.exact_max:
        q = rows
    else:
        q = np.sort(np.random.default_rng(1).choice(n, a.sample, replace=False))
    flat = faiss.IndexFlatL2(d)
    flat.add(x)
    t = time.perf_counter()
    ed, ei = flat.search(x[q], K + 1)
    te = time.perf_counter() - t
    exact = drop_self(ed, ei, q)
    kth = exact[:, -1]
    print(f"exact (IndexFlatL2) {len(q)} queries: {te:.2f} s")
    full = len(q) == n
    if full:
        tw = typicality(exact)
    for p in [int(s) for s in a.probes.split(",")]:
        quant = faiss.IndexFlatL2(d)
        ivf = faiss.IndexIVFFlat(quant, d, nl)
        train = x[np.random.default_rng(2).choice(n, min(n, 64 * nl), replace=False)]
        t0 = time.perf_counter()
        ivf.train(train)
        t1 = time.perf_counter()
        ivf.add(x)
        t2 = time.perf_counter()
        ivf.nprobe = p
        fd, fi = ivf.search(x, K + 1)
        t3 = time.perf_counter()
        found = drop_self(fd[q], fi[q], q)
        line = (f"ivf nlist {nl} nprobe {p}: {t3 - t0:.2f} s (train {t1 - t0:.2f}, add {t2 - t1:.2f}, "
                f"search {t3 - t2:.2f}), recall@20 {recall(found, kth):.4f}")
        if full:
            aw = typicality(found)
            for m in (1000, 100):
                if m <= n // 2:
                    line += (f", typical{m} {len(top(tw, m, False) & top(aw, m, False)) / m:.3f}"
                             f", outlier{m} {len(top(tw, m, True) & top(aw, m, True)) / m:.3f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
