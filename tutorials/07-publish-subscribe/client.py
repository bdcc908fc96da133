#!/usr/bin/env python3
"""Lesson 7, publish/subscribe with a fanout exchange and exclusive server-named queues,
against a real broker. A message published before any queue is bound is lost.

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



def subscriber(ex, got, me):
    conn = connect()
    ch = conn.channel()
    ch.exchange_declare(exchange=ex, exchange_type="fanout")
    q = ch.queue_declare(queue="", exclusive=True).method.queue  # the broker picks the name
    ch.queue_bind(exchange=ex, queue=q)
    print(f" [{me}] listening on {q}")
    check(q.startswith("amq.gen-"), f"{me}'s queue has a server-chosen name ({q})")
    ch.basic_consume(queue=q, auto_ack=True, on_message_callback=lambda c, m, p, b: got[me].append(b.decode()))
    return conn, q


def main():
    ex = f"logs-{RUN}"
    pub = connect()
    pch = pub.channel()
    pch.exchange_declare(exchange=ex, exchange_type="fanout")
    pch.basic_publish(exchange=ex, routing_key="", body="early bird")
    print(" [x] Sent 'early bird' (no subscriber yet)")

    got = {"sub1": [], "sub2": []}
    c1, q1 = subscriber(ex, got, "sub1")
    c2, q2 = subscriber(ex, got, "sub2")
    pch.basic_publish(exchange=ex, routing_key="", body="info: Hello World!")
    print(" [x] Sent 'info: Hello World!'")
    pump([c1, c2], 0.5)
    print(f" [sub1] got {got['sub1']}\n [sub2] got {got['sub2']}")
    check(got["sub1"] == ["info: Hello World!"] and got["sub2"] == ["info: Hello World!"],
          "each subscriber gets its own copy of the message, and nobody gets 'early bird'")

    c1.close()  # sub1 leaves: its exclusive queue is deleted
    try:
        pch.queue_declare(queue=q1, passive=True)
        check(False, "sub1's queue should be gone")
    except ChannelClosedByBroker as e:
        check(e.reply_code == 404, f"sub1's queue is deleted when it disconnects ({e.reply_code})")
        pch = pub.channel()
    pch.basic_publish(exchange=ex, routing_key="", body="only sub2 is left")
    pump([c2], 0.5)
    check(got["sub2"] == ["info: Hello World!", "only sub2 is left"], "only sub2 hears the last message")
    c2.close()
    pch.exchange_delete(exchange=ex)
    pub.close()


if __name__ == "__main__":
    main()
    finish()
