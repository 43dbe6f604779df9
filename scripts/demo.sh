#!/usr/bin/env bash
# A local demo on embedded defaults: builds meterbridge, runs the daemon on a
# private configuration with a spool connector, drops a file of readings (one
# day of 15-minute consumption for two meters, a resent slot, a revised slot
# and two malformed lines), then shows what `query`, `stats` and `rejected` see.
# Installs missing Debian packages first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_TESTS=OFF >/dev/null
cmake --build build/demo -j "$(nproc)"
mb=$PWD/build/demo/daemon/meterbridge

work=$(mktemp -d /tmp/meterbridge-demo.XXXXXX)
mkdir -p "$work/spool"
cat >"$work/meterbridge.toml" <<TOML
[storage]
path = "$work/meterbridge.db"

[[connectors]]
name = "import"
type = "spool"
directory = "$work/spool"
poll_interval = "100ms"
TOML
"$mb" check-config -c "$work/meterbridge.toml"

"$mb" run -c "$work/meterbridge.toml" 2>"$work/daemon.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT

# One day, 96 quarter-hours, two meters; then a resend (duplicate), a correction
# (revision) and two broken lines (rejected with their reasons).
python3 - "$work/spool/day.tmp" <<'PY'
import json, sys
t0 = 1646092800000
with open(sys.argv[1], "w") as f:
    for meter in ("meter-A", "meter-B"):
        for i in range(96):
            s = t0 + i * 900000
            f.write(json.dumps({"meter": meter, "quantity": "electricity.energy.consumption",
                                "value": round(50 + 30 * ((i % 24) / 24), 3),
                                "ts_start": s, "ts_end": s + 900000}) + "\n")
    f.write(json.dumps({"meter": "meter-A", "quantity": "electricity.energy.consumption",
                        "value": 50, "ts_start": t0, "ts_end": t0 + 900000}) + "\n")
    f.write(json.dumps({"meter": "meter-A", "quantity": "electricity.energy.consumption",
                        "value": 61.5, "ts_start": t0 + 900000, "ts_end": t0 + 1800000}) + "\n")
    f.write('{"meter": "meter-A", "quantity": "electricity.energy.consumption", "value": 1}\n')
    f.write('{"meter": "meter-C", "quantity": "gas.volume", "value": 3, "ts_start": 0}\n')
PY
mv "$work/spool/day.tmp" "$work/spool/day.jsonl"

for _ in $(seq 100); do [[ -e $work/spool/done/day.jsonl ]] && break; sleep 0.1; done

echo; echo "== meterbridge query --meter meter-A --to 2022-03-01T01:00:00Z"
"$mb" query -c "$work/meterbridge.toml" --meter meter-A --to 2022-03-01T01:00:00Z
echo; echo "== meterbridge stats"
"$mb" stats -c "$work/meterbridge.toml"
echo; echo "== meterbridge rejected"
"$mb" rejected -c "$work/meterbridge.toml"
echo; echo "== sqlite3 revisions_v"
sqlite3 -header -column "$work/meterbridge.db" "SELECT * FROM revisions_v"

kill -TERM $daemon
wait $daemon
trap - EXIT
echo; echo "== daemon log"
cat "$work/daemon.log"
echo; echo "demo files kept in $work"
