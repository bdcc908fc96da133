#!/usr/bin/env python3
"""Lesson 8, routing with a direct exchange, against a real broker: 'disk' is bound with 'error',
'console' with 'info', 'warning' and 'error'.

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



def drain(ch, q):
    out = []
    while True:
        m, _, body = ch.basic_get(queue=q, auto_ack=True)
        if m is None:
            return out
        out.append((m.routing_key, body.decode()))


def main():
    ex, disk, console = f"direct_logs-{RUN}", f"disk-{RUN}", f"console-{RUN}"
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare(exchange=ex, exchange_type="direct")
    ch.queue_declare(queue=disk)
    ch.queue_declare(queue=console)
    ch.queue_bind(exchange=ex, queue=disk, routing_key="error")
    for severity in ("info", "warning", "error"):  # several bindings for one queue
        ch.queue_bind(exchange=ex, queue=console, routing_key=severity)
    for severity, msg in [("info", "info: user logged in"), ("warning", "warning: disk 80% full"),
                          ("error", "error: disk full"), ("debug", "debug: x=1"), ("ERROR", "ERROR: shouting")]:
        ch.basic_publish(exchange=ex, routing_key=severity, body=msg)
        print(f" [x] Sent {severity!r}:{msg!r}")
    got_disk, got_console = drain(ch, disk), drain(ch, console)
    for rk, body in got_disk:
        print(f" [disk]    {rk!r}:{body!r}")
    for rk, body in got_console:
        print(f" [console] {rk!r}:{body!r}")
    check([b for _, b in got_disk] == ["error: disk full"], "'disk' gets only the error")
    check([b for _, b in got_console] == ["info: user logged in", "warning: disk 80% full", "error: disk full"],
          "'console' gets info, warning and error")
    check(not any("debug" in b or "ERROR" in b for _, b in got_disk + got_console),
          "'debug' and 'ERROR' match no binding and are dropped")
    ch.queue_delete(queue=disk)
    ch.queue_delete(queue=console)
    ch.exchange_delete(exchange=ex)
    conn.close()


if __name__ == "__main__":
    main()
    finish()
