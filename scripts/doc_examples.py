#!/usr/bin/env python3
"""Re-runs the `$ dlc ...` examples of the docs and updates their output.

Usage: scripts/doc_examples.py [--check] [--dlc PATH] [FILE.md ...]
       (default: README.md docs/*.md, PATH build/bin/dlc)

A fenced block whose first line is `$ dlc ARGS` holds that command's output as
a terminal shows it (tables, stderr merged, no colour). Blocks with a line
`...` are excerpts and left alone. --check reports stale blocks and exits 1
instead of rewriting them. Run from the repository root after building.
"""
import os
import pty
import re
import shlex
import subprocess
import sys
import glob


def run_on_tty(args):
    """Output of `args` with stdout and stderr on a pseudo-terminal."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def update(path, check, dlc):
    text = open(path, encoding="utf-8").read()
    fence = re.compile(r"^(?:<!-- varies: ([^\n]*) -->\n)?```[a-z]*\n(\$ dlc [^\n]*)\n(.*?)^```$", re.M | re.S)
    stale = []

    def replace(m):
        varies, command, body = m.group(1), m.group(2), m.group(3)
        if re.search(r"^\.\.\.$", body, re.M):
            return m.group(0)
        args = [dlc] + shlex.split(command[len("$ dlc "):])
        out = run_on_tty(args)
        if varies:
            if re.sub(varies, "*", out) != re.sub(varies, "*", body):
                stale.append(command)
            return m.group(0)
        if out != body:
            stale.append(command)
        return m.group(0)[: m.start(3) - m.start(0)] + out + "```"

    new = fence.sub(replace, text)
    for c in stale:
        print(f"{path}: stale output for: {c}")
    if not check and new != text:
        open(path, "w", encoding="utf-8").write(new)
    return not stale


def main():
    args = sys.argv[1:]
    check = "--check" in args
    dlc = "build/bin/dlc"
    if "--dlc" in args:
        i = args.index("--dlc")
        dlc = args[i + 1]
        del args[i : i + 2]
    files = [a for a in args if a != "--check"] or ["README.md"] + sorted(glob.glob("docs/*.md"))
    ok = all([update(f, check, dlc) for f in files])
    return 0 if ok or not check else 1


if __name__ == "__main__":
    sys.exit(main())
