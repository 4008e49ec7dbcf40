#!/usr/bin/env bash
# An installed mien works and is relocatable: `cmake --install BUILD --prefix P` puts
# bin/mien, the SDK and every bundled plugin (P/lib/mien/plugins) in P; nothing in
# bin/mien points back at the build tree or at /usr/local; after moving P elsewhere,
# P/bin/mien, started from an unrelated folder with no MIEN_PLUGIN_PATH, finds the
# bundled plugins beside itself and runs a small graph with them.
#
# Usage: tests/integration/install_prefix.sh BUILD_DIR [WORK_DIR]
#   BUILD_DIR  a configured and built mien tree (bin/mien and lib/mien/plugins)
#   WORK_DIR   where the prefix and the run go (default: a fresh temporary folder,
#              removed when the script passes)
# Exit 0 when everything passed, 1 on the first failure (the log says which step).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ $# -eq 2 ]]; then
  mkdir -p "$2"
  WORK=$(cd "$2" && pwd)
  KEEP=1
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/mien-install.XXXXXX")
  KEEP=0
fi
fail() {
  echo "install_prefix: FAIL: $*" >&2
  echo "install_prefix: files kept in $WORK" >&2
  exit 1
}
step() { echo "install_prefix: $*"; }
trap 'fail "a command failed (line $LINENO)"' ERR

# 1. Install.
rm -rf "$WORK/installed" "$WORK/moved" "$WORK/elsewhere"
step "cmake --install $BUILD_DIR --prefix $WORK/installed"
cmake --install "$BUILD_DIR" --prefix "$WORK/installed" >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "cmake --install failed"; }
P="$WORK/installed"
[[ -x "$P/bin/mien" ]] || fail "the install has no bin/mien"
[[ -f "$P/lib/cmake/Mien/MienConfig.cmake" ]] || fail "the install has no lib/cmake/Mien/MienConfig.cmake"
[[ -f "$P/include/mien/attributions.hpp" ]] || fail "the install has no include/mien/attributions.hpp"

# Every bundled plugin of the build is installed; the in-tree builds of the SDK examples
# (libmien_example_*) are examples, not bundled plugins.
expected=$(cd "$BUILD_DIR/lib/mien/plugins" && ls libmien_*.so | grep -v '^libmien_example_' | sort)
installed=$(cd "$P/lib/mien/plugins" && ls libmien_*.so | sort)
[[ -n "$expected" ]] || fail "the build has no bundled plugins in $BUILD_DIR/lib/mien/plugins"
[[ "$expected" == "$installed" ]] ||
  fail "installed plugins differ from the build's: expected [$(echo $expected)], installed [$(echo $installed)]"

# 2. Nothing compiled in points at the build tree or /usr/local.
# Debug information (the sanitizer build) names the build tree legitimately: look at a
# stripped copy, which holds only what the program itself can read at run time.
stripped="$(mktemp)"
for f in "$P/bin/mien" "$P"/lib/mien/plugins/*.so; do
  objcopy --strip-debug "$f" "$stripped"
  if grep -a -q -F "$BUILD_DIR" "$stripped"; then fail "$f mentions the build tree $BUILD_DIR"; fi
done
if grep -a -q -F "/usr/local/lib/mien" "$P/bin/mien"; then fail "bin/mien mentions /usr/local/lib/mien"; fi

# 3. Relocatable: move the prefix, then run from an unrelated folder without any hint.
mv "$P" "$WORK/moved"
P="$WORK/moved"
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere"
unset MIEN_PLUGIN_PATH MIEN_PLUGIN_PATH_ONLY
export MIEN_NO_PROGRESS=1

step "$P/bin/mien plugins --json (from $PWD)"
"$P/bin/mien" plugins --json >plugins.json 2>plugins.stderr || { cat plugins.stderr >&2; fail "mien plugins failed"; }
[[ ! -s plugins.stderr ]] || { cat plugins.stderr >&2; fail "mien plugins reported problems"; }
python3 - "$P" plugins.json <<'PY' || fail "mien plugins does not list the bundled components from $P/lib/mien/plugins"
import json, os, sys
prefix, entries = os.path.realpath(sys.argv[1]), json.load(open(sys.argv[2]))
ids = {e["type_id"] for e in entries}
assert {"dataset.table", "split.holdout", "transform.standardize"} <= ids, sorted(ids)
libs = {os.path.realpath(e["library"]) for e in entries}
outside = [l for l in libs if not l.startswith(prefix + "/lib/mien/plugins/")]
assert not outside, outside
PY

step "$P/bin/mien run a small graph (from $PWD)"
cp "$SOURCE_DIR/configs/data/demo_features.csv" features.csv
cat >exp.yaml <<'YAML'
experiment: installed
seed: 5
nodes:
  data: {use: dataset.table, with: {path: features.csv, label: emotion, id: id, groups: [subject, pose]}}
  split: {use: split.holdout, with: {test_size: 0.25, group: subject}, in: {table: data.table}}
  scaled: {use: transform.standardize, in: {train: split.train, apply: split.test}}
YAML
status=0
"$P/bin/mien" run exp.yaml --out run >run.log 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat run.log >&2; fail "mien run exited with $status"; }
python3 - "$P" run/manifest.json <<'PY' || fail "the run did not complete with the installed plugins (see run/manifest.json)"
import json, os, sys
prefix, m = os.path.realpath(sys.argv[1]), json.load(open(sys.argv[2]))
assert m["status"] == "completed", m["status"]
assert {n["name"]: n["status"] for n in m["nodes"]} == {"data": "ran", "split": "ran", "scaled": "ran"}, m["nodes"]
for lib in m["plugins"]:
    assert os.path.realpath(lib).startswith(prefix + "/lib/mien/plugins/"), lib
PY
[[ -s run/nodes/scaled/train.csv ]] || fail "no run/nodes/scaled/train.csv"

step "PASS (prefix $P, run folder $PWD/run)"
trap - ERR
cd /
if [[ $KEEP -eq 0 ]]; then rm -rf "$WORK"; fi
