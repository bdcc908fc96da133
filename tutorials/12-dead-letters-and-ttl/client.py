#!/usr/bin/env python3
"""Lesson 12, dead letters and TTL, against a real broker: messages that are rejected, pushed
out by x-max-length, nacked too often on a quorum queue (x-delivery-limit) or expired
(x-message-ttl) all end in one dead-letter queue, each with an x-death header saying why.

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
    dlx, dead = f"dlx-{RUN}", f"dead-{RUN}"
    strict, short, jobs, delay = (f"{n}-{RUN}" for n in ("strict", "short", "jobs", "delay"))
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    ch.exchange_declare(exchange=dlx, exchange_type="fanout")
    ch.queue_declare(queue=dead)
    ch.queue_bind(exchange=dlx, queue=dead)
    ch.queue_declare(queue=strict, arguments={"x-dead-letter-exchange": dlx})
    ch.queue_declare(queue=short, arguments={"x-max-length": 2, "x-dead-letter-exchange": dlx})
    ch.queue_declare(queue=jobs, durable=True,
                     arguments={"x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": dlx})
    ch.queue_declare(queue=delay, arguments={"x-message-ttl": 1000, "x-dead-letter-exchange": dlx})

    wconn = connect()
    wch = wconn.channel()
    seen = []

    def reject(c, m, p, b):
        c.basic_reject(delivery_tag=m.delivery_tag, requeue=False)

    def nack_again(c, m, p, b):  # the poison message fails every time
        count = (p.headers or {}).get("x-delivery-count")
        print(f" [worker] got {b.decode()!r} redelivered={m.redelivered} x-delivery-count={count}; nack(requeue=True)")
        seen.append(count)
        c.basic_nack(delivery_tag=m.delivery_tag, requeue=True)

    wch.basic_consume(queue=strict, on_message_callback=reject)
    wch.basic_consume(queue=jobs, on_message_callback=nack_again)

    ch.basic_publish(exchange="", routing_key=delay, body="late")
    ch.basic_publish(exchange="", routing_key=strict, body="refused")
    for n in range(3):
        ch.basic_publish(exchange="", routing_key=short, body=f"m{n}")
    ch.basic_publish(exchange="", routing_key=jobs, body="poison", properties=pika.BasicProperties(delivery_mode=2))
    pump([wconn], 0.6)
    left = ch.queue_declare(queue=delay, passive=True).method.message_count
    check(left == 1, f"'late' is still waiting in delay before its TTL is up ({left} there)")
    pump([wconn], 1.0)
    check(len(seen) == 3, f"the worker sees 'poison' three times, then the queue gives up ({len(seen)} times)")
    check(seen[1:] == [1, 2], f"redeliveries carry x-delivery-count 1, 2 (got {seen})")
    left = ch.queue_declare(queue=short, passive=True).method.message_count
    check(left == 2, f"'short' keeps two messages ({left})")

    got = {}
    while True:
        m, props, body = ch.basic_get(queue=dead, auto_ack=True)
        if m is None:
            break
        death = props.headers["x-death"][0]
        got[body.decode()] = death
        print(f" [dead] {body.decode()!r} from queue {death['queue']}: reason {death['reason']!r}, count {death['count']},"
              f" routing key {m.routing_key!r} via {m.exchange}")
    reasons = {b: (d["reason"], d["queue"]) for b, d in got.items()}
    check(reasons == {"refused": ("rejected", strict), "m0": ("maxlen", short),
                      "poison": ("delivery_limit", jobs), "late": ("expired", delay)},
          "four dead letters: rejected, maxlen, delivery_limit, expired")
    for q in (dead, strict, short, jobs, delay):
        ch.queue_delete(queue=q)
    ch.exchange_delete(exchange=dlx)
    wconn.close()
    conn.close()


if __name__ == "__main__":
    main()
    finish()
