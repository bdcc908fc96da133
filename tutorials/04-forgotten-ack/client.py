#!/usr/bin/env python3
"""Lesson 4, the forgotten ack: messages pile up unacknowledged, against a real broker.
Also prints `rabbitmqctl list_queues name messages_ready messages_unacknowledged` for the
lesson's queues when rabbitmqctl can be run here (set RABBITMQCTL='' to skip it).

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Names get a random suffix so that runs never collide; everything is deleted at the end.
Exits 1 if the broker does not behave as the lesson says.
"""
import os
import sys
import time
import uuid

import shutil
import subprocess

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


def list_queues(names):
    """What rabbitmqctl shows for our queues, or None if rabbitmqctl is not usable here."""
    cmd = os.environ.get("RABBITMQCTL", shutil.which("rabbitmqctl") or "")
    if not cmd or not any(h in URL for h in ("@127.0.0.1", "@localhost", "//localhost", "//127.0.0.1")):
        return None
    try:
        out = subprocess.run(cmd.split() + ["-q", "list_queues", "name", "messages_ready", "messages_unacknowledged"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    rows = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in names:
            rows[parts[0]] = (int(parts[1]), int(parts[2]))
    return rows or None


def show(names, when):
    rows = list_queues(names)
    if rows is None:
        print(f" [*] ({when}) rabbitmqctl not available here; skipping its view")
        return None
    print(f" [*] ({when}) rabbitmqctl list_queues name messages_ready messages_unacknowledged")
    for n in names:
        if n in rows:
            print(f"     {n}\t{rows[n][0]}\t{rows[n][1]}")
    return rows


def main():
    q, qq = f"hello-{RUN}", f"hello-qos-{RUN}"
    prod = connect()
    pch = prod.channel()
    pch.confirm_delivery()
    pch.queue_declare(queue=q)
    pch.queue_declare(queue=qq)
    for n in range(6):
        pch.basic_publish(exchange="", routing_key=q, body=f"Hello World! {n}")
        pch.basic_publish(exchange="", routing_key=qq, body=f"qos {n}")
    show([q, qq], "before any consumer")

    forgetful = connect()
    fch = forgetful.channel()
    got = []
    # manual acks (auto_ack=False)... and the callback never calls basic_ack
    fch.basic_consume(queue=q, on_message_callback=lambda c, m, p, b: got.append(b.decode()))
    limited = connect()
    lch = limited.channel()
    lch.basic_qos(prefetch_count=2)
    got_l = []
    lch.basic_consume(queue=qq, on_message_callback=lambda c, m, p, b: got_l.append(b.decode()))
    pump([forgetful, limited], 1.0)
    print(f" [forgetful] received {len(got)} messages, acked none")
    print(f" [limited]   received {got_l} with prefetch_count=2, acked none")
    check(len(got) == 6, "the forgetful consumer is given all six messages")
    check(got_l == ["qos 0", "qos 1"], "with prefetch_count=2 it gets two messages and then nothing more")
    ready = pch.queue_declare(queue=q, passive=True).method.message_count
    check(ready == 0, f"queue.declare-ok counts only ready messages: {ready} ready in {q}")
    rows = show([q, qq], "while the consumers run")
    if rows:
        check(rows.get(q) == (0, 6), f"rabbitmqctl shows {q} 0 6")
        check(rows.get(qq) == (4, 2), f"rabbitmqctl shows {qq} 4 2")

    forgetful.close()  # the consumer exits: its unacked messages go back to the queue
    limited.close()
    time.sleep(0.3)
    ready = pch.queue_declare(queue=q, passive=True).method.message_count
    check(ready == 6, f"after it exits all six are ready again ({ready} ready)")
    rows = show([q, qq], "after the consumers exit")
    if rows:
        check(rows.get(q) == (6, 0), f"rabbitmqctl shows {q} 6 0")
    pch.queue_delete(queue=q)
    pch.queue_delete(queue=qq)
    prod.close()


if __name__ == "__main__":
    main()
    finish()
