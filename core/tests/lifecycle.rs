//! Channel and connection closes, auto-delete and exclusive queues, x-expires,
//! and what a broker restart keeps.

mod common;
use common::*;
use warren_core::{Output, Reply};

#[test]
fn channel_close_requeues_unacked_in_place() {
    let mut w = World::new();
    let c = w.client(1);
    let reader = w.channel(1, 2);
    w.declare_queue(c, "q");
    for i in 0..5 {
        w.publish(c, "", "q", &format!("m{i}"));
    }
    w.send(reader, qos(2, false));
    w.consume(reader, "q", "r");
    w.send(reader, ack(1));
    // m0 acked, m1 and m2 unacked, m3 m4 ready.
    assert_eq!(w.count("q"), Some(2));
    w.closed(reader);
    let info = w.b.queue_info("/", "q").unwrap();
    assert_eq!(
        (
            info.messages_ready,
            info.messages_unacknowledged,
            info.consumers
        ),
        (4, 0, 0)
    );
    let out = w.send_visible(c, get("q").no_ack());
    assert!(
        matches!(&out[..], [Output::GetOk { redelivered: true, message, .. }] if text(message.body()) == "m1")
    );
    assert_eq!(w.get_all(c, "q"), ["m2", "m3", "m4"]);
}

#[test]
fn an_error_closes_the_channel_and_requeues_its_messages() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "m");
    w.get_msg(c, "q");
    w.fails(c, ack(99));
    assert_eq!(w.count("q"), Some(1));
    assert!(w.b.channels().is_empty());
    // The connection is still open.
    assert_eq!(w.b.connections().len(), 1);
}

#[test]
fn connection_close_deletes_its_exclusive_queues() {
    let mut w = World::new();
    let owner = w.client(1);
    let other = w.client(2);
    w.ok(owner, QueueDecl::new("ex").exclusive());
    w.declare_queue(owner, "shared");
    w.publish(other, "", "shared", "s");
    w.consume(other, "ex", "").clear();
    // Closing the owner's channel keeps the queue; closing the connection deletes it.
    w.closed(owner);
    assert!(w.queue_exists("ex"));
    w.disconnect(1);
    assert!(!w.queue_exists("ex"));
    assert!(w.queue_exists("shared"));
    assert!(w.b.bindings().iter().all(|b| b.destination != "ex"));
}

#[test]
fn auto_delete_queue_goes_with_its_last_consumer() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("ad").auto_delete());
    w.publish(c, "", "ad", "a");
    // basic.get is not a consumer.
    w.get_body(c, "ad");
    assert!(w.queue_exists("ad"));
    w.consume(c, "ad", "a1");
    w.consume(c, "ad", "a2");
    w.send(c, cancel("a1"));
    assert!(w.queue_exists("ad"));
    w.send(c, cancel("a2"));
    assert!(!w.queue_exists("ad"));
    // Through a channel close too.
    let c2 = w.channel(1, 2);
    w.ok(c2, QueueDecl::new("ad2").auto_delete());
    w.consume(c2, "ad2", "z");
    w.closed(c2);
    assert!(!w.queue_exists("ad2"));
    // Never consumed from: stays.
    let c3 = w.channel(1, 3);
    w.ok(c3, QueueDecl::new("ad3").auto_delete());
    w.closed(c3);
    assert!(w.queue_exists("ad3"));
}

#[test]
fn auto_delete_queue_requeues_before_it_goes() {
    // Unacked messages of the closing channel return before the queue is
    // deleted, so nothing is left behind; the queue's deletion drops them.
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("ad").auto_delete());
    w.publish(c, "", "ad", "x");
    w.consume(c, "ad", "k");
    let out = w.disconnect(1);
    assert!(out.iter().all(|o| matches!(o, Output::Store(_))));
    assert!(!w.queue_exists("ad"));
}

#[test]
fn deleting_a_queue_cancels_consumers_on_other_channels() {
    let mut w = World::new();
    let c = w.client(1);
    let other = w.client(2);
    w.declare_queue(c, "q");
    w.consume(other, "q", "theirs");
    let out = w.send(c, queue_delete("q", false, false));
    assert_eq!(kinds(&out), ["QueueDeleteOk", "Cancel"]);
    assert!(
        matches!(&out[1], Output::CancelConsumer { conn: 2, consumer_tag, .. } if consumer_tag == "theirs")
    );
    assert!(w.b.consumers().is_empty());
}

#[test]
fn x_expires_deletes_unused_queues() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("e").arg("x-expires", int(1000)));
    w.advance(999);
    assert!(w.queue_exists("e"));
    w.advance(1);
    assert!(!w.queue_exists("e"));
}

#[test]
fn what_resets_the_x_expires_timer() {
    // Observed on RabbitMQ: get, passive and active declares restart the
    // timer; publish, purge and bind do not.
    let cases: Vec<(&str, Option<warren_core::Command>, bool)> = vec![
        ("nothing", None, false),
        ("get", Some(get("e").into()), true),
        ("passive", Some(QueueDecl::new("e").passive().into()), true),
        (
            "redeclare",
            Some(QueueDecl::new("e").arg("x-expires", int(1000)).into()),
            true,
        ),
        ("publish", Some(publish("", "e", "m").into()), false),
        ("purge", Some(purge("e")), false),
        ("bind", Some(bind("e", "amq.direct", "zz")), false),
    ];
    for (label, action, alive) in cases {
        let mut w = World::new();
        let c = w.client(1);
        w.ok(c, QueueDecl::new("e").arg("x-expires", int(1000)));
        w.advance(600);
        if let Some(cmd) = action {
            w.send(c, cmd);
        }
        w.advance(600);
        assert_eq!(w.queue_exists("e"), alive, "{label}");
    }
}

#[test]
fn x_expires_restarts_when_the_last_consumer_leaves() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("e").arg("x-expires", int(1000)));
    w.consume(c, "e", "k");
    assert_eq!(w.b.poll_timeout(), None, "not unused while consumed from");
    w.advance(1500);
    w.send(c, cancel("k"));
    w.advance(500);
    assert!(w.queue_exists("e"));
    w.advance(500);
    assert!(!w.queue_exists("e"));
}

#[test]
fn restart_keeps_durable_things_only() {
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, ExchangeDecl::new("dx", "direct").durable());
    w.ok(c, ExchangeDecl::new("tx", "direct"));
    w.ok(c, ExchangeDecl::new("dx2", "fanout").durable());
    w.ok(c, QueueDecl::new("dq").durable());
    w.ok(c, QueueDecl::new("dq_ad").durable().auto_delete());
    w.ok(c, QueueDecl::new("tq"));
    w.ok(c, QueueDecl::new("qq").quorum());
    w.ok(c, QueueDecl::new("ex").durable().exclusive());
    w.bind(c, "dq", "dx", "k");
    w.bind(c, "tq", "dx", "k");
    w.bind(c, "dq", "tx", "k");
    w.ok(c, e2e_bind("dx2", "dx", "k"));
    w.bind(c, "dq", "amq.direct", "k");
    w.send(c, publish("", "dq", "persistent").persistent());
    w.publish(c, "", "dq", "transient");
    w.send(
        c,
        publish("", "tq", "persistent in transient queue").persistent(),
    );
    w.publish(c, "", "qq", "quorum transient");
    w.send(c, publish("", "dq", "held").persistent());
    // "held" is taken and not acked when the broker goes down.
    w.get_body(c, "dq");
    w.get_body(c, "dq");
    let g = w.get_msg(c, "dq");
    assert_eq!(text(g.message.body()), "held");
    w.send(c, publish("", "dq", "persistent 2").persistent());
    w.b.restart(w.now);
    let out = w.drain();
    assert!(out.iter().all(|o| matches!(o, Output::Store(_))), "{out:?}");
    assert!(w.b.connections().is_empty());

    let mut names: Vec<String> = w.b.queues().into_iter().map(|q| q.name).collect();
    names.sort();
    assert_eq!(names, ["dq", "dq_ad", "qq"]);
    assert!(w.exchange_exists("dx") && w.exchange_exists("dx2") && !w.exchange_exists("tx"));
    let mut bindings: Vec<(String, String, String)> =
        w.b.bindings()
            .into_iter()
            .filter(|b| !b.source.is_empty())
            .map(|b| (b.source, b.destination, b.routing_key))
            .collect();
    bindings.sort();
    assert_eq!(
        bindings,
        [
            ("amq.direct".into(), "dq".into(), "k".into()),
            ("dx".into(), "dq".into(), "k".into()),
            ("dx".into(), "dx2".into(), "k".into()),
        ]
    );
    let c = w.client(1);
    // Quorum queues keep every message; durable classic queues their persistent ones.
    assert_eq!(w.get_all(c, "qq"), ["quorum transient"]);
    let out = w.send_visible(c, get("dq").no_ack());
    assert!(
        matches!(&out[..], [Output::GetOk { redelivered: true, message, .. }] if text(message.body()) == "held")
    );
    assert_eq!(w.get_all(c, "dq"), ["persistent 2"]);
    // Routing through the surviving bindings works.
    w.publish(c, "dx", "k", "after");
    assert_eq!(w.get_all(c, "dq"), ["after"]);
    assert!(matches!(
        w.ok(c, QueueDecl::new("dq").durable()),
        Reply::QueueDeclareOk { .. }
    ));
}
