#!/usr/bin/env bash
# Checks the unit file: `systemd-analyze verify` is clean, the resource limits
# are set, and the offline security exposure is at most MAX_EXPOSURE. The unit's /usr/bin/meterbridge
# is pointed at the freshly built binary so verify can check ExecStart.
set -euo pipefail
unit_src=$1
binary=$2
max_exposure=${MAX_EXPOSURE:-1.2}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unit="$work/meterbridge.service"
sed "s|/usr/bin/meterbridge|$binary|g" "$unit_src" >"$unit"

# verify: warnings about the unit itself make it fail; the host's own units may be noisy, so only
# lines naming our unit count.
verify_out=$(systemd-analyze verify --man=no "$unit" 2>&1 || true)
ours=$(grep -F "meterbridge.service" <<<"$verify_out" || true)
if [[ -n "$ours" ]]; then
  echo "systemd-analyze verify reports problems in the unit:"
  echo "$ours"
  exit 1
fi
echo "verify: clean"

# Limits the unit must set: no core dumps (the daemon holds secrets), bounded memory and tasks.
for directive in 'LimitCORE=0' 'MemoryMax=[0-9]+[KMG]?' 'TasksMax=[0-9]+'; do
  if ! grep -Eq "^${directive}\$" "$unit"; then
    echo "the unit does not set ${directive}"
    exit 1
  fi
done
echo "limits: LimitCORE, MemoryMax and TasksMax set"

sec_out=$(systemd-analyze security --offline=true "$unit" 2>&1 || true)
exposure=$(grep -oE 'Overall exposure level for [^:]+: [0-9]+\.[0-9]+' <<<"$sec_out" | grep -oE '[0-9]+\.[0-9]+$' || true)
if [[ -z "$exposure" ]]; then
  echo "could not read the exposure level:"
  echo "$sec_out" | tail -20
  exit 1
fi
echo "security exposure: $exposure (limit $max_exposure)"
if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
  echo "$sec_out" | grep -E '✗' | head -30
  exit 1
fi
