#!/usr/bin/env bash
# meterbridge benchmarks (BENCHMARKS.md): builds what is needed (Release, in
# build/bench), starts a private mosquitto on a free loopback port, runs every
# scenario against its ceilings and the Python baseline, prints one table and
# writes it to build/bench/bench-full.md (bench-short.md with --short).
#
#   bench/run.sh                      full run: 5 repetitions, 1,000,000-message backlog (5-7 min)
#   bench/run.sh --short              CI: small counts, 1 repetition, no thresholds (< 2 min)
#   bench/run.sh --build-dir build/ci --short
#                                     use an existing build tree (configured with MB_BENCH=ON)
#   bench/run.sh --only voltaware --reps 3 --synchronous normal --keep …   (see --help)
#
# Exit status: 0 when every scenario ran (targets missed are reported in the
# table, not as failures); 1 when a scenario failed (a tool error, rows
# missing, a timeout).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=""
args=()
while (($#)); do
  case $1 in
    --build-dir) build_dir=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

targets=(meterbridge mb_bench_load mb_bench_nullsub mb_bench_sqlite mb_bench_quoalise mb_bench_enedis)
if [[ -z $build_dir ]]; then
  build_dir=build/bench
  # Release (-O3) with -Werror, as CI builds RelWithDebInfo: every build type is
  # warning-free. -g only adds symbols, for perf.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_TESTS=OFF -DMB_WERROR=ON \
    -DMB_BENCH=ON -DCMAKE_CXX_FLAGS=-g >/dev/null
fi
if ! cmake --build "$build_dir" -j 2 --target "${targets[@]}" >"$build_dir/bench-build.log" 2>&1; then
  cat "$build_dir/bench-build.log" >&2
  exit 1
fi
exec /usr/bin/python3 bench/harness.py --build-dir "$build_dir" "${args[@]}"
