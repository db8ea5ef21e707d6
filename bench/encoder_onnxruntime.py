#!/usr/bin/env python3
"""onnxruntime on the int8 all-MiniLM-L6-v2 ONNX, on the inputs `vitrine bench encoder` ran.

`vitrine bench encoder --json V.json` writes each shape it timed with the token ids of one row.
This script runs the same ids (the same batch, every row alike) through onnxruntime's CPU
provider, with as many threads as the machine has cores, as many times after three untimed
runs, and writes the timings in the same form:

    python bench/encoder_onnxruntime.py --model model.onnx --shapes V.json --out O.json

`cargo xtask bench` calls both several times in turn and reports medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--shapes", type=Path, required=True, help="vitrine bench encoder --json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(
        str(args.model), options, providers=["CPUExecutionProvider"]
    )
    shapes = json.loads(args.shapes.read_text(encoding="utf-8"))
    results = []
    for shape in shapes:
        ids = np.array([shape["input_ids"]] * shape["batch"], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        for _ in range(3):
            session.run(None, feeds)
        ms = []
        for _ in range(args.reps):
            started = time.perf_counter()
            session.run(None, feeds)
            ms.append((time.perf_counter() - started) * 1e3)
        median_ms = statistics.median(ms)
        results.append(
            {
                "tokens": shape["tokens"],
                "batch": shape["batch"],
                "ms": ms,
                "median_ms": median_ms,
                "rows_per_second": shape["batch"] / (median_ms / 1e3),
            }
        )
        print(f"{shape['tokens']:>6} {shape['batch']:>6} {median_ms:>10.2f}")
    args.out.write_text(
        json.dumps({"onnxruntime": ort.__version__, "shapes": results}), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
