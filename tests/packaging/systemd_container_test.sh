#!/usr/bin/env bash
# The package under a real systemd: a Debian 12 container (debootstrap, then
# systemd-nspawn --boot) installs the .deb, and systemd itself starts the unit
# as user meterbridge, with its sandbox, READY (Type=notify) and a broker
# password passed through LoadCredential=; a canonical message published to a
# private mosquitto on the host's loopback is stored, and an operator in group
# meterbridge queries it inside the container. Then what systemd does with it:
# SIGKILL is restarted (a new pid); `systemctl reload` reloads in the same
# process; a broken configuration and one the daemon may not read each fail
# once, not in a loop, with the reason in `systemctl status` and in
# `journalctl -p err`; stop leaves it inactive.
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
# Until PID 1 has made its socket, systemctl answers nothing (a loaded machine
# boots slowly): ask again until it says running or degraded.
state=
booted() {
  state=$(in_ct timeout 60 systemctl is-system-running --wait 2>/dev/null || true)
  [[ $state == running || $state == degraded ]]
}
wait_for 90 booted || fail "the container's systemd is '$state'"
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

show() { in_ct systemctl show -P "$1" meterbridge; }
echo "== SIGKILL: systemd restarts the daemon"
pid=$(show MainPID)
in_ct systemctl kill -s SIGKILL meterbridge
restarted() { [[ $(show NRestarts) == 1 && $(show ActiveState) == active && $(show MainPID) != "$pid" ]]; }
wait_for 30 restarted ||
  fail "not restarted after SIGKILL: NRestarts $(show NRestarts), $(show ActiveState), pid $(show MainPID)"
pid=$(show MainPID)
echo "ok: restarted (NRestarts 1), new pid $pid"

echo "== reload: a second connector, same process"
in_ct sh -c "cat >> /etc/meterbridge/meterbridge.toml" <<TOML
[[connectors]]
name = "feed2"
type = "canonical"
broker = "local"
topics = ["meterbridge/more/#"]
TOML
in_ct systemctl reload meterbridge || fail "systemctl reload"
reloaded() { in_ct journalctl -u meterbridge --no-pager _PID="$pid" | grep -q 'reload done: 0 connector(s) stopped, 1 started, 2 running'; }
wait_for 15 reloaded || fail "the daemon did not log the reload"
[[ $(show MainPID) == "$pid" && $(show ActiveState) == active ]] ||
  fail "after reload: pid $(show MainPID) (was $pid), $(show ActiveState)"
in_ct journalctl -u meterbridge --no-pager _PID="$pid" | grep -q 'connector feed2 (canonical) started' ||
  fail "the reload did not start connector feed2"
echo "ok: reloaded in pid $pid, connector feed2 started"

# A start that must fail once: exit STATUS, no restart scheduled, and still
# failed and not restarted after RestartSec (5 s).
expect_failed_once() {  # STATUS
  if in_ct systemctl restart meterbridge 2>/dev/null; then fail "the unit started"; fi
  [[ $(show ActiveState) == failed && $(show NRestarts) == 0 && $(show ExecMainStatus) == "$1" ]] ||
    fail "$(show ActiveState)/$(show SubState), NRestarts $(show NRestarts), status $(show ExecMainStatus); expected failed, 0, $1"
  sleep 6
  [[ $(show ActiveState) == failed && $(show NRestarts) == 0 ]] ||
    fail "restarted after failing: $(show ActiveState)/$(show SubState), NRestarts $(show NRestarts)"
}
logged_at_err() { in_ct journalctl -p err -u meterbridge --no-pager | grep -qF "$1"; }
# LINE in `systemctl status` (its default 10 lines) and in `journalctl -p err`.
expect_reason() {  # LINE
  local status
  status=$(in_ct systemctl status --no-pager --full meterbridge 2>&1 || true)
  grep -qF "$1" <<<"$status" || fail "systemctl status does not show '$1': $status"
  wait_for 10 logged_at_err "$1" || fail "journalctl -p err does not show '$1'"
}
conf=/etc/meterbridge/meterbridge.toml
in_ct cp -p "$conf" /root/meterbridge.toml.good

echo "== a broken configuration: failed once, the reason in status and journal"
in_ct sed -i 's|^path = .*|&\nbogus = 1|' "$conf"
expect_failed_once 78
expect_reason "$conf:3:1: storage.bogus: unknown key"
echo "ok: failed once (78, NRestarts 0); status and journalctl -p err name storage.bogus"

echo "== a configuration the daemon may not read: failed once"
in_ct cp -p /root/meterbridge.toml.good "$conf"
in_ct chmod 0600 "$conf"
expect_failed_once 77
expect_reason "$conf: cannot read the configuration: Permission denied"
echo "ok: failed once (77, NRestarts 0); status and journalctl -p err say permission denied"

echo "== fixed, started, stopped"
in_ct chmod 0640 "$conf"
in_ct systemctl restart meterbridge || fail "systemctl restart with the configuration fixed"
[[ $(show ActiveState) == active ]] || fail "not active with the configuration fixed"
in_ct systemctl stop meterbridge
[[ $(show ActiveState) == inactive ]] || fail "not inactive after stop: $(show ActiveState)"
[[ $(show Result) == success ]] || fail "the stop was not clean: $(show Result)"
echo "ok: active again, then inactive after a clean stop"
echo "systemd container test: passed"
