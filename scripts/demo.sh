#!/usr/bin/env bash
# A local demo on embedded defaults: uses MB_BIN or the installed meterbridge
# (else builds one), starts a private mosquitto on a free loopback port, runs
# the daemon on a demo configuration,
# publishes the vendor documents' own example messages with a real MQTT client
# (mosquitto_pub) plus malformed ones, drops a file into a spool directory,
# and shows what `meterbridge query`, `stats` and `rejected` see.
# Installs missing Debian packages first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh

# The binary: MB_BIN (a path, or a name looked up in PATH), else the installed
# package's, else one built here.
if [[ -n ${MB_BIN:-} ]]; then
  mb=$(command -v "$MB_BIN") || { echo "demo: MB_BIN=$MB_BIN is not an executable" >&2; exit 1; }
elif dpkg-query -W -f='${Status}' meterbridge 2>/dev/null | grep -q "install ok installed" &&
  command -v meterbridge >/dev/null; then
  mb=$(command -v meterbridge)
else
  cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DMB_TESTS=OFF -DMB_BENCH=OFF >/dev/null
  cmake --build build/demo -j "$(nproc)"
  mb=$root/build/demo/daemon/meterbridge
fi
echo "demo: using $mb ($("$mb" --version))"
fx=$root/tests/fixtures

work=$(mktemp -d /tmp/meterbridge-demo.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/spool" "$work/broker"
cat >"$work/broker/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/broker/
max_queued_messages 0
user $(id -un)
log_dest file $work/broker/mosquitto.log
CONF
mosquitto -c "$work/broker/mosquitto.conf" &
broker=$!
daemon=
cleanup() {
  [[ -n $daemon ]] && kill "$daemon" 2>/dev/null || true
  kill "$broker" 2>/dev/null || true
}
trap cleanup EXIT

secret=demo-uplink-secret
printf '%s\n' "$secret" >"$work/akenza.secret"
cat >"$work/meterbridge.toml" <<TOML
[storage]
path = "$work/meterbridge.db"

[brokers.local]
host = "127.0.0.1"
port = $port
protocol = "5"          # MQTT v5: akenza content types

[[connectors]]
name = "voltaware"
type = "voltaware"
broker = "local"
topics = ["voltaware/readings"]

[[connectors]]
name = "ainsite"
type = "ainsite"
broker = "local"
topics = ["meters/outbound/cust-42/#"]

[[connectors]]
name = "gateways"
type = "ainsite-gateway"
broker = "local"
[connectors.registers.10]
quantity = "water.volume.index"
scale = 0.001

[[connectors]]
name = "akenza"
type = "akenza"
broker = "local"
topics = ["/up/+/id/#"]
secret_file = "$work/akenza.secret"
[[connectors.mappings]]
pointer = "/foo"
state_key = "foo"
[[connectors.mappings]]
pointer = "/energy"
quantity = "electricity.energy.consumption.index"
scale = 1000

[[connectors]]
name = "tuya"
type = "tuya"
broker = "local"
gateways = ["gw-1"]
command_timeout = "3s"

[[connectors]]
name = "import"
type = "spool"
directory = "$work/spool"
poll_interval = "100ms"
TOML
"$mb" check-config -c "$work/meterbridge.toml"

"$mb" run -c "$work/meterbridge.toml" 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 100); do
  [[ $(grep -c "subscribed to" "$work/daemon.log" || true) -ge 5 ]] && break
  sleep 0.1
done

pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -V mqttv5 "$@"; }
echo; echo "== publishing the documents' examples"
# Voltaware (QoS 2, as the document says): a full day, the same day again (duplicates),
# the document's own example (its "{ ... }" placeholder makes it invalid JSON), a bad frequency.
pub -q 2 -t voltaware/readings -f "$fx/voltaware/day_15min.json"
pub -q 2 -t voltaware/readings -f "$fx/voltaware/day_15min.json"
pub -q 2 -t voltaware/readings -f "$fx/voltaware/document_example.json"
pub -q 2 -t voltaware/readings -f "$fx/voltaware/reject_invalid_frequency_20.json"
# Å Insite consumer (QoS 1): the document's v1 and v2 payloads.
pub -q 1 -t meters/outbound/cust-42/sub-1/meter-7 -f "$fx/ainsite/consumer_doc_v1.json"
pub -q 1 -t meters/outbound/cust-42/sub-1/meter-7 -f "$fx/ainsite/consumer_doc_v2.json"
# Å Insite gateway: the document's topics and bare-number payload; a utility it does not know.
pub -q 1 -t "$(cat "$fx/ainsite/gateway_doc_topic_electrical.txt")" -f "$fx/ainsite/gateway_doc_payload.txt"
pub -q 1 -t "$(cat "$fx/ainsite/gateway_doc_topic_water.txt")" -f "$fx/ainsite/gateway_doc_payload.txt"
pub -q 1 -t gateways/generic/42/parser/Steam/M1/2 -m 1
# akenza: the document's {"foo":"bar"}, an energy reading, its XML example, a wrong secret.
pub -q 1 -t "/up/$secret/id/dev-1" -f "$fx/akenza/doc_payload_foo_bar.json"
pub -q 1 -t "/up/$secret/id/dev-1" -m '{"energy": 1.5}'
pub -q 1 -t "/up/$secret/id/dev-1" -f "$fx/akenza/doc_payload.xml" -D publish content-type application/xml
pub -q 1 -t "/up/not-the-secret/id/dev-1" -m '{"energy": 2}'
# Tuya: a simulated gateway syncs a water meter, reports two DPs and its status; the
# platform's answers are printed as they arrive on the response topics.
mosquitto_sub -h 127.0.0.1 -p "$port" -v -C 4 -W 10 \
  -t gateway_id/gw-1/devices/sync/response -t gateway_id/gw-1/properties/report/response \
  >"$work/tuya-responses.txt" &
tuya_sub=$!
sleep 0.3
pub -q 1 -t gateway_id/gw-1/properties/report -f "$fx/tuya/report_water_flow.json"
pub -q 1 -t gateway_id/gw-1/devices/sync -f "$fx/tuya/sync_full.json"
pub -q 1 -t gateway_id/gw-1/properties/report -f "$fx/tuya/report_water_flow.json"
pub -q 1 -t gateway_id/gw-1/properties/report -f "$fx/tuya/report_valve_state.json"
pub -q 1 -t gateway_id/gw-1/devices/status -f "$fx/tuya/status_two.json"
# Spool: canonical readings from a file.
printf '%s\n' \
  '{"meter":"import-1","quantity":"electricity.energy.production","value":420,"ts_start":"2022-03-01T10:00:00Z","ts_end":"2022-03-01T11:00:00Z"}' \
  '{"meter":"import-1","quantity":"electricity.energy.production","value":1}' >"$work/spool/import.tmp"
mv "$work/spool/import.tmp" "$work/spool/import.jsonl"

for _ in $(seq 100); do
  n=$("$mb" stats -c "$work/meterbridge.toml" --format csv | awk -F, 'NR > 1 { s += $2 } END { print s + 0 }')
  [[ $n -ge 20 ]] && break
  sleep 0.1
done

echo; echo "== meterbridge query (all but the Voltaware day)"
"$mb" query -c "$work/meterbridge.toml" | grep -v "^voltaware "
echo; echo "== meterbridge query --source voltaware --limit 4"
"$mb" query -c "$work/meterbridge.toml" --source voltaware --limit 4
echo; echo "== meterbridge stats"
"$mb" stats -c "$work/meterbridge.toml"
echo; echo "== meterbridge rejected"
"$mb" rejected -c "$work/meterbridge.toml"
echo; echo "== sqlite3: states_v"
sqlite3 -header -column "$work/meterbridge.db" "SELECT * FROM states_v"

echo; echo "== Tuya: the platform's answers (the first report came before the sync: 2003)"
wait "$tuya_sub" || true
cat "$work/tuya-responses.txt"
echo; echo "== meterbridge devices"
"$mb" devices -c "$work/meterbridge.toml"
# The gateway answers the next command it receives.
( line=$(mosquitto_sub -h 127.0.0.1 -p "$port" -C 1 -W 10 -t gateway_id/gw-1/commands) &&
  answer=$(printf '%s' "$line" | python3 -c 'import json, sys, time; c = json.load(sys.stdin)
print(json.dumps({"t": int(time.time()), "cid": c["cid"], "request_id": c["request_id"], "param": {"msg": "success", "code": 0}}))') &&
  pub -q 1 -t gateway_id/gw-1/commands/response -m "$answer" ) &
sleep 0.3
echo; echo "== meterbridge command --dp valve_state --value closed (the gateway answers)"
"$mb" command -c "$work/meterbridge.toml" --gateway gw-1 --device 92dda538fc2e636fd4b0c37f980a \
  --dp valve_state --value closed || true
echo; echo "== meterbridge command --dp switch_state --value false (nobody answers: 2001 after 3 s)"
"$mb" command -c "$work/meterbridge.toml" --gateway gw-1 --device 92dda538fc2e636fd4b0c37f980a \
  --dp switch_state --value false || true
echo; echo "== meterbridge commands"
"$mb" commands -c "$work/meterbridge.toml"
echo; echo "== meterbridge status"
"$mb" status -c "$work/meterbridge.toml"

kill -TERM "$daemon"
wait "$daemon"
daemon=
echo; echo "== daemon log"
cat "$work/daemon.log"
echo; echo "demo files kept in $work"
