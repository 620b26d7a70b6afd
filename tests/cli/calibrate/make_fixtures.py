#!/usr/bin/env python3
"""Writes train.json and infer.json: dlc run records of tiny.dlc's model as the
simulator's roofline predicts them on a 100 GFLOP/s, 10 GB/s CPU with conv 0.5,
matmul 0.4, elementwise 0.5, pooling 0.6, memory 0.9 and a 2 us launch overhead
(times to 6 digits; infer.json off by -5 %..+4 %), with a reorder row after the conv.
Usage: make_fixtures.py DLC (the work per layer comes from dlc check --emit=plan)."""
import json, os, re, shutil, subprocess, sys, tempfile
dlc = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as tmp:  # tiny.dlc imports the spec calibrate writes: a stand-in
    shutil.copy(os.path.join(here, "tiny.dlc"), tmp)
    with open(os.path.join(tmp, "calibrated.dlc"), "w") as f:
        f.write("device Test_CPU_calibrated { kind = cpu; peak { fp32 = 100 GFLOP/s } memory_bandwidth = 10 GB/s }\n")
    plan = subprocess.run([dlc, "check", "--emit=plan", os.path.join(tmp, "tiny.dlc")], capture_output=True,
                          text=True).stdout

ops = []
for line in plan.splitlines():
    m = re.match(r"  (\S+) (\S+) (\[.*?\]) macs=(\d+)/(\d+) bytes=(\d+)/(\d+) weights=(\d+)", line)
    if m:
        ops.append((m[1], m[2], *map(int, m.groups()[3:])))
cls = {"conv": "conv", "relu": "elementwise", "maxpool": "pooling", "flatten": "data_movement", "fc": "matmul", "input": "input"}
peak, bw = 1e11, 1e10
eff = {"conv": 0.5, "matmul": 0.4, "elementwise": 0.5, "pooling": 0.6, "data_movement": 1.0}
em, L = 0.9, 2e-6
membound = {"elementwise", "normalization", "pooling", "data_movement", "embedding"}
def t(c, macs, by, wb, B):
    if macs == 0 and by == 0 and wb == 0: return 0.0
    e = eff[c]
    comp = 2 * macs * B / (peak * e)
    mem = (by * B + wb) / (bw * em * (e if c in membound else 1))
    return max(comp, mem) + L, ("compute" if comp >= mem else "memory")
def record(phase, B, noise, experiment):
    layers = []
    total = 0
    k = 0
    for (name, op, mf, mb, bf, bb, w) in ops:
        c = cls[op]
        row = {"name": name, "op": op, "class": c}
        if c == "input" or (mf == 0 and bf == 0 and w == 0):
            row.update({"forward_s": 0, "backward_s": 0, "update_s": 0, "bound": ""})
        else:
            f, bound = t(c, mf, bf, w, B)
            f *= noise[k % len(noise)]; k += 1
            b = 0.0
            if phase == "training":
                b, _ = t(c, mb, bb, 2 * w, B)
                b *= noise[k % len(noise)]; k += 1
            u = (w / 4) * 12 / (bw * em) if phase == "training" and w else 0.0
            row.update({"forward_s": float(f"{f:.6g}"), "backward_s": float(f"{b:.6g}"), "update_s": float(f"{u:.6g}"), "bound": bound})
        row["work"] = {"macs_forward": mf, "macs_backward": mb, "bytes_forward": bf, "bytes_backward": bb, "weight_bytes": w}
        if c == "input": del row["work"]; row["class"] = ""
        layers.append(row)
        total += row["forward_s"] + row["backward_s"] + row["update_s"]
        if op == "conv":
            layers.append({"name": name + "/reorder", "op": "reorder", "class": "", "forward_s": 3e-05, "backward_s": 0, "update_s": 0, "bound": ""})
            total += 3e-05
    return {"schema": "dlc.result/1", "source": "measured", "experiment": experiment, "model": "Tiny", "system": "Test_CPU",
            "device": "cpu", "phase": phase, "batch": B, "precision": "fp32",
            "device_model": {"name": "Test CPU", "kind": "cpu", "peak": peak, "memory_bandwidth": bw},
            "layers": layers,
            "totals": {"iteration_s": float(f"{total:.6g}"), "compute_s": float(f"{total:.6g}"), "comm_s": 0, "samples_per_s": float(f"{B/total:.6g}"),
                       "epoch_s": None, "total_s": None, "memory_per_device_bytes": 1000000}}
def dump(r, path):
    lines = ["{"]
    head = {k: v for k, v in r.items() if k not in ("layers", "totals", "device_model")}
    lines.append("  " + json.dumps(head)[1:-1] + ",")
    lines.append('  "device_model": ' + json.dumps(r["device_model"]) + ",")
    lines.append('  "layers": [')
    lines.append(",\n".join("    " + json.dumps(l) for l in r["layers"]))
    lines.append("  ],")
    lines.append('  "totals": ' + json.dumps(r["totals"]))
    lines.append("}")
    open(path, "w").write("\n".join(lines) + "\n")
out = here + "/"
dump(record("training", 32, [1.0], "tiny_train"), out + "train.json")
dump(record("inference", 1, [1.04, 0.97, 1.02, 0.95, 1.03, 0.98], "tiny_infer"), out + "infer.json")
