#!/usr/bin/env bash
# The Debian package, installed for real on this machine (CI: a disposable
# one, as root): its files, owners and modes; the unit's ExecStart run as user
# meterbridge on the installed configuration against a private mosquitto,
# READY and a reading stored; an operator in group meterbridge queries and asks
# `status`, anyone else gets 77; the installed unit verifies and scores <= 1.2;
# an upgrade keeps the edited conffile and the data; remove keeps the data and
# the conffile, purge removes them.
#   package_test.sh DIST     DIST holds meterbridge_*.deb (scripts/package.sh DIST)
# Exits 77 (skipped) when not root: installing a package needs it.
set -euo pipefail
dist=$1
if [[ $(id -u) -ne 0 ]]; then
  echo "package test skipped: installing the package needs root (CI runs it as root)"
  exit 77
fi
deb=$(ls "$dist"/meterbridge_*.deb 2>/dev/null | sort -V | tail -1 || true)
if [[ -z $deb ]]; then
  echo "no meterbridge_*.deb in $dist: run scripts/package.sh $dist first"
  exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  userdel mbtest-op >/dev/null 2>&1 || true
  userdel mbtest-other >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do [[ -e $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
expect_stat() {  # PATH OWNER:GROUP MODE
  local got
  got=$(stat -c '%U:%G %a' "$1" 2>/dev/null) || fail "$1 is missing"
  [[ $got == "$2 $3" ]] || fail "$1 is $got, expected $2 $3"
  echo "ok: $1 $got"
}
wait_for() {  # SECONDS COMMAND…: true once COMMAND succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
export DEBIAN_FRONTEND=noninteractive

echo "== install $deb"
dpkg --purge meterbridge >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >"$work/apt.log" 2>&1 ||
  fail "apt-get install"
getent passwd meterbridge >/dev/null || fail "no user meterbridge"
getent group meterbridge >/dev/null || fail "no group meterbridge"
expect_stat /usr/bin/meterbridge root:root 755
expect_stat /etc/meterbridge root:meterbridge 750
expect_stat /etc/meterbridge/meterbridge.toml root:meterbridge 640
expect_stat /var/lib/meterbridge meterbridge:meterbridge 750
expect_stat /var/lib/meterbridge/spool meterbridge:meterbridge 2770
unit=/lib/systemd/system/meterbridge.service
expect_stat "$unit" root:root 644
[[ -L /etc/systemd/system/multi-user.target.wants/meterbridge.service ]] || fail "the unit is not enabled"
dpkg-query -W -f='${Conffiles}\n' meterbridge | grep -q ' /etc/meterbridge/meterbridge.toml ' ||
  fail "/etc/meterbridge/meterbridge.toml is not a conffile"
for f in /usr/share/man/man1/meterbridge.1.gz /usr/share/man/man5/meterbridge.toml.5.gz \
  /usr/share/bash-completion/completions/meterbridge /usr/share/doc/meterbridge/README.md \
  /usr/share/doc/meterbridge/BENCHMARKS.md /usr/share/doc/meterbridge/docs/operations.md \
  /usr/share/doc/meterbridge/copyright /usr/lib/sysusers.d/meterbridge.conf \
  /usr/lib/tmpfiles.d/meterbridge.conf; do
  [[ -f $f ]] || fail "$f is missing"
done
echo "ok: man pages, completion, docs, sysusers.d, tmpfiles.d"
# The pages render, and the unit's Documentation= points at what is installed.
man -l /usr/share/man/man1/meterbridge.1.gz 2>/dev/null | grep -q 'check-config' || fail "meterbridge(1)"
man -l /usr/share/man/man5/meterbridge.toml.5.gz 2>/dev/null | grep -q 'client_id' || fail "meterbridge.toml(5)"
grep -q '^Documentation=file:///usr/share/doc/meterbridge/docs/operations.md$' "$unit" || fail "Documentation="
bash -n /usr/share/bash-completion/completions/meterbridge || fail "the completion is not valid bash"

echo "== the unit's ExecStart as user meterbridge"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
wait_for 10 mosquitto_sub -h 127.0.0.1 -p "$port" -t x -W 1 -C 1 -E || fail "mosquitto did not start"
# The installed configuration, edited as an operator would.
conf=/etc/meterbridge/meterbridge.toml
cat >"$conf" <<TOML
[storage]
path = "/var/lib/meterbridge/meterbridge.db"
[control]
socket = "/run/meterbridge/control.sock"
[brokers.local]
host = "127.0.0.1"
port = $port
[[connectors]]
name = "feed"
type = "canonical"
broker = "local"
topics = ["meterbridge/readings/#"]
TOML
expect_stat "$conf" root:meterbridge 640
# What systemd would do: the runtime directory, a notify socket, the unit's user.
install -d -o meterbridge -g meterbridge -m 0750 /run/meterbridge
cat >"$work/notify.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode(errors="replace") + "\n"); out.flush()
PY
python3 "$work/notify.py" "$work/notify.sock" "$work/notify.txt" &
pids+=($!)
wait_for 5 test -S "$work/notify.sock" || fail "notify listener"
chmod 0755 "$work"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $exec_start == "/usr/bin/meterbridge run -c /etc/meterbridge/meterbridge.toml" ]] ||
  fail "ExecStart is '$exec_start'"
# shellcheck disable=SC2086 # the unit's line, split as systemd splits it
NOTIFY_SOCKET=$work/notify.sock setpriv --reuid=meterbridge --regid=meterbridge --init-groups \
  $exec_start >"$work/daemon.log" 2>&1 &
daemon=$!
pids+=($daemon)
wait_for 15 grep -q READY=1 "$work/notify.txt" || fail "no READY=1"
echo "ok: READY=1"
# QoS 1 with a kept session: published once the subscription stands, it is delivered.
wait_for 15 grep -q "feed: subscribed to" "$work/daemon.log" || fail "the connector did not subscribe"
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t meterbridge/readings/x \
  -m '{"meter":"pkg-m1","quantity":"electricity.energy.consumption","value":12.5,"ts_start":"2022-03-01T00:00:00Z","ts_end":"2022-03-01T00:15:00Z"}'
stored() { sqlite3 -readonly /var/lib/meterbridge/meterbridge.db "SELECT count(*) FROM readings_v WHERE meter='pkg-m1'" | grep -qx 1; }
wait_for 15 stored || fail "the reading was not stored"
echo "ok: the reading is stored"
expect_stat /var/lib/meterbridge/meterbridge.db meterbridge:meterbridge 640
expect_stat /run/meterbridge/control.sock meterbridge:meterbridge 660

echo "== operators"
useradd --system --no-create-home --shell /usr/sbin/nologin --groups meterbridge mbtest-op
useradd --system --no-create-home --shell /usr/sbin/nologin mbtest-other
out=$(runuser -u mbtest-op -- meterbridge query --format csv) || fail "query as a member of group meterbridge"
grep -q pkg-m1 <<<"$out" || fail "query as a member shows no reading: $out"
runuser -u mbtest-op -- meterbridge status >/dev/null || fail "status as a member of group meterbridge"
runuser -u mbtest-op -- sqlite3 -readonly /var/lib/meterbridge/meterbridge.db \
  'SELECT count(*) FROM readings_v' | grep -qx 1 || fail "sqlite3 -readonly as a member"
echo "ok: a member of group meterbridge runs query, status and sqlite3 -readonly"
for verb in query status; do
  rc=0
  err=$(runuser -u mbtest-other -- meterbridge "$verb" 2>&1 >/dev/null) || rc=$?
  [[ $rc -eq 77 ]] || fail "$verb as another user exited $rc, expected 77: $err"
  grep -q 'permission denied' <<<"$err" || fail "$verb as another user: $err"
done
echo "ok: anyone else gets 77, permission denied"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not exit 0 on SIGTERM"

echo "== the installed unit"
verify=$(systemd-analyze verify --man=no "$unit" 2>&1 || true)
if grep -F meterbridge.service <<<"$verify"; then fail "systemd-analyze verify"; fi
exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 | grep -oE 'Overall exposure level for [^:]+: [0-9.]+' | grep -oE '[0-9.]+$')
awk -v e="$exposure" 'BEGIN { exit !(e <= 1.2) }' || fail "exposure $exposure > 1.2"
echo "ok: verify clean, exposure $exposure"

echo "== upgrade"
# The same package under a higher version (repacked): an upgrade as dpkg sees it.
dpkg-deb -R "$deb" "$work/next"
sed -i 's/^Version: .*/&+next1/' "$work/next/DEBIAN/control"
dpkg-deb -b "$work/next" "$work/meterbridge_next.deb" >/dev/null
apt-get install -y -qq --no-install-recommends "$work/meterbridge_next.deb" >>"$work/apt.log" 2>&1 ||
  fail "apt-get install (upgrade)"
dpkg-query -W -f='${Version}' meterbridge | grep -q '+next1$' || fail "the upgrade did not install"
grep -q "port = $port" "$conf" || fail "the upgrade replaced the edited configuration"
expect_stat "$conf" root:meterbridge 640
stored || fail "the upgrade lost the reading"
echo "ok: the upgrade keeps the edited configuration and the database"

echo "== remove, then purge"
apt-get remove -y -qq meterbridge >>"$work/apt.log" 2>&1 || fail "apt-get remove"
[[ ! -e /usr/bin/meterbridge ]] || fail "remove left the binary"
[[ -f /var/lib/meterbridge/meterbridge.db ]] || fail "remove deleted the database"
[[ -f $conf ]] || fail "remove deleted the conffile"
echo "ok: remove keeps the database and the configuration"
apt-get purge -y -qq meterbridge >>"$work/apt.log" 2>&1 || fail "apt-get purge"
[[ ! -e /var/lib/meterbridge ]] || fail "purge left /var/lib/meterbridge"
[[ ! -e /etc/meterbridge ]] || fail "purge left /etc/meterbridge"
getent passwd meterbridge >/dev/null || fail "purge removed the system user"
echo "ok: purge removes the state and the configuration; the user stays, as for every Debian system user"
rm -rf /run/meterbridge
echo "package test: passed"
