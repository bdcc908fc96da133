#!/usr/bin/env python3
"""Lesson 6, fair dispatch, against a real broker: a slow worker (1 s a task) and a fast one share
six tasks, first without basic_qos (plain round-robin), then with basic_qos(prefetch_count=1).
The slow worker does not sleep (that would block this single-threaded program): it acks each task
one second after receiving it, one at a time.

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



def run(prefetch):
    q = f"{'fair' if prefetch else 'rr'}-{RUN}"
    slow, fast = connect(), connect()
    sch, fch = slow.channel(), fast.channel()
    sch.queue_declare(queue=q)
    if prefetch:
        sch.basic_qos(prefetch_count=prefetch)
        fch.basic_qos(prefetch_count=prefetch)
    got = {"slow": [], "fast": []}
    todo = []  # slow worker's tasks, worked on one after the other

    def on_slow(ch, method, props, body):
        got["slow"].append(body.decode())
        todo.append(method.delivery_tag)

    def on_fast(ch, method, props, body):
        got["fast"].append(body.decode())
        ch.basic_ack(delivery_tag=method.delivery_tag)

    sch.basic_consume(queue=q, on_message_callback=on_slow)
    fch.basic_consume(queue=q, on_message_callback=on_fast)
    pub = connect()
    pch = pub.channel()
    for n in range(6):
        pch.basic_publish(exchange="", routing_key=q, body=f"task {n}")
    start = time.time()
    busy_until = None
    while time.time() - start < 5:
        pump([slow, fast], 0.05)
        if todo and busy_until is None:
            busy_until = time.time() + 1.0
        if busy_until and time.time() >= busy_until:
            sch.basic_ack(delivery_tag=todo.pop(0))
            busy_until = None
        if not todo and len(got["slow"]) + len(got["fast"]) == 6:
            break
    took = time.time() - start
    label = f"prefetch_count={prefetch}" if prefetch else "no basic_qos"
    print(f" [{label}] slow worker got {got['slow']}")
    print(f" [{label}] fast worker got {got['fast']}")
    print(f" [{label}] all six done after {took:.1f} s")
    pch.queue_delete(queue=q)
    for c in (slow, fast, pub):
        c.close()
    return got, took


def main():
    got, took = run(0)
    check(got["slow"] == ["task 0", "task 2", "task 4"], "without basic_qos the slow worker is handed tasks 0, 2, 4")
    check(got["fast"] == ["task 1", "task 3", "task 5"], "... and the fast worker 1, 3, 5")
    check(took > 2.5, "so the last task is done only after about 3 s")
    got, took = run(1)
    check(got["slow"] == ["task 0"], "with prefetch_count=1 the slow worker takes only task 0")
    check(got["fast"] == [f"task {n}" for n in range(1, 6)], "... and the fast worker does the other five")
    check(took < 2.0, "so everything is done after about 1 s")


if __name__ == "__main__":
    main()
    finish()
