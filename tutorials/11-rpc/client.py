#!/usr/bin/env python3
"""Lesson 11, RPC over RabbitMQ, against a real broker: a fib server (prefetch_count=1) in a
thread; a client with an exclusive callback queue, reply_to and correlation_id; then the same calls
with direct reply-to (reply_to='amq.rabbitmq.reply-to', no callback queue at all).

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Names get a random suffix so that runs never collide; everything is deleted at the end.
Exits 1 if the broker does not behave as the lesson says.
"""
import os
import sys
import time
import uuid

import threading

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


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def server(rpc_queue, ready, stop, errors):
    try:
        conn = connect()
        ch = conn.channel()
        ch.queue_declare(queue=rpc_queue)

        def on_request(ch, method, props, body):
            n = int(body)
            print(f" [.] server: fib({n}), reply to {props.reply_to[:30]}...")
            ch.basic_publish(exchange="", routing_key=props.reply_to,
                             properties=pika.BasicProperties(correlation_id=props.correlation_id),
                             body=str(fib(n)))
            ch.basic_ack(delivery_tag=method.delivery_tag)

        ch.basic_qos(prefetch_count=1)
        ch.basic_consume(queue=rpc_queue, on_message_callback=on_request)
        ready.set()
        while not stop.is_set():
            conn.process_data_events(time_limit=0.05)
        ch.queue_delete(queue=rpc_queue)
        conn.close()
    except Exception as e:
        errors.append(repr(e))
        ready.set()


class FibonacciRpcClient:
    def __init__(self, rpc_queue, direct=False):
        self.rpc_queue = rpc_queue
        self.connection = connect()
        self.channel = self.connection.channel()
        if direct:
            # Direct reply-to: consume the pseudo-queue (auto_ack=True is required) before publishing.
            self.callback_queue = "amq.rabbitmq.reply-to"
        else:
            self.callback_queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response, auto_ack=True)
        self.responses = {}

    def on_response(self, ch, method, props, body):
        self.responses[props.correlation_id] = int(body)

    def send(self, n):
        corr_id = str(uuid.uuid4())
        self.channel.basic_publish(exchange="", routing_key=self.rpc_queue, body=str(n),
                                   properties=pika.BasicProperties(reply_to=self.callback_queue, correlation_id=corr_id))
        return corr_id

    def wait(self, corr_ids, seconds=5):
        deadline = time.time() + seconds
        while not all(c in self.responses for c in corr_ids) and time.time() < deadline:
            self.connection.process_data_events(time_limit=0.05)
        return [self.responses.get(c) for c in corr_ids]


def main():
    rpc_queue = f"rpc_queue-{RUN}"
    ready, stop, errors = threading.Event(), threading.Event(), []
    t = threading.Thread(target=server, args=(rpc_queue, ready, stop, errors), daemon=True)
    t.start()
    ready.wait(5)
    try:
        client, other = FibonacciRpcClient(rpc_queue), FibonacciRpcClient(rpc_queue)
        print(f" [x] client's callback queue: {client.callback_queue}; other's: {other.callback_queue}")
        ids = [client.send(10)]
        other_id = other.send(30)
        ids += [client.send(15), client.send(20)]
        got = client.wait(ids)
        got_other = other.wait([other_id])
        print(f" [.] client got {got}; other got {got_other}")
        check(got == [55, 610, 6765], "client gets fib(10), fib(15), fib(20) = 55, 610, 6765, matched by correlation_id")
        check(got_other == [832040], "other gets only its own answer, fib(30) = 832040")
        check(set(client.responses) == set(ids), "client's callback queue never saw other's reply")

        direct = FibonacciRpcClient(rpc_queue, direct=True)
        ids = [direct.send(n) for n in (7, 8)]
        got = direct.wait(ids)
        print(f" [.] direct reply-to client got {got}")
        check(got == [13, 21], "with amq.rabbitmq.reply-to the replies come back without any callback queue")
        for c in (client, other, direct):
            c.connection.close()
    finally:
        stop.set()
        t.join(5)
    check(not errors, f"the server ran without errors {errors or ''}")


if __name__ == "__main__":
    main()
    finish()
