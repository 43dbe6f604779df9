#!/usr/bin/env bash
# Builds meterbridge and runs every test: a warnings-as-errors build, an
# AddressSanitizer+UBSan build and a ThreadSanitizer build, each with CTest;
# the benchmarks in short mode and the fuzz targets briefly.
# Installs missing Debian packages first (scripts/setup.sh).
#   scripts/test.sh            everything
#   scripts/test.sh quick      the plain build only
# After the plain tests: the Debian package (scripts/package.sh, lintian) and
# the package test, which installs it for real (root only; CI=true requires it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

mode=${1:-all}
jobs=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1

build() {  # build DIR SANITIZE BUILD_TYPE [CMAKE ARGS…]
  local dir=$1 sanitize=$2 type=$3
  shift 3
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DMB_WERROR=ON -DMB_SANITIZE="$sanitize" \
    "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

echo "== build (warnings as errors)"
build build/ci "" RelWithDebInfo
echo "== tests"
ctest --test-dir build/ci -j "$jobs" --timeout 300 -LE package

[[ $mode == quick ]] && exit 0

echo "== Debian package: build, lintian, install on this machine (as root)"
rm -f dist/meterbridge_*.deb
bash scripts/package.sh dist
ctest --test-dir build/ci -L package --timeout 300 | tee build/ci/package-test.log
# CI runs as root on a disposable machine: there, a skipped package test is a failure.
if [[ ${CI:-} == true ]] && grep -q 'Skipped\|Not Run' build/ci/package-test.log; then
  echo "the package test was skipped under CI=true: it must run as root there" >&2
  exit 1
fi

echo "== benchmarks, short mode (small counts, no thresholds; bench/run.sh for the real run)"
bash bench/run.sh --short --build-dir build/ci

echo "== AddressSanitizer + UBSan build"
build build/asan "address,undefined" Debug -DMB_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -j "$jobs" --timeout 600 -LE 'systemd|package'

echo "== fuzz targets, briefly on their seed corpus (scripts/fuzz.sh runs them longer)"
MB_FUZZ_READONLY=1 bash scripts/fuzz.sh "${MB_FUZZ_SECONDS:-20}"

echo "== ThreadSanitizer build"
build build/tsan "thread" Debug -DMB_BENCH=OFF
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/tsan -j "$jobs" --timeout 600 -LE 'systemd|faults|package'
