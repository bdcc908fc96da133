#!/usr/bin/env python3
"""Lesson 16, competing consumers vs publish/subscribe, against a real broker: two consumers on
one shared queue split the events; two subscribers with a queue each both get every event.

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
    ex = f"events-{RUN}"
    billing, audit, mailer = (f"{n}-{RUN}" for n in ("billing", "audit", "mailer"))
    setup = connect()
    sch = setup.channel()
    sch.exchange_declare(exchange=ex, exchange_type="fanout")
    for q in (billing, audit, mailer):
        sch.queue_declare(queue=q)
        sch.queue_bind(exchange=ex, queue=q)
    got = {}
    conns = []
    for me, q in (("billing-1", billing), ("billing-2", billing), ("audit", audit), ("mailer", mailer)):
        c = connect()
        conns.append(c)
        got[me] = []

        def cb(ch, method, props, body, me=me):
            got[me].append(body.decode())
            ch.basic_ack(delivery_tag=method.delivery_tag)

        c.channel().basic_consume(queue=q, on_message_callback=cb)
    for n in range(4):
        sch.basic_publish(exchange=ex, routing_key="", body=f"order {n}")
    pump(conns, 1.0)
    for me, bodies in got.items():
        print(f" [{me:>9}] {bodies}")
    check(got["billing-1"] == ["order 0", "order 2"] and got["billing-2"] == ["order 1", "order 3"],
          "the two billing instances share one queue: each order goes to one of them")
    every = [f"order {n}" for n in range(4)]
    check(got["audit"] == every and got["mailer"] == every, "audit and mailer each have a queue: each gets every order")
    check(sum(len(b) for b in got.values()) == 12, "4 orders, 12 deliveries")
    for q in (billing, audit, mailer):
        sch.queue_delete(queue=q)
    sch.exchange_delete(exchange=ex)
    for c in conns + [setup]:
        c.close()


if __name__ == "__main__":
    main()
    finish()
