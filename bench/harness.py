#!/usr/bin/python3
"""meterbridge benchmark harness (BENCHMARKS.md). Run it through bench/run.sh.

Starts a private mosquitto on a free loopback port and runs, in one process
tree and one run (so that ratios hold on a noisy shared machine), every
scenario against its ceilings and the Python baseline, N repetitions each
(figures are medians), then prints one Markdown table and writes it to a file.

Scenarios (the C++ tools are in bench/, built by run.sh):
  ainsite    Å Insite v2 single-reading messages, QoS 1
  voltaware  Voltaware days of 96 readings, QoS 2 publishers
  mix        both across 10,000 meters (1 in 10 a Voltaware device)
Each scenario runs against: meterbridge (completion = every reading counted
in its database), the broker ceiling (null subscribers), the SQLite ceiling
(voltaware, mix) and the Python baseline (ainsite, voltaware; bench/baseline.py).
Also: quoalise decode vs plain pugixml parse, Enedis end to end (load curves
fetched from the fake DataConnect proxy over a private prosody, against the
rate limit and an in-process decode + store ceiling; bench/enedis_bench.cpp),
and meterbridge's peak RSS at steady state (mix, 10,000 meters) and while a
backlog drains.
"""

import argparse
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024

FULL = dict(reps=5, ainsite=50_000, ainsite_meters=1_000, voltaware=5_000, voltaware_meters=1_000,
            mix=50_000, mix_meters=10_000, baseline_ainsite=20_000, baseline_voltaware=5_000,
            backlog=1_000_000, backlog_meters=10_000, quoalise_rounds=7, quoalise_seconds=0.2,
            enedis_ups=100, enedis_days=28)
SHORT = dict(reps=1, ainsite=5_000, ainsite_meters=1_000, voltaware=300, voltaware_meters=300,
             mix=10_000, mix_meters=10_000, baseline_ainsite=2_000, baseline_voltaware=300,
             backlog=20_000, backlog_meters=10_000, quoalise_rounds=3, quoalise_seconds=0.05,
             enedis_ups=2, enedis_days=14)
# Enedis: the rate limit (5 calls/s, the upstream's and the most the daemon allows) sets the
# pace, so the run is sized to ≈ 80 s (100 × 4 calls) and the full year × 100 usage points
# (5,300 calls, ≈ 18 min) is extrapolated from the measured call rate.
ENEDIS_RATE_LIMIT = 5
ENEDIS_FULL_UPS, ENEDIS_FULL_DAYS = 100, 365

SCENARIOS = ("quoalise", "enedis", "ainsite", "voltaware", "mix", "backlog")  # in run order

TARGETS = {
    "ainsite_vs_broker": 0.8,
    "voltaware_vs_sqlite": 0.7,
    "voltaware_vs_baseline": 10.0,
    "quoalise_vs_parse": 0.5,
    "rss_backlog_mib": 64,
    "rss_steady_mib": 32,
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("port %d did not open" % port)


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fsync_ms(directory, n=50):
    """Mean latency of write(4 KiB) + fdatasync() in the work directory: what a commit with
    synchronous = FULL waits for. Shared disks make it vary by 10x and more, and the Python
    baseline commits once per message, so every run records it."""
    path = os.path.join(directory, "fsync.probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        t = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            os.fdatasync(fd)
        return (time.perf_counter() - t) / n * 1000
    finally:
        os.close(fd)
        os.unlink(path)


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def stop_process(p, timeout=30):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Scraper:
    """--scrape: GET /metrics from the daemon's listener once a second, as Prometheus would,
    for as long as the daemon runs."""

    def __init__(self, lines):
        lines.wait([r"http listening on 127\.0\.0\.1:\d+"])
        with lines.cv:
            port = next(int(m.group(1)) for m in (re.search(r"http listening on 127\.0\.0\.1:(\d+)", l)
                                                  for l in lines.lines) if m)
        self.url = "http://127.0.0.1:%d/metrics" % port
        self.stopped = threading.Event()
        self.scrapes = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.wait(1.0):
            with urllib.request.urlopen(self.url, timeout=10) as r:
                if r.status != 200 or b"meterbridge_readings_total" not in r.read():
                    raise RuntimeError("bad scrape of " + self.url)
            self.scrapes += 1

    def stop(self):
        self.stopped.set()
        self.thread.join()


class Lines:
    """Reads a process's text stream on a thread (so that it never blocks on a full pipe),
    copies it to a log file, and lets the caller wait for a line matching a pattern."""

    def __init__(self, stream, logpath):
        self.lines = []
        self.cv = threading.Condition()
        self.closed = False
        self.log = open(logpath, "w")
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.log.write(line)
            with self.cv:
                self.lines.append(line)
                self.cv.notify_all()
        with self.cv:
            self.closed = True
            self.cv.notify_all()
        self.log.flush()

    def wait(self, patterns, timeout=20):
        """Waits until every pattern matched some line; raises on timeout or end of stream."""
        rx = [re.compile(x) for x in patterns]
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                rx = [r for r in rx if not any(r.search(l) for l in self.lines)]
                if not rx:
                    return
                if self.closed:
                    raise RuntimeError("stream closed before %s (see %s)" % (
                        [r.pattern for r in rx], self.log.name))
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timeout waiting for %s (see %s)" % (
                        [r.pattern for r in rx], self.log.name))
                self.cv.wait(left)


class Broker:
    def __init__(self, d):
        self.dir = d
        self.port = free_port()
        conf = d / "mosquitto.conf"
        conf.write_text(
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            # Sessions persist in memory for the run; the broker never restarts, and disk
            # snapshots of a million queued messages would only add noise.
            "persistence false\n"
            # A persistent session keeps everything queued while meterbridge is stopped.
            "max_queued_messages 0\n"
            "max_inflight_messages 100\n"
            "log_dest file %s\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "user %s\n" % (self.port, d / "mosquitto.log", pwd.getpwuid(os.getuid()).pw_name))
        self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        stop_process(self.proc)


class Bench:
    def __init__(self, args, counts):
        self.a = args
        self.c = counts
        self.build = Path(args.build_dir).resolve()
        self.work = Path(tempfile.mkdtemp(prefix="mb-bench.", dir=args.tmpdir))
        self.tool = {n: self.find_tool(n) for n in
                     ("mb_bench_load", "mb_bench_nullsub", "mb_bench_sqlite", "mb_bench_quoalise",
                      "mb_bench_enedis")}
        self.daemon_bin = self.build / "daemon" / "meterbridge"
        if not self.daemon_bin.exists():
            raise SystemExit("no %s: build first (bench/run.sh)" % self.daemon_bin)
        self.broker = None
        self.results = {}
        self.day = 19358  # 2023-01-01; every run publishes new days

    def find_tool(self, name):
        for p in (self.build / "bench" / name, self.build / name):
            if p.exists():
                return str(p)
        raise SystemExit("no %s in %s: build first (bench/run.sh)" % (name, self.build))

    def next_day(self, n=1):
        d = self.day
        self.day += n
        return d

    # ---- processes -------------------------------------------------------------------------

    def run_json(self, cmd, timeout=1800):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (Path(cmd[0]).name, r.returncode, r.stderr.strip()))
        return json.loads(r.stdout.strip().splitlines()[-1])

    def loadgen(self, scenario, n, meters, topics, db=None, days=1):
        cmd = [self.tool["mb_bench_load"], "--port", str(self.broker.port), "--scenario", scenario,
               "--messages", str(n), "--meters", str(meters), "--topics", topics,
               "--base-day", str(self.next_day(days)), "--timeout", str(self.a.timeout)]
        if db:
            cmd += ["--db", str(db)]
        return self.run_json(cmd)

    def daemon_config(self, name, db, synchronous):
        cfg = self.work / (name + ".toml")
        cache = 'cache_size = "%dKiB"\n' % self.a.cache_kib if self.a.cache_kib else ""
        cfg.write_text(
            '[storage]\npath = "%s"\nsynchronous = "%s"\n%s'
            '[log]\nlevel = "info"\n[control]\nsocket = ""\n'
            '[http]\nlisten = "%s"\n'
            '[brokers.bench]\nhost = "127.0.0.1"\nport = %d\n'
            '[[connectors]]\nname = "ainsite"\ntype = "ainsite"\nbroker = "bench"\n'
            'topics = ["meters/outbound/bench/#"]\n'
            '[[connectors]]\nname = "voltaware"\ntype = "voltaware"\nbroker = "bench"\n'
            'topics = ["voltaware/readings"]\n' % (db, synchronous, cache,
                                                    "127.0.0.1:0" if self.a.scrape else "",
                                                    self.broker.port))
        return cfg

    def start_daemon(self, tag):
        """A daemon on a fresh database; returns (process, db path)."""
        db = self.work / ("mb-%s.db" % tag)
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        cfg = self.daemon_config("meterbridge", db, self.a.synchronous)
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        p = subprocess.Popen([str(self.daemon_bin), "run", "-c", str(cfg)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=env)
        p.lines = Lines(p.stderr, self.work / ("daemon-%s.log" % tag))
        # Ready: each connector has its subscription (new session) or found it (resumed).
        try:
            p.lines.wait([r"\b%s: (subscribed to|connected to .*session resumed)" % name
                          for name in ("ainsite", "voltaware")])
        except RuntimeError:
            stop_process(p)
            raise
        while not db.exists():
            time.sleep(0.01)
        if self.a.scrape:
            p.scraper = Scraper(p.lines)
        return p, db

    def stop_daemon(self, p):
        if getattr(p, "scraper", None):
            p.scraper.stop()
        stop_process(p)
        if p.returncode not in (0, -signal.SIGTERM):
            raise RuntimeError("meterbridge exited with %s" % p.returncode)

    # ---- one measurement each ------------------------------------------------------------------

    def null_ceiling(self, scenario, n, meters, client):
        p = subprocess.Popen([self.tool["mb_bench_nullsub"], "--port", str(self.broker.port),
                              "--topics", "meters/outbound/other/#,voltaware/otherone",
                              "--qos", "1", "--count", str(n), "--client", client,
                              "--client-id", "mb-bench-null-" + client,
                              "--timeout", str(self.a.timeout)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = Lines(p.stdout, self.work / "nullsub.log")
        try:
            lines.wait(["^ready"])
            lg = self.loadgen(scenario, n, meters, "other")
            lines.wait([r'^\{"client"'], timeout=self.a.timeout)
            p.wait(30)
        finally:
            stop_process(p)
        if p.returncode != 0:
            raise RuntimeError("null subscriber failed: see %s" % lines.log.name)
        ns = json.loads(next(l for l in lines.lines if l.startswith('{"client"')))
        secs = (ns["t_last_ns"] - lg["t0_ns"]) / 1e9
        return dict(seconds=secs, msg_s=n / secs, readings_s=lg["readings"] / secs)

    def daemon_run(self, scenario, n, meters, tag):
        p, db = self.start_daemon(tag)
        try:
            c0 = cpu_seconds(p.pid)
            lg = self.loadgen(scenario, n, meters, "daemon", db=db)
            cpu = cpu_seconds(p.pid) - c0
            hwm = status_kib(p.pid, "VmHWM")
        finally:
            self.stop_daemon(p)
        if lg["rows"] != lg["readings"]:
            raise RuntimeError("meterbridge stored %d rows for %d readings" % (lg["rows"], lg["readings"]))
        secs = (lg["t_done_ns"] - lg["t0_ns"]) / 1e9
        return dict(seconds=secs, msg_s=n / secs, readings_s=lg["readings"] / secs,
                    hwm_kib=hwm, cpu_us_per_msg=cpu / n * 1e6)

    def baseline_run(self, scenario, n, meters):
        db = self.work / "baseline.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        p = subprocess.Popen(["/usr/bin/python3", str(HERE / "baseline.py"), "--port", str(self.broker.port),
                              "--db", str(db), "--synchronous", self.a.synchronous,
                              "--customer", "other", "--voltaware-topic", "voltaware/otherone"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = Lines(p.stdout, self.work / "baseline.log")
        try:
            lines.wait(["^ready"])
            lg = self.loadgen(scenario, n, meters, "other", db=db)
        finally:
            stop_process(p)
        if lg["rows"] != lg["readings"]:
            raise RuntimeError("baseline stored %d rows for %d readings" % (lg["rows"], lg["readings"]))
        secs = (lg["t_done_ns"] - lg["t0_ns"]) / 1e9
        return dict(seconds=secs, msg_s=n / secs, readings_s=lg["readings"] / secs)

    def sqlite_ceiling(self, scenario, n, meters, extra=()):
        r = self.run_json([self.tool["mb_bench_sqlite"], "--db", str(self.work / "ceiling.db"),
                           "--scenario", scenario, "--messages", str(n), "--meters", str(meters),
                           "--synchronous", self.a.synchronous, "--base-day", str(self.next_day()),
                           *(["--cache-kib", str(self.a.cache_kib)] if self.a.cache_kib else []),
                           *extra])
        return dict(seconds=r["seconds"], readings_s=r["rows_per_s"], msg_s=n / r["seconds"])

    # ---- scenarios ---------------------------------------------------------------------------

    def repeat(self, key, fns):
        """Runs each (name, fn) once per repetition, interleaved, and keeps every sample."""
        for rep in range(self.c["reps"]):
            self.results.setdefault(key, {}).setdefault("fsync", []).append(
                {"ms": fsync_ms(str(self.work))})
            for name, fn in fns:
                r = fn()
                self.results.setdefault(key, {}).setdefault(name, []).append(r)
                log("%s/%s #%d: %s" % (key, name, rep + 1,
                                       ", ".join("%s=%.4g" % kv for kv in r.items())))

    def scenario_ainsite(self):
        n, m = self.c["ainsite"], self.c["ainsite_meters"]
        self.repeat("ainsite", [
            ("broker_libmosquitto", lambda: self.null_ceiling("ainsite", n, m, "libmosquitto")),
            ("broker_batched", lambda: self.null_ceiling("ainsite", n, m, "batched")),
            ("meterbridge", lambda: self.daemon_run("ainsite", n, m, "ainsite")),
            ("baseline", lambda: self.baseline_run("ainsite", self.c["baseline_ainsite"], m)),
        ])

    def scenario_voltaware(self):
        n, m = self.c["voltaware"], self.c["voltaware_meters"]
        self.repeat("voltaware", [
            ("broker_libmosquitto", lambda: self.null_ceiling("voltaware", n, m, "libmosquitto")),
            ("broker_batched", lambda: self.null_ceiling("voltaware", n, m, "batched")),
            ("sqlite", lambda: self.sqlite_ceiling("voltaware", n, m)),
            ("sqlite_lineage", lambda: self.sqlite_ceiling("voltaware", n, m, ("--with-messages",))),
            ("meterbridge", lambda: self.daemon_run("voltaware", n, m, "voltaware")),
            ("baseline", lambda: self.baseline_run("voltaware", self.c["baseline_voltaware"], m)),
        ])

    def scenario_mix(self):
        n, m = self.c["mix"], self.c["mix_meters"]
        self.repeat("mix", [
            ("broker_libmosquitto", lambda: self.null_ceiling("mix", n, m, "libmosquitto")),
            ("broker_batched", lambda: self.null_ceiling("mix", n, m, "batched")),
            ("sqlite", lambda: self.sqlite_ceiling("mix", n, m)),
            ("meterbridge", lambda: self.daemon_run("mix", n, m, "mix")),
        ])

    def scenario_quoalise(self):
        r = self.run_json([self.tool["mb_bench_quoalise"], "--days", "7",
                           "--rounds", str(self.c["quoalise_rounds"]),
                           "--min-seconds", str(self.c["quoalise_seconds"])])
        log("quoalise: %s" % r)
        self.results["quoalise"] = r

    def scenario_enedis(self):
        """Enedis end to end, once (the rate limit makes it long): prosody, the fake proxy and
        the daemon are started by mb_bench_enedis, which also measures the in-process
        decode + store ceiling and extrapolates the full year × 100 usage points."""
        if not Path("/usr/bin/prosody").exists():
            raise RuntimeError("enedis: prosody is not installed (scripts/setup.sh installs it)")
        fs = fsync_ms(str(self.work))
        r = self.run_json([self.tool["mb_bench_enedis"], "--daemon", str(self.daemon_bin),
                           "--usage-points", str(self.c["enedis_ups"]),
                           "--days", str(self.c["enedis_days"]),
                           "--rate-limit", str(ENEDIS_RATE_LIMIT),
                           "--synchronous", self.a.synchronous,
                           "--work-dir", str(self.work / "enedis"),
                           "--timeout", str(self.a.timeout),
                           "--extrapolate-usage-points", str(ENEDIS_FULL_UPS),
                           "--extrapolate-days", str(ENEDIS_FULL_DAYS)])
        r["fsync_ms"] = fs
        log("enedis: %s" % r)
        self.results["enedis"] = r

    def scenario_backlog(self):
        """Peak RSS while a backlog drains: the daemon's persistent session collects the
        messages while it is stopped, then it starts on a fresh database."""
        n, m = self.c["backlog"], self.c["backlog_meters"]
        p, db = self.start_daemon("backlog")  # makes sure the sessions exist
        self.stop_daemon(p)
        log("backlog: publishing %d messages while meterbridge is stopped" % n)
        t = time.monotonic()
        self.loadgen("ainsite", n, m, "daemon", days=max(1, n // m // 1440 + 1))
        log("backlog: published in %.1f s; broker RSS %s MiB" % (
            time.monotonic() - t, (status_kib(self.broker.proc.pid, "VmRSS") or 0) // 1024))
        p, db = self.start_daemon("backlog")
        try:
            w = self.run_json([self.tool["mb_bench_load"], "--wait-only", "--db", str(db),
                               "--expect-rows", str(n), "--timeout", str(self.a.timeout)])
            hwm = status_kib(p.pid, "VmHWM")
            rss = status_kib(p.pid, "VmRSS")
        finally:
            self.stop_daemon(p)
        secs = (w["t_done_ns"] - w["t0_ns"]) / 1e9
        self.results["backlog"] = dict(messages=n, seconds=secs, msg_s=n / secs, hwm_kib=hwm,
                                       rss_end_kib=rss)
        log("backlog: %s" % self.results["backlog"])

    # ---- report ------------------------------------------------------------------------------

    def med(self, key, name, field):
        v = [r[field] for r in self.results.get(key, {}).get(name, []) if r.get(field) is not None]
        return statistics.median(v) if v else None

    def spread(self, key, name, field):
        v = [r[field] for r in self.results.get(key, {}).get(name, []) if r.get(field) is not None]
        return (min(v), max(v)) if v else (None, None)

    def table(self):
        short = self.a.short
        rows = []

        def fmt(x, unit=""):
            if x is None:
                return "—"
            if x >= 100:
                return "{:,.0f}{}".format(x, unit)
            return "{:.3g}{}".format(x, unit)

        def fig(key, name, field):
            m = self.med(key, name, field)
            lo, hi = self.spread(key, name, field)
            if m is None:
                return "—"
            if self.c["reps"] > 1:
                return "%s (%s–%s)" % (fmt(m), fmt(lo), fmt(hi))
            return fmt(m)

        def verdict(ok):
            if short:
                return "—"
            return "PASS" if ok else "**MISS**"

        def ratio(a, b):
            return a / b if a is not None and b else None

        def add(what, figure, unit, against="", r=None, target="", status=""):
            rows.append((what, figure, unit, against, "—" if r is None else "%.2f×" % r, target, status))

        for key, label, qos in (("ainsite", "Å Insite v2, 1 reading/msg", "QoS 1"),
                                ("voltaware", "Voltaware day, 96 readings/msg", "QoS 2→1"),
                                ("mix", "mix, 10,000 meters", "QoS 1+2")):
            if key not in self.results:
                continue
            res = self.results[key]
            lm = self.med(key, "broker_libmosquitto", "msg_s")
            bm = self.med(key, "broker_batched", "msg_s")
            ceil_name = "broker_libmosquitto" if (lm or 0) >= (bm or 0) else "broker_batched"
            ceil = max(lm or 0, bm or 0)
            add("%s: broker ceiling, null subscriber (libmosquitto loop), %s" % (label, qos),
                fig(key, "broker_libmosquitto", "msg_s"), "msg/s")
            add("%s: broker ceiling, null subscriber (meterbridge's loop, no work)" % label,
                fig(key, "broker_batched", "msg_s"), "msg/s")
            mb = self.med(key, "meterbridge", "msg_s")
            mbr = self.med(key, "meterbridge", "readings_s")
            if key == "ainsite":
                r = ratio(mb, ceil)
                add("%s: **meterbridge**" % label, fig(key, "meterbridge", "msg_s"), "msg/s",
                    "broker ceiling (best null subscriber)", r, "≥ 0.8×",
                    verdict(r is not None and r >= TARGETS["ainsite_vs_broker"]))
                b = self.med(key, "baseline", "msg_s")
                add("%s: Python baseline (paho + sqlite3)" % label, fig(key, "baseline", "msg_s"),
                    "msg/s", "meterbridge ÷ baseline", ratio(mb, b))
            else:
                add("%s: **meterbridge**" % label, fig(key, "meterbridge", "msg_s"), "msg/s",
                    "broker ceiling (best null subscriber)", ratio(mb, ceil))
            if "sqlite" in res:
                sq = self.med(key, "sqlite", "readings_s")
                add("%s: SQLite ceiling (direct batched insert)" % label,
                    fig(key, "sqlite", "readings_s"), "readings/s")
                if "sqlite_lineage" in res:
                    add("%s: SQLite, same rows + message rows with payload (info)" % label,
                        fig(key, "sqlite_lineage", "readings_s"), "readings/s", "SQLite ceiling",
                        ratio(self.med(key, "sqlite_lineage", "readings_s"), sq))
                if key == "voltaware":
                    r = ratio(mbr, sq)
                    add("%s: **meterbridge**" % label, fig(key, "meterbridge", "readings_s"),
                        "readings/s", "SQLite ceiling", r, "≥ 0.7×",
                        verdict(r is not None and r >= TARGETS["voltaware_vs_sqlite"]))
                else:
                    add("%s: **meterbridge**" % label, fig(key, "meterbridge", "readings_s"),
                        "readings/s", "SQLite ceiling", ratio(mbr, sq))
            if key == "voltaware":
                b = self.med(key, "baseline", "readings_s")
                r = ratio(mbr, b)
                add("%s: Python baseline (paho + sqlite3)" % label, fig(key, "baseline", "readings_s"),
                    "readings/s")
                add("%s: SQLite ceiling vs Python baseline (the most any writer of this schema "
                    "can gain)" % label, fig(key, "sqlite", "readings_s"), "readings/s",
                    "Python baseline", ratio(self.med(key, "sqlite", "readings_s"), b))
                add("%s: **meterbridge** vs Python baseline" % label,
                    fig(key, "meterbridge", "readings_s"), "readings/s", "Python baseline", r,
                    "≥ 10×", verdict(r is not None and r >= TARGETS["voltaware_vs_baseline"]))
            add("%s: meterbridge CPU per message" % label, fig(key, "meterbridge", "cpu_us_per_msg"),
                "µs")
            add("%s: fdatasync latency (probe before each repetition)" % label,
                fig(key, "fsync", "ms"), "ms")
        q = self.results.get("quoalise")
        if q:
            add("Quoalise load curve (%d records, %s B): plain pugixml parse" % (q["records"], "{:,}".format(q["bytes"])),
                fmt(q["parse_records_per_s"]), "records/s")
            add("Quoalise: pugixml parse + as_double() of t and v (info)", fmt(q["walk_records_per_s"]),
                "records/s", "plain parse", q["walk_records_per_s"] / q["parse_records_per_s"])
            add("Quoalise: floor = parse + from_chars + one mb::Reading per record (info)",
                fmt(q["floor_records_per_s"]), "records/s", "plain parse",
                q["floor_records_per_s"] / q["parse_records_per_s"])
            r = q["decode_records_per_s"] / q["parse_records_per_s"]
            add("Quoalise: **decode_quoalise** (decode + normalize)", fmt(q["decode_records_per_s"]),
                "records/s", "plain parse", r, "≥ 0.5×", verdict(r >= TARGETS["quoalise_vs_parse"]))
        e = self.results.get("enedis")
        if e:
            label = "Enedis load curve, %d usage point%s × %d days, fake proxy over prosody" % (
                e["usage_points"], "" if e["usage_points"] == 1 else "s", e["days"])
            limit = "rate_limit (%s calls/s)" % fmt(e["rate_limit"])
            add("%s: **meterbridge** call rate, first to last call" % label, fmt(e["calls_s"]),
                "calls/s", limit, e["rate_ratio"])
            add("%s: **meterbridge**, daemon start → every reading counted (%s calls, %s readings)"
                % (label, "{:,}".format(e["calls"]), "{:,}".format(e["readings"])),
                fmt(e["seconds"]), "s")
            add("%s: **meterbridge**, readings stored" % label,
                fmt(e["readings_s"]), "readings/s")
            add("%s: gap between calls, median (p99–max); the rate limit's is %s ms" % (
                label, fmt(1000 / e["rate_limit"])),
                "%s (%s–%s)" % (fmt(e["gap_ms_p50"]), fmt(e["gap_ms_p99"]), fmt(e["gap_ms_max"])),
                "ms")
            if "ceiling_calls_s" in e:
                add("Enedis: decode + store ceiling, in-process (EnedisJobs + Writer, same answers, "
                    "no XMPP, no rate limit)", fmt(e["ceiling_calls_s"]), "calls/s", limit,
                    e["ceiling_calls_s"] / e["rate_limit"])
            add("%s: meterbridge CPU per call" % label, fmt(e["cpu_ms_per_call"]), "ms")
            add("%s: meterbridge peak RSS (VmHWM)" % label, fmt(e["hwm_kib"] / 1024), "MiB")
            add("Enedis: a year of 30-min load curve × %d usage points (%s calls, %s readings), "
                "at the measured calls/s" % (e["extrapolated_usage_points"],
                                             "{:,}".format(e["extrapolated_calls"]),
                                             "{:,}".format(e["extrapolated_readings"])),
                fmt(e["extrapolated_seconds"]), "s", "", None, "",
                "extrapolated (%.0f min), not measured" % (e["extrapolated_seconds"] / 60))
        steady = max((r["hwm_kib"] for r in self.results.get("mix", {}).get("meterbridge", [])
                      if r.get("hwm_kib")), default=None)
        if steady:
            add("Peak RSS (VmHWM), steady state, mix over 10,000 meters", fmt(steady / 1024), "MiB",
                "", None, "≤ 32 MiB", verdict(steady / 1024 <= TARGETS["rss_steady_mib"]))
        b = self.results.get("backlog")
        if b:
            add("Peak RSS (VmHWM) while a backlog of %s queued msgs drains" % "{:,}".format(b["messages"]),
                fmt(b["hwm_kib"] / 1024), "MiB", "", None, "≤ 64 MiB",
                verdict(b["hwm_kib"] / 1024 <= TARGETS["rss_backlog_mib"]))
            add("Backlog drain rate (no publisher running)", fmt(b["msg_s"]), "msg/s")

        head = ("| what | median (min–max) | unit | ratio against | ratio | target | |\n"
                "|---|---:|---|---|---:|---|---|\n")
        body = "".join("| %s |\n" % " | ".join(r) for r in rows)
        return head + body

    def header(self):
        cpu = ""
        try:
            cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
        except StopIteration:
            pass
        mosq_v = subprocess.run(["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()[:1]
        c = self.c
        return (
            "meterbridge bench: %s mode, %d repetition(s) per figure (median, min–max); "
            "synchronous = %s; page cache %s; %s\n"
            "machine: %d cores (%s), %s, load average at start %s, fdatasync %.2f ms; %s; SQLite %s\n"
            "counts: ainsite %s msgs / %s meters; voltaware %s msgs (%s readings) / %s devices; "
            "mix %s msgs / %s meters; baseline %s + %s msgs; backlog %s msgs; "
            "enedis %s usage points × %s days at %s calls/s, once\n" % (
                "short" if self.a.short else "full", c["reps"], self.a.synchronous,
                "%d KiB" % self.a.cache_kib if self.a.cache_kib else "default (4 MiB)",
                time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), cpu, platform.release(),
                self.load_start, self.fsync_start, mosq_v[0] if mosq_v else "mosquitto",
                sqlite3.sqlite_version,
                "{:,}".format(c["ainsite"]), "{:,}".format(c["ainsite_meters"]),
                "{:,}".format(c["voltaware"]), "{:,}".format(c["voltaware"] * 96),
                "{:,}".format(c["voltaware_meters"]), "{:,}".format(c["mix"]),
                "{:,}".format(c["mix_meters"]), "{:,}".format(c["baseline_ainsite"]),
                "{:,}".format(c["baseline_voltaware"]), "{:,}".format(c["backlog"]),
                c["enedis_ups"], c["enedis_days"], ENEDIS_RATE_LIMIT))

    def run(self):
        self.load_start = " ".join(open("/proc/loadavg").read().split()[:3])
        t0 = time.monotonic()
        self.fsync_start = fsync_ms(str(self.work))
        self.broker = Broker(self.work)
        log("work dir %s, mosquitto on port %d" % (self.work, self.broker.port))
        try:
            only = set(self.a.only.split(",")) if self.a.only else None
            unknown = (only or set()) - set(SCENARIOS)
            if unknown:
                raise RuntimeError("--only: no scenario %s (%s)" % (
                    ", ".join(sorted(unknown)), ",".join(SCENARIOS)))
            for name, fn in (("quoalise", self.scenario_quoalise), ("enedis", self.scenario_enedis),
                             ("ainsite", self.scenario_ainsite),
                             ("voltaware", self.scenario_voltaware), ("mix", self.scenario_mix),
                             ("backlog", self.scenario_backlog)):
                if only is None or name in only:
                    fn()
        finally:
            self.broker.stop()
        elapsed = time.monotonic() - t0
        text = (self.header() + "load average at end %s, fdatasync %.2f ms; run took %.0f s\n\n" % (
            " ".join(open("/proc/loadavg").read().split()[:3]), fsync_ms(str(self.work)), elapsed)
            + self.table())
        print(text)
        out = Path(self.a.out) if self.a.out else self.build / ("bench-%s.md" % ("short" if self.a.short else "full"))
        out.write_text(text)
        (out.with_suffix(".json")).write_text(json.dumps(self.results, indent=1))
        log("table written to %s (samples: %s)" % (out, out.with_suffix(".json")))
        if not self.a.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            log("kept %s" % self.work)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--short", action="store_true", help="small counts, one repetition, no thresholds")
    ap.add_argument("--reps", type=int, help="repetitions per figure (default 5; 1 with --short)")
    ap.add_argument("--cache-kib", type=int, default=0,
                    help="meterbridge's [storage] cache_size in KiB (MQTT scenarios), also used by "
                         "the SQLite ceiling (default: the daemon's, 4 MiB)")
    ap.add_argument("--synchronous", default="full", choices=["full", "normal"],
                    help="meterbridge's [storage] synchronous, also used by the SQLite ceiling and the baseline")
    ap.add_argument("--backlog", type=int, help="messages of the backlog scenario (default 1,000,000)")
    ap.add_argument("--only", help="comma-separated: " + ",".join(SCENARIOS))
    ap.add_argument("--out", help="file for the table (default BUILD_DIR/bench-full.md or bench-short.md)")
    ap.add_argument("--tmpdir", default=None)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per step")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs)")
    ap.add_argument("--scrape", action="store_true",
                    help="run meterbridge with its HTTP listener on and GET /metrics every second "
                         "(default: the listener off)")
    args = ap.parse_args()
    counts = dict(SHORT if args.short else FULL)
    if args.reps:
        counts["reps"] = args.reps
    if args.backlog:
        counts["backlog"] = args.backlog
    try:
        Bench(args, counts).run()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log("FAILED: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
