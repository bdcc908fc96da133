//! Durable state across a clean stop and across kill -9: durable exchanges,
//! queues (classic and quorum) and bindings, and persistent messages that
//! were confirmed; nothing transient; acked messages stay gone.

mod common;

use amqprs::channel::{
    BasicAckArguments, ExchangeDeclareArguments, QueueBindArguments, QueueDeclareArguments,
};
use amqprs::BasicProperties;
use common::client::*;
use common::Server;
use std::time::{Duration, Instant};

const CONFIRMED: u64 = 300;

async fn fill(port: u16) {
    let conn = connect(port).await;
    let ch = channel(&conn).await;
    let mut x = ExchangeDeclareArguments::new("dx", "direct");
    x.durable(true);
    ch.exchange_declare(x.finish()).await.expect("exchange");
    declare(&ch, "dq", "classic", true).await;
    declare(&ch, "qq", "quorum", true).await;
    declare(&ch, "tq", "classic", false).await;
    ch.queue_bind(QueueBindArguments::new("dq", "dx", "k"))
        .await
        .expect("bind");
    ch.queue_bind(QueueBindArguments::new("qq", "dx", "k"))
        .await
        .expect("bind");

    let confirms = Confirms::enable(&ch).await;
    for i in 0..CONFIRMED {
        publish(&ch, "dx", "k", format!("m{i}").as_bytes(), persistent()).await;
    }
    // Transient messages (except in a quorum queue), and persistent ones in a
    // transient queue, go.
    publish(&ch, "dx", "k", b"transient", BasicProperties::default()).await;
    publish(&ch, "", "tq", b"in a transient queue", persistent()).await;
    confirms.wait(CONFIRMED + 2).await;

    // The first ten of dq are consumed and acked: they must stay gone.
    let consumer = channel(&conn).await;
    let mut rx = consume(&consumer, "dq", false).await;
    for i in 0..10 {
        let m = next(&mut rx).await;
        assert_eq!(body(&m), format!("m{i}"));
        consumer
            .basic_ack(BasicAckArguments::new(tag(&m), false))
            .await
            .expect("ack");
    }
    // One more is delivered and left unacked when the broker goes away.
    assert_eq!(body(&next(&mut rx).await), "m10");
    // The acks are fire-and-forget. A round trip would only show that the
    // broker has them, not that its store has written them before the
    // crash; a publisher confirm does, since the server holds every confirm
    // until the store ops before it are fsynced. The message goes to the
    // transient queue, which does not survive anyway.
    count(&consumer, "dq").await;
    publish(&ch, "", "tq", b"after the acks", BasicProperties::default()).await;
    confirms.wait(CONFIRMED + 3).await;
    std::mem::forget(conn); // the broker goes away under it
}

async fn check(port: u16) {
    let conn = connect(port).await;
    let ch = channel(&conn).await;
    assert_eq!(count(&ch, "dq").await as u64, CONFIRMED - 10);
    // A quorum queue writes every message to its log, whatever its delivery
    // mode, so the transient one routed to qq survives too (last).
    assert_eq!(count(&ch, "qq").await as u64, CONFIRMED + 1);
    assert_eq!(get(&ch, "dq").await.as_deref(), Some(&b"m10"[..]));
    let mut rx = consume(&ch, "qq", true).await;
    for i in 0..CONFIRMED {
        assert_eq!(body(&next(&mut rx).await), format!("m{i}"));
    }
    assert_eq!(body(&next(&mut rx).await), "transient");
    // The binding survived: a new publish to dx reaches dq.
    let confirmed = channel(&conn).await;
    let confirms = Confirms::enable(&confirmed).await;
    publish(&confirmed, "dx", "k", b"again", persistent()).await;
    confirms.wait(1).await;
    assert_eq!(count(&ch, "dq").await as u64, CONFIRMED - 10);
    // The transient queue is gone.
    let mut passive = QueueDeclareArguments::new("tq");
    passive.passive(true);
    assert!(ch.queue_declare(passive.finish()).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn durable_state_survives_a_clean_restart() {
    let mut s = Server::start();
    fill(s.port).await;
    s.stop();
    s.restart();
    check(s.port).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn confirmed_messages_survive_kill_9() {
    let mut s = Server::start();
    fill(s.port).await;
    s.kill();
    s.restart();
    check(s.port).await;
    // And a second crash, after recovery, loses nothing either.
    s.kill();
    s.restart();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    assert_eq!(count(&ch, "dq").await as u64, CONFIRMED - 10);
    // "again" went straight to qq's auto-ack consumer: stored and removed.
    assert_eq!(count(&ch, "qq").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_is_fast_with_many_stored_messages() {
    let mut s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "many", "classic", true).await;
    let confirms = Confirms::enable(&ch).await;
    let n = 50_000;
    let body = [b'x'; 100];
    for _ in 0..n {
        publish(&ch, "", "many", &body, persistent()).await;
    }
    confirms.wait(n).await;
    s.kill();
    let started = Instant::now();
    s.restart();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    assert_eq!(count(&ch, "many").await as u64, n);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "restart took {took:?}");
}

/// Drains `queue` with basic.get (no-ack): (body, redelivered) in order.
async fn drain_flags(ch: &amqprs::channel::Channel, queue: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    loop {
        let mut args = amqprs::channel::BasicGetArguments::new(queue);
        args.no_ack(true);
        match ch.basic_get(args.finish()).await.expect("basic.get") {
            Some((ok, _, body)) => out.push((
                String::from_utf8_lossy(&body).into_owned(),
                ok.redelivered(),
            )),
            None => return out,
        }
    }
}

/// As RabbitMQ 3.10 does (asked with stop_app/start_app): a stored message
/// that was out with a consumer when the broker went down comes back marked
/// redelivered; one never delivered does not. Classic and quorum alike, after
/// a clean stop and after kill -9.
#[tokio::test(flavor = "multi_thread")]
async fn messages_out_with_a_consumer_come_back_redelivered() {
    let mut s = Server::start();
    for crash in [false, true] {
        let conn = connect(s.port).await;
        let ch = channel(&conn).await;
        let confirms = Confirms::enable(&ch).await;
        for (q, args) in [
            ("rd-classic", amqprs::FieldTable::new()),
            ("rd-quorum", quorum_args()),
        ] {
            let mut d = QueueDeclareArguments::durable_client_named(q);
            d.arguments(args);
            ch.queue_declare(d.finish()).await.expect("declare");
            for i in 0..3 {
                publish(&ch, "", q, format!("m{i}").as_bytes(), persistent()).await;
            }
        }
        confirms.wait(6).await;
        // A consumer takes the first message of each queue and holds it.
        let holder = channel(&conn).await;
        for q in ["rd-classic", "rd-quorum"] {
            let mut args = amqprs::channel::BasicGetArguments::new(q);
            args.no_ack(false);
            let got = holder.basic_get(args.finish()).await.expect("get");
            assert!(got.is_some_and(|(_, _, b)| b == b"m0"));
        }
        // Let the store write the delivery before the broker goes down.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if crash {
            s.kill();
        } else {
            s.stop();
        }
        s.restart();
        let conn = connect(s.port).await;
        let ch = channel(&conn).await;
        let expected = vec![
            ("m0".to_string(), true),
            ("m1".to_string(), false),
            ("m2".to_string(), false),
        ];
        for q in ["rd-classic", "rd-quorum"] {
            assert_eq!(drain_flags(&ch, q).await, expected, "{q}, crash {crash}");
        }
    }
}

/// The `time` of a dead-lettered message's first `x-death` entry, in seconds.
fn x_death_time(props: &BasicProperties) -> Option<u64> {
    use amqprs::{FieldTable, FieldValue};
    let deaths = props.headers()?.get(&"x-death".try_into().ok()?)?.clone();
    let FieldValue::A(deaths) = deaths else {
        return None;
    };
    let first = Vec::<FieldValue>::from(deaths).into_iter().next()?;
    let table = FieldTable::try_from(first).ok()?;
    match table.get(&"time".try_into().ok()?)? {
        FieldValue::T(t) => Some(*t),
        _ => None,
    }
}

/// As RabbitMQ 3.10 does (asked with `rabbitmqctl stop` and a start): a
/// stored message's TTL is a point in time, so one that ran out while the
/// broker was down is gone when it is back, dead-lettered if its queue says
/// so, with an `x-death` time on the wall clock. One whose TTL has time left
/// stays.
#[tokio::test(flavor = "multi_thread")]
async fn ttls_keep_counting_while_the_broker_is_down() {
    let mut s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "ttl-dead", "classic", true).await;
    let mut dlx = amqprs::FieldTable::new();
    for (k, v) in [
        ("x-message-ttl", amqprs::FieldValue::l(2000)),
        (
            "x-dead-letter-exchange",
            amqprs::FieldValue::S("".try_into().unwrap()),
        ),
        (
            "x-dead-letter-routing-key",
            amqprs::FieldValue::S("ttl-dead".try_into().unwrap()),
        ),
    ] {
        dlx.insert(k.try_into().unwrap(), v);
    }
    let mut d = QueueDeclareArguments::durable_client_named("ttl-src");
    d.arguments(dlx);
    ch.queue_declare(d.finish()).await.expect("declare");
    declare(&ch, "ttl-own", "classic", true).await;
    let confirms = Confirms::enable(&ch).await;
    publish(&ch, "", "ttl-src", b"queue ttl", persistent()).await;
    let mut short = persistent();
    short.with_expiration("2000");
    publish(&ch, "", "ttl-own", b"own ttl", short).await;
    let mut long = persistent();
    long.with_expiration("600000");
    publish(&ch, "", "ttl-own", b"still in time", long).await;
    confirms.wait(3).await;
    s.stop();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    s.restart();

    // Well within the 2 s a TTL restarted at recovery would still run.
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    let deadline = Instant::now() + Duration::from_millis(1000);
    while count(&ch, "ttl-dead").await == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&ch, "ttl-src").await, 0);
    assert_eq!(count(&ch, "ttl-own").await, 1);
    let mut args = amqprs::channel::BasicGetArguments::new("ttl-dead");
    args.no_ack(true);
    let (_, props, body) = ch
        .basic_get(args.finish())
        .await
        .expect("basic.get")
        .expect("the expired message was dead-lettered");
    assert_eq!(body, b"queue ttl");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let time = x_death_time(&props).expect("an x-death time");
    assert!(now.abs_diff(time) < 60, "x-death time {time}, now {now}");
    assert_eq!(
        drain_flags(&ch, "ttl-own").await,
        [("still in time".to_string(), false)]
    );
}
