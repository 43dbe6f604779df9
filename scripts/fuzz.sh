#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS
# (default 60) on its corpus in tests/fuzz/<vendor>/corpus/<name>/, which grows with
# what the fuzzer finds. A crash leaves crash-* in build/fuzz/artifacts/ and
# fails the script; turn each into a regression test.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# With MB_FUZZ_READONLY=1 (CI) the corpus in the repository is only read; what
# the fuzzer finds goes to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
seconds=${1:-60}
shift || true
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMB_FUZZ=ON -DMB_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)"
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd build/fuzz/tests/fuzz && ls fuzz_* | sort)
fi
mkdir -p build/fuzz/artifacts
# Read-only runs write what they find here, removed at exit.
scratch_root=$(mktemp -d)
trap 'rm -rf "$scratch_root"' EXIT
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  src=$(ls tests/fuzz/*/"${name}_fuzz.cpp")
  vdir=$(dirname "$src")
  corpus=$vdir/corpus/$name
  mkdir -p "$corpus"
  echo "== $t for ${seconds}s (corpus $corpus)"
  dict=()
  [[ -f $vdir/$name.dict ]] && dict=(-dict="$vdir/$name.dict")
  dirs=("$corpus")
  if [[ ${MB_FUZZ_READONLY:-0} == 1 ]]; then
    mkdir -p "$scratch_root/$name"
    dirs=("$scratch_root/$name" "$corpus")
  fi
  build/fuzz/tests/fuzz/"$t" "${dirs[@]}" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix=build/fuzz/artifacts/"$name"- -print_final_stats=1 2>&1 | tail -12
done
