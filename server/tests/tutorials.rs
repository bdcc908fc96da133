//! RabbitMQ's six tutorials, driven with the amqprs client against a real
//! `warren serve`, on classic and quorum queues; plus big bodies, many
//! connections and publisher confirms.

mod common;

use amqprs::channel::{
    BasicAckArguments, BasicQosArguments, ExchangeDeclareArguments, QueueBindArguments,
    QueueDeclareArguments,
};
use amqprs::BasicProperties;
use common::client::*;
use common::Server;

async fn hello_world(kind: &str) {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "hello", kind, false).await;
    publish(
        &ch,
        "",
        "hello",
        b"Hello World!",
        BasicProperties::default(),
    )
    .await;
    let mut rx = consume(&ch, "hello", true).await;
    assert_eq!(body(&next(&mut rx).await), "Hello World!");
    conn.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn t1_hello_world() {
    hello_world("classic").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn t1_hello_world_quorum() {
    hello_world("quorum").await;
}

/// Work queues: durable queue, persistent tasks, manual acks, prefetch 1.
/// A busy worker holding one unacked task gets nothing more; when it dies,
/// its task goes to the other worker, marked redelivered.
async fn work_queues(kind: &str) {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "task_queue", kind, true).await;

    let busy_conn = connect(s.port).await;
    let busy = channel(&busy_conn).await;
    busy.basic_qos(BasicQosArguments::new(0, 1, false))
        .await
        .expect("qos");
    let mut busy_rx = consume(&busy, "task_queue", false).await;

    publish(&ch, "", "task_queue", b"task 0", persistent()).await;
    let first = next(&mut busy_rx).await;
    assert_eq!(body(&first), "task 0");

    let worker = channel(&conn).await;
    worker
        .basic_qos(BasicQosArguments::new(0, 1, false))
        .await
        .expect("qos");
    let mut rx = consume(&worker, "task_queue", false).await;
    for i in 1..=5 {
        publish(
            &ch,
            "",
            "task_queue",
            format!("task {i}").as_bytes(),
            persistent(),
        )
        .await;
    }
    for i in 1..=5 {
        let m = next(&mut rx).await;
        assert_eq!(body(&m), format!("task {i}"));
        worker
            .basic_ack(BasicAckArguments::new(tag(&m), false))
            .await
            .expect("ack");
    }
    assert!(
        quiet(&mut busy_rx, 200).await,
        "the busy worker got more than its prefetch"
    );

    busy_conn.close().await.expect("close");
    let m = next(&mut rx).await;
    assert_eq!(body(&m), "task 0");
    assert!(m.deliver.as_ref().expect("deliver").redelivered());
    worker
        .basic_ack(BasicAckArguments::new(tag(&m), false))
        .await
        .expect("ack");
    assert_eq!(count(&ch, "task_queue").await, 0);
    conn.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn t2_work_queues() {
    work_queues("classic").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn t2_work_queues_quorum() {
    work_queues("quorum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn t3_publish_subscribe() {
    let s = Server::start();
    let mut subscribers = vec![];
    for _ in 0..2 {
        let conn = connect(s.port).await;
        let ch = channel(&conn).await;
        ch.exchange_declare(ExchangeDeclareArguments::new("logs", "fanout"))
            .await
            .expect("exchange");
        let (q, _, _) = ch
            .queue_declare(QueueDeclareArguments::exclusive_server_named())
            .await
            .expect("declare")
            .expect("ok");
        assert!(q.starts_with("amq.gen-"), "{q}");
        ch.queue_bind(QueueBindArguments::new(&q, "logs", ""))
            .await
            .expect("bind");
        let rx = consume(&ch, &q, true).await;
        subscribers.push((conn, ch, rx));
    }
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    publish(&ch, "logs", "", b"info: hello", BasicProperties::default()).await;
    for (_, _, rx) in &mut subscribers {
        assert_eq!(body(&next(rx).await), "info: hello");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn t4_routing() {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    ch.exchange_declare(ExchangeDeclareArguments::new("direct_logs", "direct"))
        .await
        .expect("exchange");
    let (errors, _) = declare(&ch, "errors", "quorum", true).await;
    let (all, _) = declare(&ch, "", "classic", false).await;
    ch.queue_bind(QueueBindArguments::new(&errors, "direct_logs", "error"))
        .await
        .expect("bind");
    for sev in ["info", "warning", "error"] {
        ch.queue_bind(QueueBindArguments::new(&all, "direct_logs", sev))
            .await
            .expect("bind");
    }
    for sev in ["info", "warning", "error", "debug"] {
        publish(
            &ch,
            "direct_logs",
            sev,
            sev.as_bytes(),
            BasicProperties::default(),
        )
        .await;
    }
    let mut rx = consume(&ch, &errors, true).await;
    let m = next(&mut rx).await;
    assert_eq!(body(&m), "error");
    assert_eq!(m.deliver.as_ref().expect("deliver").routing_key(), "error");
    let mut rx = consume(&ch, &all, true).await;
    for want in ["info", "warning", "error"] {
        assert_eq!(body(&next(&mut rx).await), want);
    }
    assert!(quiet(&mut rx, 200).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn t5_topics() {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    ch.exchange_declare(ExchangeDeclareArguments::new("topic_logs", "topic"))
        .await
        .expect("exchange");
    let (q, _) = declare(&ch, "", "classic", false).await;
    for key in ["kern.*", "*.critical"] {
        ch.queue_bind(QueueBindArguments::new(&q, "topic_logs", key))
            .await
            .expect("bind");
    }
    for key in ["kern.info", "app.critical", "app.info", "kern.disk.full"] {
        publish(
            &ch,
            "topic_logs",
            key,
            key.as_bytes(),
            BasicProperties::default(),
        )
        .await;
    }
    let mut rx = consume(&ch, &q, true).await;
    assert_eq!(body(&next(&mut rx).await), "kern.info");
    assert_eq!(body(&next(&mut rx).await), "app.critical");
    assert!(quiet(&mut rx, 200).await);
}

fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// RPC: a server consumes `rpc_queue` and answers to `reply_to`; the client
/// waits on a callback queue, or (`direct`) on direct reply-to.
async fn rpc(direct: bool) {
    let s = Server::start();
    let server_conn = connect(s.port).await;
    let server = channel(&server_conn).await;
    declare(&server, "rpc_queue", "classic", false).await;
    server
        .basic_qos(BasicQosArguments::new(0, 1, false))
        .await
        .expect("qos");
    let mut requests = consume(&server, "rpc_queue", false).await;
    let serving = tokio::spawn(async move {
        while let Some(m) = requests.recv().await {
            let props = m.basic_properties.clone().expect("properties");
            let n: u64 = body(&m).parse().expect("a number");
            let reply = BasicProperties::default()
                .with_correlation_id(props.correlation_id().expect("correlation id"))
                .finish();
            let to = props.reply_to().expect("reply_to").clone();
            publish(&server, "", &to, fib(n).to_string().as_bytes(), reply).await;
            server
                .basic_ack(BasicAckArguments::new(tag(&m), false))
                .await
                .expect("ack");
        }
    });

    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    let callback = if direct {
        "amq.rabbitmq.reply-to".to_string()
    } else {
        declare(&ch, "", "classic", false).await.0
    };
    let mut replies = consume(&ch, &callback, true).await;
    for (i, n) in [10u64, 20, 30].into_iter().enumerate() {
        let props = BasicProperties::default()
            .with_reply_to(&callback)
            .with_correlation_id(&i.to_string())
            .finish();
        publish(&ch, "", "rpc_queue", n.to_string().as_bytes(), props).await;
        let m = next(&mut replies).await;
        let got = m.basic_properties.as_ref().expect("properties");
        assert_eq!(got.correlation_id(), Some(&i.to_string()));
        assert_eq!(body(&m), fib(n).to_string());
    }
    serving.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn t6_rpc_with_a_callback_queue() {
    rpc(false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn t6_rpc_with_direct_reply_to() {
    rpc(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_mib_bodies_round_trip() {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "big", "classic", false).await;
    let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    for _ in 0..3 {
        publish(&ch, "", "big", &big, BasicProperties::default()).await;
    }
    assert_eq!(get(&ch, "big").await.as_deref(), Some(&big[..]));
    let mut rx = consume(&ch, "big", true).await;
    for _ in 0..2 {
        assert_eq!(next(&mut rx).await.content.as_deref(), Some(&big[..]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_connections() {
    let s = Server::start();
    let port = s.port;
    let mut tasks = vec![];
    for i in 0..200 {
        tasks.push(tokio::spawn(async move {
            let conn = connect(port).await;
            let ch = channel(&conn).await;
            let q = format!("q{i}");
            declare(&ch, &q, "classic", false).await;
            publish(&ch, "", &q, q.as_bytes(), BasicProperties::default()).await;
            (conn, ch, q)
        }));
    }
    let mut open = vec![];
    for t in tasks {
        open.push(t.await.expect("task"));
    }
    // All 200 are open at once; each gets its own message back.
    for (_, ch, q) in &open {
        assert_eq!(get(ch, q).await.as_deref(), Some(q.as_bytes()));
    }
    for (conn, _, _) in open {
        conn.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn publisher_confirms_for_persistent_messages() {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "confirmed", "classic", true).await;
    let confirms = Confirms::enable(&ch).await;
    for i in 0..500 {
        publish(
            &ch,
            "",
            "confirmed",
            format!("m{i}").as_bytes(),
            persistent(),
        )
        .await;
    }
    confirms.wait(500).await;
    assert_eq!(count(&ch, "confirmed").await, 500);
}
