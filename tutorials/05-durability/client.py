#!/usr/bin/env python3
"""Lesson 5, durability, against a real broker: redeclaring a queue with other flags is refused
with 406; and, only if the environment variable RESTART_CMD holds a shell command that restarts
the broker (e.g. RESTART_CMD='rabbitmqctl stop_app && rabbitmqctl start_app'), the four
combinations of durable queue x persistent message across that restart. Without RESTART_CMD the
restart part is skipped, and the program says so.

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

from pika.exceptions import AMQPConnectionError

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


def redeclare_406():
    conn = connect()
    ch = conn.channel()
    q = f"hello2-{RUN}"
    ch.queue_declare(queue=q)  # non-durable
    ch.basic_publish(exchange="", routing_key=q, body="still here")
    try:
        ch.queue_declare(queue=q, durable=True)
        check(False, "redeclaring with durable=True should fail")
    except ChannelClosedByBroker as e:
        print(f" [*] queue_declare({q!r}, durable=True): {e.reply_code} {e.reply_text}")
        check(e.reply_code == 406, "redeclaring an existing queue with other flags is refused: 406 PRECONDITION_FAILED")
    check(ch.is_closed and conn.is_open, "the channel is closed, the connection is not")
    ch = conn.channel()  # a new channel on the same connection
    ok = ch.queue_declare(queue=q)
    check(ok.method.message_count == 1, "the queue is unchanged: same flags, same message")
    ok = ch.queue_declare(queue=f"task_queue-{RUN}", durable=True)
    check(ok.method.message_count == 0, "the tutorial's way out: a new name, declared durable")
    ch.queue_delete(queue=q)
    ch.queue_delete(queue=f"task_queue-{RUN}")
    conn.close()


def across_restart(cmd):
    names = {k: f"{k}-{RUN}" for k in ("durable-persistent", "durable-transient", "plain-persistent", "plain-transient")}
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    for k, q in names.items():
        ch.queue_declare(queue=q, durable=k.startswith("durable"))
        mode = 2 if k.endswith("-persistent") else 1
        ch.basic_publish(exchange="", routing_key=q, body=k, properties=pika.BasicProperties(delivery_mode=mode))
    conn.close()
    print(f" [!] restarting the broker: {cmd}")
    subprocess.run(cmd, shell=True, check=True)
    for _ in range(120):
        try:
            conn = connect()
            break
        except AMQPConnectionError:
            time.sleep(0.5)
    ch = conn.channel()
    after = {}
    for k, q in names.items():
        try:
            after[k] = ch.queue_declare(queue=q, passive=True).method.message_count
        except ChannelClosedByBroker as e:
            after[k] = f"{e.reply_code}"
            ch = conn.channel()
        print(f" [*] after the restart {k}: {after[k]}")
    check(after["durable-persistent"] == 1, "durable queue + persistent message: the message survives")
    check(after["durable-transient"] == 0, "durable queue + transient message: the queue survives, empty")
    check(after["plain-persistent"] == "404", "non-durable queue + persistent message: queue and message gone (404)")
    check(after["plain-transient"] == "404", "non-durable queue + transient message: gone (404)")
    for k in ("durable-persistent", "durable-transient"):
        ch.queue_delete(queue=names[k])
    conn.close()


def main():
    redeclare_406()
    cmd = os.environ.get("RESTART_CMD")
    if cmd:
        across_restart(cmd)
    else:
        print(" [-] RESTART_CMD is not set: skipping the part across a broker restart")


if __name__ == "__main__":
    main()
    finish()
