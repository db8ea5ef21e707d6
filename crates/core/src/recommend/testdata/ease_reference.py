#!/usr/bin/env python3
"""Reference weights for recommend::ease's tests, from the closed form in numpy.

Four users over items a, b, c, d (u1: a b; u2: a b c; u3: b c; u4: c d), binary, λ = 1.
Prints B row by row; the test in ease.rs holds these numbers.

    python3 crates/core/src/recommend/testdata/ease_reference.py
"""

import numpy as np

X = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=np.float64)
P = np.linalg.inv(X.T @ X + 1.0 * np.eye(4))
B = -P / np.diag(P)
np.fill_diagonal(B, 0.0)
for row in B:
    print(", ".join(f"{v:.9f}" for v in row))
# u1's scores: the sum of rows a and b.
print("u1:", ", ".join(f"{v:.9f}" for v in X[0] @ B))
