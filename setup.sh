#!/usr/bin/env bash
# mien set-up on Debian 12. Run as root (or with sudo) from the repository root.
#
#   ./setup.sh         install packages, build, run the default experiment (configs/demo.yaml)
#   ./setup.sh test    install packages, build, run the whole test suite
#                      (plus an AddressSanitizer/UBSan build of everything without LibTorch/OpenCV/dlib);
#                      the SLURM tests run on a private one-node cluster started for them
#                      (tests/slurm/local_cluster.sh: own config, key, sockets and ports; an
#                      existing SLURM or munge set-up on the machine is left alone)
#
# Idempotent: packages already installed are not fetched again; builds are incremental.
set -euo pipefail
cd "$(dirname "$0")"

MODE="${1:-demo}"
# ccache: paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
JOBS="${JOBS:-$(nproc)}"
BUILD_DIR="${BUILD_DIR:-build}"

# Everything mien needs, from Debian's archive only. libopenblas0-pthread replaces the
# reference BLAS that LibTorch would otherwise use (4x slower linear layers).
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libyaml-cpp-dev libboost-dev libboost-program-options-dev libboost-filesystem-dev nlohmann-json3-dev
  libssl-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorch-dev libopenblas0-pthread
  libopencv-dev libopencv-contrib-dev opencv-data
  libdlib-dev libdlib-data
  librsvg2-dev libcairo2-dev
  chromium python3
  slurm-wlm munge
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "== packages: all ${#PACKAGES[@]} present"
    return
  fi
  echo "== installing ${#missing[@]} packages: ${missing[*]}"
  local SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

configure_and_build() {
  local dir="$1"; shift
  echo "== building in $dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  cmake --build "$dir" -j "$JOBS"
}

install_packages
mkdir -p "$BUILD_DIR"

case "$MODE" in
  demo)
    configure_and_build "$BUILD_DIR"
    echo "== running the default experiment"
    "$BUILD_DIR/bin/mien" run configs/demo.yaml
    ;;
  test)
    start=$(date +%s)
    configure_and_build "$BUILD_DIR"
    echo "== a private SLURM cluster for the cluster tests"
    trap 'tests/slurm/local_cluster.sh stop' EXIT
    tests/slurm/local_cluster.sh start
    eval "$(tests/slurm/local_cluster.sh env)"
    export MIEN_SLURM_REQUIRED=1  # here a cluster that did not start fails the run, never skips
    echo "== tests"
    ctest --test-dir "$BUILD_DIR" -j "$JOBS" --output-on-failure --timeout 900
    echo "== sanitizer build (AddressSanitizer + UBSan): everything that does not need LibTorch, OpenCV or dlib"
    mkdir -p "$BUILD_DIR-asan"
    configure_and_build "$BUILD_DIR-asan" -DCMAKE_BUILD_TYPE=Debug -DMIEN_SANITIZE=ON -DMIEN_WITH_TORCH=OFF -DMIEN_WITH_OPENCV=OFF -DMIEN_WITH_DLIB=OFF
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest --test-dir "$BUILD_DIR-asan" -j "$JOBS" --output-on-failure --timeout 900 -LE no_sanitizer
    echo "== all tests passed in $(( $(date +%s) - start )) s"
    ;;
  *)
    echo "usage: $0 [demo|test]" >&2
    exit 2
    ;;
esac
