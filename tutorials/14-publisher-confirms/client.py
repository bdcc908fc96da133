#!/usr/bin/env python3
"""Lesson 14, publisher confirms, against a real broker: every publish is acked (or nacked when a
full queue refuses it). If the environment variable RESTART_CMD holds a shell command that
restarts the broker, it also checks which confirmed messages survive the restart: only the
persistent ones in the durable queue. Without RESTART_CMD that part is skipped, and it says so.

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Names get a random suffix so that runs never collide; everything is deleted at the end.
Exits 1 if the broker does not behave as the lesson says.
"""
import os
import sys
import time
import uuid

import subprocess

from pika.exceptions import AMQPConnectionError, NackError

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
    orders, bounded = f"orders-{RUN}", f"bounded-{RUN}"
    conn = connect()
    ch = conn.channel()
    ch.queue_declare(queue=orders, durable=True)
    ch.queue_declare(queue=bounded, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    ch.basic_publish(exchange="", routing_key=bounded, body="before confirm_select")  # never confirmed
    ch.confirm_delivery()  # confirm.select: from now on each basic_publish waits for the ack or nack
    acks = nacks = 0
    batches = [(orders, f"persistent {n}", 2) for n in range(3)] + [(orders, f"transient {n}", 1) for n in range(2)]
    batches += [(bounded, f"b{n}", 1) for n in range(4)]
    for q, body, mode in batches:
        try:
            ch.basic_publish(exchange="", routing_key=q, body=body, properties=pika.BasicProperties(delivery_mode=mode))
            acks += 1
            print(f" [x] {body!r} -> {q}: ack")
        except NackError:
            nacks += 1
            print(f" [x] {body!r} -> {q}: nack")
    check((acks, nacks) == (6, 3), f"6 acks and 3 nacks (got {acks}, {nacks})")
    n = ch.queue_declare(queue=orders, durable=True, passive=True).method.message_count
    check(n == 5, f"'orders' holds all five acked messages ({n})")
    n = ch.queue_declare(queue=bounded, passive=True).method.message_count
    check(n == 2, f"'bounded' holds two: the unconfirmed first one and b0 ({n})")
    ch.queue_delete(queue=bounded)
    conn.close()

    cmd = os.environ.get("RESTART_CMD")
    if not cmd:
        print(" [-] RESTART_CMD is not set: skipping the part across a broker restart")
        conn = connect()
        conn.channel().queue_delete(queue=orders)
        conn.close()
        return
    print(f" [!] restarting the broker: {cmd}")
    subprocess.run(cmd, shell=True, check=True)
    for _ in range(120):
        try:
            conn = connect()
            break
        except AMQPConnectionError:
            time.sleep(0.5)
    ch = conn.channel()
    left = []
    while True:
        m, _, body = ch.basic_get(queue=orders, auto_ack=True)
        if m is None:
            break
        left.append(body.decode())
    print(f" [*] after the restart 'orders' holds {left}")
    check(left == ["persistent 0", "persistent 1", "persistent 2"], "only the persistent messages survive; the transient ones were acked too")
    ch.queue_delete(queue=orders)
    conn.close()


if __name__ == "__main__":
    main()
    finish()
