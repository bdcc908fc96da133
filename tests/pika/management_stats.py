#!/usr/bin/env python3
"""The management API's statistics, observed with pika the same way on any broker.

Runs one fixed sequence of publishes, gets, acks, rejects, dead-letters and
declares, waits for the broker to sample its statistics, and prints what the
management API then shows (message_stats of queues, exchanges and channels,
the vhost's totals against the node's) as JSON, once two reads a
sample apart agree (RabbitMQ's statistics arrive late, and not all at once).
tests/differential-ci.sh runs it against RabbitMQ 3.10 and `warren serve` and
fails on any difference: the output must be the same line for line.

usage: management_stats.py AMQP_PORT HTTP_PORT SAMPLE_SECONDS
"""

import base64
import json
import os
import sys
import time
import urllib.request

import pika

HOST = "127.0.0.1"
AMQP_PORT, HTTP_PORT, SAMPLE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])


def api(path):
    req = urllib.request.Request(f"http://{HOST}:{HTTP_PORT}/api/{path}")
    req.add_header("Authorization", "Basic " + base64.b64encode(b"guest:guest").decode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


# RabbitMQ 3.10 shows these two inconsistently (0 on one node, the count on
# another, for the same steps): compared for presence, not value.
UNSTEADY = {"get_empty", "drop_unroutable"}


def counts(stats):
    """message_stats without the rates (they depend on timing)."""
    if not isinstance(stats, dict):
        return stats
    return {
        k: ("present" if k in UNSTEADY else v)
        for k, v in sorted(stats.items())
        if not k.endswith("_details")
    }


def wait_for_depth(ch, queue, n):
    """RabbitMQ dead-letters asynchronously: wait until `queue` holds n messages."""
    deadline = time.time() + 5
    while time.time() < deadline:
        if ch.queue_declare(queue, passive=True).method.message_count == n:
            return
        time.sleep(0.05)
    raise SystemExit(f"{queue} never held {n} message(s)")


# Fresh names every run: RabbitMQ may show a deleted queue's statistics on a
# new queue of the same name for a while.
RUN = f"{os.getpid()}{int(time.time() * 1000) % 100000}"
QUEUES = ["a", "b", "dlq", "dl", "idle", "raft"]
EXCHANGES = ["fan", "x1", "x2", "dlx", "direct"]


def n(short):
    return f"ms-{RUN}-{short}"


def observe(connection_name):
    """What the management API shows now, keyed by short names. Not queue
    depths: RabbitMQ 3.10 may show an idle queue's depth from before its last
    publish for good (Warren's are always current, as every server test checks)."""
    seen = {}
    for q in ["a", "b", "dlq", "dl"]:
        info = api(f"queues/%2F/{n(q)}")
        seen[f"queue {q}"] = counts(info.get("message_stats"))
    for x in EXCHANGES:
        seen[f"exchange {x}"] = counts(api(f"exchanges/%2F/{n(x)}").get("message_stats"))
    mine = [c["name"] for c in api("connections") if c.get("user_provided_name") == connection_name]
    for c in sorted(api("channels"), key=lambda c: c["number"]):
        if c["connection_details"]["name"] in mine:
            seen[f"channel {c['number']}"] = counts(c.get("message_stats"))
    seen["idle_since: quorum"] = "idle_since" in api(f"queues/%2F/{n('raft')}")
    return seen


def steady(look, complete=lambda seen: True):
    """RabbitMQ's figures arrive late and not all at once: read until they are
    complete and two reads a sample apart agree (Warren's do at once), for 60 s
    at most."""
    deadline = time.time() + 60
    before = look()
    while True:
        time.sleep(SAMPLE + 0.5)
        now = look()
        if (now == before and complete(now)) or time.time() > deadline:
            return now
        before = now


def everything_counted(seen):
    """Every object the steps touched shows statistics."""
    touched = [f"queue {q}" for q in ["a", "b", "dlq", "dl"]]
    touched += [f"exchange {x}" for x in ["fan", "x1", "direct"]]
    touched += [f"channel {c}" for c in [2, 3, 4, 5]]
    return all(seen.get(k) for k in touched)


params = pika.ConnectionParameters(HOST, AMQP_PORT, client_properties={"connection_name": f"ms-{RUN}"})
conn = pika.BlockingConnection(params)
admin = conn.channel()
admin.exchange_declare(n("fan"), "fanout")
admin.exchange_declare(n("x1"), "fanout")
admin.exchange_declare(n("x2"), "fanout")
admin.exchange_declare(n("dlx"), "fanout")
admin.exchange_declare(n("direct"), "direct")
for q in [n("a"), n("b"), n("dlq"), n("idle")]:
    admin.queue_declare(q)
admin.queue_declare(n("dl"), arguments={"x-dead-letter-exchange": n("dlx")})
admin.queue_declare(n("raft"), durable=True, arguments={"x-queue-type": "quorum"})
admin.queue_declare(n("a"), passive=True)
admin.queue_bind(n("a"), n("fan"))
admin.queue_bind(n("b"), n("fan"))
admin.exchange_bind(n("x2"), n("x1"))
admin.queue_bind(n("a"), n("x2"))
admin.queue_bind(n("dlq"), n("dlx"))

publisher = conn.channel()
publisher.basic_publish(n("fan"), "", b"1")
publisher.basic_publish(n("x1"), "", b"2")
publisher.basic_publish("", n("dl"), b"3")
publisher.basic_publish(n("direct"), "nowhere", b"dropped")

getter = conn.channel()
m = getter.basic_get(n("dl"))
getter.basic_reject(m[0].delivery_tag, requeue=False)
wait_for_depth(admin, n("dlq"), 1)
d = getter.basic_get(n("dlq"))
getter.basic_ack(d[0].delivery_tag)
nacked = getter.basic_get(n("a"))
getter.basic_nack(nacked[0].delivery_tag, requeue=True)
getter.basic_get(n("b"), auto_ack=True)
getter.basic_get(n("b"), auto_ack=True)

confirming = conn.channel()
confirming.confirm_delivery()
confirming.basic_publish(n("fan"), "", b"4")
try:
    confirming.basic_publish(n("direct"), "nowhere", b"returned", mandatory=True)
except pika.exceptions.UnroutableError:
    pass

consumer = conn.channel()
consumer.basic_qos(prefetch_count=10)
got = []
consumer.basic_consume(n("a"), lambda ch, method, props, body: got.append(method.delivery_tag))
deadline = time.time() + 5
while len(got) < 3 and time.time() < deadline:
    conn.process_data_events(0.1)
consumer.basic_ack(got[-1], multiple=True)
conn.process_data_events(0.2)

out = steady(lambda: observe(f"ms-{RUN}"), everything_counted)

for q in QUEUES:
    admin.queue_delete(n(q))
for x in EXCHANGES:
    admin.exchange_delete(n(x))
conn.close()


def totals():
    """The one vhost's totals against the node's (without its disk figures),
    the closed connection's counts included."""
    node = {k: v for k, v in counts(api("overview")["message_stats"]).items() if not k.startswith("disk_")}
    return counts(api("vhosts/%2F")["message_stats"]) == node


out["vhost totals are the node's"] = steady(totals)

for key, value in out.items():
    print(key, json.dumps(value, sort_keys=True))
