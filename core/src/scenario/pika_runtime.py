# ---------------------------------------------------------------------------
# The runtime: plays SCRIPT on a real clock (1 scenario ms = 1 real ms) and
# checks EXPECT. One thread drives every client: each client has its own
# BlockingConnection, and between steps the loop lets every connection handle
# what arrived (deliveries, returns, broker closes). pika's BlockingConnection
# is not thread-safe, so one loop is simpler and safer than one thread each.
# ---------------------------------------------------------------------------

import collections
import datetime
import os
import re
import socket
import struct
import subprocess
import sys
import time

import pika
import pika.data
import pika.exceptions as pe

# pika cannot put a float in a field table, but a scenario can (a JSON number
# with a fraction) and RabbitMQ takes it as an AMQP double ('d'). Teach pika's
# table encoder that one type; everything else is pika's own encoding.
_pika_encode_value = pika.data.encode_value


def _encode_value_with_doubles(pieces, value):
    if isinstance(value, float):
        pieces.append(struct.pack(">cd", b"d", value))
        return 9
    return _pika_encode_value(pieces, value)


pika.data.encode_value = _encode_value_with_doubles

URL = sys.argv[1] if len(sys.argv) > 1 else "amqp://guest:guest@localhost:5672/%2F"
RESTART_CMD = os.environ.get("RESTART_CMD")
QUIET_S = 0.3  # the run is over once nothing has happened for this long
FIGURES_MARGIN_S = 0.025  # let broker timers due at a time fire before reading figures

BASE = pika.URLParameters(URL)
VARS = {}  # names saved with "as", used as "$name"
EVENTS = []  # what clients observed: dicts with "kind" and "client"
NOTES = []
FIGURES = {}  # (expectation index) -> ("found", ready, consumers) | ("missing",) | ("unobservable", why)


class Clock:
    """Scenario time in ms; a broker restart does not count."""

    def __init__(self):
        self.start = time.monotonic()
        self.paused = 0.0

    def now_ms(self):
        return (time.monotonic() - self.start - self.paused) * 1000.0

    def real_of(self, at_ms):
        return self.start + self.paused + at_ms / 1000.0


CLOCK = Clock()
LAST_ACTIVITY = [time.monotonic()]


def observe(kind, client, **fields):
    fields.update(kind=kind, client=client)
    EVENTS.append(fields)
    LAST_ACTIVITY[0] = time.monotonic()


def note(text):
    NOTES.append(text)
    print("note:", text)


def resolve(name):
    """`$name` is a name saved with "as"; anything else is itself."""
    if isinstance(name, str) and name.startswith("$"):
        return VARS.get(name[1:], name)
    return name


def text_of(body):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


def params_for(spec):
    """The broker's own login and vhost stand for the scenario's defaults."""
    p = pika.URLParameters(URL)
    if spec.get("user", "guest") != "guest" or spec.get("password", "guest") != "guest":
        p.credentials = pika.PlainCredentials(spec.get("user", "guest"), spec.get("password", "guest"))
    if spec.get("vhost", "/") != "/":
        p.virtual_host = spec["vhost"]
    return p


def close_reason(exc):
    """(code, text) of a broker close anywhere in an exception's chain."""
    seen = 0
    todo = [exc]
    while todo and seen < 20:
        e = todo.pop(0)
        seen += 1
        if hasattr(e, "reply_code") and hasattr(e, "reply_text"):
            return e.reply_code, e.reply_text
        if isinstance(e, str):
            # pika wraps a refusal during connection.open in text: "(530) 'NOT_ALLOWED - ...'"
            m = re.search(r"\((\d{3})\) '(.*)'", e)
            if m:
                return int(m.group(1)), m.group(2)
        if isinstance(e, BaseException):
            todo.extend(a for a in e.args if isinstance(a, (BaseException, str)))
            if e.__cause__ is not None:
                todo.append(e.__cause__)
    if any(isinstance(e, pe.ProbableAuthenticationError) for e in [exc]) or "Authentication" in repr(exc):
        return 403, ("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. "
                     "For details see the broker logfile.")
    return 0, repr(exc)


class Client:
    """One scenario client: a connection with one channel at a time and a
    single worker that processes deliveries one by one, as the simulator's."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.conn = None
        self.ch = None
        self.generation = 0  # bumped when the channel goes: its pending work is dropped
        self.pending = collections.deque()
        self.current = None  # (done_at, work)
        self.gone = set()  # consumer tags the broker cancelled
        self.rpc_queue = None
        self.rpc_calls = 0
        self.confirming = False

    def lost_channel(self):
        self.ch = None
        self.rpc_queue = None
        self.confirming = False
        self.generation += 1
        self.pending.clear()
        self.current = None

    def lost_connection(self):
        self.lost_channel()
        self.conn = None

    def connect(self):
        try:
            self.conn = pika.BlockingConnection(params_for(self.spec))
        except Exception as e:  # a refused login or vhost is what the scenario observes
            code, text = close_reason(e)
            observe("error", self.name, code=code, text=text)
            self.conn = None
            return False
        return True

    def channel(self):
        """An open channel, connecting first if needed; None if refused."""
        if self.conn is None or not self.conn.is_open:
            self.lost_connection()
            if not self.connect():
                return None
        if self.ch is None or not self.ch.is_open:
            self.lost_channel()
            self.ch = self.conn.channel()
            self.ch.add_on_return_callback(self.on_return)
            self.ch.add_on_cancel_callback(self.on_cancel)
        return self.ch

    def on_return(self, _ch, _method, _props, body):
        observe("returned", self.name, body=text_of(body))

    def on_cancel(self, method):
        self.gone.add(method.method.consumer_tag)

    def broker_closed(self, e):
        """Records a channel or connection close by the broker."""
        code, text = close_reason(e)
        observe("error", self.name, code=code, text=text)
        if isinstance(e, pe.ConnectionClosed) or self.conn is None or not self.conn.is_open:
            self.lost_connection()
        else:
            self.lost_channel()

    def pump(self):
        """Lets the connection handle what arrived, then runs due work."""
        if self.conn is not None and self.conn.is_open:
            try:
                self.conn.process_data_events(time_limit=0)
            except (pe.ChannelClosedByBroker, pe.ConnectionClosedByBroker) as e:
                self.broker_closed(e)
            except pe.AMQPError as e:
                if not RESTARTING[0]:
                    note(f"{self.name}: connection lost: {e!r}")
                self.lost_connection()
        while True:
            if self.current is None and self.pending:
                work = self.pending.popleft()
                self.current = (time.monotonic() + work["plan"].get("processing_ms", 0) / 1000.0, work)
            if self.current is None or time.monotonic() < self.current[0]:
                return
            work = self.current[1]
            self.current = None
            self.settle(work)

    def settle(self, work):
        """Processing is done: reply (RPC server), then ack/nack/reject."""
        plan, ch = work["plan"], work["ch"]
        if work["generation"] != self.generation or not ch.is_open or work["tag"] in self.gone:
            return  # the channel it came on is gone: the broker requeued it
        try:
            props = work["props"]
            if plan.get("reply") and props.reply_to:
                answer = compute_reply(plan["reply"], text_of(work["body"]))
                ch.basic_publish("", props.reply_to, answer.encode(),
                                 pika.BasicProperties(correlation_id=props.correlation_id))
            if plan.get("auto_ack"):
                return
            how = plan.get("on_message", "ack")
            if how == "ack":
                ch.basic_ack(work["delivery_tag"])
            elif how == "nack":
                ch.basic_nack(work["delivery_tag"], requeue=plan.get("requeue", False))
            elif how == "reject":
                ch.basic_reject(work["delivery_tag"], requeue=plan.get("requeue", False))
        except (pe.ChannelClosedByBroker, pe.ConnectionClosedByBroker) as e:
            self.broker_closed(e)
        except pe.AMQPError as e:
            note(f"{self.name}: settling failed: {e!r}")

    def busy(self):
        return self.current is not None or bool(self.pending)


def compute_reply(how, request):
    if how == "echo":
        return request
    if how == "upper":
        return request.upper()
    try:
        n = int(request.strip())
    except ValueError:
        n = -1
    if not 0 <= n <= 90:
        return f"cannot compute fib({request})"
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return str(a)


CLIENTS_BY_NAME = {}  # filled from CLIENTS by main()
RESTARTING = [False]


def pump_all():
    for c in CLIENTS_BY_NAME.values():
        c.pump()


def wait_until(deadline):
    """Sleeps until `deadline` (monotonic seconds), handling traffic meanwhile."""
    while True:
        pump_all()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.002))


def sync(ch):
    """A harmless round trip, so the broker has handled what was sent before
    another client's step at the same time (as in the simulator)."""
    ch.exchange_declare("amq.direct", passive=True)


def properties_of(step):
    p = dict(step.get("properties", {}))
    if step.get("persistent"):
        p["delivery_mode"] = 2
    return pika.BasicProperties(**p)


def make_consumer(client, plan):
    generation = client.generation

    def on_message(ch, method, props, body):
        if plan.get("rpc"):
            observe("rpc_reply", client.name, body=text_of(body))
            return
        observe("delivered", client.name, body=text_of(body), redelivered=method.redelivered,
                exchange=method.exchange, routing_key=method.routing_key, headers=props.headers)
        client.pending.append(dict(plan=plan, ch=ch, generation=generation, body=body, props=props,
                                   delivery_tag=method.delivery_tag, tag=method.consumer_tag))
    return on_message


def publish(client, ch, exchange, key, body, props, mandatory):
    """One publish; with confirms on, waits for the broker's ack or nack."""
    try:
        ch.basic_publish(exchange, key, body.encode(), props, mandatory=mandatory)
        if client.confirming:
            observe("confirm", client.name, ack=True)
    except pe.UnroutableError:
        # Returned, then acked: the return callback records the body.
        observe("confirm", client.name, ack=True)
    except pe.NackError:
        observe("confirm", client.name, ack=False)


def run_step(index, step, repeat):
    do = step["do"]
    if do == "restart":
        return restart()
    client = CLIENTS_BY_NAME.get(step.get("client"))
    if client is None:
        return True
    if do in ("close", "crash"):
        if client.conn is not None and client.conn.is_open:
            if do == "close":
                try:
                    client.conn.close()
                except pe.AMQPError:
                    pass
            else:
                crash(client.conn)
        client.lost_connection()
        return True
    if do == "close_channel":
        if client.ch is not None and client.ch.is_open:
            try:
                client.ch.close()
            except pe.AMQPError:
                pass
        client.lost_channel()
        return True
    ch = client.channel()
    if ch is None:
        return True
    try:
        act(client, ch, index, step, repeat)
    except (pe.ChannelClosedByBroker, pe.ConnectionClosedByBroker) as e:
        client.broker_closed(e)
    except pe.AMQPError as e:
        note(f"{client.name}: step {index} ({do}) failed: {e!r}")
        client.lost_connection()
    return True


def crash(conn):
    """The client process dies: the socket goes without a connection.close.
    pika has no public call for this, so reach for its socket; if that ever
    moves, a clean close is the same thing for the broker."""
    try:
        sock = conn._impl._transport._sock
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    except Exception:
        try:
            conn.close()
        except Exception:
            pass


def act(client, ch, index, step, repeat):
    do = step["do"]
    g = step.get
    if do == "exchange_declare":
        ch.exchange_declare(resolve(g("exchange")), g("type", "direct"), passive=g("passive", False),
                            durable=g("durable", False), auto_delete=g("auto_delete", False),
                            internal=g("internal", False), arguments=g("arguments") or None)
    elif do == "exchange_delete":
        ch.exchange_delete(resolve(g("exchange")), if_unused=g("if_unused", False))
    elif do in ("exchange_bind", "exchange_unbind"):
        f = ch.exchange_bind if do == "exchange_bind" else ch.exchange_unbind
        f(resolve(g("destination")), resolve(g("source")), resolve(g("routing_key", "")),
          arguments=g("arguments") or None)
    elif do == "queue_declare":
        ok = ch.queue_declare(resolve(g("queue", "")), passive=g("passive", False),
                              durable=g("durable", False), exclusive=g("exclusive", False),
                              auto_delete=g("auto_delete", False), arguments=g("arguments") or None)
        if g("as"):
            VARS[g("as")] = ok.method.queue
        observe("declared", client.name, queue=ok.method.queue,
                message_count=ok.method.message_count, consumer_count=ok.method.consumer_count)
    elif do in ("queue_bind", "queue_unbind"):
        q, x, k = resolve(g("queue")), resolve(g("exchange")), resolve(g("routing_key", ""))
        if do == "queue_bind":
            ch.queue_bind(q, x, k, arguments=g("arguments") or None)
        else:
            ch.queue_unbind(q, x, k, arguments=g("arguments") or None)
    elif do == "queue_purge":
        ch.queue_purge(resolve(g("queue")))
    elif do == "queue_delete":
        ch.queue_delete(resolve(g("queue")), if_unused=g("if_unused", False), if_empty=g("if_empty", False))
    elif do == "qos":
        ch.basic_qos(prefetch_count=g("prefetch_count"), global_qos=g("global", False))
    elif do == "consume":
        plan = dict(step)
        args = {"x-priority": g("priority")} if g("priority") is not None else None
        tag = ch.basic_consume(resolve(g("queue")), make_consumer(client, plan),
                               auto_ack=g("auto_ack", False), exclusive=g("exclusive", False),
                               consumer_tag=g("tag") or None, arguments=args)
        client.gone.discard(tag)
    elif do == "cancel":
        client.conn.process_data_events(time_limit=0)  # hand over what already arrived
        ch.basic_cancel(resolve(g("tag")))
    elif do == "publish":
        count, interval = g("count", 1), g("interval_ms", 0)
        copies = range(count) if interval == 0 else [repeat]
        x, k = resolve(g("exchange", "")), resolve(g("routing_key", ""))
        for i in copies:
            body = g("body", "").replace("{i}", str(i)) if count > 1 else g("body", "")
            publish(client, ch, x, k, body, properties_of(step), g("mandatory", False))
        sync(ch)
    elif do == "get":
        method, props, body = ch.basic_get(resolve(g("queue")), auto_ack=g("auto_ack", False))
        if method is None:
            observe("get_empty", client.name)
        else:
            observe("delivered", client.name, body=text_of(body), redelivered=method.redelivered,
                    exchange=method.exchange, routing_key=method.routing_key, headers=props.headers)
    elif do == "ack":
        ch.basic_ack(g("delivery_tag"), multiple=g("multiple", False))
        sync(ch)
    elif do == "nack":
        ch.basic_nack(g("delivery_tag"), multiple=g("multiple", False), requeue=g("requeue", False))
        sync(ch)
    elif do == "reject":
        ch.basic_reject(g("delivery_tag"), requeue=g("requeue", False))
        sync(ch)
    elif do == "recover":
        ch.basic_recover(requeue=True)
    elif do == "confirm_select":
        ch.confirm_delivery()
        client.confirming = True
    elif do == "tx_select":
        ch.tx_select()
    elif do == "tx_commit":
        ch.tx_commit()
    elif do == "tx_rollback":
        ch.tx_rollback()
    elif do == "rpc_call":
        if client.rpc_queue is None:
            ok = ch.queue_declare("", exclusive=True)
            q = ok.method.queue
            observe("declared", client.name, queue=q, message_count=ok.method.message_count,
                    consumer_count=ok.method.consumer_count)
            ch.basic_consume(q, make_consumer(client, {"rpc": True}), auto_ack=True)
            client.rpc_queue = q
        client.rpc_calls += 1
        props = pika.BasicProperties(reply_to=client.rpc_queue,
                                     correlation_id=f"{client.name}-{client.rpc_calls}")
        ch.basic_publish(resolve(g("exchange", "")), resolve(g("routing_key")), g("body").encode(), props)
        sync(ch)
    else:
        print(f"UNSUPPORTED: step {index} does {do!r}, which this script cannot do")
        UNSUPPORTED_SEEN.append(do)


UNSUPPORTED_SEEN = []


def restart():
    """Restarts the broker with $RESTART_CMD; without it the rest of the
    script cannot mean anything, so the run stops there (False)."""
    if not RESTART_CMD:
        note("restart skipped: RESTART_CMD is not set, so the run stops here "
             "and the expectations are not checked")
        return False
    began = time.monotonic()
    RESTARTING[0] = True
    done = subprocess.run(RESTART_CMD, shell=True)
    if done.returncode != 0:
        print(f"FAIL: the restart command failed with exit code {done.returncode}")
        sys.exit(1)
    for c in CLIENTS_BY_NAME.values():
        c.lost_connection()  # the broker dropped every connection
    OBSERVER.reset()
    for _ in range(120):
        try:
            pika.BlockingConnection(BASE).close()
            break
        except pe.AMQPError:
            time.sleep(0.5)
    else:
        print("FAIL: the broker did not come back after the restart")
        sys.exit(1)
    RESTARTING[0] = False
    CLOCK.paused += time.monotonic() - began
    note(f"restarted the broker in {int((time.monotonic() - began) * 1000)} ms "
         "(not counted on the scenario's clock)")
    return True


class Observer:
    """A connection of its own that reads queue figures with a passive
    queue.declare (which reports ready messages and consumers only)."""

    def __init__(self):
        self.conn = None
        self.ch = None

    def reset(self):
        self.conn = self.ch = None

    def figures(self, queue):
        for _ in range(2):
            try:
                if self.conn is None or not self.conn.is_open:
                    self.conn = pika.BlockingConnection(BASE)
                    self.ch = None
                if self.ch is None or not self.ch.is_open:
                    self.ch = self.conn.channel()
                ok = self.ch.queue_declare(queue, passive=True)
                return ("found", ok.method.message_count, ok.method.consumer_count)
            except pe.ChannelClosedByBroker as e:
                self.ch = None
                if e.reply_code == 404:
                    return ("missing",)
                if e.reply_code == 405:
                    return ("unobservable", "the queue is exclusive to a client's connection")
                return ("unobservable", f"passive queue.declare refused: {e.reply_code} {e.reply_text}")
            except pe.AMQPError as e:
                self.reset()
                why = repr(e)
        return ("unobservable", f"cannot read the queue's figures: {why}")


OBSERVER = Observer()


def setup():
    """Declares the topology on a connection of its own, before the clock starts."""
    t = TOPOLOGY
    if not (t["exchanges"] or t["queues"] or t["bindings"]):
        return
    conn = pika.BlockingConnection(BASE)
    ch = conn.channel()
    try:
        for x in t["exchanges"]:
            ch.exchange_declare(x["name"], x.get("type", "direct"), durable=x.get("durable", False),
                                auto_delete=x.get("auto_delete", False), internal=x.get("internal", False),
                                arguments=x.get("arguments") or None)
        for q in t["queues"]:
            ch.queue_declare(q["name"], durable=q.get("durable", False),
                             auto_delete=q.get("auto_delete", False), arguments=q.get("arguments") or None)
        for b in t["bindings"]:
            if b.get("destination_type", "queue") == "exchange":
                ch.exchange_bind(b["destination"], b["source"], b.get("routing_key", ""),
                                 arguments=b.get("arguments") or None)
            else:
                ch.queue_bind(b["destination"], b["source"], b.get("routing_key", ""),
                              arguments=b.get("arguments") or None)
    except pe.ChannelClosedByBroker as e:
        observe("error", "(topology)", code=e.reply_code, text=e.reply_text)
    conn.close()


def agenda():
    """Steps by time, file order at the same time; publish copies with an
    interval after the steps already due then; figures after every step."""
    items = []
    for i, s in enumerate(SCRIPT):
        at = s.get("at", 0)
        items.append((at, 0, 0, i, ("step", i, 0)))
        if s["do"] == "publish" and s.get("interval_ms", 0) > 0:
            for r in range(1, s.get("count", 1)):
                items.append((at + s["interval_ms"] * r, 1, r, i, ("step", i, r)))
    for i, e in enumerate(EXPECT):
        if e["expect"] == "queue" and e.get("at") is not None:
            items.append((e["at"], 2, 0, i, ("figures", i, 0)))
    items.sort(key=lambda it: it[:4])
    return [(it[0], it[4]) for it in items]


def run():
    """Plays the script; False when it had to stop early (a restart without RESTART_CMD)."""
    setup()
    for c in CLIENTS_BY_NAME.values():  # connect first, so connecting does not delay step 1
        if (c.spec.get("user", "guest"), c.spec.get("password", "guest"), c.spec.get("vhost", "/")) == ("guest", "guest", "/"):
            c.connect()
    CLOCK.start = time.monotonic()
    for at, (what, i, repeat) in agenda():
        wait_until(CLOCK.real_of(at))
        if what == "step":
            if not run_step(i, SCRIPT[i], repeat):
                return False
        else:
            time.sleep(FIGURES_MARGIN_S)
            FIGURES[i] = OBSERVER.figures(resolve(EXPECT[i]["queue"]))
    wait_until(CLOCK.real_of(END_MS))
    for _ in range(200):  # then until nothing has happened for a while
        wait_until(time.monotonic() + 0.02)
        busy = any(c.busy() for c in CLIENTS_BY_NAME.values())
        if not busy and time.monotonic() - LAST_ACTIVITY[0] >= QUIET_S:
            break
    for i, e in enumerate(EXPECT):
        if e["expect"] == "queue" and e.get("at") is None:
            FIGURES[i] = OBSERVER.figures(resolve(e["queue"]))
    return True


def of(client, *kinds):
    return [o for o in EVENTS if o["client"] == client and o["kind"] in kinds]


def includes(have, want):
    """Headers compared as the simulator does: only the keys given, nested
    tables the same way, arrays element by element, numbers by value."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and includes(have[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) >= len(want) and all(
            includes(a, b) for a, b in zip(have, want))
    if isinstance(have, bytes):
        have = text_of(have)
    if isinstance(have, datetime.datetime):
        have = int(have.replace(tzinfo=datetime.timezone.utc).timestamp())
    return have == want


def check(i, e):
    """(True | False | None for skipped, what was observed)."""
    kind, client = e["expect"], e.get("client")
    if kind == "received":
        got = [o["body"] for o in of(client, "delivered")]
        want = e["bodies"]
        if e.get("order", "exact") == "any":
            return sorted(got) == sorted(want), f"received {got}"
        return got == want, f"received {got}"
    if kind == "delivery":
        for o in of(client, "delivered"):
            if (o["body"] == e["body"]
                    and e.get("redelivered") in (None, o["redelivered"])
                    and e.get("routing_key") in (None, o["routing_key"])
                    and e.get("exchange") in (None, o["exchange"])
                    and (e.get("headers") is None or includes(o["headers"] or {}, e["headers"]))):
                return True, ""
        seen = [o for o in of(client, "delivered") if o["body"] == e["body"]]
        return False, f"given as {seen}" if seen else f"never given {e['body']!r}"
    if kind == "queue":
        fig = FIGURES.get(i, ("unobservable", "not read"))
        if fig[0] == "unobservable":
            return None, fig[1]
        exists = fig[0] == "found"
        if e.get("exists") is not None and e["exists"] != exists:
            return False, "exists" if exists else "does not exist"
        if not exists:
            return e.get("exists") is False, "does not exist"
        ok = e.get("ready") in (None, fig[1]) and e.get("consumers") in (None, fig[2])
        said = f"ready={fig[1]} consumers={fig[2]}"
        if ok and e.get("unacked") is not None:
            return True, f"{said}; unacked: skipped (not observable over AMQP)"
        return ok, said
    if kind == "returned":
        got = [o["body"] for o in of(client, "returned")]
        return got == e["bodies"], f"returned {got}"
    if kind == "confirms":
        got = [o["ack"] for o in of(client, "confirm")]
        acks, nacks = got.count(True), got.count(False)
        return (acks, nacks) == (e["acks"], e["nacks"]), f"{acks} acks, {nacks} nacks"
    if kind == "error":
        got = [(o["code"], o["text"]) for o in of(client, "error")]
        hit = any(c == e["code"] and e.get("text") in (None, t) for c, t in got)
        return hit, f"errors {got}" if got else "no error"
    if kind == "rpc_replies":
        got = [o["body"] for o in of(client, "rpc_reply")]
        return got == e["bodies"], f"replies {got}"
    if kind == "declared":
        name = resolve(e["queue"])
        last = [o for o in of(client, "declared") if o["queue"] == name]
        if not last:
            return False, f"no queue.declare-ok for {name!r}"
        m, c = last[-1]["message_count"], last[-1]["consumer_count"]
        ok = e.get("message_count") in (None, m) and e.get("consumer_count") in (None, c)
        return ok, f"message_count={m} consumer_count={c}"
    return False, f"unknown expectation {kind!r}"


def main():
    CLIENTS_BY_NAME.update((c["name"], Client(c)) for c in CLIENTS)
    print(f"scenario {NAME!r} against {URL}")
    if UNSUPPORTED:
        print("UNSUPPORTED steps (not played, so the run cannot be trusted):", UNSUPPORTED)
    completed = run()
    failed = bool(UNSUPPORTED) or bool(UNSUPPORTED_SEEN)
    for i, e in enumerate(EXPECT):
        label = f"expect[{i}] {e['expect']}" + (f" {e['client']}" if "client" in e else "") + (
            f" {e['queue']}" if "queue" in e else "")
        if not completed:
            print(f"skipped {label}: the run stopped at a restart")
            continue
        if e["expect"] == "queue" and e.get("ready") is None and e.get("consumers") is None \
                and e.get("exists") is None and e.get("unacked") is not None:
            print(f"skipped {label}: skipped (not observable over AMQP)")
            continue
        ok, observed = check(i, e)
        if ok is None:
            print(f"skipped {label}: {observed}")
        elif ok:
            print(f"PASS {label}" + (f" ({observed})" if "skipped" in observed else ""))
        else:
            failed = True
            print(f"FAIL {label}: wanted {e}; observed {observed}")
    for o in EVENTS:  # errors are part of what clients see: each must be expected
        if o["kind"] == "error" and not any(
                e["expect"] == "error" and e["client"] == o["client"] and e["code"] == o["code"] for e in EXPECT):
            failed = True
            print(f"FAIL unexpected error: {o['client']} got {o['code']} {o['text']}")
    for c in CLIENTS_BY_NAME.values():
        if c.conn is not None and c.conn.is_open:
            try:
                c.conn.close()
            except Exception:
                pass
    print("FAILED" if failed else "PASSED")
    sys.exit(1 if failed else 0)

