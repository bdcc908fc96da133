#!/usr/bin/env python3
"""Lesson 10, headers exchanges, against a real broker: x-match=all vs x-match=any.

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



def main():
    ex = f"reports-{RUN}"
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare(exchange=ex, exchange_type="headers")
    qall = ch.queue_declare(queue="", exclusive=True).method.queue
    qany = ch.queue_declare(queue="", exclusive=True).method.queue
    ch.queue_bind(exchange=ex, queue=qall, arguments={"x-match": "all", "format": "pdf", "type": "report"})
    ch.queue_bind(exchange=ex, queue=qany, arguments={"x-match": "any", "format": "pdf", "type": "report"})
    messages = [
        ("m1 pdf report", {"format": "pdf", "type": "report"}),
        ("m2 pdf", {"format": "pdf"}),
        ("m3 log", {"type": "log"}),
        ("m4 pdf report zh", {"format": "pdf", "type": "report", "lang": "zh"}),
        ("m5 no headers", None),
    ]
    for body, headers in messages:
        ch.basic_publish(exchange=ex, routing_key="ignored", body=body, properties=pika.BasicProperties(headers=headers))
        print(f" [x] Sent {body!r} with headers {headers}")

    def bodies(q):
        out = []
        while True:
            m, _, b = ch.basic_get(queue=q, auto_ack=True)
            if m is None:
                return out
            out.append(b.decode())

    got_all, got_any = bodies(qall), bodies(qany)
    print(f" [match-all] {got_all}\n [match-any] {got_any}")
    check(got_all == ["m1 pdf report", "m4 pdf report zh"], "x-match=all: both headers needed; extra headers do not matter")
    check(got_any == ["m1 pdf report", "m2 pdf", "m4 pdf report zh"], "x-match=any: one matching header is enough")
    ch.exchange_delete(exchange=ex)
    conn.close()


if __name__ == "__main__":
    main()
    finish()
