#!/usr/bin/env bash
# The package under a real systemd: a Debian 12 container (debootstrap, then
# systemd-nspawn --boot) installs the .deb, and systemd itself starts the unit
# as user meterbridge, with its sandbox, READY (Type=notify) and a broker
# password passed through LoadCredential=; a canonical message published to a
# private mosquitto on the host's loopback is stored, and an operator in group
# meterbridge queries it inside the container.
#   systemd_container_test.sh DIST CACHE
# DIST holds meterbridge_*.deb; CACHE keeps the base system between runs
# (debootstrap takes a minute or more). Exits 77 (skipped) when not root.
set -euo pipefail
dist=$1
cache=$2
if [[ $(id -u) -ne 0 ]]; then
  echo "systemd container test skipped: debootstrap and systemd-nspawn need root"
  exit 77
fi
deb=$(ls "$dist"/meterbridge_*.deb 2>/dev/null | sort -V | tail -1 || true)
[[ -n $deb ]] || { echo "no meterbridge_*.deb in $dist: run scripts/package.sh $dist first"; exit 1; }

work=$(mktemp -d)
root=$work/root
nspawn=
pids=()
cleanup() {
  if [[ -n $nspawn ]]; then
    kill -TERM "$nspawn" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn" 2>/dev/null || true
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [[ -n ${init:-} ]] && in_ct journalctl -u meterbridge --no-pager 2>/dev/null | tail -30
  for f in "$work"/*.log; do [[ -e $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
wait_for() {  # SECONDS COMMAND…
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}

# The base system, made once.
base=$cache/bookworm-systemd.tar
if [[ ! -f $base ]]; then
  echo "== debootstrap (once, into $base)"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$work/base" \
    http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || fail "debootstrap"
  tar -C "$work/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "$work/base"
fi
mkdir "$root"
tar -C "$root" -xf "$base"
cp "$deb" "$root/root/meterbridge.deb"

echo "== a broker on the host's loopback, with a password"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mosquitto_passwd -b -c "$work/passwd" mb s3cret-pass >/dev/null 2>&1
# mosquitto, started as root, reads its files as user mosquitto.
chmod 0755 "$work"
chmod 0644 "$work/passwd"
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\n' \
  "$port" "$work/passwd" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)

echo "== boot"
systemd-nspawn -q -D "$root" --boot --register=no --keep-unit -M mbtest >"$work/nspawn.log" 2>&1 &
nspawn=$!
init=
wait_for 30 pgrep -P "$nspawn" || fail "the container did not start"
init=$(pgrep -P "$nspawn" | head -1)
in_ct() { nsenter -t "$init" -a "$@"; }
state=$(in_ct timeout 60 systemctl is-system-running --wait 2>/dev/null || true)
[[ $state == running || $state == degraded ]] || fail "the container's systemd is '$state'"
echo "ok: systemd is $state"

echo "== install"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  /root/meterbridge.deb >"$work/apt.log" 2>&1 || fail "apt-get install in the container"
wait_for 20 in_ct systemctl is-active --quiet meterbridge || fail "the unit did not start"
echo "ok: the package started the unit"

echo "== configure: a canonical connector, the broker password as a credential"
in_ct sh -c "umask 077; printf 's3cret-pass' > /etc/meterbridge/mqtt.pass"
in_ct sh -c "cat > /etc/meterbridge/meterbridge.toml" <<TOML
[storage]
path = "/var/lib/meterbridge/meterbridge.db"
[control]
socket = "/run/meterbridge/control.sock"
[brokers.local]
host = "127.0.0.1"
port = $port
username = "mb"
password_file = "mqtt.pass"
[[connectors]]
name = "feed"
type = "canonical"
broker = "local"
topics = ["meterbridge/readings/#"]
TOML
in_ct mkdir -p /etc/systemd/system/meterbridge.service.d
in_ct sh -c 'printf "[Service]\nLoadCredential=mqtt.pass:/etc/meterbridge/mqtt.pass\n" \
  > /etc/systemd/system/meterbridge.service.d/credentials.conf'
in_ct systemctl daemon-reload
in_ct systemctl restart meterbridge || fail "systemctl restart"
# Type=notify: active only once the daemon sent READY=1.
[[ $(in_ct systemctl show -P ActiveState meterbridge) == active ]] || fail "not active after restart"
main=$(in_ct systemctl show -P MainPID meterbridge)
user=$(in_ct stat -c %U "/proc/$main")
[[ $user == meterbridge ]] || fail "the daemon runs as '$user'"
echo "ok: active (READY=1), pid $main runs as meterbridge"
wait_for 15 grep -q "New client connected .* u'mb'" "$work/mosquitto.log" ||
  fail "the daemon did not log in to the broker with the credential"
subscribed() { in_ct journalctl -u meterbridge --no-pager | grep -q 'feed: subscribed to'; }
wait_for 15 subscribed || fail "the connector did not subscribe"
echo "ok: logged in to the broker with the password from LoadCredential="
mosquitto_pub -h 127.0.0.1 -p "$port" -u mb -P s3cret-pass -q 1 -t meterbridge/readings/x \
  -m '{"meter":"ct-m1","quantity":"electricity.energy.consumption","value":7,"ts_start":"2022-03-01T00:00:00Z","ts_end":"2022-03-01T00:15:00Z"}'

echo "== an operator"
in_ct useradd --no-create-home --groups meterbridge mbop
stored() { in_ct runuser -u mbop -- meterbridge query --format csv | grep -q ct-m1; }
wait_for 15 stored ||
  fail "the operator does not see the reading: $(in_ct runuser -u mbop -- meterbridge query 2>&1)"
in_ct runuser -u mbop -- meterbridge status >/dev/null || fail "status as the operator"
echo "ok: the reading is stored; the operator runs query and status"
in_ct systemctl stop meterbridge
[[ $(in_ct systemctl show -P Result meterbridge) == success ]] || fail "the stop was not clean"
echo "systemd container test: passed"
