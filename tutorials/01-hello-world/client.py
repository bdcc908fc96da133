#!/usr/bin/env python3
"""Lesson 1, hello world, against a real broker.

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Queue names get a random suffix so that runs never collide; everything is deleted at the end.
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
    print(("   ok: " if ok else " FAIL: ") + what)
    if not ok:
        problems.append(what)


def connect():
    return pika.BlockingConnection(pika.URLParameters(URL))


def main():
    hello, helo = f"hello-{RUN}", f"helo-{RUN}"

    # --- send.py ---
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()  # each publish waits until the broker has taken the message
    ch.queue_declare(queue=hello)
    ch.basic_publish(exchange="", routing_key=hello, body="Hello World!")
    print(f" [x] Sent 'Hello World!' to {hello}")
    ch.basic_publish(exchange="", routing_key=helo, body="Hello typo!")  # no such queue
    print(f" [x] Sent 'Hello typo!' to {helo} (a queue nobody declared)")
    conn.close()

    # --- receive.py, started later ---
    conn = connect()
    ch = conn.channel()
    ok = ch.queue_declare(queue=hello)  # declaring again is harmless
    print(f" [*] queue.declare-ok: {ok.method.message_count} message(s) waiting, {ok.method.consumer_count} consumer(s)")
    check(ok.method.message_count == 1, "one message is waiting in the queue before anyone consumes")

    got = []

    def callback(ch, method, properties, body):
        print(f" [x] Received {body.decode()!r} (exchange={method.exchange!r}, routing_key={method.routing_key!r})")
        got.append((body.decode(), method.exchange, method.routing_key, method.redelivered))

    ch.basic_consume(queue=hello, on_message_callback=callback, auto_ack=True)
    deadline = time.time() + 2
    while not got and time.time() < deadline:
        conn.process_data_events(time_limit=0.1)
    check([g[0] for g in got] == ["Hello World!"], "the consumer receives exactly 'Hello World!'")
    check(bool(got) and got[0][1:] == ("", hello, False), "it came through the default exchange '' with the queue's name as routing key")

    # The typo: the default exchange found no queue named helo-..., so the message was dropped.
    ch2 = conn.channel()
    try:
        ch2.queue_declare(queue=helo, passive=True)
        check(False, f"{helo} should not exist")
    except ChannelClosedByBroker as e:
        print(f" [*] passive declare of {helo}: {e.reply_code} {e.reply_text}")
        check(e.reply_code == 404, "the mistyped queue does not exist: the message to it was dropped silently")
    ch.queue_delete(queue=hello)
    conn.close()


if __name__ == "__main__":
    main()
    if problems:
        print(f"MISMATCH: {len(problems)} observation(s) differ from the lesson")
        sys.exit(1)
    print("All observations match the lesson.")
