#!/usr/bin/env python3
"""Fits the standard library's defaults to the calibration rows of the accuracy benchmark.

    tests/validation/fit.py [--dlc build/bin/dlc] [--rounds N]

Only the rows marked `calibration` in rows.csv are simulated: the held-out rows
never reach the fit. The parameters are those of the framework profiles
(specs/std/frameworks.dlc) and the matrix engines' default efficiencies
(simulator/roofline.hpp, kMatrixEfficiency), changed through
`dlc validate --set SCOPE:key=value`. The objective is the calibration MAPE;
the search is a coordinate descent in each parameter's logarithm (a bracket of
factors, shrinking when no factor helps), from the values below (those the two
files hold: update them together).
It prints the fitted values; writing them into the two files is left to the
person running it, who reads the result first.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (scopes, parameter, start, unit, lower bound, upper bound); winograd at most 4, F(4x4, 3x3)'s cut in
# multiplications. The matrix-engine rows are those at
# mixed, tf32, bf16 or fp16 precision: every such row of the data set runs on tensor cores; convolutions
# at tf32 have an efficiency of their own (kMatrixEfficiency.conv_tf32).
MATRIX = ["mixed", "tf32", "bf16", "fp16"]
PARAMETERS = [
    (["mixed", "bf16", "fp16"], "device.efficiency.conv", 0.473, "", 0.05, 1.0),
    (["tf32"], "device.efficiency.conv", 0.2815, "", 0.05, 1.0),
    (MATRIX, "device.efficiency.matmul", 0.566, "", 0.05, 1.0),
    (MATRIX, "device.efficiency.attention", 0.589, "", 0.05, 1.0),
    (["PyTorch"], "software.dispatch", 60.0, "us", 0.0, 1e4),
    (["PyTorch"], "software.step_overhead", 0.0, "ms", 0.0, 1e4),
    (["PyTorch"], "software.sample_overhead", 9.5, "us", 0.0, 1e5),
    (["PyTorch"], "software.jitter", 0.055, "", 0.0, 0.5),
    (["PyTorch"], "software.winograd", 4.0, "", 0.5, 4.0),
    (["TensorFlow"], "software.dispatch", 60.0, "us", 0.0, 1e4),
    (["TensorFlow"], "software.step_overhead", 1.83, "ms", 0.0, 1e4),
    (["TensorFlow"], "software.sample_overhead", 283.0, "us", 0.0, 1e5),
    (["MegatronLM"], "software.step_overhead", 118.0, "ms", 0.0, 1e5),
    (["MegatronLM"], "software.jitter", 0.0, "", 0.0, 0.5),
    (["DeepSpeed"], "software.collective_latency", 10.0, "us", 0.0, 1e4),
    (["DeepSpeed"], "software.jitter", 0.17, "", 0.0, 0.5),
]


def calibration_file():
    with open(os.path.join(HERE, "rows.csv"), newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header = [l for l in lines if l.startswith("#")]
    body = [l for l in lines if not l.startswith("#")]
    rows = list(csv.reader(body))
    keep = [body[0]] + [body[i] for i in range(1, len(body)) if rows[i] and rows[i][2] == "calibration"]
    fd, path = tempfile.mkstemp(suffix=".csv", prefix=".fit-", dir=HERE)
    with os.fdopen(fd, "w") as f:
        f.writelines(header + keep)
    return path


def objective(dlc, data, values):
    cmd = [dlc, "validate", data, "--format", "json"]
    for (scopes, key, _, unit, _, _), v in zip(PARAMETERS, values):
        for scope in scopes:
            cmd += ["--set", f"{scope}:{key}={v:.6g}{unit}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = json.loads(out)["rows"]
    errors = [abs(r["error"]) if r.get("predicted") is not None else 1.0 for r in rows]
    return sum(errors) / len(errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", default=os.path.join(HERE, "..", "..", "build", "bin", "dlc"))
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    data = calibration_file()
    try:
        values = [p[2] for p in PARAMETERS]
        best = objective(args.dlc, data, values)
        print(f"start: calibration MAPE {100 * best:.2f}%", file=sys.stderr)
        spread = 4.0
        for rnd in range(args.rounds):
            improved = False
            for i, (scopes, key, _, unit, lo, hi) in enumerate(PARAMETERS):
                base = values[i]
                factors = [spread ** f for f in (-1, -0.5, -0.25, 0.25, 0.5, 1)]
                # A parameter at 0 restarts from a small value of its unit.
                candidates = [(base or 1.0) * f for f in factors] + ([0.0] if lo == 0 else [])
                for c in candidates:
                    c = min(max(c, lo), hi)
                    if c == values[i]:
                        continue
                    trial = list(values)
                    trial[i] = c
                    err = objective(args.dlc, data, trial)
                    if err < best - 1e-6:
                        best, values, improved = err, trial, True
                print(f"round {rnd + 1} {scopes[0]}:{key} = {values[i]:.4g}{unit}: {100 * best:.2f}%",
                      file=sys.stderr)
            if not improved:
                spread = math.sqrt(spread)
                if spread < 1.05:
                    break
        print(f"calibration MAPE {100 * best:.2f}%")
        for (scopes, key, _, unit, _, _), v in zip(PARAMETERS, values):
            print(f"{','.join(scopes)}:{key} = {v:.4g} {unit}".rstrip())
    finally:
        os.unlink(data)


if __name__ == "__main__":
    main()
