#!/usr/bin/env python3
"""Lesson 2, work queues: round-robin among three workers, against a real broker.

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
    q = f"task_queue-{RUN}"
    conns = [connect() for _ in range(3)]
    got = {f"worker{i + 1}": [] for i in range(3)}
    for i, c in enumerate(conns):
        ch = c.channel()
        ch.queue_declare(queue=q)
        me = f"worker{i + 1}"

        def callback(ch, method, properties, body, me=me):
            print(f" [{me}] received {body.decode()!r}")
            got[me].append(body.decode())
            ch.basic_ack(delivery_tag=method.delivery_tag)  # done with it

        ch.basic_consume(queue=q, on_message_callback=callback)  # worker1 first, then 2, then 3
    prod = connect()
    pch = prod.channel()
    ok = pch.queue_declare(queue=q)
    print(f" [*] {ok.method.consumer_count} workers are waiting")
    check(ok.method.consumer_count == 3, "three consumers share the queue")
    for n in range(9):
        pch.basic_publish(exchange="", routing_key=q, body=f"task {n}")
    print(" [x] Sent task 0 .. task 8")
    pump(conns, 1.0)
    check(got["worker1"] == ["task 0", "task 3", "task 6"], f"worker1 got tasks 0, 3, 6 (got {got['worker1']})")
    check(got["worker2"] == ["task 1", "task 4", "task 7"], f"worker2 got tasks 1, 4, 7 (got {got['worker2']})")
    check(got["worker3"] == ["task 2", "task 5", "task 8"], f"worker3 got tasks 2, 5, 8 (got {got['worker3']})")
    pch.queue_delete(queue=q)
    for c in conns + [prod]:
        c.close()


if __name__ == "__main__":
    main()
    finish()
