#!/usr/bin/env python3
"""Lesson 9, topic exchanges, against a real broker: '*' is exactly one word, '#' zero or more
words. Binds one queue per pattern, publishes fifteen keys (each message's body is its key) and
prints which pattern got which key.

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Names get a random suffix so that runs never collide; everything is deleted at the end.
Exits 1 if the broker does not behave as the lesson says.
"""
import os
import sys
import time
import uuid

import pika
from pika.exceptions import ChannelClosedByBroker

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RUN = uuid.uuid4().hex[:8]
problems = []


def check(ok, what):
    """Print one observation; remember it if it differs from the lesson."""
    print(("   ok: " if ok else " FAIL: ") + what)
    if not ok:
        problems.append(what)


def connect(**params):
    p = pika.URLParameters(URL)
    for k, v in params.items():
        setattr(p, k, v)
    return pika.BlockingConnection(p)


def pump(conns, seconds):
    """Let blocking connections run their callbacks for a while."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for c in conns:
            c.process_data_events(time_limit=0.02)


def finish():
    if problems:
        print(f"MISMATCH: {len(problems)} observation(s) differ from the lesson")
        sys.exit(1)
    print("All observations match the lesson.")


PATTERNS = ["kern.*", "*.critical", "lqz.*", "lqz.#", "mysql.*", "*.django.*", "#", "#.a", "*.a"]
KEYS = ["kern.critical", "kern.info", "kern.disk.full", "app.critical", "lqz.dd", "lqz.dd.xxx", "lqz",
        "mysql.info", "mysql.erro", "mysql.django.info", "a", "a.a", "aa.a", "x.y.a", "ba"]
# What the lesson says each pattern receives (written out by hand, not computed).
LESSON = {
    "kern.*": ["kern.critical", "kern.info"],
    "*.critical": ["kern.critical", "app.critical"],
    "lqz.*": ["lqz.dd"],
    "lqz.#": ["lqz.dd", "lqz.dd.xxx", "lqz"],
    "mysql.*": ["mysql.info", "mysql.erro"],
    "*.django.*": ["mysql.django.info"],
    "#": KEYS,
    "#.a": ["a", "a.a", "aa.a", "x.y.a"],
    "*.a": ["a.a", "aa.a"],
}
# What the wrong description ('#' = one or more characters, '*' = any characters) would predict.
MISREAD = {"#.a": ["a.a", "aa.a", "x.y.a"], "*.a": ["a.a", "aa.a", "x.y.a"]}


def main():
    ex = f"topic_logs-{RUN}"
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare(exchange=ex, exchange_type="topic")
    queues = {}
    for p in PATTERNS:
        queues[p] = ch.queue_declare(queue="", exclusive=True).method.queue
        ch.queue_bind(exchange=ex, queue=queues[p], routing_key=p)
    for k in KEYS:
        ch.basic_publish(exchange=ex, routing_key=k, body=k)
    for p in PATTERNS:
        got = []
        while True:
            m, _, body = ch.basic_get(queue=queues[p], auto_ack=True)
            if m is None:
                break
            got.append(body.decode())
        print(f" [{p:>10}] {got}")
        check(got == LESSON[p], f"'{p}' receives exactly what the lesson says")
        if p in MISREAD:
            check(got != MISREAD[p], f"'{p}' does NOT receive what the 'characters' reading predicts ({MISREAD[p]})")
    ch.exchange_delete(exchange=ex)
    conn.close()


if __name__ == "__main__":
    main()
    finish()
