#!/usr/bin/env python3
"""Lesson 15, connections and channels, against a real broker. (1) A channel error (404 for a missing queue, 406 for acking a delivery tag twice)
closes the channel, not the connection: the connection's exclusive queue survives and a new
channel works. (2) Heartbeats: a connection that does no I/O for longer than two heartbeat
intervals is closed by the broker; pika's connection.sleep() keeps it alive. Takes about 20 s.

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



def channel_errors():
    conn = connect()
    ch = conn.channel()
    inbox = f"inbox-{RUN}"
    ch.queue_declare(queue=inbox, exclusive=True)
    got = []
    ch.basic_consume(queue=inbox, auto_ack=True, on_message_callback=lambda c, m, p, b: got.append(b.decode()))
    pub = connect()
    pch = pub.channel()
    pch.basic_publish(exchange="", routing_key=inbox, body="one")
    pump([conn], 0.3)
    try:
        ch.queue_declare(queue=f"no-such-queue-{RUN}", passive=True)
    except ChannelClosedByBroker as e:
        print(f" [!] channel {ch.channel_number} closed by the broker: {e.reply_code} {e.reply_text}")
        check(e.reply_code == 404, "a passive declare of a missing queue is a channel error, 404")
    check(ch.is_closed and conn.is_open, "the channel is closed; the connection is still open")
    pch.basic_publish(exchange="", routing_key=inbox, body="two")
    time.sleep(0.3)
    ch = conn.channel()  # a new channel on the same connection
    ok = ch.queue_declare(queue=inbox, passive=True)
    check((ok.method.message_count, ok.method.consumer_count) == (1, 0),
          "the exclusive queue is still there (it belongs to the connection); its consumer went with the channel")
    m, _, body = ch.basic_get(queue=inbox)  # manual ack this time
    if body:
        got.append(body.decode())
    check(got == ["one", "two"], f"a new channel on the same connection reads 'two' ({got})")
    ch.basic_ack(delivery_tag=m.delivery_tag)
    ch.basic_ack(delivery_tag=m.delivery_tag)  # the bug: acking the same delivery twice
    try:
        ch.queue_declare(queue=inbox, passive=True)  # the error arrives with the next round trip
        check(False, "acking twice should close the channel")
    except ChannelClosedByBroker as e:
        print(f" [!] channel {ch.channel_number} closed by the broker: {e.reply_code} {e.reply_text}")
        check(e.reply_code == 406, "acking a delivery tag twice: 406, again only the channel")
    check(conn.is_open, "the connection survived both errors")
    conn.close()
    try:
        pch.queue_declare(queue=inbox, passive=True)
        check(False, "the exclusive queue should be gone with its connection")
    except ChannelClosedByBroker as e:
        check(e.reply_code == 404, "closing the connection deletes its exclusive queue")
    pub.close()


def heartbeats():
    conn = connect(heartbeat=2)
    print(" [*] heartbeat=2 s; now time.sleep(9): no I/O at all")
    time.sleep(9)
    try:
        conn.channel().queue_declare(queue="", exclusive=True)
        conn.process_data_events(time_limit=0.5)
        check(False, "the broker should have closed the silent connection")
    except pika.exceptions.AMQPError as e:
        print(f" [!] {type(e).__name__}: {e}")
        check(True, "the broker closed the connection that missed its heartbeats")
    conn = connect(heartbeat=2)
    print(" [*] heartbeat=2 s; now connection.sleep(9): pika keeps sending heartbeats")
    conn.sleep(9)
    ok = conn.channel().queue_declare(queue="", exclusive=True)
    check(conn.is_open and ok.method.queue.startswith("amq.gen-"), "with connection.sleep() the connection is alive")
    conn.close()


def main():
    channel_errors()
    heartbeats()


if __name__ == "__main__":
    main()
    finish()
