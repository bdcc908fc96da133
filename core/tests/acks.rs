//! basic.ack / nack / reject / recover: tags, multiple, requeue position,
//! redelivered flag, and quorum-queue delivery counts.

mod common;
use common::*;
use warren_core::{FieldValue, Reply, ReplyCode};

/// A queue with three messages taken by basic.get (tags 1, 2, 3) on a fresh channel.
fn three_got() -> (World, Ch) {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for b in ["m0", "m1", "m2", "m3", "m4"] {
        w.publish(c, "", "q", b);
    }
    for t in 1..=3 {
        assert_eq!(w.get_msg(c, "q").tag, t);
    }
    (w, c)
}

fn unknown(tag: u64) -> (bool, u16, String) {
    chan_err(
        ReplyCode::PreconditionFailed,
        &format!("PRECONDITION_FAILED - unknown delivery tag {tag}"),
    )
}

#[test]
fn ack_single_and_multiple() {
    let (mut w, c) = three_got();
    assert!(w.send(c, ack(2)).is_empty());
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_unacknowledged, 2);
    assert!(w.send(c, ack_multiple(3)).is_empty());
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_unacknowledged, 0);
    assert_eq!(w.count("q"), Some(2));
}

#[test]
fn unknown_delivery_tags() {
    // multiple=true needs the exact tag to be outstanding, as RabbitMQ checks it.
    let (mut w, c) = three_got();
    w.send(c, ack(1));
    assert_eq!(w.fails(c, ack_multiple(1)), unknown(1));

    let (mut w, c) = three_got();
    assert_eq!(w.fails(c, ack_multiple(5)), unknown(5));
    assert_eq!(
        w.b.queue_info("/", "q").unwrap().messages_ready,
        5,
        "channel close requeued all"
    );

    let (mut w, c) = three_got();
    w.send(c, ack(2));
    assert_eq!(w.fails(c, ack_multiple(2)), unknown(2));

    let (mut w, c) = three_got();
    assert_eq!(w.fails(c, ack(0)), unknown(0));

    let (mut w, c) = three_got();
    assert_eq!(w.fails(c, nack(5, true, true)), unknown(5));

    let (mut w, c) = three_got();
    assert_eq!(w.fails(c, reject(7, true)), unknown(7));

    let (mut w, c) = three_got();
    w.send(c, ack(2));
    assert_eq!(w.fails(c, ack(2)), unknown(2), "double ack");
}

#[test]
fn tag_zero_with_multiple_means_everything() {
    let (mut w, c) = three_got();
    assert!(w.send(c, ack_multiple(0)).is_empty());
    assert_eq!(w.b.queue_info("/", "q").unwrap().messages_unacknowledged, 0);
    assert_eq!(w.count("q"), Some(2));
    // With nothing outstanding it is still fine.
    assert!(w.send(c, ack_multiple(0)).is_empty());
    let (mut w, c) = three_got();
    assert!(error_of(&w.send(c, nack(0, true, true))).is_none());
    assert_eq!(w.count("q"), Some(5));
}

#[test]
fn requeued_messages_go_back_to_their_original_place() {
    let (mut w, c) = three_got();
    w.send(c, nack(3, false, true));
    w.send(c, nack(1, false, true));
    let mut order = Vec::new();
    while let Some(g) = std::iter::once(()).find_map(|_| {
        let out = w.send_visible(c, get("q").no_ack());
        match &out[..] {
            [warren_core::Output::GetOk {
                redelivered,
                message,
                ..
            }] => Some((text(message.body()), *redelivered)),
            _ => None,
        }
    }) {
        order.push(g);
    }
    let expect: Vec<(String, bool)> = [("m0", true), ("m2", true), ("m3", false), ("m4", false)]
        .iter()
        .map(|(b, r)| (b.to_string(), *r))
        .collect();
    assert_eq!(order, expect);
}

#[test]
fn nack_multiple_and_reject() {
    let (mut w, c) = three_got();
    w.send(c, nack(2, true, true));
    assert_eq!(w.count("q"), Some(4));
    w.send(c, reject(3, false));
    assert_eq!(w.count("q"), Some(4), "rejected without requeue: gone");
    assert_eq!(w.get_all(c, "q"), ["m0", "m1", "m3", "m4"]);
}

#[test]
fn redelivery_to_consumers_is_marked() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "a");
    w.send(c, qos(1, false));
    let d = deliveries(&w.consume(c, "q", "k"));
    assert!(!d[0].redelivered);
    let d = deliveries(&w.send(c, reject(1, true)));
    assert_eq!(
        (d[0].tag, d[0].redelivered, d[0].body.as_str()),
        (2, true, "a")
    );
}

#[test]
fn recover_requeues_and_redelivers_after_recover_ok() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    for i in 0..3 {
        w.publish(c, "", "q", &format!("{i}"));
    }
    w.send(c, qos(1, false));
    w.consume(c, "q", "r");
    let out = w.send(c, recover());
    assert_eq!(kinds(&out), ["BasicRecoverOk", "Deliver"]);
    let d = deliveries(&out);
    assert_eq!(
        (d[0].tag, d[0].redelivered, d[0].body.as_str()),
        (2, true, "0")
    );
    assert_eq!(
        w.fails(c, warren_core::Command::BasicRecover { requeue: false }),
        conn_err(ReplyCode::NotImplemented, "NOT_IMPLEMENTED - requeue=false")
    );
}

// ---- quorum queues -------------------------------------------------------------

fn quorum(args: &[(&str, FieldValue)]) -> (World, Ch) {
    let mut w = World::new();
    let c = w.client(1);
    let mut d = QueueDecl::new("qq").quorum();
    for (k, v) in args {
        d = d.arg(k, v.clone());
    }
    w.ok(c, d);
    for i in 0..5 {
        w.publish(c, "", "qq", &format!("m{i}"));
    }
    (w, c)
}

fn drain_quorum(w: &mut World, c: Ch) -> Vec<String> {
    std::iter::from_fn(|| {
        let out = w.send_visible(c, get("qq").no_ack());
        match &out[..] {
            [warren_core::Output::GetOk {
                redelivered,
                message,
                ..
            }] => Some(format!(
                "{}{}",
                text(message.body()),
                if *redelivered { "*" } else { "" }
            )),
            _ => None,
        }
    })
    .collect()
}

#[test]
fn quorum_requeue_goes_to_the_back_without_a_delivery_limit() {
    let (mut w, c) = quorum(&[]);
    let tags: Vec<u64> = (0..3).map(|_| w.get_msg(c, "qq").tag).collect();
    w.send(c, nack(tags[2], false, true));
    w.send(c, nack(tags[0], false, true));
    assert_eq!(drain_quorum(&mut w, c), ["m3", "m4", "m2*", "m0*"]);

    let (mut w, c) = quorum(&[]);
    (0..3).for_each(|_| {
        w.get_msg(c, "qq");
    });
    w.send(c, recover());
    assert_eq!(drain_quorum(&mut w, c), ["m3", "m4", "m0*", "m1*", "m2*"]);
}

#[test]
fn quorum_requeue_goes_to_the_front_with_a_delivery_limit() {
    let (mut w, c) = quorum(&[("x-delivery-limit", int(10))]);
    let tags: Vec<u64> = (0..3).map(|_| w.get_msg(c, "qq").tag).collect();
    w.send(c, nack(tags[2], false, true));
    w.send(c, nack(tags[0], false, true));
    w.send(c, ack(tags[1]));
    assert_eq!(drain_quorum(&mut w, c), ["m2*", "m0*", "m3", "m4"]);

    let (mut w, c) = quorum(&[("x-delivery-limit", int(10))]);
    (0..3).for_each(|_| {
        w.get_msg(c, "qq");
    });
    w.send(c, recover());
    assert_eq!(drain_quorum(&mut w, c), ["m0*", "m1*", "m2*", "m3", "m4"]);
}

#[test]
fn quorum_channel_close_returns_to_the_front_in_order() {
    let (mut w, c) = quorum(&[]);
    let c2 = w.channel(1, 2);
    (0..3).for_each(|_| {
        w.get_msg(c2, "qq");
    });
    w.closed(c2);
    assert_eq!(drain_quorum(&mut w, c), ["m0*", "m1*", "m2*", "m3", "m4"]);
}

#[test]
fn quorum_delivery_count_header_and_limit() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "dl");
    w.ok(
        c,
        QueueDecl::new("qq")
            .quorum()
            .arg("x-delivery-limit", int(2))
            .arg("x-dead-letter-exchange", s(""))
            .arg("x-dead-letter-routing-key", s("dl")),
    );
    for i in 0..3 {
        w.publish(c, "", "qq", &format!("m{i}"));
    }
    w.send(c, qos(1, false));
    let out = w.consume(c, "qq", "c");
    let m = &delivered_messages(&out)[0];
    assert_eq!(
        header(m, "x-delivery-count"),
        None,
        "no header on a first delivery"
    );
    let mut seen = Vec::new();
    for tag in 1..=3 {
        let out = w.send(c, reject(tag, true));
        let d = deliveries(&out);
        let m = &delivered_messages(&out)[0];
        seen.push((
            d[0].body.clone(),
            d[0].redelivered,
            header(m, "x-delivery-count"),
        ));
    }
    assert_eq!(
        seen,
        [
            ("m0".to_string(), true, Some(FieldValue::I64(1))),
            ("m0".to_string(), true, Some(FieldValue::I64(2))),
            // The third return is over the limit: m0 is dead-lettered, m1 is next.
            ("m1".to_string(), false, None),
        ]
    );
    let out = w.send(c, get("dl").no_ack());
    let m = &delivered_messages(&out)[0];
    assert_eq!(text(m.body()), "m0");
    let Some(FieldValue::Array(deaths)) = header(m, "x-death") else {
        panic!("x-death")
    };
    let FieldValue::Table(d) = &deaths[0] else {
        panic!()
    };
    assert_eq!(d.get("reason"), Some(&s("delivery_limit")));
    assert_eq!(d.get("queue"), Some(&s("qq")));
}

#[test]
fn quorum_basic_get_always_sets_the_delivery_count() {
    let (mut w, c) = quorum(&[]);
    let g = w.get_msg(c, "qq");
    assert_eq!(
        header(&g.message, "x-delivery-count"),
        Some(FieldValue::I64(0))
    );
    // A channel close counts as a return, and so does a recover.
    let c2 = w.channel(1, 2);
    w.consume(c2, "qq", "x");
    w.closed(c2);
    w.send(c, recover());
    let out = w.send_visible(c, get("qq").no_ack());
    let m = &delivered_messages(&out)[0];
    assert!(matches!(header(m, "x-delivery-count"), Some(FieldValue::I64(n)) if n >= 1));
    // Whatever a publisher put in the header, get shows the broker's count.
    let mut w = World::new();
    let c = w.client(1);
    w.ok(c, QueueDecl::new("qq").quorum());
    w.send(c, publish("", "qq", "c").header("x-delivery-count", int(7)));
    let g = w.get_msg(c, "qq");
    assert_eq!(
        header(&g.message, "x-delivery-count"),
        Some(FieldValue::I64(0))
    );
}

#[test]
fn classic_queues_have_no_delivery_count() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.publish(c, "", "q", "a");
    let g = w.get_msg(c, "q");
    w.send(c, nack(g.tag, false, true));
    let g = w.get_msg(c, "q");
    assert!(g.redelivered);
    assert_eq!(header(&g.message, "x-delivery-count"), None);
    assert_eq!(w.ok(c, qos(0, false)), Reply::BasicQosOk);
}

#[test]
fn ready_bytes_sums_every_queues_ready_bodies_and_leaves_unacked_out() {
    let mut w = World::new();
    let c = w.client(1);
    let reader = w.channel(1, 2);
    w.declare_queue(c, "a");
    w.declare_queue(c, "b");
    w.publish(c, "", "a", "12345");
    w.publish(c, "", "a", "123");
    w.publish(c, "", "b", "1234567");
    assert_eq!(w.b.ready_bytes(), 15);
    w.consume(reader, "a", "r");
    // Both of a's messages are out, unacked: they no longer count as ready.
    assert_eq!(w.b.ready_bytes(), 7);
    let listed: u64 = w.b.queues().iter().map(|q| q.message_bytes_ready).sum();
    assert_eq!(w.b.ready_bytes(), listed);
}

#[test]
fn has_queue_says_whether_a_vhost_holds_the_queue() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    assert!(w.b.has_queue("/", "q"));
    assert!(!w.b.has_queue("/", "other"));
    assert!(!w.b.has_queue("no-such-vhost", "q"));
}
