#!/usr/bin/env bash
# KDEF-scale benchmark of configs/paper_kdef.yaml (not run by ctest).
#
#   tests/configs/bench_kdef_pipeline.sh [BUILD_DIR] [WORK_DIR] [-- extra mien run options]
#
# Writes the full KDEF-sized fixture with mien-synth-dataset (70 people x 7 expressions x
# 3 poses x 2 series = 2,940 colour JPEGs at KDEF's 562x762), runs the whole experiment
# with an empty cache, and prints the wall time of each stage from the run's manifest.json
# (per node `wall_seconds`), grouped. The target: under 10 minutes on 2 cores
# for the geometric pipeline (no hyperparameter search). Defaults: BUILD_DIR=build,
# WORK_DIR=a fresh temporary folder (kept; its path is printed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${1:-$src/build}"
work="${2:-$(mktemp -d /tmp/mien-bench-kdef.XXXXXX)}"
shift $(( $# > 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
build="$(cd "$build" && pwd)"
mkdir -p "$work"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(uptime | sed 's/.*load average: //')"

t0=$(date +%s.%N)
"$build/bin/mien-synth-dataset" --layout kdef --subjects 70 --size 562x762 --seed 1 --out "$work/kdef"
t1=$(date +%s.%N)
echo "fixture: $(find "$work/kdef" -name '*.JPG' | wc -l) images, $(du -sh "$work/kdef" | cut -f1), written in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"

rm -rf "$work/run" "$work/cache"
t2=$(date +%s.%N)
KDEF_ROOT="$work/kdef" "$build/bin/mien" run "$src/configs/paper_kdef.yaml" --out "$work/run" \
  --cache-dir "$work/cache" --quiet "$@"
t3=$(date +%s.%N)
echo "mien run: $(awk "BEGIN{printf \"%.1f\", $t3 - $t2}") s wall (start-up, validation and reporting included)"
echo "load after: $(uptime | sed 's/.*load average: //')"

python3 - "$work/run" <<'EOF'
import json, sys, collections
run = sys.argv[1]
m = json.load(open(f"{run}/manifest.json"))
groups = [  # (group, predicate on type_id), first match wins
    ("data (dataset.kdef, image checks)", lambda t: t.startswith("dataset.")),
    ("face detection (detect.dlib_hog)", lambda t: t.startswith("detect.")),
    ("landmarks (landmarks.dlib68)", lambda t: t.startswith("landmarks.")),
    ("alignment (align.eyes)", lambda t: t.startswith("align.")),
    ("features (features.geometric, select.columns)", lambda t: t.startswith(("features.", "select."))),
    ("split and filters", lambda t: t.startswith(("split.", "transform."))),
    ("MLPs, 3 poses (model.mlp)", lambda t: t == "model.mlp"),
    ("predictions (eval.predict)", lambda t: t == "eval.predict"),
    ("Deep SHAP, all test samples", lambda t: t == "explain.deep_shap"),
    ("metrics (classification, fidelity n=1..10, SHAP weight)", lambda t: t.startswith("metric.") and t != "metric.image_deletion"),
    ("reports (geometric explanations, report.html)", lambda t: t in ("report.geometric", "report.html")),
    ("CNN arm: face-api fine-tuning", lambda t: t.startswith("model.")),
    ("CNN arm: Grad-CAM", lambda t: t.startswith("explain.")),
    ("CNN arm: deletion curves", lambda t: t == "metric.image_deletion"),
    ("CNN arm: heat maps", lambda t: t == "report.heatmap"),
    ("other", lambda t: True),
]
secs = collections.OrderedDict((g, 0.0) for g, _ in groups)
nodes = collections.defaultdict(list)
for n in m["nodes"]:
    t = n["type_id"]
    for g, p in groups:
        if p(t):
            secs[g] += n.get("wall_seconds") or 0.0
            nodes[g].append(n["name"])
            break
geo = sum(v for g, v in secs.items() if not g.startswith("CNN arm"))
print(f"\n{'stage':58s} {'seconds':>8s}  nodes")
for g, v in secs.items():
    if nodes[g]:
        print(f"{g:58s} {v:8.1f}  {len(nodes[g])}")
print(f"{'geometric pipeline (everything but the CNN arm)':58s} {geo:8.1f}")
print(f"{'all nodes':58s} {sum(secs.values()):8.1f}")
acc = json.load(open(f"{run}/nodes/accuracy/metrics.json"))
print(f"\naccuracy (concatenated): {acc['accuracy']:.3f} over {acc['n']} test images; per pose: "
      + ", ".join(f"{p} {acc['groups'][p]['accuracy']:.3f}" for p in ("S", "HL", "HR") if p in acc.get("groups", {})))
for p in ("S", "HL", "HR"):
    f = json.load(open(f"{run}/nodes/fidelity-{p}/summary.json"))
    i = f["n"].index(5) if 5 in f.get("n", []) else 4
    print(f"fidelity at n=5, pose {p}: {f['fidelity'][i]:.3f} (random control {f['random_fidelity'][i]:.3f}), "
          f"explanation accuracy {f['accuracy'][i]:.3f}")
print(f"peak RSS: {m.get('peak_rss_mb', 0):.0f} MB; run folder: {run}")
EOF
