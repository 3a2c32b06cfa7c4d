#!/usr/bin/python3
"""Write scikit-learn's 1,797 8x8 digits as benchmarks/data/digits.npy (float32).

BenchmarkNeighbours (WINNOW_BENCH_NB=digits) and compare.py read it.
Needs Debian's python3-sklearn.
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data", "digits.npy")
os.makedirs(os.path.dirname(out), exist_ok=True)
x = load_digits().data.astype(np.float32)
np.save(out, x)
print(f"{out}: {x.shape[0]} x {x.shape[1]}")
