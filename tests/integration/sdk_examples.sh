#!/usr/bin/env bash
# The plugin SDK as a third party uses it: install mien, build the three example plugins
# (plugin_api/examples/c_plugin, cpp_plugin and explainer_plugin) out of tree against the
# installed package with find_package(Mien) + mien_add_plugin, check that the installed
# `mien plugins --json` lists them, run plugin_api/examples/experiment.yaml (dataset.table
# -> example.c_clip -> example.cpp_zscore_rows) and plugin_api/examples/explainer_experiment.yaml
# (model.mlp explained by example.cpp_occlusion, scored by the bundled metric.fidelity, whose
# fidelity must beat its random control), all with the installed bin/mien and the bundled
# plugins it installed.
#
# Usage: tests/integration/sdk_examples.sh BUILD_DIR [WORK_DIR]
#   BUILD_DIR  a configured and built mien tree (bin/mien, and the bundled plugins in
#              lib/mien/plugins, since the experiments use dataset.table, model.mlp, ...)
#   WORK_DIR   where the install prefix, the example builds and the runs go
#              (default: a fresh temporary folder, removed when the script passes)
# Exit 0 when everything passed, 1 on the first failure (the log says which step).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ $# -eq 2 ]]; then
  mkdir -p "$2"
  WORK=$(cd "$2" && pwd)
  KEEP=1
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/mien-sdk-examples.XXXXXX")
  KEEP=0
fi

fail() {
  echo "sdk_examples: FAIL: $*" >&2
  echo "sdk_examples: files kept in $WORK" >&2
  exit 1
}
step() { echo "sdk_examples: $*"; }
trap 'fail "a command failed (line $LINENO)"' ERR

[[ -x "$BUILD_DIR/bin/mien" ]] || fail "$BUILD_DIR/bin/mien not found: build the mien target first"

GENERATOR=()
if command -v ninja >/dev/null 2>&1; then GENERATOR=(-G Ninja); fi

# 1. Install mien (the SDK: headers, MienConfig.cmake, MienPlugin.cmake) into a prefix.
step "installing $BUILD_DIR into $WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "cmake --install failed"; }
[[ -f "$WORK/prefix/lib/cmake/Mien/MienConfig.cmake" ]] || fail "the install has no lib/cmake/Mien/MienConfig.cmake"
[[ -f "$WORK/prefix/include/mien/plugin_abi.h" ]] || fail "the install has no include/mien/plugin_abi.h"
MIEN="$WORK/prefix/bin/mien"  # the installed one, with the bundled plugins it installed
[[ -x "$MIEN" ]] || fail "the install has no bin/mien"

# 2. Build each example against the installed package only (no registry, no source tree).
for example in c_plugin cpp_plugin explainer_plugin; do
  step "building plugin_api/examples/$example against the installed SDK"
  rm -rf "$WORK/$example"
  if ! cmake -S "$SOURCE_DIR/plugin_api/examples/$example" -B "$WORK/$example" "${GENERATOR[@]}" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$WORK/$example.configure.log" 2>&1; then
    cat "$WORK/$example.configure.log" >&2
    fail "configuring $example failed"
  fi
  if ! cmake --build "$WORK/$example" -j2 >"$WORK/$example.build.log" 2>&1; then
    cat "$WORK/$example.build.log" >&2
    fail "building $example failed"
  fi
done
C_LIB="$WORK/c_plugin/libmien_example_c.so"
CPP_LIB="$WORK/cpp_plugin/libmien_example_cpp.so"
EXPLAINER_LIB="$WORK/explainer_plugin/libmien_example_explainer.so"
for lib in "$C_LIB" "$CPP_LIB" "$EXPLAINER_LIB"; do [[ -f "$lib" ]] || fail "$lib was not built"; done

# Only the entry symbol is exported (mien_add_plugin's version script).
if command -v nm >/dev/null 2>&1; then
  for lib in "$C_LIB" "$CPP_LIB" "$EXPLAINER_LIB"; do
    exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u | tr '\n' ' ')
    [[ "$exported" == "mien_plugin_entry_v1 " ]] || fail "$lib exports more than mien_plugin_entry_v1: $exported"
  done
fi

# The examples just built, found through MIEN_PLUGIN_PATH; everything else comes from the
# installed prefix's lib/mien/plugins (which holds no copies of the examples).
export MIEN_PLUGIN_PATH="$WORK/c_plugin:$WORK/cpp_plugin:$WORK/explainer_plugin"
unset MIEN_PLUGIN_PATH_ONLY
export MIEN_NO_PROGRESS=1

# 3. mien plugins --json lists both examples, from the libraries just built.
step "mien plugins --json"
"$MIEN" plugins --json >"$WORK/plugins.json" 2>"$WORK/plugins.stderr" ||
  { cat "$WORK/plugins.stderr" >&2; fail "mien plugins --json exited with $?"; }
check_listed() {  # type_id library
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$WORK/plugins.json" "$1" "$2" <<'PY' || fail "mien plugins --json does not list $1 from $2"
import json, os, sys
entries = json.load(open(sys.argv[1]))
ok = any(e.get("type_id") == sys.argv[2] and os.path.realpath(e.get("library", "")) == os.path.realpath(sys.argv[3])
         for e in entries)
sys.exit(0 if ok else 1)
PY
  else
    grep -q "\"type_id\": \"$1\"" "$WORK/plugins.json" || fail "mien plugins --json does not list $1"
  fi
}
check_listed example.c_clip "$C_LIB"
check_listed example.cpp_zscore_rows "$CPP_LIB"
check_listed example.cpp_occlusion "$EXPLAINER_LIB"
if grep -q "example" "$WORK/plugins.stderr"; then
  cat "$WORK/plugins.stderr" >&2
  fail "mien reported a problem with an example plugin"
fi

# 4. Run the experiment: dataset.table -> example.c_clip -> example.cpp_zscore_rows.
step "mien run plugin_api/examples/experiment.yaml"
RUN="$WORK/runs/sdk-examples"
rm -rf "$WORK/runs"
status=0
"$MIEN" run "$SOURCE_DIR/plugin_api/examples/experiment.yaml" --out "$RUN" >"$WORK/run.log" 2>&1 || status=$?
if [[ $status -ne 0 ]]; then
  cat "$WORK/run.log" >&2
  fail "mien run exited with $status"
fi
[[ -f "$RUN/manifest.json" ]] || fail "the run wrote no manifest.json"
grep -q '"status": "completed"' "$RUN/manifest.json" || fail "the manifest does not say completed"
out=$(find "$RUN/nodes" -path '*standardised*' -name 'table.csv' 2>/dev/null | head -n1)
[[ -n "$out" ]] || fail "no table.csv for the node 'standardised' under $RUN/nodes"

# The values: s08 (no spread after clipping) is all zeros; s04's f4 (-0.4) was clipped
# to 0 before standardising, so its row has no negative input left.
if command -v python3 >/dev/null 2>&1; then
  python3 - "$out" <<'PY' || fail "the standardised table has unexpected values (see $out)"
import csv, math, sys
rows = {r["id"]: r for r in csv.DictReader(open(sys.argv[1]))}
assert len(rows) == 8, len(rows)
feats = ["f1", "f2", "f3", "f4", "f5"]
for rid, r in rows.items():
    v = [float(r[f]) for f in feats]
    if rid == "s08":
        assert all(x == 0 for x in v), v
    else:
        assert abs(sum(v)) < 1e-9, (rid, v)                       # mean 0
        assert abs(sum(x * x for x in v) / 5 - 1) < 1e-9, (rid, v)  # variance 1
PY
fi

# 5. The explainer example among bundled components: model.mlp explained by
# example.cpp_occlusion, scored by metric.fidelity. model.mlp needs LibTorch; a build
# without it (MIEN_WITH_TORCH=OFF) cannot run this part.
if [[ ! -f "$WORK/prefix/lib/mien/plugins/libmien_models.so" ]]; then
  step "SKIP the explainer experiment: this build has no model.mlp (built without LibTorch)"
else
  step "mien run plugin_api/examples/explainer_experiment.yaml"
  RUN2="$WORK/runs/sdk-explainer"
  status=0
  "$MIEN" run "$SOURCE_DIR/plugin_api/examples/explainer_experiment.yaml" --out "$RUN2" >"$WORK/run2.log" 2>&1 || status=$?
  if [[ $status -ne 0 ]]; then
    cat "$WORK/run2.log" >&2
    fail "mien run explainer_experiment.yaml exited with $status"
  fi
  if grep -q "explain another class\|printed .* to stdout" "$WORK/run2.log"; then
    cat "$WORK/run2.log" >&2
    fail "the explainer example's output drew a warning from the bundled components"
  fi
  python3 - "$RUN2" <<'PY' || fail "the explainer example's attributions are not what metric.fidelity needs (see $RUN2)"
import csv, json, os, sys
run = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(run, "nodes", "occlusion", "attributions.csv"))))
cols = list(rows[0].keys())
assert cols[0] == "id" and {"explained_class", "predicted_class", "base_value", "output"} <= set(cols), cols
assert all(r["explained_class"] == r["predicted_class"] for r in rows)
s = json.load(open(os.path.join(run, "nodes", "fidelity", "summary.json")))
print("fidelity", s["fidelity"], "random", s["random_fidelity"], "samples", s["samples"])
assert s["explainer"] == "example.cpp_occlusion", s["explainer"]
assert s["rows_not_explaining_predicted_class"] == 0, s
assert s["samples"] == len(rows) and s["samples"] >= 50, s["samples"]
# The occlusion ranking keeps more decisions than random features, at every n, and by a
# clear margin where a few features decide (a random ranking of 8 keeps about 0.3-0.5).
for n, f, r in zip(s["n"], s["fidelity"], s["random_fidelity"]):
    assert f > r, (n, f, r)
k = s["n"].index(3)
assert s["fidelity"][k] >= s["random_fidelity"][k] + 0.15, (s["fidelity"][k], s["random_fidelity"][k])
PY
fi

step "PASS (examples built in $WORK, run folders under $WORK/runs)"
trap - ERR
if [[ $KEEP -eq 0 ]]; then rm -rf "$WORK"; fi
