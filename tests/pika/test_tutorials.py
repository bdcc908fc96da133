#!/usr/bin/env python3
"""RabbitMQ's tutorials and a few server features, driven with pika against a
running warren (or RabbitMQ itself, to compare).

Usage:
  python3 test_tutorials.py --url amqp://guest:guest@127.0.0.1:PORT/%2F
                            [--kill-restart-cmd 'SHELL COMMAND']  # kill -9, then start again

Prints PASS/FAIL per check and last 'N passed, N failed'; exits 1 if any failed.
"""
import argparse
import subprocess
import sys
import threading
import time
import traceback
import uuid

import pika
from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker

URL = None
KILL_RESTART = None
RUN = uuid.uuid4().hex[:6]
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def name(base):
    return f"pika-{RUN}-{base}"


def connect():
    return pika.BlockingConnection(pika.URLParameters(URL))


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


def drain(conn, seconds=0.5, until=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        conn.process_data_events(time_limit=0.05)
        if until and until():
            return


QUORUM = {"x-queue-type": "quorum"}


@check
def hello_world_on_a_quorum_queue():
    conn = connect()
    ch = conn.channel()
    q = name("hello-q")
    ch.queue_declare(queue=q, durable=True, arguments=QUORUM)
    ch.basic_publish(exchange="", routing_key=q, body="Hello World!")
    got = []
    ch.basic_consume(queue=q, on_message_callback=lambda c, m, p, b: got.append(b), auto_ack=True)
    drain(conn, 2, lambda: got)
    expect(got == [b"Hello World!"], f"got {got}")
    ch.queue_delete(queue=q)
    conn.close()


@check
def work_queue_with_prefetch_and_acks():
    conn = connect()
    ch = conn.channel()
    q = name("task_queue")
    ch.queue_declare(queue=q, durable=True)
    ch.basic_qos(prefetch_count=1)
    for i in range(6):
        ch.basic_publish(exchange="", routing_key=q, body=f"task {i}",
                         properties=pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent))
    got = []

    def work(c, m, p, b):
        got.append(b.decode())
        c.basic_ack(delivery_tag=m.delivery_tag)

    ch.basic_consume(queue=q, on_message_callback=work)
    drain(conn, 3, lambda: len(got) == 6)
    expect(got == [f"task {i}" for i in range(6)], f"got {got}")
    ok = ch.queue_declare(queue=q, durable=True, passive=True)
    expect(ok.method.message_count == 0, "acked tasks are still queued")
    ch.queue_delete(queue=q)
    conn.close()


@check
def publish_subscribe_with_server_named_queues():
    ex = name("logs")
    subs = []
    for _ in range(3):
        c = connect()
        ch = c.channel()
        ch.exchange_declare(exchange=ex, exchange_type="fanout")
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        expect(q.startswith("amq.gen-"), q)
        ch.queue_bind(exchange=ex, queue=q)
        got = []
        ch.basic_consume(queue=q, on_message_callback=lambda c_, m, p, b, got=got: got.append(b), auto_ack=True)
        subs.append((c, got))
    pub = connect()
    pub.channel().basic_publish(exchange=ex, routing_key="", body="broadcast")
    for c, got in subs:
        drain(c, 2, lambda got=got: got)
        expect(got == [b"broadcast"], f"subscriber got {got}")
        c.close()
    pub.channel().exchange_delete(exchange=ex)
    pub.close()


@check
def routing_into_a_quorum_queue():
    conn = connect()
    ch = conn.channel()
    ex, q = name("direct_logs"), name("errors")
    ch.exchange_declare(exchange=ex, exchange_type="direct")
    ch.queue_declare(queue=q, durable=True, arguments=QUORUM)
    ch.queue_bind(exchange=ex, queue=q, routing_key="error")
    for sev in ("info", "error", "warning", "error"):
        ch.basic_publish(exchange=ex, routing_key=sev, body=sev)
    bodies = []
    while True:
        m, _, b = ch.basic_get(queue=q, auto_ack=True)
        if m is None:
            break
        bodies.append(b)
    expect(bodies == [b"error", b"error"], f"got {bodies}")
    ch.queue_delete(queue=q)
    ch.exchange_delete(exchange=ex)
    conn.close()


@check
def topics():
    conn = connect()
    ch = conn.channel()
    ex = name("topic_logs")
    ch.exchange_declare(exchange=ex, exchange_type="topic")
    q = ch.queue_declare(queue="", exclusive=True).method.queue
    for key in ("*.orange.*", "lazy.#"):
        ch.queue_bind(exchange=ex, queue=q, routing_key=key)
    for key in ("quick.orange.rabbit", "lazy.brown.fox", "quick.brown.fox", "lazy", "orange"):
        ch.basic_publish(exchange=ex, routing_key=key, body=key)
    bodies = []
    while True:
        m, _, b = ch.basic_get(queue=q, auto_ack=True)
        if m is None:
            break
        bodies.append(b.decode())
    expect(bodies == ["quick.orange.rabbit", "lazy.brown.fox", "lazy"], f"got {bodies}")
    ch.exchange_delete(exchange=ex)
    conn.close()


@check
def rpc_with_direct_reply_to():
    rpc_queue = name("rpc")
    ready, stop = threading.Event(), threading.Event()

    def server():
        c = connect()
        ch = c.channel()
        ch.queue_declare(queue=rpc_queue)

        def on_request(ch, m, p, b):
            ch.basic_publish(exchange="", routing_key=p.reply_to, body=str(int(b) * 2),
                             properties=pika.BasicProperties(correlation_id=p.correlation_id))
            ch.basic_ack(delivery_tag=m.delivery_tag)

        ch.basic_consume(queue=rpc_queue, on_message_callback=on_request)
        ready.set()
        while not stop.is_set():
            c.process_data_events(time_limit=0.05)
        ch.queue_delete(queue=rpc_queue)
        c.close()

    t = threading.Thread(target=server, daemon=True)
    t.start()
    ready.wait(5)
    conn = connect()
    ch = conn.channel()
    replies = {}
    ch.basic_consume(queue="amq.rabbitmq.reply-to", auto_ack=True,
                     on_message_callback=lambda c, m, p, b: replies.__setitem__(p.correlation_id, b))
    for n in range(5):
        ch.basic_publish(exchange="", routing_key=rpc_queue, body=str(n),
                         properties=pika.BasicProperties(reply_to="amq.rabbitmq.reply-to", correlation_id=str(n)))
    drain(conn, 5, lambda: len(replies) == 5)
    stop.set()
    t.join(5)
    expect(replies == {str(n): str(n * 2).encode() for n in range(5)}, f"replies {replies}")
    conn.close()


@check
def direct_reply_to_needs_a_consumer():
    conn = connect()
    ch = conn.channel()
    try:
        ch.basic_publish(exchange="", routing_key="anything", body="x",
                         properties=pika.BasicProperties(reply_to="amq.rabbitmq.reply-to"))
        ch.queue_declare(queue="", exclusive=True)
    except ChannelClosedByBroker as e:
        expect(e.reply_code == 406, f"got {e.reply_code}")
        conn.close()
        return
    raise AssertionError("publish with reply_to and no reply consumer was accepted")


@check
def one_mib_body():
    conn = connect()
    ch = conn.channel()
    q = name("big")
    ch.queue_declare(queue=q)
    body = bytes(range(256)) * 4096
    ch.basic_publish(exchange="", routing_key=q, body=body)
    m, _, got = ch.basic_get(queue=q, auto_ack=True)
    expect(got == body, "the body changed on the way")
    ch.queue_delete(queue=q)
    conn.close()


@check
def update_secret():
    conn = connect()
    conn.update_secret("guest", "rotation")
    ch = conn.channel()
    ch.queue_declare(queue="", exclusive=True)
    conn.close()


@check
def confirmed_messages_survive_kill_9():
    if not KILL_RESTART:
        return "skip: give --kill-restart-cmd"
    conn = connect()
    ch = conn.channel()
    ch.confirm_delivery()
    q, qq = name("crash"), name("crash-q")
    ch.queue_declare(queue=q, durable=True)
    ch.queue_declare(queue=qq, durable=True, arguments=QUORUM)
    for i in range(100):
        for target in (q, qq):
            ch.basic_publish(exchange="", routing_key=target, body=str(i),
                             properties=pika.BasicProperties(delivery_mode=2))
    subprocess.run(KILL_RESTART, shell=True, check=True)
    for _ in range(100):
        try:
            conn = connect()
            break
        except AMQPConnectionError:
            time.sleep(0.2)
    ch = conn.channel()
    for target in (q, qq):
        ok = ch.queue_declare(queue=target, durable=True, passive=True)
        expect(ok.method.message_count == 100, f"{target}: {ok.method.message_count} after kill -9, want 100")
        m, _, b = ch.basic_get(queue=target, auto_ack=True)
        expect(b == b"0", f"first message {b!r}")
        ch.queue_delete(queue=target)
    conn.close()


def main():
    global URL, KILL_RESTART
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--kill-restart-cmd")
    args = ap.parse_args()
    URL, KILL_RESTART = args.url, args.kill_restart_cmd
    passed = failed = skipped = 0
    for c in CHECKS:
        try:
            said = c()
        except Exception as e:
            failed += 1
            print(f"FAIL {c.__name__}: {e or repr(e)}", flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc(limit=3, file=sys.stdout)
            continue
        if isinstance(said, str) and said.startswith("skip"):
            skipped += 1
            print(f"SKIP {c.__name__}: {said[5:].strip()}", flush=True)
        else:
            passed += 1
            print(f"PASS {c.__name__}", flush=True)
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
