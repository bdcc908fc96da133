#!/usr/bin/env python3
"""Lesson 13, unroutable messages, against a real broker: dropped silently, returned with
mandatory=True (basic.return 312 NO_ROUTE), or caught by an alternate exchange.

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
    orders, orders2, unrouted = f"orders-{RUN}", f"orders2-{RUN}", f"unrouted-{RUN}"
    orders_new, unrouted_q = f"orders-new-{RUN}", f"unrouted-q-{RUN}"
    conn = connect()
    ch = conn.channel()
    ch.exchange_declare(exchange=orders, exchange_type="direct")
    ch.exchange_declare(exchange=unrouted, exchange_type="fanout")
    ch.exchange_declare(exchange=orders2, exchange_type="direct", arguments={"alternate-exchange": unrouted})
    ch.queue_declare(queue=orders_new)
    ch.queue_declare(queue=unrouted_q)
    ch.queue_bind(exchange=orders, queue=orders_new, routing_key="new")
    ch.queue_bind(exchange=orders2, queue=orders_new, routing_key="new")
    ch.queue_bind(exchange=unrouted, queue=unrouted_q)

    returned = []

    def on_return(ch, method, props, body):
        print(f" [!] returned: {body.decode()!r} {method.reply_code} {method.reply_text}")
        returned.append((body.decode(), method.reply_code, method.reply_text))

    ch.add_on_return_callback(on_return)
    ch.basic_publish(exchange=orders, routing_key="new", body="order 1")
    ch.basic_publish(exchange=orders, routing_key="cancelled", body="silently dropped")
    ch.basic_publish(exchange=orders, routing_key="cancelled", body="returned to sender", mandatory=True)
    ch.basic_publish(exchange=orders2, routing_key="new", body="order 2")
    ch.basic_publish(exchange=orders2, routing_key="cancelled", body="caught by the alternate exchange", mandatory=True)
    pump([conn], 0.5)
    check(returned == [("returned to sender", 312, "NO_ROUTE")], "only the mandatory message with no route comes back: 312 NO_ROUTE")

    # With publisher confirms, an unroutable message is still acked: the broker has dealt with it.
    cch = conn.channel()
    cch.confirm_delivery()
    try:
        cch.basic_publish(exchange=orders, routing_key="cancelled", body="dropped, but acked")
        check(True, "an unroutable message (not mandatory) is confirmed with an ack all the same")
    except pika.exceptions.NackError:
        check(False, "an unroutable message should be acked, not nacked")

    def drain(q):
        out = []
        while True:
            m, _, b = ch.basic_get(queue=q, auto_ack=True)
            if m is None:
                return out
            out.append((b.decode(), m.exchange == orders2, m.routing_key))

    got_new, got_unrouted = drain(orders_new), drain(unrouted_q)
    print(f" [*] {orders_new}: {[b for b, _, _ in got_new]}\n [*] {unrouted_q}: {[b for b, _, _ in got_unrouted]}")
    check([b for b, _, _ in got_new] == ["order 1", "order 2"], "routable orders reach their queue")
    check(got_unrouted == [("caught by the alternate exchange", True, "cancelled")],
          "the alternate exchange caught the unroutable one, keeping its exchange and routing key")
    for q in (orders_new, unrouted_q):
        ch.queue_delete(queue=q)
    for e in (orders, orders2, unrouted):
        ch.exchange_delete(exchange=e)
    conn.close()


if __name__ == "__main__":
    main()
    finish()
