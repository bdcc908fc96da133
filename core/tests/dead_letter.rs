//! TTL, max-length overflow and dead-lettering, with x-death headers exactly as
//! RabbitMQ 3.10 writes them (contents, key order, count, cycles).

mod common;
use common::*;
use warren_core::{FieldTable, FieldValue, Message};

fn deaths(m: &Message) -> Vec<FieldTable> {
    match header(m, "x-death") {
        Some(FieldValue::Array(d)) => d
            .iter()
            .map(|e| match e {
                FieldValue::Table(t) => t.clone(),
                other => panic!("x-death entry {other:?}"),
            })
            .collect(),
        other => panic!("no x-death array: {other:?}"),
    }
}

fn keys(t: &FieldTable) -> Vec<&str> {
    t.iter().map(|(k, _)| k).collect()
}

fn take(w: &mut World, c: Ch, q: &str) -> Option<Message> {
    delivered_messages(&w.send(c, get(q).no_ack()))
        .into_iter()
        .next()
}

#[test]
fn rejected_message_gets_x_death_and_sorted_headers() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "dlx", "direct");
    w.ok(
        c,
        QueueDecl::new("src").arg("x-dead-letter-exchange", s("dlx")),
    );
    for (q, k) in [("sink_rk", "rk"), ("sink_cc", "cc1"), ("sink_bcc", "bcc1")] {
        w.declare_queue(c, q);
        w.bind(c, q, "dlx", k);
    }
    w.bind(c, "src", "amq.direct", "rk");
    w.send(
        c,
        publish("amq.direct", "rk", "x")
            .header("zeta", int(1))
            .header("CC", array(&["cc1"]))
            .header("BCC", array(&["bcc1"]))
            .header("alpha", s("a"))
            .expiration("60000"),
    );
    let g = w.get_msg(c, "src");
    assert_eq!(header_keys(&g.message), ["zeta", "CC", "alpha"]);
    w.send(c, reject(g.tag, false));
    let now_s = w.now / 1000;
    // The BCC key routes the dead letter too (RabbitMQ 3.10 keeps it with
    // the message), though the header is gone and x-death leaves it out.
    for q in ["sink_rk", "sink_cc", "sink_bcc"] {
        let m = take(&mut w, c, q).unwrap_or_else(|| panic!("{q} got nothing"));
        assert_eq!((m.exchange(), m.routing_key()), ("dlx", "rk"));
        assert_eq!(
            m.properties().expiration,
            None,
            "per-message TTL is removed"
        );
        // Top-level headers come back sorted by key.
        assert_eq!(
            header_keys(&m),
            [
                "CC",
                "alpha",
                "x-death",
                "x-first-death-exchange",
                "x-first-death-queue",
                "x-first-death-reason",
                "zeta"
            ]
        );
        assert_eq!(header(&m, "x-first-death-exchange"), Some(s("amq.direct")));
        assert_eq!(header(&m, "x-first-death-queue"), Some(s("src")));
        assert_eq!(header(&m, "x-first-death-reason"), Some(s("rejected")));
        let d = deaths(&m);
        assert_eq!(d.len(), 1);
        // A first entry keeps RabbitMQ's insertion order.
        assert_eq!(
            keys(&d[0]),
            [
                "count",
                "reason",
                "queue",
                "time",
                "exchange",
                "routing-keys",
                "original-expiration"
            ]
        );
        assert_eq!(d[0].get("count"), Some(&FieldValue::I64(1)));
        assert_eq!(d[0].get("reason"), Some(&s("rejected")));
        assert_eq!(d[0].get("queue"), Some(&s("src")));
        assert_eq!(d[0].get("time"), Some(&FieldValue::Timestamp(now_s)));
        assert_eq!(d[0].get("exchange"), Some(&s("amq.direct")));
        // The routing key and CC; BCC is not recorded.
        assert_eq!(d[0].get("routing-keys"), Some(&array(&["rk", "cc1"])));
        assert_eq!(d[0].get("original-expiration"), Some(&s("60000")));
    }
}

#[test]
fn dead_letter_routing_key_replaces_keys_and_drops_cc() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "dlx", "direct");
    for (q, k) in [("sink_rk", "rk"), ("sink_cc", "cc1")] {
        w.declare_queue(c, q);
        w.bind(c, q, "dlx", k);
    }
    w.ok(
        c,
        QueueDecl::new("src2")
            .arg("x-dead-letter-exchange", s("dlx"))
            .arg("x-dead-letter-routing-key", s("rk")),
    );
    w.declare_queue(c, "sink_bcc");
    w.bind(c, "sink_bcc", "dlx", "bcc1");
    w.send(
        c,
        publish("", "src2", "y")
            .header("CC", array(&["cc1"]))
            .header("BCC", array(&["bcc1"])),
    );
    let g = w.get_msg(c, "src2");
    w.send(c, reject(g.tag, false));
    let m = take(&mut w, c, "sink_rk").unwrap();
    assert_eq!(m.routing_key(), "rk");
    assert_eq!(
        header_keys(&m),
        [
            "x-death",
            "x-first-death-exchange",
            "x-first-death-queue",
            "x-first-death-reason"
        ]
    );
    let d = deaths(&m);
    assert_eq!(d[0].get("exchange"), Some(&s("")));
    assert_eq!(d[0].get("routing-keys"), Some(&array(&["src2", "cc1"])));
    assert_eq!(d[0].get("original-expiration"), None);
    assert!(
        take(&mut w, c, "sink_cc").is_none(),
        "CC is not used with a dead-letter routing key"
    );
    assert!(take(&mut w, c, "sink_bcc").is_none(), "nor BCC");
}

#[test]
fn ttl_expiry_dead_letters_with_reason_expired() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "sink");
    w.ok(
        c,
        QueueDecl::new("src")
            .arg("x-dead-letter-exchange", s(""))
            .arg("x-dead-letter-routing-key", s("sink"))
            .arg("x-message-ttl", int(50)),
    );
    // The lower of the queue's and the message's TTL applies.
    w.send(c, publish("", "src", "z").expiration("100000"));
    assert_eq!(w.b.poll_timeout(), Some(w.now + 50));
    w.advance(49);
    assert_eq!(w.count("src"), Some(1));
    w.advance(1);
    assert_eq!(w.count("src"), Some(0));
    let m = take(&mut w, c, "sink").unwrap();
    let d = deaths(&m);
    assert_eq!(d[0].get("reason"), Some(&s("expired")));
    assert_eq!(d[0].get("original-expiration"), Some(&s("100000")));
    assert_eq!(header(&m, "x-first-death-reason"), Some(s("expired")));
}

#[test]
fn per_message_ttl_expires_only_at_the_head() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.send(c, publish("", "q", "long").expiration("5000"));
    w.send(c, publish("", "q", "short").expiration("50"));
    w.advance(200);
    // Still counted: it is behind a message that has not expired.
    assert_eq!(w.count("q"), Some(2));
    assert_eq!(w.get_body(c, "q"), Some("long".into()));
    // Now at the head and past its TTL: dropped, never delivered.
    assert_eq!(w.get_body(c, "q"), None);
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn requeued_messages_keep_their_expiry() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("q").arg("x-message-ttl", int(100)));
    w.publish(c, "", "q", "m");
    w.advance(60);
    let g = w.get_msg(c, "q");
    w.advance(60);
    // Back in the queue 120ms after it was published: already expired.
    w.send(c, nack(g.tag, false, true));
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn ttl_zero_is_delivered_only_to_a_waiting_consumer() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("t0").arg("x-message-ttl", int(0)));
    w.publish(c, "", "t0", "nobody waiting");
    assert_eq!(w.count("t0"), Some(0));
    w.consume(c, "t0", "k");
    assert_eq!(
        who_got(&w.publish(c, "", "t0", "waiting")),
        [("k".to_string(), "waiting".to_string())]
    );
}

#[test]
fn max_length_drop_head_dead_letters_the_oldest() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "sink");
    w.ok(
        c,
        QueueDecl::new("src")
            .arg("x-dead-letter-exchange", s(""))
            .arg("x-dead-letter-routing-key", s("sink"))
            .arg("x-max-length", int(1)),
    );
    w.publish(c, "", "src", "a1");
    w.publish(c, "", "src", "a2");
    assert_eq!(w.get_all(c, "src"), ["a2"]);
    let m = take(&mut w, c, "sink").unwrap();
    assert_eq!(text(m.body()), "a1");
    assert_eq!(deaths(&m)[0].get("reason"), Some(&s("maxlen")));
}

#[test]
fn max_length_bytes_counts_bodies() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("q").arg("x-max-length-bytes", int(10)));
    w.publish(c, "", "q", "12345");
    w.publish(c, "", "q", "67890");
    w.publish(c, "", "q", "abc");
    assert_eq!(w.get_all(c, "q"), ["67890", "abc"]);
}

#[test]
fn reject_publish_and_reject_publish_dlx() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "sink");
    w.ok(
        c,
        QueueDecl::new("rp")
            .arg("x-max-length", int(1))
            .arg("x-overflow", s("reject-publish"))
            .arg("x-dead-letter-exchange", s(""))
            .arg("x-dead-letter-routing-key", s("sink")),
    );
    w.ok(
        c,
        QueueDecl::new("rpd")
            .arg("x-max-length", int(1))
            .arg("x-overflow", s("reject-publish-dlx"))
            .arg("x-dead-letter-exchange", s(""))
            .arg("x-dead-letter-routing-key", s("sink")),
    );
    w.ok(c, confirm_select());
    assert_eq!(confirms(&w.publish(c, "", "rp", "1")), [(1, false, true)]);
    assert_eq!(confirms(&w.publish(c, "", "rp", "2")), [(2, true, false)]);
    assert_eq!(
        w.count("sink"),
        Some(0),
        "reject-publish drops refused messages"
    );
    assert_eq!(confirms(&w.publish(c, "", "rpd", "3")), [(3, false, true)]);
    assert_eq!(confirms(&w.publish(c, "", "rpd", "4")), [(4, true, false)]);
    assert_eq!(w.get_all(c, "rp"), ["1"]);
    assert_eq!(w.get_all(c, "rpd"), ["3"]);
    let m = take(&mut w, c, "sink").unwrap();
    assert_eq!(text(m.body()), "4");
    let d = deaths(&m);
    assert_eq!(
        (d[0].get("reason"), d[0].get("queue")),
        (Some(&s("maxlen")), Some(&s("rpd")))
    );
}

#[test]
fn a_waiting_consumer_takes_a_message_before_max_length_applies() {
    let cases = [
        (QueueDecl::new("q").arg("x-max-length", int(0)), true),
        (QueueDecl::new("q").arg("x-max-length-bytes", int(3)), true),
        (QueueDecl::new("q").arg("x-max-length", int(1)), true),
        (
            QueueDecl::new("q")
                .arg("x-max-length", int(0))
                .arg("x-overflow", s("reject-publish")),
            false,
        ),
    ];
    for (decl, delivered) in cases {
        let mut w = World::new();
        let c = w.client(1);
        w.ok(c, decl.clone());
        w.consume(c, "q", "k");
        let out = w.publish(c, "", "q", "longer");
        assert_eq!(deliveries(&out).len(), usize::from(delivered), "{decl:?}");
    }
}

#[test]
fn repeated_deaths_in_one_queue_count_up() {
    // q1 dead-letters to a fanout that routes back to q1: a client reject
    // each time, so no cycle is detected.
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "dlx2", "fanout");
    w.ok(
        c,
        QueueDecl::new("q1").arg("x-dead-letter-exchange", s("dlx2")),
    );
    w.bind(c, "q1", "dlx2", "");
    w.publish(c, "", "q1", "c");
    for _ in 0..3 {
        let g = w.get_msg(c, "q1");
        w.send(c, reject(g.tag, false));
    }
    let m = take(&mut w, c, "q1").unwrap();
    assert_eq!((m.exchange(), m.routing_key()), ("dlx2", "q1"));
    let d = deaths(&m);
    assert_eq!(
        d.len(),
        1,
        "one entry per queue and reason, whatever the exchange"
    );
    // An updated entry is sorted by key; its first exchange is kept.
    assert_eq!(
        keys(&d[0]),
        [
            "count",
            "exchange",
            "queue",
            "reason",
            "routing-keys",
            "time"
        ]
    );
    assert_eq!(d[0].get("count"), Some(&FieldValue::I64(3)));
    assert_eq!(d[0].get("exchange"), Some(&s("")));
    assert_eq!(header(&m, "x-first-death-exchange"), Some(s("")));
}

#[test]
fn automatic_dead_letter_cycles_are_dropped() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_exchange(c, "dlx3", "fanout");
    w.ok(
        c,
        QueueDecl::new("q2")
            .arg("x-dead-letter-exchange", s("dlx3"))
            .arg("x-message-ttl", int(30)),
    );
    w.bind(c, "q2", "dlx3", "");
    w.publish(c, "", "q2", "cyc");
    w.advance(100);
    assert_eq!(w.count("q2"), Some(0));
    assert_eq!(w.b.poll_timeout(), None);
}

#[test]
fn a_reject_inside_the_cycle_keeps_it_going() {
    // qa (rejected) -> xa -> qb (ttl) -> xb -> qc (ttl) -> xc -> qb, qd.
    // RabbitMQ regroups x-death on each death; the qb->qc->qb cycle then has
    // qa's "rejected" inside it, so it is not dropped (it loops forever).
    let mut w = World::new();
    let c = w.client(1);
    for x in ["xa", "xb", "xc"] {
        w.declare_exchange(c, x, "fanout");
    }
    w.ok(
        c,
        QueueDecl::new("qa").arg("x-dead-letter-exchange", s("xa")),
    );
    w.ok(
        c,
        QueueDecl::new("qb")
            .arg("x-dead-letter-exchange", s("xb"))
            .arg("x-message-ttl", int(30)),
    );
    w.ok(
        c,
        QueueDecl::new("qc")
            .arg("x-dead-letter-exchange", s("xc"))
            .arg("x-message-ttl", int(30)),
    );
    w.declare_queue(c, "qd");
    w.bind(c, "qb", "xa", "");
    w.bind(c, "qc", "xb", "");
    w.bind(c, "qb", "xc", "");
    w.bind(c, "qd", "xc", "");
    w.publish(c, "", "qa", "r");
    let g = w.get_msg(c, "qa");
    w.send(c, reject(g.tag, false));
    w.advance(30); // qb expires
    w.advance(30); // qc expires: to qb again and to qd
    assert_eq!(w.count("qb"), Some(1));
    let m = take(&mut w, c, "qd").unwrap();
    let d = deaths(&m);
    let summary: Vec<(String, String)> = d
        .iter()
        .map(|e| {
            (
                e.get("queue")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                e.get("reason")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let expect: Vec<(String, String)> = [("qc", "expired"), ("qa", "rejected"), ("qb", "expired")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(summary, expect);
    // New and updated entries are sorted; qa's first entry is not.
    assert_eq!(
        keys(&d[0]),
        [
            "count",
            "exchange",
            "queue",
            "reason",
            "routing-keys",
            "time"
        ]
    );
    assert_eq!(
        keys(&d[1]),
        [
            "count",
            "reason",
            "queue",
            "time",
            "exchange",
            "routing-keys"
        ]
    );
    assert_eq!(d[0].get("exchange"), Some(&s("xb")));
    assert_eq!(d[2].get("exchange"), Some(&s("xa")));
    // And it goes round again.
    w.advance(60);
    assert_eq!(w.count("qd"), Some(1));
}

#[test]
fn missing_dead_letter_exchange_drops_the_message() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(
        c,
        QueueDecl::new("q").arg("x-dead-letter-exchange", s("nope")),
    );
    w.publish(c, "", "q", "m");
    let g = w.get_msg(c, "q");
    assert!(w.send(c, reject(g.tag, false)).is_empty());
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn quorum_overflow() {
    // reject-publish-dlx is not a quorum strategy: it behaves as drop-head.
    let mut w = World::new();
    let c = w.client(1);
    w.ok(
        c,
        QueueDecl::new("qq")
            .quorum()
            .arg("x-max-length", int(1))
            .arg("x-overflow", s("reject-publish-dlx")),
    );
    w.ok(c, confirm_select());
    assert_eq!(confirms(&w.publish(c, "", "qq", "1")), [(1, false, true)]);
    assert_eq!(confirms(&w.publish(c, "", "qq", "2")), [(2, false, true)]);
    assert_eq!(w.get_all(c, "qq"), ["2"]);
    // reject-publish on a quorum queue lets the queue go one over, then refuses.
    w.ok(
        c,
        QueueDecl::new("qr")
            .quorum()
            .arg("x-max-length", int(1))
            .arg("x-overflow", s("reject-publish")),
    );
    let seen: Vec<bool> = ["a", "b", "c"]
        .iter()
        .map(|b| confirms(&w.publish(c, "", "qr", b))[0].2)
        .collect();
    assert_eq!(seen, [true, true, false]);
    assert_eq!(w.get_all(c, "qr"), ["a", "b"]);
    // Below 80% of the limit it accepts again.
    assert!(confirms(&w.publish(c, "", "qr", "d"))[0].2);
}
