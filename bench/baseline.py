#!/usr/bin/python3
"""The baseline a user would otherwise write: paho-mqtt + sqlite3.

Subscribes at QoS 1 to the Å Insite and Voltaware topics, decodes each message
with json.loads, and stores its readings with one INSERT per message (one
executemany for the 96 readings of a Voltaware day) and one commit per message,
in a WAL database keyed like meterbridge's (the same reading is stored once).
paho-mqtt 1.x acknowledges a QoS 1 message after on_message returns, so like
meterbridge it acknowledges only what was committed.

    /usr/bin/python3 bench/baseline.py --port P --db FILE [--synchronous full|normal]

Prints "ready" once subscribed; runs until SIGTERM/SIGINT.
"""

import argparse
import json
import signal
import sqlite3
import sys
from datetime import datetime

import paho.mqtt.client as mqtt

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    source   TEXT    NOT NULL,
    meter    TEXT    NOT NULL,
    quantity TEXT    NOT NULL,
    ts_start INTEGER NOT NULL,
    ts_end   INTEGER NOT NULL,
    value    REAL    NOT NULL,
    PRIMARY KEY (source, meter, quantity, ts_start, ts_end)
)
"""
INSERT = "INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?, ?)"


def iso_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def ainsite_rows(topic, doc):
    meter = topic.split("/")[4]
    return [("ainsite", meter, "register.%d" % doc["register_id"],
             iso_ms(doc["measurement_start_timestamp_utc"]),
             iso_ms(doc["measurement_end_timestamp_utc"]), float(doc["value"]))]


def voltaware_rows(doc):
    step = doc["dataFrequencyMins"] * 60000
    meter = doc["deviceId"]
    return [("voltaware", meter, "electricity.energy.consumption",
             r["timestampUtcEpochSecs"] * 1000, r["timestampUtcEpochSecs"] * 1000 + step,
             r["consumptionKwh"] * 1000) for r in doc["electricReadings"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--synchronous", default="full", choices=["full", "normal"])
    ap.add_argument("--client-id", default="mb-bench-baseline")
    # The harness gives the baseline the topics the daemon does not subscribe to.
    ap.add_argument("--customer", default="bench", help="Å Insite customer id of the topics")
    ap.add_argument("--voltaware-topic", default="voltaware/readings")
    args = ap.parse_args()

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = " + args.synchronous)
    db.execute(SCHEMA)

    def on_connect(client, userdata, flags, rc):
        client.subscribe([("meters/outbound/%s/#" % args.customer, 1), (args.voltaware_topic, 1)])

    def on_subscribe(client, userdata, mid, granted):
        print("ready", flush=True)

    def on_message(client, userdata, msg):
        try:
            doc = json.loads(msg.payload)
            rows = voltaware_rows(doc) if msg.topic == args.voltaware_topic else \
                ainsite_rows(msg.topic, doc)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            print("rejected %s: %s" % (msg.topic, e), file=sys.stderr)
            return
        db.execute("BEGIN")
        db.executemany(INSERT, rows)
        db.execute("COMMIT")

    client = mqtt.Client(client_id=args.client_id, clean_session=True)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect("127.0.0.1", args.port, keepalive=60)

    def stop(*_):
        client.disconnect()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    client.loop_forever()
    db.close()


if __name__ == "__main__":
    main()
