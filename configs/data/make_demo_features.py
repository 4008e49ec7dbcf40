#!/usr/bin/env python3
"""Writes demo_features.csv: a small, made-up table shaped like the paper's geometric
feature CSVs (one row per face: subject, pose, expression label, geometric features).

It is synthetic (no real faces): each expression shifts a few features the way its action
units would (smile widens the mouth, surprise raises the brows, ...), plus per-subject
offsets and noise. Deterministic: `python3 make_demo_features.py` rewrites the same file.
"""
import csv
import random

EXPRESSIONS = ["AF", "AN", "DI", "HA", "NE", "SA", "SU"]
FEATURES = ["brow_raise_left", "brow_raise_right", "brow_gap", "eye_open_left", "eye_open_right",
            "mouth_width", "mouth_open", "mouth_corner_angle"]
# Mean shift of each feature per expression, in units of the noise's standard deviation.
SHIFT = {
    "AF": [1.0, 1.0, -0.8, 1.2, 1.2, 0.4, 0.8, 0.0],
    "AN": [-1.0, -1.0, -1.2, -0.4, -0.4, -0.3, 0.0, -0.4],
    "DI": [-0.5, -0.5, -0.6, -0.8, -0.8, 0.0, 0.3, -1.0],
    "HA": [0.0, 0.0, 0.0, -0.5, -0.5, 1.5, 0.5, 1.5],
    "NE": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "SA": [0.6, 0.6, -0.5, -0.3, -0.3, -0.4, 0.0, -1.2],
    "SU": [1.6, 1.6, 0.2, 1.4, 1.4, -0.2, 1.8, 0.0],
}
POSES = ["S", "HL", "HR"]


def main():
    rng = random.Random(7)
    rows = []
    for s in range(1, 13):
        subject = ("F" if s % 2 else "M") + f"{s:02d}"
        offset = [rng.gauss(0, 0.5) for _ in FEATURES]
        for pose in POSES:
            for expr in EXPRESSIONS:
                values = [10 + o + 1.0 * sh + rng.gauss(0, 0.6) for o, sh in zip(offset, SHIFT[expr])]
                rows.append([f"A{subject}{expr}{pose}", subject, pose, expr] + [f"{v:.4f}" for v in values])
    with open("demo_features.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "subject", "pose", "emotion"] + FEATURES)
        w.writerows(rows)


if __name__ == "__main__":
    main()
