#!/usr/bin/env bash
# The configure-time house rule (plugins/check_boundaries.cmake): the real plugins/ passes;
# a copy of its layout with one reach-in of each kind fails, naming each file and what to
# do instead; a plugin using plugins/lib and its own files passes.
set -euo pipefail
src="$1"
check="$src/plugins/check_boundaries.cmake"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cmake -DMIEN_PLUGINS_DIR="$src/plugins" -P "$check" > "$tmp/real.log" 2>&1 \
  || { echo "the real plugins/ breaks the rule:"; cat "$tmp/real.log"; exit 1; }

good="$tmp/good/plugins"
mkdir -p "$good/lib/stats/include/mien_stats" "$good/a/src" "$good/a/tests" "$good/b/src"
echo '#pragma once' > "$good/lib/stats/include/mien_stats/ranks.hpp"
echo '#pragma once' > "$good/a/src/components.hpp"
printf '#include "../src/components.hpp"\n#include "../../lib/stats/include/mien_stats/ranks.hpp"\n' > "$good/a/tests/a_test.cpp"
printf 'add_library(mien_a_components STATIC src/a.cpp)\ntarget_include_directories(mien_a_components PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)\ntarget_link_libraries(mien_a_components PUBLIC mien::stats)\n' > "$good/a/CMakeLists.txt"
printf 'add_library(mien_b_components STATIC src/b.cpp)\n' > "$good/b/CMakeLists.txt"
cmake -DMIEN_PLUGINS_DIR="$good" -P "$check" > "$tmp/good.log" 2>&1 \
  || { echo "a tree that keeps the rule was rejected:"; cat "$tmp/good.log"; exit 1; }

bad="$tmp/bad/plugins"
mkdir -p "$tmp/bad"
cp -r "$tmp/good/plugins" "$tmp/bad/"
printf '#include "../../b/src/b.hpp"\n' > "$bad/a/src/reach.cpp"
printf 'target_include_directories(mien_a_components PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/../b/src)\n' >> "$bad/a/CMakeLists.txt"
printf 'target_link_libraries(mien_b_components PRIVATE mien_a_components)\n' >> "$bad/b/CMakeLists.txt"
mkdir -p "$bad/c"
printf 'target_include_directories(x PRIVATE ${PROJECT_SOURCE_DIR}/plugins/a/src)\n' > "$bad/c/CMakeLists.txt"
if cmake -DMIEN_PLUGINS_DIR="$bad" -P "$check" > "$tmp/bad.log" 2>&1; then
  echo "planted reach-ins were not found"; cat "$tmp/bad.log"; exit 1
fi
fail=0
for want in 'plugins/a/src/reach.cpp: #include "../../b/src/b.hpp" reaches into b' \
            'plugins/a/CMakeLists.txt: ${CMAKE_CURRENT_SOURCE_DIR}/../b/src reaches into b' \
            'plugins/b/CMakeLists.txt: names mien_a_components, the component library of plugin a' \
            'plugins/c/CMakeLists.txt: ${PROJECT_SOURCE_DIR}/plugins/a reaches into a' \
            'goes into a library under' ; do
  tr -s ' \n' ' ' < "$tmp/bad.log" | grep -qF "$want" || { echo "missing from the message: $want"; fail=1; }
done
[ $fail -eq 0 ] || { cat "$tmp/bad.log"; exit 1; }
echo "plugin boundaries: the real tree passes, 4 planted reach-ins named"
