#!/usr/bin/env python3
"""Mutation fuzzing of what a user hands mien: the experiment YAML and a CSV data file.

Each case mutates a valid seed input (flip, insert, delete or duplicate bytes; splice
lines; swap in hostile tokens: deep nesting, huge numbers, NUL and non-UTF-8 bytes,
aliases, tabs) and runs the real `mien validate` / `mien run` on it. A case passes when
mien exits normally — 0 for an input that is still valid, 1 or 2 with a message for one
that is not — within the time limit. It fails on a crash (a signal: segfault, abort, an
uncaught exception), a hang, or an error exit that prints nothing. Cases are drawn from a
fixed seed, so a failure names its case number and reproduces with --case N; --keep
writes the failing inputs next to the report.

  fuzz_inputs.py --mien build/bin/mien [--cases 300] [--seed 1] [--case N] [--work DIR]
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile

SEED_YAML = """experiment: fuzz
seed: 3
vars:
  size: 0.25
nodes:
  data:
    use: dataset.table
    with: {path: data.csv, label: label, id: id, groups: [subject]}
  split:
    use: split.holdout
    with: {test_size: "${size}", group: subject}
    in: {table: data.table}
  scaled:
    use: transform.standardize
    in: {train: split.train, apply: split.test}
"""

SEED_CSV = "id,subject,label,f0,f1,f2\n" + "".join(
    "r%d,s%d,%s,%.3f,%.3f,%.3f\n" % (i, i % 5, "ab"[i % 2], i * 0.5, (i * 7) % 3 - 1.0, 1.0 / (i + 1))
    for i in range(20))

HOSTILE = [
    b"\x00", b"\xff\xfe", b"\xc3\x28", b"\t", b"\r", b"\n", b":", b"{", b"}", b"[", b"]", b"'", b'"', b"&a", b"*a",
    b"!!binary", b"<<: *a", b"1e308", b"-1e309", b"nan", b"inf", b"99999999999999999999", b"-0", b"${", b"${size}",
    b"${env:HOME}", b"${matrix.x}", b"[" * 200, b"{a: " * 100, b"," * 50, b"\\", b"%", b"\xef\xbb\xbf", b"~", b"null",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:  # flip a byte
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:  # insert a hostile token
            b[pos:pos] = rng.choice(HOSTILE)
        elif op == 2 and b:  # delete a run
            del b[pos:pos + rng.randint(1, 16)]
        elif op == 3 and b:  # duplicate a run
            run = b[pos:pos + rng.randint(1, 64)]
            b[pos:pos] = run * rng.randint(1, 8)
        elif op == 4:  # swap two lines
            lines = bytes(b).split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                b = bytearray(b"\n".join(lines))
        elif op == 5:  # drop a line
            lines = bytes(b).split(b"\n")
            if len(lines) > 1:
                del lines[rng.randrange(len(lines))]
                b = bytearray(b"\n".join(lines))
        else:  # change an indentation
            lines = bytes(b).split(b"\n")
            i = rng.randrange(len(lines))
            lines[i] = b" " * rng.randint(0, 6) + lines[i].lstrip(b" ")
            b = bytearray(b"\n".join(lines))
    return bytes(b)


def run_case(mien, work, n, seed, timeout):
    rng = random.Random(seed * 1000003 + n)
    case = os.path.join(work, "case%d" % n)
    shutil.rmtree(case, ignore_errors=True)
    os.makedirs(case)
    target = rng.choice(["yaml", "yaml", "csv"])
    yaml = SEED_YAML.encode()
    csv = SEED_CSV.encode()
    if target == "yaml":
        yaml = mutate(yaml, rng)
    else:
        csv = mutate(csv, rng)
    with open(os.path.join(case, "exp.yaml"), "wb") as f:
        f.write(yaml)
    with open(os.path.join(case, "data.csv"), "wb") as f:
        f.write(csv)
    command = "validate" if rng.random() < 0.4 else "run"
    args = [mien, command, os.path.join(case, "exp.yaml")]
    if command == "run":
        args += ["--out", os.path.join(case, "run"), "--cache", os.path.join(case, "cache")]
    env = dict(os.environ, MIEN_NO_PROGRESS="1", OMP_NUM_THREADS="1")
    try:
        p = subprocess.run(args, cwd=case, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang (over %d s)" % timeout, case, target, command
    if p.returncode < 0:
        return "killed by signal %s" % signal.Signals(-p.returncode).name, case, target, command
    if p.returncode not in (0, 1, 2):
        return "exit %d" % p.returncode, case, target, command
    if p.returncode != 0 and not (p.stderr.strip() or p.stdout.strip()):
        return "exit %d without a message" % p.returncode, case, target, command
    if b"terminate called" in p.stderr or b"Sanitizer" in p.stderr:
        return "crash report on stderr: " + p.stderr.decode(errors="replace")[-300:], case, target, command
    return "exit %d" % p.returncode, case, target, command  # a normal end; counted, not a failure


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mien", required=True)
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--case", type=int, help="run only this case")
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--work", help="scratch folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the failing cases' inputs")
    args = ap.parse_args()
    args.mien = os.path.abspath(args.mien)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="mien-fuzz-"))
    os.makedirs(work, exist_ok=True)
    cases = [args.case] if args.case is not None else range(args.cases)
    failures, outcomes, exits = [], {}, {}
    for n in cases:
        problem, case, target, command = run_case(args.mien, work, n, args.seed, args.timeout)
        outcomes[(target, command)] = outcomes.get((target, command), 0) + 1
        if problem in ("exit 0", "exit 1", "exit 2"):
            exits[problem] = exits.get(problem, 0) + 1
            problem = None
        if problem:
            failures.append((n, problem, target, command))
            print("FAIL case %d (%s, mien %s): %s  [inputs: %s]" % (n, target, command, problem, case))
        elif not args.keep:
            shutil.rmtree(case, ignore_errors=True)
    print("fuzz: %d cases (%s), seed %d: %s; %d failed" % (
        len(cases), ", ".join("%s/%s %d" % (t, c, k) for (t, c), k in sorted(outcomes.items())), args.seed,
        ", ".join("%s: %d" % kv for kv in sorted(exits.items())), len(failures)))
    if not args.work and not failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
