#!/usr/bin/env python3
"""BG/NBD and Gamma-Gamma from `lifetimes` 0.11.3 on the split `vitrine forecast` scores.

`vitrine forecast --dataset {cdnow,retail} --export-transactions CSV` writes every shopper it
scores with their purchases, so both sides see identical data: the same shoppers (those with a
calibration purchase), the same purchases (an Online Retail order; a CDNOW customer's day, its
lines summed) and the same spend (pounds or dollars). Its first line names the split:

    # dataset=cdnow calibration_days=273 holdout_days=273
    customer,day,spend,period
    00001,0,11.77,calibration

`day` counts days from the start of the calibration window. For each shopper, over the
calibration window, frequency x = purchases - 1, recency t_x = last - first and age
T = calibration_days - first (in days, fractional for Online Retail's timed orders), and the
monetary value is the mean spend of the purchases after the first, as lifetimes defines them.
BetaGeoFitter is fitted on every shopper, GammaGammaFitter on those with a repeat purchase and
a positive monetary value. Forecasts over the holdout: purchases from
conditional_expected_number_of_purchases_up_to_time(holdout_days, x, t_x, T), spend as those
purchases times conditional_expected_average_profit(x, monetary value). The script prints
their mean absolute errors per shopper against the holdout and writes them as JSON; given
`vitrine forecast --json`'s report of the same run it also prints Vitrine's MAEs beside them.

    python3 -m venv /tmp/ltvenv && /tmp/ltvenv/bin/pip install -r bench/requirements.txt
    vitrine forecast --dataset cdnow --json target/forecast/cdnow.json \\
        --export-transactions target/forecast/cdnow-transactions.csv
    /tmp/ltvenv/bin/python bench/forecast_lifetimes.py --dataset cdnow

`--run` does the `vitrine forecast` step itself, through `cargo run --release`.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter


def read_split(path: Path, dataset: str) -> tuple[pd.DataFrame, float, float]:
    """The transactions and the calibration and holdout lengths in days."""
    with path.open() as f:
        first = f.readline().strip()
    if not first.startswith("# "):
        sys.exit(f"{path}: the first line should be `# dataset=... calibration_days=...`")
    meta = dict(field.split("=", 1) for field in first[2:].split())
    if meta.get("dataset") != dataset:
        sys.exit(f"{path} holds dataset {meta.get('dataset')!r}, not {dataset!r}")
    rows = pd.read_csv(path, comment="#", dtype={"customer": str})
    return rows, float(meta["calibration_days"]), float(meta["holdout_days"])


def summarise(rows: pd.DataFrame, calibration_days: float) -> pd.DataFrame:
    """One row per shopper: x, t_x, T, monetary value, and the held-out purchases and spend."""
    cal = rows[rows.period == "calibration"].sort_values(["customer", "day"], kind="stable")
    hold = rows[rows.period == "holdout"]
    if cal.empty or not set(hold.customer) <= set(cal.customer):
        sys.exit("every exported shopper needs a calibration purchase; re-export the split")
    g = cal.groupby("customer", sort=True)
    first = g.day.min()
    summary = pd.DataFrame(
        {
            "frequency": g.size() - 1,
            "recency": g.day.max() - first,
            "T": calibration_days - first,
        }
    )
    repeat = cal[g.cumcount() > 0].groupby("customer").spend.mean()
    summary["monetary_value"] = repeat.reindex(summary.index).fillna(0.0)
    h = hold.groupby("customer")
    summary["holdout_purchases"] = h.size().reindex(summary.index).fillna(0).astype(float)
    summary["holdout_spend"] = h.spend.sum().reindex(summary.index).fillna(0.0)
    return summary


def mae(predicted: pd.Series, actual: pd.Series) -> float:
    if predicted.isna().any() or not np.isfinite(predicted).all():
        sys.exit("a forecast is NaN or infinite; lifetimes failed on this data")
    return float(np.mean(np.abs(predicted - actual)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", choices=["cdnow", "retail"], required=True)
    parser.add_argument(
        "--transactions", type=Path,
        help="`vitrine forecast --export-transactions` output "
        "[default: target/forecast/DATASET-transactions.csv]",
    )
    parser.add_argument(
        "--vitrine", type=Path,
        help="`vitrine forecast --json` of the same split, printed alongside "
        "[default: target/forecast/DATASET.json when it exists]",
    )
    parser.add_argument(
        "--json", type=Path, help="[default: target/forecast/DATASET-lifetimes.json]"
    )
    parser.add_argument(
        "--run", action="store_true", help="run `vitrine forecast` first, through cargo"
    )
    args = parser.parse_args()
    out = Path("target/forecast")
    transactions = args.transactions or out / f"{args.dataset}-transactions.csv"
    vitrine = args.vitrine or out / f"{args.dataset}.json"
    if args.run:
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["cargo", "run", "-q", "-p", "vitrine-cli", "--release", "--", "forecast",
             "--dataset", args.dataset, "--json", str(vitrine),
             "--export-transactions", str(transactions)],
            check=True,
        )
    if not transactions.exists():
        sys.exit(
            f"{transactions} is missing: run `vitrine forecast --dataset {args.dataset} "
            f"--export-transactions {transactions}` first, or pass --run"
        )

    rows, calibration_days, holdout_days = read_split(transactions, args.dataset)
    s = summarise(rows, calibration_days)
    bgf = BetaGeoFitter(penalizer_coef=0.0)
    bgf.fit(s.frequency, s.recency, s["T"])
    repeat = s[(s.frequency > 0) & (s.monetary_value > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.0)
    ggf.fit(repeat.frequency, repeat.monetary_value)

    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(
        holdout_days, s.frequency, s.recency, s["T"]
    )
    spend = purchases * ggf.conditional_expected_average_profit(s.frequency, s.monetary_value)
    report = {
        "dataset": args.dataset,
        "lifetimes": "0.11.3",
        "shoppers": len(s),
        "calibration_days": calibration_days,
        "holdout_days": holdout_days,
        "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        "gamma_gamma_shoppers": len(repeat),
        "purchases_mae": mae(purchases, s.holdout_purchases),
        "spend_mae": mae(spend, s.holdout_spend),
    }

    p, g = report["bgnbd"], report["gamma_gamma"]
    print(f"lifetimes 0.11.3 on {args.dataset}: {len(s)} shoppers, {calibration_days:g} "
          f"calibration days, {holdout_days:g} held-out days")
    print(f"BG/NBD r {p['r']:.4f}, alpha {p['alpha']:.3f} days, a {p['a']:.4f}, b {p['b']:.4f}; "
          f"Gamma-Gamma p {g['p']:.3f}, q {g['q']:.3f}, v {g['v']:.3f} on {len(repeat)} "
          "repeat buyers\n")
    rows_out = [("purchases per shopper", "purchases_mae", "orders_mae", 3),
                ("spend per shopper", "spend_mae", "spend_mae", 2)]
    if vitrine.exists():
        v = json.loads(vitrine.read_text())
        if v.get("dataset", "retail") != args.dataset:
            sys.exit(f"{vitrine} is a report on {v.get('dataset')}, not {args.dataset}")
        shoppers = v["shoppers"]
        same = shoppers["shoppers"] == len(s) and math.isclose(
            shoppers["holdout_days"], holdout_days
        )
        if not same:
            sys.exit(f"{vitrine} scored another split than {transactions}; rerun both")
        print(f"{'MAE':<24}{'Vitrine trend':>14}{'Vitrine rate':>14}{'Vitrine recency':>16}"
              f"{'BG/NBD+GG':>11}{'best / BG/NBD':>15}")
        report["vitrine"] = {}
        for label, key, vkey, digits in rows_out:
            trend, rate, recency = (shoppers[f"{vkey}_{m}"] for m in ("trend", "rate", "recency"))
            best = min(rate, recency)
            report["vitrine"][key] = {"trend": trend, "rate": rate, "recency": recency,
                                      "ratio_best_to_bgnbd": best / report[key]}
            print(f"{label:<24}{trend:>14.{digits}f}{rate:>14.{digits}f}{recency:>16.{digits}f}"
                  f"{report[key]:>11.{digits}f}{best / report[key]:>15.3f}")
    else:
        for label, key, _, digits in rows_out:
            print(f"{label:<24}BG/NBD+GG MAE {report[key]:.{digits}f}")
    json_path = args.json or out / f"{args.dataset}-lifetimes.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nreport written to {json_path}")


if __name__ == "__main__":
    main()
