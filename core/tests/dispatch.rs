//! Consumers: tags, round-robin order with prefetch (observed on RabbitMQ 3.10),
//! basic.qos per consumer and global, exclusive consumers, no-ack, cancel, get.

mod common;
use common::*;
use warren_core::{Output, Reply, ReplyCode};

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn server_generated_consumer_tags() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    let Reply::BasicConsumeOk { consumer_tag } = w.ok(c, consume("q", "")) else {
        panic!()
    };
    let suffix = consumer_tag
        .strip_prefix("amq.ctag-")
        .expect("amq.ctag- prefix");
    assert_eq!(suffix.len(), 22);
    assert!(suffix
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
    let Reply::BasicConsumeOk { consumer_tag: t2 } = w.ok(c, consume("q", "")) else {
        panic!()
    };
    assert_ne!(consumer_tag, t2);
    // Given tags are used as they are; a tag may repeat on another channel.
    assert_eq!(
        w.ok(c, consume("q", "mine")),
        Reply::BasicConsumeOk {
            consumer_tag: "mine".into()
        }
    );
    let c2 = w.channel(1, 2);
    assert_eq!(
        w.ok(c2, consume("q", "mine")),
        Reply::BasicConsumeOk {
            consumer_tag: "mine".into()
        }
    );
    // Reusing one on the same channel is a connection error.
    assert_eq!(
        w.fails(c, consume("q", "mine")),
        conn_err(
            ReplyCode::NotAllowed,
            "NOT_ALLOWED - attempt to reuse consumer tag 'mine'"
        )
    );
    assert!(w.b.connections().is_empty());
}

#[test]
fn consumer_tag_reuse_is_checked_before_the_queue() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.consume(c, "q", "t");
    assert_eq!(
        w.fails(c, consume("missing", "t")),
        conn_err(
            ReplyCode::NotAllowed,
            "NOT_ALLOWED - attempt to reuse consumer tag 't'"
        )
    );
}

#[test]
fn round_robin_skips_consumers_at_their_prefetch_limit() {
    // Three consumers on three channels, the middle one with prefetch 1.
    let mut w = World::new();
    let c0 = w.client(1);
    let c1 = w.channel(1, 2);
    let c2 = w.channel(1, 3);
    let p = w.channel(1, 4);
    w.declare_queue(c0, "q");
    w.send(c1, qos(1, false));
    w.consume(c0, "q", "c0");
    w.consume(c1, "q", "c1");
    w.consume(c2, "q", "c2");
    let mut got = Vec::new();
    for i in 0..7 {
        got.extend(who_got(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    assert_eq!(
        got,
        pairs(&[
            ("c0", "m0"),
            ("c1", "m1"),
            ("c2", "m2"),
            ("c0", "m3"),
            ("c2", "m4"),
            ("c0", "m5"),
            ("c2", "m6")
        ])
    );
    // c1 acks and rejoins at the tail of the ring.
    assert!(w.send(c1, ack(1)).is_empty());
    let mut got = Vec::new();
    for i in 7..11 {
        got.extend(who_got(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    assert_eq!(
        got,
        pairs(&[("c0", "m7"), ("c2", "m8"), ("c1", "m9"), ("c0", "m10")])
    );
}

#[test]
fn unblocked_consumer_rejoins_at_the_tail() {
    let mut w = World::new();
    let a = w.client(1);
    let b = w.channel(1, 2);
    let c = w.channel(1, 3);
    let p = w.channel(1, 4);
    w.declare_queue(a, "q");
    w.send(a, qos(1, false));
    w.consume(a, "q", "A");
    w.consume(b, "q", "B");
    w.consume(c, "q", "C");
    let mut got = Vec::new();
    for i in 0..4 {
        got.extend(who_got(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    assert_eq!(
        got,
        pairs(&[("A", "m0"), ("B", "m1"), ("C", "m2"), ("B", "m3")])
    );
    w.send(a, ack(1));
    let mut got = Vec::new();
    for i in 4..10 {
        got.extend(who_got(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    assert_eq!(
        got,
        pairs(&[
            ("C", "m4"),
            ("B", "m5"),
            ("A", "m6"),
            ("C", "m7"),
            ("B", "m8"),
            ("C", "m9")
        ])
    );
}

#[test]
fn acks_release_waiting_messages_one_by_one() {
    let mut w = World::new();
    let a = w.client(1);
    let b = w.channel(1, 2);
    let p = w.channel(1, 3);
    w.declare_queue(a, "q");
    w.send(a, qos(1, false));
    w.send(b, qos(1, false));
    w.consume(a, "q", "A");
    w.consume(b, "q", "B");
    let mut got = Vec::new();
    for i in 0..6 {
        got.extend(who_got(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    assert_eq!(got, pairs(&[("A", "m0"), ("B", "m1")]));
    assert_eq!(w.count("q"), Some(4));
    assert_eq!(who_got(&w.send(b, ack(1))), pairs(&[("B", "m2")]));
    assert_eq!(who_got(&w.send(a, ack(1))), pairs(&[("A", "m3")]));
    assert_eq!(who_got(&w.send(b, ack(2))), pairs(&[("B", "m4")]));
    let info = w.b.queue_info("/", "q").unwrap();
    assert_eq!(
        (
            info.messages_ready,
            info.messages_unacknowledged,
            info.consumers
        ),
        (1, 2, 2)
    );
}

#[test]
fn consuming_delivers_what_is_already_queued() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for i in 0..3 {
        w.publish(c, "", "q", &format!("m{i}"));
    }
    w.send(c, qos(2, false));
    let out = w.consume(c, "q", "k");
    assert_eq!(kinds(&out), ["BasicConsumeOk", "Deliver", "Deliver"]);
    let d = deliveries(&out);
    assert_eq!((d[0].tag, d[1].tag, d[1].body.as_str()), (1, 2, "m1"));
}

#[test]
fn per_consumer_qos_applies_to_consumers_created_afterwards() {
    let mut w = World::new();
    let c = w.client(1);
    let p = w.channel(1, 2);
    w.declare_queue(c, "q");
    w.consume(c, "q", "early");
    assert_eq!(w.ok(c, qos(1, false)), Reply::BasicQosOk);
    w.consume(c, "q", "late");
    let mut got = Vec::new();
    for b in ["a", "b", "c", "d", "e"] {
        got.extend(who_got(&w.publish(p, "", "q", b)));
    }
    assert_eq!(
        got,
        pairs(&[
            ("early", "a"),
            ("late", "b"),
            ("early", "c"),
            ("early", "d"),
            ("early", "e")
        ])
    );
}

#[test]
fn global_qos_is_shared_by_the_channel() {
    let mut w = World::new();
    let c = w.client(1);
    let p = w.channel(1, 2);
    w.declare_queue(c, "q");
    w.send(c, qos(2, true));
    w.consume(c, "q", "k1");
    w.consume(c, "q", "k2");
    let mut got = Vec::new();
    for i in 0..5 {
        got.extend(deliveries(&w.publish(p, "", "q", &format!("m{i}"))));
    }
    let tags: Vec<(String, u64)> = got.iter().map(|d| (d.consumer.clone(), d.tag)).collect();
    assert_eq!(tags, [("k1".to_string(), 1), ("k2".to_string(), 2)]);
    let t = |out: &[Output]| -> Vec<(String, u64)> {
        deliveries(out)
            .into_iter()
            .map(|d| (d.consumer, d.tag))
            .collect()
    };
    assert_eq!(t(&w.send(c, ack(1))), [("k1".to_string(), 3)]);
    assert_eq!(t(&w.send(c, ack(2))), [("k2".to_string(), 4)]);
    assert_eq!(t(&w.send(c, ack_multiple(4))), [("k1".to_string(), 5)]);
}

#[test]
fn per_consumer_and_global_limits_together() {
    let mut w = World::new();
    let c = w.client(1);
    let p = w.channel(1, 2);
    w.declare_queue(c, "q");
    w.send(c, qos(2, false));
    w.send(c, qos(3, true));
    w.consume(c, "q", "p1");
    w.consume(c, "q", "p2");
    let mut got = Vec::new();
    for i in 0..6 {
        got.extend(deliveries(&w.publish(p, "", "q", &format!("{i}"))));
    }
    let tags: Vec<(&str, u64)> = got.iter().map(|d| (d.consumer.as_str(), d.tag)).collect();
    assert_eq!(tags, [("p1", 1), ("p2", 2), ("p1", 3)]);
    let out = w.send(c, ack(1));
    let d = deliveries(&out);
    assert_eq!((d.len(), d[0].consumer.as_str(), d[0].tag), (1, "p2", 4));
}

#[test]
fn basic_get_does_not_count_against_global_qos() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.send(c, qos(1, true));
    w.publish(c, "", "q", "g1");
    w.publish(c, "", "q", "g2");
    w.get_msg(c, "q");
    let out = w.consume(c, "q", "kg");
    let d = deliveries(&out);
    assert_eq!((d.len(), d[0].tag, d[0].body.as_str()), (1, 2, "g2"));
}

#[test]
fn basic_qos_prefetch_size_is_not_implemented() {
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.fails(
            c,
            warren_core::Command::BasicQos {
                prefetch_size: 10,
                prefetch_count: 0,
                global: false
            }
        ),
        conn_err(
            ReplyCode::NotImplemented,
            "NOT_IMPLEMENTED - prefetch_size!=0 (10)"
        )
    );
}

#[test]
fn exclusive_consumers() {
    let mut w = World::new();
    let c = w.client(1);
    let other = w.client(2);
    w.declare_queue(c, "q");
    w.declare_queue(c, "q2");
    w.consume(c, "q", "x");
    assert_eq!(
        w.fails(other, consume("q", "").exclusive()),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use"
        )
    );
    let c2 = w.channel(1, 2);
    w.send(c2, consume("q2", "ex").exclusive());
    assert_eq!(
        w.fails(c, consume("q2", "")),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - queue 'q2' in vhost '/' in exclusive use"
        )
    );
    // basic.get still works on a queue with an exclusive consumer.
    let c3 = w.channel(1, 3);
    assert_eq!(w.ok(c3, get("q2")), Reply::BasicGetEmpty);
    // Once it is cancelled others may consume.
    w.send(c2, cancel("ex"));
    assert!(matches!(
        w.ok(c3, consume("q2", "")),
        Reply::BasicConsumeOk { .. }
    ));
}

#[test]
fn consume_errors() {
    let mut w = World::new();
    let c = w.client(1);
    assert_eq!(
        w.fails(c, consume("missing", "")),
        chan_err(
            ReplyCode::NotFound,
            "NOT_FOUND - no queue 'missing' in vhost '/'"
        )
    );
    // Cancelling an unknown tag is fine.
    let c = w.channel(1, 2);
    assert_eq!(
        w.ok(c, cancel("nope")),
        Reply::BasicCancelOk {
            consumer_tag: "nope".into()
        }
    );
}

#[test]
fn no_ack_consumers_ignore_prefetch_and_hold_nothing() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.send(c, qos(1, false));
    w.send(c, consume("q", "na").no_ack());
    let mut n = 0;
    for i in 0..5 {
        n += deliveries(&w.publish(c, "", "q", &format!("{i}"))).len();
    }
    assert_eq!(n, 5);
    let info = w.b.queue_info("/", "q").unwrap();
    assert_eq!((info.messages_ready, info.messages_unacknowledged), (0, 0));
    // Closing the channel gives nothing back.
    w.closed(c);
    assert_eq!(w.count("q"), Some(0));
}

#[test]
fn cancel_does_not_requeue() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for i in 0..3 {
        w.publish(c, "", "q", &format!("{i}"));
    }
    w.send(c, qos(1, false));
    w.consume(c, "q", "r");
    assert_eq!(kinds(&w.send(c, cancel("r"))), ["BasicCancelOk"]);
    assert_eq!(w.count("q"), Some(2));
    // The delivery is still held and can be acked after the cancel.
    assert!(error_of(&w.send(c, ack(1))).is_none());
    let info = w.b.queue_info("/", "q").unwrap();
    assert_eq!(
        (
            info.messages_ready,
            info.messages_unacknowledged,
            info.consumers
        ),
        (2, 0, 0)
    );
}

#[test]
fn basic_get_reports_the_remaining_count() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    assert_eq!(w.ok(c, get("q")), Reply::BasicGetEmpty);
    for i in 0..3 {
        w.publish(c, "", "q", &format!("m{i}"));
    }
    let g = w.get_msg(c, "q");
    assert_eq!(
        (
            g.tag,
            g.message_count,
            g.redelivered,
            text(g.message.body()).as_str()
        ),
        (1, 2, false, "m0")
    );
    let g = w.get_msg(c, "q");
    assert_eq!((g.tag, g.message_count), (2, 1));
    assert_eq!(w.get_body(c, "q"), Some("m2".into()));
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_unacknowledged, 2);
}

#[test]
fn delivery_tags_are_per_channel_and_shared_by_get_and_consume() {
    let mut w = World::new();
    let a = w.client(1);
    let b = w.channel(1, 2);
    w.declare_queue(a, "q");
    for i in 0..4 {
        w.publish(a, "", "q", &format!("{i}"));
    }
    assert_eq!(w.get_msg(a, "q").tag, 1);
    assert_eq!(w.get_msg(b, "q").tag, 1);
    w.send(a, qos(1, false));
    let d = deliveries(&w.consume(a, "q", "k"));
    assert_eq!(d[0].tag, 2);
    assert_eq!(w.get_msg(b, "q").tag, 2);
    // A tag from one channel is unknown on another.
    assert_eq!(
        w.fails(b, ack(3)),
        chan_err(
            ReplyCode::PreconditionFailed,
            "PRECONDITION_FAILED - unknown delivery tag 3"
        )
    );
}

#[test]
fn quorum_queues_refuse_global_qos() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("qq").quorum());
    w.send(c, qos(5, true));
    assert_eq!(
        w.fails(c, consume("qq", "")),
        conn_err(
            ReplyCode::NotImplemented,
            "NOT_IMPLEMENTED - queue 'qq' in vhost '/' does not support global qos"
        )
    );
    // A global limit set back to 0 is no limit; per-consumer prefetch is fine.
    let c = w.client(2);
    w.send(c, qos(5, true));
    w.send(c, qos(0, true));
    w.send(c, qos(5, false));
    assert!(matches!(
        w.ok(c, consume("qq", "")),
        Reply::BasicConsumeOk { .. }
    ));
}
