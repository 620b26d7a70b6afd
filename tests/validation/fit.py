#!/usr/bin/env python3
"""Fits the standard library's defaults to the calibration rows of the accuracy benchmark.

    tests/validation/fit.py [--dlc build/bin/dlc] [--rounds N]

Only the rows marked `calibration` in rows.csv are simulated: the held-out rows
never reach the fit. The parameters are those of the framework profiles
(specs/std/frameworks.dlc) and the matrix engines' default efficiencies
(simulator/roofline.hpp, kMatrixEfficiency), changed through
`dlc validate --set SCOPE:key=value`. The objective is the calibration MAPE;
the search is a grid over the parameters in GRIDS, then a coordinate descent
in each parameter's logarithm (a bracket of
factors, shrinking when no factor helps), with pairs of one framework's
parameters also moved together, from the values below (those the two files
hold: update them together).
It prints the fitted values; writing them into the two files is left to the
person running it, who reads the result first.
"""
import argparse
import csv
import itertools
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
# The fp32 rows run on the GPUs' vector units (CUDA cores): their convolution and GEMM efficiencies are
# simulator/roofline.hpp's kAcceleratorVectorEfficiency.
# PyTorchNVFuser and PyTorchCompile inherit PyTorch's profile (specs/std/frameworks.dlc): one set of values for both.
TORCH = ["PyTorch", "PyTorchNVFuser", "PyTorchCompile"]
PARAMETERS = [
    (["mixed", "bf16", "fp16"], "device.efficiency.conv", 0.7955, "", 0.05, 1.0),
    (["tf32"], "device.efficiency.conv", 0.294, "", 0.05, 1.0),
    (MATRIX, "device.efficiency.matmul", 0.566, "", 0.05, 1.0),
    (MATRIX, "device.efficiency.attention", 0.7314, "", 0.05, 1.0),
    (["fp32"], "device.efficiency.conv", 0.7634, "", 0.05, 1.0),
    (["fp32"], "device.efficiency.matmul", 1.0, "", 0.05, 1.0),
    (TORCH, "software.dispatch", 60.0, "us", 0.0, 1e4),
    (TORCH, "software.step_overhead", 0.0, "ms", 0.0, 1e4),
    (TORCH, "software.sample_overhead", 45.19, "us", 0.0, 1e5),
    (TORCH, "software.jitter", 0.04062, "", 0.0, 0.5),
    (TORCH, "software.winograd", 3.364, "", 0.5, 4.0),
    (["TensorFlow"], "software.dispatch", 40.0, "us", 0.0, 1e4),
    (["TensorFlow"], "software.step_overhead", 2.0, "ms", 0.0, 1e4),
    (["TensorFlow"], "software.sample_overhead", 183.4, "us", 0.0, 1e5),
    (["MegatronLM"], "software.step_overhead", 134.4, "ms", 0.0, 1e5),
    (["MegatronLM"], "software.jitter", 0.0, "", 0.0, 0.5),
    (["DeepSpeed"], "software.collective_latency", 1.297, "us", 0.0, 1e4),
    (["DeepSpeed"], "software.jitter", 0.09, "", 0.0, 0.5),
    (["DeepSpeed"], "software.collective_efficiency", 0.24, "", 0.01, 1.0),
]

# Parameters that stand in for one another far from the start, so that the
# descent cannot move them there, are searched on a grid first (every
# combination, the best kept): DeepSpeed's stragglers (jitter) against its
# collectives' bandwidth and latency; TensorFlow's host times per kernel, per
# step and per sample. A grid whose parameters reach only the rows of one
# spec file is evaluated on those calibration rows alone (the other rows'
# errors do not change): (that file or None, the grid).
GRIDS = [
    (None, {
        ("DeepSpeed", "software.collective_latency"): [0.0, 10.0],
        ("DeepSpeed", "software.jitter"): [0.0, 0.02, 0.04, 0.06, 0.08, 0.09, 0.1, 0.12, 0.17],
        ("DeepSpeed", "software.collective_efficiency"): [0.1, 0.15, 0.2, 0.24, 0.25, 0.3, 0.4, 0.6, 1.0],
    }),
    ("dle_bert_tensorflow_inference.dlc", {
        ("TensorFlow", "software.dispatch"): [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0],
        ("TensorFlow", "software.step_overhead"): [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
        ("TensorFlow", "software.sample_overhead"): [0.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0, 800.0],
    }),
]


# Rows whose experiments carry efficiencies of their own, fitted to them after
# every change of the defaults (the cookbook's three frameworks: docs/validate.md),
# say nothing about the defaults and stay out of the fit.
OWN_FIT = {"../../examples/cookbook.dlc"}


def calibration_file(spec=None):
    """The calibration rows (of one spec file where given) in a temporary copy of rows.csv."""
    with open(os.path.join(HERE, "rows.csv"), newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header = [l for l in lines if l.startswith("#")]
    body = [l for l in lines if not l.startswith("#")]
    rows = list(csv.reader(body))
    keep = [body[0]] + [body[i] for i in range(1, len(body))
                        if rows[i] and rows[i][2] == "calibration" and rows[i][3] not in OWN_FIT
                        and (spec is None or rows[i][3] == spec)]
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
        for spec, grid in GRIDS:
            index = {(p[0][0], p[1]): i for i, p in enumerate(PARAMETERS)}
            keys = list(grid)
            subset = calibration_file(spec) if spec else data
            try:
                local = objective(args.dlc, subset, values)
                for point in itertools.product(*(grid[k] for k in keys)):
                    trial = list(values)
                    for k, v in zip(keys, point):
                        trial[index[k]] = v
                    err = objective(args.dlc, subset, trial)
                    if err < local - 1e-6:
                        local, values = err, trial
            finally:
                if spec:
                    os.unlink(subset)
            best = objective(args.dlc, data, values)
            print(f"grid {', '.join(f'{s}:{k} = {values[index[(s, k)]]:.4g}' for s, k in keys)}: "
                  f"{100 * best:.2f}%", file=sys.stderr)
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
            # Pairs of one framework's parameters move together too: one may
            # stand in for another (stragglers for slow collectives), so that
            # neither moves alone.
            for i, j in [(i, j) for i in range(len(PARAMETERS)) for j in range(i + 1, len(PARAMETERS))
                         if PARAMETERS[i][0] == PARAMETERS[j][0] and not PARAMETERS[i][1].startswith("device.")]:
                for fi in (spread ** -0.5, spread ** 0.5):
                    for fj in (spread ** -0.5, spread ** 0.5):
                        trial = list(values)
                        for k, f in ((i, fi), (j, fj)):
                            lo, hi = PARAMETERS[k][4], PARAMETERS[k][5]
                            trial[k] = min(max((values[k] or 1.0) * f, lo), hi)
                        if trial == values:
                            continue
                        err = objective(args.dlc, data, trial)
                        if err < best - 1e-6:
                            best, values, improved = err, trial, True
                print(f"round {rnd + 1} {PARAMETERS[i][0][0]}:{PARAMETERS[i][1]} and {PARAMETERS[j][1]}: "
                      f"{100 * best:.2f}%", file=sys.stderr)
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
