#!/usr/bin/env python3
"""Lesson 3, acknowledgements: a worker dies mid-work and its unacked tasks go to another worker,
marked redelivered. The dying worker is a real child process, killed with SIGKILL.

Usage: python3 client.py [AMQP_URL]   (or set AMQP_URL)
Default URL: amqp://guest:guest@127.0.0.1:5672/%2F
Names get a random suffix so that runs never collide; everything is deleted at the end.
Exits 1 if the broker does not behave as the lesson says.
"""
import os
import sys
import time
import uuid

import signal
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


def worker1(queue):
    """Child process: takes tasks and 'works' on them forever, never acking."""
    conn = connect()
    ch = conn.channel()

    def callback(ch, method, properties, body):
        print(f"{body.decode()}|{method.redelivered}", flush=True)

    ch.basic_consume(queue=queue, on_message_callback=callback)  # manual acks (auto_ack=False)
    print("ready", flush=True)
    ch.start_consuming()


def main():
    q, qa = f"tasks-{RUN}", f"tasks-autoack-{RUN}"
    setup = connect()
    sch = setup.channel()
    sch.queue_declare(queue=q)
    sch.queue_declare(queue=qa)

    # worker1 subscribes first (so round-robin starts with it), in its own process
    child = subprocess.Popen([sys.executable, __file__, URL, "--worker1", q], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    # careless consumer: auto_ack=True, also a process we will kill
    careless = subprocess.Popen([sys.executable, __file__, URL, "--careless", qa], stdout=subprocess.PIPE, text=True)
    assert careless.stdout.readline().strip() == "ready"

    w2 = connect()
    wch = w2.channel()
    got2 = []

    def callback(ch, method, properties, body):
        print(f" [worker2] received {body.decode()!r} redelivered={method.redelivered}")
        got2.append((body.decode(), method.redelivered))
        ch.basic_ack(delivery_tag=method.delivery_tag)

    wch.basic_consume(queue=q, on_message_callback=callback)

    for n in range(4):
        sch.basic_publish(exchange="", routing_key=q, body=f"job {n}")
    for n in range(2):
        sch.basic_publish(exchange="", routing_key=qa, body=f"auto {n}")
    got1 = [child.stdout.readline().strip().split("|") for _ in range(2)]
    for body, redelivered in got1:
        print(f" [worker1] received {body!r} redelivered={redelivered}, working on it...")
    gotc = [careless.stdout.readline().strip().split("|")[0] for _ in range(2)]
    print(f" [careless] received {gotc} (auto_ack)")
    pump([w2], 0.5)
    check([b for b, _ in got1] == ["job 0", "job 2"], "worker1 is given jobs 0 and 2")
    check(got2 == [("job 1", False), ("job 3", False)], "worker2 is given jobs 1 and 3")
    ok = sch.queue_declare(queue=q, passive=True)
    print(f" [*] before the crash: {ok.method.message_count} ready in {q}")

    print(" [!] kill -9 worker1 and careless")
    child.send_signal(signal.SIGKILL)
    careless.send_signal(signal.SIGKILL)
    child.wait()
    careless.wait()
    deadline = time.time() + 5
    while len(got2) < 4 and time.time() < deadline:
        w2.process_data_events(time_limit=0.1)
    check(got2[2:] == [("job 0", True), ("job 2", True)], "worker2 then gets jobs 0 and 2, marked redelivered")
    pump([w2], 0.3)
    ok = sch.queue_declare(queue=q, passive=True)
    check(ok.method.message_count == 0, "nothing is left in the queue: no job was lost")
    time.sleep(0.5)
    ok = sch.queue_declare(queue=qa, passive=True)
    check(gotc == ["auto 0", "auto 1"] and ok.method.message_count == 0,
          f"the auto-ack messages are gone for good ({ok.method.message_count} left in {qa})")
    sch.queue_delete(queue=q)
    sch.queue_delete(queue=qa)
    w2.close()
    setup.close()


def careless_worker(queue):
    conn = connect()
    ch = conn.channel()
    ch.basic_consume(queue=queue, auto_ack=True,
                     on_message_callback=lambda c, m, p, b: print(f"{b.decode()}|{m.redelivered}", flush=True))
    print("ready", flush=True)
    ch.start_consuming()


if len(sys.argv) > 3 and sys.argv[2] == "--worker1":
    worker1(sys.argv[3])
if len(sys.argv) > 3 and sys.argv[2] == "--careless":
    careless_worker(sys.argv[3])


if __name__ == "__main__":
    main()
    finish()
