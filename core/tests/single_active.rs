//! Single active consumer (`x-single-active-consumer`), as observed on
//! RabbitMQ 3.10: the first consumer gets everything, whatever the
//! priorities; when it goes, a classic queue's waiting consumer of highest
//! priority (earliest among equals) takes over at the next dispatch, a quorum
//! queue's earliest one at once; a classic queue refuses an exclusive
//! consumer; the management views say which consumer is active.

mod common;
use common::*;
use warren_core::types::FieldValue;
use warren_core::ReplyCode;

fn sac_queue(w: &mut World, c: Ch, name: &str) {
    w.ok(
        c,
        QueueDecl::new(name).arg("x-single-active-consumer", FieldValue::Bool(true)),
    );
}

fn receivers(w: &mut World, c: Ch, bodies: &[&str]) -> Vec<String> {
    let mut got = Vec::new();
    for body in bodies {
        got.extend(
            deliveries(&w.publish(c, "", "orders", body))
                .into_iter()
                .map(|d| d.consumer),
        );
    }
    got
}

#[test]
fn the_first_consumer_is_active_and_the_highest_waiting_priority_follows() {
    let mut w = World::new();
    let p = w.client(1);
    sac_queue(&mut w, p, "orders");
    let (a, b, c) = (w.client(2), w.client(3), w.client(4));
    w.consume(a, "orders", "first");
    w.consume(b, "orders", "second");
    w.send(c, consume("orders", "urgent").priority(FieldValue::I32(5)));
    assert_eq!(receivers(&mut w, p, &["m0", "m1"]), ["first", "first"]);
    assert_eq!(w.b.queue_info("/", "orders").map(|q| q.consumers), Some(3));

    w.send(
        a,
        warren_core::Command::BasicCancel {
            consumer_tag: "first".into(),
            nowait: false,
        },
    );
    assert_eq!(receivers(&mut w, p, &["m2"]), ["urgent"]);
    let info = w.b.queue_info("/", "orders").expect("queue");
    assert_eq!(info.single_active_consumer_tag.as_deref(), Some("urgent"));
    let mut status: Vec<(String, bool, &str)> =
        w.b.consumers()
            .into_iter()
            .map(|k| (k.consumer_tag, k.active, k.activity_status))
            .collect();
    status.sort();
    assert_eq!(
        status,
        [
            ("second".to_string(), false, "waiting"),
            ("urgent".to_string(), true, "single_active"),
        ]
    );

    // The active consumer's connection goes: 'second' is all that is left.
    w.disconnect(4);
    assert_eq!(receivers(&mut w, p, &["m3"]), ["second"]);
}

#[test]
fn a_closed_active_consumer_hands_its_unacked_messages_to_the_next() {
    let mut w = World::new();
    let p = w.client(1);
    sac_queue(&mut w, p, "orders");
    let (a, b) = (w.client(2), w.client(3));
    w.consume(a, "orders", "first");
    w.consume(b, "orders", "second");
    assert_eq!(receivers(&mut w, p, &["m0", "m1"]), ["first", "first"]);
    let out = w.closed(a);
    let redelivered: Vec<(String, String, bool)> = deliveries(&out)
        .into_iter()
        .map(|d| (d.consumer, d.body, d.redelivered))
        .collect();
    assert_eq!(
        redelivered,
        [
            ("second".to_string(), "m0".to_string(), true),
            ("second".to_string(), "m1".to_string(), true),
        ]
    );
}

#[test]
fn an_exclusive_consumer_is_refused_even_on_an_unused_queue() {
    let mut w = World::new();
    let p = w.client(1);
    sac_queue(&mut w, p, "orders");
    assert_eq!(
        w.fails(p, consume("orders", "").exclusive()),
        chan_err(
            ReplyCode::AccessRefused,
            "ACCESS_REFUSED - queue 'orders' in vhost '/' in exclusive use"
        )
    );
}

#[test]
fn other_queues_show_every_consumer_up() {
    let mut w = World::new();
    let p = w.client(1);
    w.declare_queue(p, "plain");
    w.consume(p, "plain", "one");
    w.consume(p, "plain", "two");
    assert!(w
        .b
        .consumers()
        .iter()
        .all(|k| k.active && k.activity_status == "up"));
    let info = w.b.queue_info("/", "plain").expect("queue");
    assert_eq!(info.single_active_consumer_tag, None);
}

#[test]
fn a_quorum_queue_hands_over_to_the_earliest_waiting_consumer_at_once() {
    let mut w = World::new();
    let p = w.client(1);
    w.ok(
        p,
        QueueDecl::new("orders")
            .quorum()
            .arg("x-single-active-consumer", FieldValue::Bool(true)),
    );
    let (a, b, c) = (w.client(2), w.client(3), w.client(4));
    w.ok(
        a,
        warren_core::Command::BasicQos {
            prefetch_size: 0,
            prefetch_count: 1,
            global: false,
        },
    );
    w.consume(a, "orders", "first");
    w.consume(b, "orders", "second");
    w.send(c, consume("orders", "urgent").priority(FieldValue::I32(5)));
    assert_eq!(receivers(&mut w, p, &["m0", "m1", "m2"]), ["first"]);
    // Only the active consumer is counted.
    assert_eq!(w.b.queue_info("/", "orders").map(|q| q.consumers), Some(1));
    let out = w.send(
        a,
        warren_core::Command::BasicCancel {
            consumer_tag: "first".into(),
            nowait: false,
        },
    );
    let handed: Vec<(String, String)> = deliveries(&out)
        .into_iter()
        .map(|d| (d.consumer, d.body))
        .collect();
    assert_eq!(
        handed,
        [
            ("second".to_string(), "m1".to_string()),
            ("second".to_string(), "m2".to_string()),
        ]
    );
    // Unlike a classic one, a quorum single-active-consumer queue takes an
    // exclusive consumer (while it has no other).
    w.ok(
        p,
        QueueDecl::new("solo")
            .quorum()
            .arg("x-single-active-consumer", FieldValue::Bool(true)),
    );
    w.ok(p, consume("solo", "only").exclusive());
}
