//! Message counters (`message_stats`): which channel, queue, exchange and vhost
//! counts what. The expected figures are what RabbitMQ 3.10.8's management API
//! reported for the same steps done with pika (RabbitMQ 3.10 shows
//! `get_empty` and `drop_unroutable` inconsistently, 0 on one node and the
//! count on another: these are the counts).

mod common;
use common::*;
use warren_core::stats::{ExchangeStats, MessageStats};

fn queue_stats(w: &World, q: &str) -> MessageStats {
    w.b.queue_info("/", q).expect("queue").message_stats
}

fn exchange_stats(w: &World, x: &str) -> ExchangeStats {
    w.b.exchanges()
        .into_iter()
        .find(|e| e.vhost == "/" && e.name == x)
        .expect("exchange")
        .message_stats
}

fn channel_stats(w: &World, c: Ch) -> MessageStats {
    w.b.channels()
        .into_iter()
        .find(|i| i.conn == c.conn && i.channel == c.ch)
        .expect("channel")
        .message_stats
}

#[test]
fn fanout_exchange_to_exchange_and_dead_letters_count_as_rabbitmq_does() {
    let mut w = World::new();
    let admin = w.client(1);
    w.declare_exchange(admin, "fan", "fanout");
    w.declare_exchange(admin, "x1", "fanout");
    w.declare_exchange(admin, "x2", "fanout");
    w.declare_exchange(admin, "dlx", "fanout");
    for q in ["a", "b", "dlq"] {
        w.declare_queue(admin, q);
    }
    w.ok(
        admin,
        QueueDecl::new("dl").arg("x-dead-letter-exchange", s("dlx")),
    );
    w.bind(admin, "a", "fan", "");
    w.bind(admin, "b", "fan", "");
    w.ok(admin, e2e_bind("x2", "x1", ""));
    w.bind(admin, "a", "x2", "");
    w.bind(admin, "dlq", "dlx", "");

    let publisher = w.channel(1, 2);
    w.publish(publisher, "fan", "", "1");
    w.publish(publisher, "x1", "", "2");
    w.publish(publisher, "", "dl", "3");

    let getter = w.channel(1, 3);
    let m = w.get_msg(getter, "dl");
    w.send(getter, reject(m.tag, false));
    let d = w.get_msg(getter, "dlq");
    let n = w.get_msg(getter, "a");
    w.send(getter, nack(n.tag, false, true));
    assert!(w.get_body(getter, "b").is_some());
    assert!(w.get_body(getter, "b").is_none());

    let confirming = w.channel(1, 4);
    w.ok(confirming, confirm_select());
    w.publish(confirming, "fan", "", "4");

    // An exchange counts what was published to it by name, and one copy out
    // per queue reached; the exchanges a message passes on its way (x2 by an
    // exchange-to-exchange binding, dlx by dead-lettering) count nothing.
    let fan = exchange_stats(&w, "fan");
    assert_eq!((fan.publish_in, fan.publish_out), (2, 4));
    let x1 = exchange_stats(&w, "x1");
    assert_eq!((x1.publish_in, x1.publish_out), (1, 1));
    assert_eq!(exchange_stats(&w, "x2"), ExchangeStats::default());
    assert_eq!(exchange_stats(&w, "dlx"), ExchangeStats::default());
    let default = exchange_stats(&w, "");
    assert_eq!((default.publish_in, default.publish_out), (1, 1));

    // A queue counts publishes routed into it (not dead-lettered ones) and
    // what it handed out; nack and reject are no acks.
    let a = queue_stats(&w, "a");
    assert_eq!((a.publish, a.get, a.ack, a.redeliver), (3, 1, 0, 0));
    let b = queue_stats(&w, "b");
    assert_eq!((b.publish, b.get_no_ack, b.get_empty), (2, 1, 1));
    let dlq = queue_stats(&w, "dlq");
    assert_eq!(
        (dlq.publish, dlq.get),
        (0, 1),
        "dead-lettering is no publish"
    );
    let dl = queue_stats(&w, "dl");
    assert_eq!((dl.publish, dl.get), (1, 1));

    assert_eq!(channel_stats(&w, admin), MessageStats::default());
    let p = channel_stats(&w, publisher);
    assert_eq!((p.publish, p.confirm, p.any_delivery()), (3, 0, false));
    let g = channel_stats(&w, getter);
    assert_eq!(
        (g.get, g.get_no_ack, g.get_empty, g.deliver_get(), g.ack),
        (3, 1, 1, 4, 0)
    );
    assert!(!g.any_publish());
    let cf = channel_stats(&w, confirming);
    assert_eq!((cf.publish, cf.confirm), (1, 1));

    // The vhost keeps a closed channel's counts.
    let before = w.b.vhost_stats("/").expect("vhost /");
    assert_eq!((before.publish, before.confirm, before.get), (4, 1, 3));

    // A snapshot holds the same figures, keyed for sampling.
    let snap = w.b.stats_snapshot();
    assert_eq!(snap.vhosts["/"], before);
    assert_eq!(snap.queues[&("/".to_string(), "a".to_string())].publish, 3);
    // Queue a: 3 routed in, one got and nacked back; b: 2 in, 1 got, 1 left.
    assert_eq!(snap.depths[&("/".to_string(), "a".to_string())], (3, 0));
    assert_eq!(snap.depths[&("/".to_string(), "b".to_string())], (1, 0));
    assert_eq!(snap.depths[&("/".to_string(), "dlq".to_string())], (0, 1));
    assert_eq!(snap.exchanges[&("/".to_string(), "fan".to_string())], fan);
    assert_eq!(snap.channels[&(getter.conn, getter.ch)], g);
    w.send(getter, ack(d.tag));
    w.disconnect(1);
    let after = w.b.vhost_stats("/").expect("vhost /");
    assert_eq!(after.publish, 4);
    assert_eq!(after.ack, 1);
    assert_eq!(w.b.stats_snapshot().vhosts["/"], after);
    let churn = w.b.churn();
    assert_eq!((churn.connection_created, churn.connection_closed), (1, 1));
    assert_eq!((churn.channel_created, churn.channel_closed), (4, 4));
    assert_eq!(
        (
            churn.queue_declared,
            churn.queue_created,
            churn.queue_deleted
        ),
        (4, 4, 0)
    );
    assert_eq!(queue_stats(&w, "dlq").ack, 1);
}

#[test]
fn consumers_unroutables_and_redeliveries_count_per_channel_and_queue() {
    let mut w = World::new();
    let c = w.client(1);
    w.declare_queue(c, "q");
    w.declare_exchange(c, "x", "direct");
    w.publish(c, "x", "nowhere", "dropped");
    w.send(c, publish("x", "nowhere", "returned").mandatory());
    for body in ["m1", "m2"] {
        w.publish(c, "", "q", body);
    }
    let x = exchange_stats(&w, "x");
    assert_eq!((x.publish_in, x.publish_out), (2, 0));

    let consumer = w.channel(1, 2);
    let out = w.consume(consumer, "q", "ack");
    let tags: Vec<u64> = deliveries(&out).iter().map(|d| d.tag).collect();
    assert_eq!(tags.len(), 2);
    // Recovering requeues both, and they come back marked redelivered.
    let out = w.send(consumer, recover());
    assert_eq!(deliveries(&out).len(), 2);
    w.send(consumer, ack_multiple(4));
    w.send(consumer, cancel("ack"));

    let no_ack = w.channel(1, 3);
    w.send(no_ack, consume("q", "noack").no_ack());
    w.publish(c, "", "q", "m3");

    let p = channel_stats(&w, c);
    assert_eq!(
        (p.publish, p.return_unroutable, p.drop_unroutable),
        (5, 1, 1)
    );
    let k = channel_stats(&w, consumer);
    assert_eq!(
        (k.deliver, k.redeliver, k.ack, k.deliver_get()),
        (4, 2, 2, 4)
    );
    let n = channel_stats(&w, no_ack);
    assert_eq!((n.deliver_no_ack, n.deliver), (1, 0));
    let q = queue_stats(&w, "q");
    assert_eq!(
        (q.publish, q.deliver, q.deliver_no_ack, q.redeliver, q.ack),
        (3, 4, 1, 2, 2)
    );

    // A restarted broker starts counting from nothing, as a restarted node does.
    w.ok(c, QueueDecl::new("kept").durable());
    w.publish(c, "", "kept", "m");
    // A nacked publish (reject-publish overflow) is no confirm, as in RabbitMQ 3.10.
    let confirming = w.channel(1, 4);
    w.ok(confirming, confirm_select());
    w.ok(
        confirming,
        QueueDecl::new("full")
            .arg("x-max-length", int(1))
            .arg("x-overflow", s("reject-publish")),
    );
    w.publish(confirming, "", "full", "fits");
    let out = w.publish(confirming, "", "full", "refused");
    assert_eq!(confirms(&out), vec![(2, true, false)], "a nack");
    let cf = channel_stats(&w, confirming);
    assert_eq!((cf.publish, cf.confirm), (2, 1));

    // A quorum queue's deletion counts twice in the churn, as in RabbitMQ 3.10.
    let deleted = w.b.churn().queue_deleted;
    w.ok(c, QueueDecl::new("raft").durable().quorum());
    w.ok(c, queue_delete("raft", false, false));
    w.declare_queue(c, "plain");
    w.ok(c, queue_delete("plain", false, false));
    assert_eq!(w.b.churn().queue_deleted, deleted + 3);
    w.b.restart(w.now);
    assert_eq!(queue_stats(&w, "kept"), MessageStats::default());
    assert_eq!(w.b.vhost_stats("/"), Some(MessageStats::default()));
    assert_eq!(w.b.churn(), warren_core::stats::Churn::default());
}
