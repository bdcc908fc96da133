//! The management API over real HTTP against a running `warren serve`:
//! every endpoint, auth failures, 404s, and the definitions round trip.

mod common;

use common::client::*;
use common::http::Api;
use common::Server;
use serde_json::{json, Value};

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|o| o["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn queues_show_current_figures_and_rabbitmq_field_names() {
    let s = Server::start();
    let api = Api::new(s.http_port());
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "watched", "classic", true).await;
    for i in 0..3 {
        publish(&ch, "", "watched", format!("m{i}").as_bytes(), persistent()).await;
    }
    let mut rx = consume(&ch, "watched", false).await;
    let _ = next(&mut rx).await;
    let _ = next(&mut rx).await;
    let _ = next(&mut rx).await;

    let q = api.get("/api/queues/%2F/watched");
    for field in [
        "name",
        "vhost",
        "durable",
        "auto_delete",
        "exclusive",
        "arguments",
        "type",
        "messages",
        "messages_ready",
        "messages_unacknowledged",
        "consumers",
        "state",
    ] {
        assert!(q.get(field).is_some(), "no {field} in {q}");
    }
    assert_eq!(q["messages"], 3);
    assert_eq!(q["messages_unacknowledged"], 3);
    assert_eq!(q["consumers"], 1);
    assert_eq!(q["type"], "classic");
    assert_eq!(q["consumer_details"].as_array().map(Vec::len), Some(1));
    // Byte and persistence figures count delivered messages too, as RabbitMQ's
    // do (three persistent 2-byte bodies, all unacked); nothing is paged out.
    assert_eq!(q["message_bytes"], 6);
    assert_eq!(q["message_bytes_ready"], 0);
    assert_eq!(q["message_bytes_unacknowledged"], 6);
    assert_eq!(q["messages_persistent"], 3);
    assert_eq!(q["message_bytes_persistent"], 6);
    assert_eq!(q["message_bytes_ram"], 6);
    assert_eq!(q["messages_unacknowledged_ram"], 3);
    assert_eq!(q["messages_paged_out"], 0);
    assert_eq!(q["single_active_consumer_tag"], Value::Null);

    assert!(names(&api.get("/api/queues")).contains(&"watched".to_string()));
    assert!(names(&api.get("/api/queues/%2F")).contains(&"watched".to_string()));

    let conns = api.get("/api/connections");
    assert_eq!(conns.as_array().map(Vec::len), Some(1));
    assert_eq!(conns[0]["user"], "guest");
    assert_eq!(conns[0]["vhost"], "/");
    assert!(conns[0]["name"].as_str().unwrap_or("").contains(" -> "));
    // amqprs names its connections; RabbitMQ shows that as user_provided_name.
    assert_eq!(
        conns[0]["user_provided_name"],
        conns[0]["client_properties"]["connection_name"]
    );
    assert!(conns[0]["user_provided_name"].is_string());
    let chans = api.get("/api/channels");
    assert_eq!(chans[0]["consumer_count"], 1);
    assert_eq!(chans[0]["messages_unacknowledged"], 3);
    let consumers = api.get("/api/consumers");
    assert_eq!(consumers[0]["queue"]["name"], "watched");
    assert_eq!(consumers[0]["ack_required"], true);
    assert_eq!(consumers[0]["active"], true);
    assert_eq!(consumers[0]["activity_status"], "up");
    assert_eq!(
        api.get("/api/vhosts/%2F")["default_queue_type"],
        "undefined"
    );
    assert_eq!(
        api.get("/api/consumers/%2F").as_array().map(Vec::len),
        Some(1)
    );

    let o = api.get("/api/overview");
    assert_eq!(o["object_totals"]["queues"], 1);
    assert_eq!(o["object_totals"]["connections"], 1);
    assert_eq!(o["queue_totals"]["messages_unacknowledged"], 3);
    assert_eq!(o["rabbitmq_version"], "3.10.8");

    conn.close().await.ok();
    // Closing requeued them: figures are current, never cached.
    let mut ready = 0;
    for _ in 0..50 {
        ready = api.get("/api/queues/%2F/watched")["messages_ready"]
            .as_u64()
            .unwrap_or(0);
        if ready == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ready, 3);
}

/// As RabbitMQ 3.10 (checked against it): a classic queue shows its head
/// message's `timestamp` property, null when it has none; a quorum queue has
/// no such field.
#[tokio::test(flavor = "multi_thread")]
async fn a_classic_queue_shows_its_head_messages_timestamp() {
    let s = Server::start();
    let api = Api::new(s.http_port());
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "stamped", "classic", true).await;
    declare(&ch, "plain", "classic", true).await;
    declare(&ch, "raft", "quorum", true).await;
    let stamped = |t: u64| {
        let mut p = amqprs::BasicProperties::default();
        p.with_timestamp(t);
        p.finish()
    };
    publish(&ch, "", "stamped", b"a", stamped(1_700_000_000)).await;
    publish(&ch, "", "stamped", b"b", stamped(1_700_000_099)).await;
    publish(&ch, "", "plain", b"a", persistent()).await;
    publish(&ch, "", "raft", b"a", stamped(1_700_000_000)).await;
    assert_eq!(count(&ch, "stamped").await, 2);

    let q = api.get("/api/queues/%2F/stamped");
    assert_eq!(q["head_message_timestamp"], 1_700_000_000u64);
    assert_eq!(get(&ch, "stamped").await.as_deref(), Some(&b"a"[..]));
    let q = api.get("/api/queues/%2F/stamped");
    assert_eq!(q["head_message_timestamp"], 1_700_000_099u64);
    assert_eq!(
        api.get("/api/queues/%2F/plain")["head_message_timestamp"],
        Value::Null
    );
    let raft = api.get("/api/queues/%2F/raft");
    assert!(raft.get("head_message_timestamp").is_none(), "{raft}");
    conn.close().await.ok();
}

/// `message_stats` as RabbitMQ 3.10 shows them (its figures for the same steps,
/// taken with pika, are in core/tests/stats.rs): counts per queue, exchange,
/// channel, vhost and the node, and rates sampled every
/// `--collect-statistics-interval` (here 200 ms instead of 5 s).
#[tokio::test(flavor = "multi_thread")]
async fn message_stats_count_and_rate_what_went_through() {
    let s = Server::start_with(&["--collect-statistics-interval", "200"]);
    let api = Api::new(s.http_port());
    let overview = api.get("/api/overview");
    assert_eq!(overview["rates_mode"], "basic");
    assert_eq!(overview["message_stats"], json!({}));
    assert!(api.get("/api/vhosts/%2F").get("message_stats").is_none());

    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "counted", "classic", false).await;
    let q = api.get("/api/queues/%2F/counted");
    assert!(q.get("message_stats").is_none(), "{q}");
    ch.exchange_declare(amqprs::channel::ExchangeDeclareArguments::new(
        "fan", "fanout",
    ))
    .await
    .expect("exchange.declare");
    ch.queue_bind(amqprs::channel::QueueBindArguments::new(
        "counted", "fan", "",
    ))
    .await
    .expect("queue.bind");
    for _ in 0..3 {
        publish(&ch, "fan", "", b"m", Default::default()).await;
    }
    assert_eq!(count(&ch, "counted").await, 3);
    let q = api.get("/api/queues/%2F/counted");
    assert_eq!(q["message_stats"]["publish"], 3, "{q}");
    assert!(q["message_stats"].get("deliver_get").is_none(), "{q}");
    let x = api.get("/api/exchanges/%2F/fan");
    assert_eq!(x["message_stats"]["publish_in"], 3, "{x}");
    assert_eq!(x["message_stats"]["publish_out"], 3, "{x}");

    // Two gets, one of them acked, and one on an empty queue (a group's
    // fields appear, with get_empty counted).
    let reader = channel(&conn).await;
    let (got, ..) = reader
        .basic_get(amqprs::channel::BasicGetArguments::new("counted"))
        .await
        .expect("basic.get")
        .expect("a message");
    reader
        .basic_ack(amqprs::channel::BasicAckArguments::new(
            got.delivery_tag(),
            false,
        ))
        .await
        .expect("ack");
    assert!(get(&reader, "counted").await.is_some());
    declare(&ch, "empty", "classic", false).await;
    assert!(get(&reader, "empty").await.is_none());
    assert_eq!(count(&ch, "counted").await, 1);
    let q = api.get("/api/queues/%2F/counted")["message_stats"].clone();
    assert_eq!(
        (
            q["get"].clone(),
            q["get_no_ack"].clone(),
            q["ack"].clone(),
            q["deliver_get"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(2)),
        "{q}"
    );
    let e = api.get("/api/queues/%2F/empty")["message_stats"].clone();
    assert_eq!(
        (e["get_empty"].clone(), e["deliver_get"].clone()),
        (json!(1), json!(0)),
        "{e}"
    );

    let channels = api.get("/api/channels");
    let by_number = |n: u64| {
        channels
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["number"] == n)
            .cloned()
            .expect("channel")
    };
    let publisher = by_number(1)["message_stats"].clone();
    assert_eq!(publisher["publish"], 3, "{publisher}");
    assert!(publisher.get("deliver_get").is_none(), "{publisher}");
    let getter = by_number(2)["message_stats"].clone();
    assert_eq!(getter["deliver_get"], 2, "{getter}");
    assert!(getter.get("publish").is_none(), "{getter}");

    // Publishing steadily shows a rate; the vhost and the node keep counting
    // after the connection is gone.
    for _ in 0..40 {
        publish(&ch, "", "counted", b"m", Default::default()).await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let rate = api.get("/api/overview")["message_stats"]["publish_details"]["rate"]
        .as_f64()
        .expect("a rate");
    assert!(
        rate > 10.0,
        "publishing ~80 msg/s, the overview says {rate}"
    );
    let q = api.get("/api/queues/%2F/counted");
    let growth = q["messages_details"]["rate"].as_f64().expect("a rate");
    assert!(growth > 10.0, "the queue grows ~80 msg/s: {q}");
    assert_eq!(
        q["messages_ready_details"]["rate"],
        q["messages_details"]["rate"]
    );
    conn.close().await.ok();
    let vhost = api.get("/api/vhosts/%2F")["message_stats"].clone();
    assert_eq!(
        (vhost["publish"].clone(), vhost["ack"].clone()),
        (json!(43), json!(1)),
        "{vhost}"
    );
    let overview = api.get("/api/overview")["message_stats"].clone();
    assert_eq!(overview["publish"], 43, "{overview}");
    assert_eq!(overview["disk_writes"], 0, "{overview}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let calm = api.get("/api/overview")["message_stats"]["publish_details"]["rate"].clone();
    assert_eq!(calm, 0.0, "nothing published for two samples");
    // Connections, channels and queues that came and went (checked against
    // RabbitMQ 3.10: a passive declare is not counted). A queue declared over
    // HTTP counts as a queue, but the management's own session is no client
    // connection or channel.
    let (status, _) = api.send("PUT", "/api/queues/%2F/via-http", Some(json!({})));
    assert_eq!(status, 201);
    let churn = api.get("/api/overview")["churn_rates"].clone();
    assert_eq!(
        [
            "connection_created",
            "connection_closed",
            "channel_created",
            "channel_closed",
            "queue_declared",
            "queue_created"
        ]
        .map(|k| churn[k].as_u64().unwrap_or(99)),
        [1, 1, 2, 2, 3, 3],
        "{churn}"
    );
    let totals = api.get("/api/overview")["queue_totals"].clone();
    assert_eq!(totals["messages"], 41, "{totals}");
    assert_eq!(totals["messages_details"]["rate"], 0.0, "{totals}");
}

/// As RabbitMQ 3.10 (checked against it with pika): a classic queue shows
/// `idle_since` a second after anything last happened to it, and not while
/// it is busy; a quorum queue never does.
#[tokio::test(flavor = "multi_thread")]
async fn a_classic_queue_says_since_when_it_is_idle() {
    let s = Server::start();
    let api = Api::new(s.http_port());
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "resting", "classic", false).await;
    declare(&ch, "raft", "quorum", true).await;
    let q = api.get("/api/queues/%2F/resting");
    assert!(q.get("idle_since").is_none(), "just declared: {q}");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let since = api.get("/api/queues/%2F/resting")["idle_since"].clone();
    let text = since
        .as_str()
        .unwrap_or_else(|| panic!("idle_since: {since}"));
    assert_eq!(text.len(), "2026-12-05T12:27:24.723+00:00".len(), "{text}");
    assert!(
        text.ends_with("+00:00") && text.as_bytes()[10] == b'T',
        "{text}"
    );
    publish(&ch, "", "resting", b"m", Default::default()).await;
    assert_eq!(count(&ch, "resting").await, 1);
    let q = api.get("/api/queues/%2F/resting");
    assert!(q.get("idle_since").is_none(), "busy again: {q}");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let later = api.get("/api/queues/%2F/resting")["idle_since"].clone();
    assert!(later.as_str() > since.as_str(), "{later} after {since}");
    let raft = api.get("/api/queues/%2F/raft");
    assert!(raft.get("idle_since").is_none(), "{raft}");
    conn.close().await.ok();
}

/// A connection shows its traffic (recv_oct/cnt, send_oct/cnt, send_pend)
/// and heartbeat (`timeout`) as RabbitMQ does; its vhost keeps the bytes after
/// it closes.
#[tokio::test(flavor = "multi_thread")]
async fn connections_and_vhosts_count_their_traffic() {
    let s = Server::start_with(&["--collect-statistics-interval", "200"]);
    let api = Api::new(s.http_port());
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "bulky", "classic", false).await;
    let before = api.get("/api/connections")[0].clone();
    let recv0 = before["recv_oct"].as_u64().expect("recv_oct");
    assert!(
        recv0 > 8,
        "the protocol header and handshake at least: {before}"
    );
    assert!(before["recv_cnt"].as_u64() >= Some(1), "{before}");
    assert!(before["send_oct"].as_u64() > Some(0), "{before}");
    assert_eq!(before["send_pend"], 0, "{before}");
    assert_eq!(before["timeout"], 60, "amqprs asks for 60 s: {before}");
    publish(&ch, "", "bulky", &[7u8; 10_000], Default::default()).await;
    assert_eq!(count(&ch, "bulky").await, 1);
    let after = api.get("/api/connections")[0].clone();
    let recv1 = after["recv_oct"].as_u64().expect("recv_oct");
    assert!(recv1 >= recv0 + 10_000, "{recv0} then {after}");
    // 10 kB every 20 ms for 0.6 s: about 500 kB/s in, over several samples.
    for _ in 0..30 {
        publish(&ch, "", "bulky", &[7u8; 10_000], Default::default()).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let rate = |v: &Value| v["recv_oct_details"]["rate"].as_f64().unwrap_or(0.0);
    let busy = api.get("/api/connections")[0].clone();
    assert!(rate(&busy) > 100_000.0, "{busy}");
    let vhost = api.get("/api/vhosts/%2F");
    assert!(rate(&vhost) > 100_000.0, "{vhost}");
    let recv2 = busy["recv_oct"].as_u64().expect("recv_oct");
    conn.close().await.ok();
    let vhost = api.get("/api/vhosts/%2F");
    assert!(
        vhost["recv_oct"].as_u64() >= Some(recv2),
        "kept after the close: {vhost}"
    );
    assert!(vhost["send_oct"].as_u64() > Some(0), "{vhost}");
}

/// `/api/nodes`: the one node with its memory against the watermark, file
/// descriptors, disk, sockets and churn; monitoring users and administrators
/// only, as in RabbitMQ 3.10.
#[tokio::test(flavor = "multi_thread")]
async fn the_node_shows_its_figures() {
    let s = Server::start_with(&["--memory-high-watermark", "123456789"]);
    let api = Api::new(s.http_port());
    let conn = connect(s.port).await;
    let nodes = api.get("/api/nodes");
    let node = nodes[0].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(1), "{nodes}");
    let single = api.get("/api/nodes/warren@localhost");
    let keys = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        (keys(&single), &single["name"]),
        (keys(&node), &node["name"])
    );
    assert_eq!(node["name"], "warren@localhost");
    assert_eq!(node["running"], true);
    assert_eq!(node["mem_limit"], 123_456_789u64);
    assert_eq!(node["mem_alarm"], false);
    assert!(node["mem_used"].as_u64() > Some(1_000_000), "{node}");
    assert!(node["fd_used"].as_u64() > Some(3), "{node}");
    assert!(
        node["fd_total"].as_u64() >= node["fd_used"].as_u64(),
        "{node}"
    );
    assert!(node["disk_free"].as_u64() > Some(0), "{node}");
    assert_eq!(node["sockets_used"], 1, "{node}");
    assert_eq!(node["connection_created"], 1, "{node}");
    assert_eq!(
        node["os_pid"],
        s.process_id().map(|p| p.to_string()).unwrap_or_default()
    );
    assert_eq!(api.send("GET", "/api/nodes/rabbit@elsewhere", None).0, 404);
    api.send(
        "PUT",
        "/api/users/mgr",
        Some(json!({"password": "pw", "tags": "management"})),
    );
    let (status, v) = Api::as_user(s.http_port(), "mgr", "pw").send("GET", "/api/nodes", None);
    assert_eq!(
        (status, v["reason"].clone()),
        (401, json!("Not monitor user"))
    );
    conn.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_logins_are_401_and_unknown_objects_404() {
    let s = Server::start();
    let port = s.http_port();
    let (status, v) = Api::as_user(port, "guest", "nope").send("GET", "/api/queues", None);
    assert_eq!(status, 401);
    assert_eq!(
        v,
        json!({"error": "not_authorized", "reason": "Login failed"})
    );
    let (status, _) = Api::as_user(port, "nobody", "x").send("GET", "/api/overview", None);
    assert_eq!(status, 401);

    let api = Api::new(port);
    // A user without a management tag may not log in; one with it sees only its vhosts.
    api.send(
        "PUT",
        "/api/users/plain",
        Some(json!({"password": "pw", "tags": ""})),
    );
    let (status, v) = Api::as_user(port, "plain", "pw").send("GET", "/api/overview", None);
    assert_eq!(
        (status, v["reason"].clone()),
        (401, json!("Not management user"))
    );
    api.send(
        "PUT",
        "/api/users/mgr",
        Some(json!({"password": "pw", "tags": "management"})),
    );
    let mgr = Api::as_user(port, "mgr", "pw");
    assert_eq!(mgr.send("GET", "/api/overview", None).0, 200);
    assert_eq!(mgr.get("/api/queues"), json!([]));
    let (status, v) = mgr.send("GET", "/api/users", None);
    assert_eq!((status, v["error"].clone()), (401, json!("not_authorised")));
    assert_eq!(mgr.send("GET", "/api/queues/%2F", None).0, 401);
    // Without permissions on "/", actions are refused too.
    assert_eq!(mgr.send("PUT", "/api/queues/%2F/x", Some(json!({}))).0, 401);

    let not_found = json!({"error": "Object Not Found", "reason": "Not Found"});
    for path in [
        "/api/queues/nope",
        "/api/queues/%2F/nope",
        "/api/queues/nope/q",
        "/api/exchanges/nope",
        "/api/exchanges/%2F/nope",
        "/api/bindings/nope",
        "/api/vhosts/nope",
        "/api/users/nope",
        "/api/no-such-endpoint",
    ] {
        let (status, v) = api.send("GET", path, None);
        assert_eq!((status, &v), (404, &not_found), "{path}");
    }
    assert_eq!(api.send("DELETE", "/api/queues/%2F/nope", None).0, 404);
    assert_eq!(
        api.send("DELETE", "/api/queues/%2F/nope/contents", None).0,
        404
    );
    let body = json!({"count": 1, "ackmode": "ack_requeue_true", "encoding": "auto"});
    assert_eq!(
        api.send("POST", "/api/queues/%2F/nope/get", Some(body)).0,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_go_through_the_core() {
    let s = Server::start();
    let api = Api::new(s.http_port());

    // Queues and exchanges: 201 when created, 204 when already there.
    let (st, _) = api.send(
        "PUT",
        "/api/queues/%2F/jobs",
        Some(json!({"durable": true})),
    );
    assert_eq!(st, 201);
    let (st, _) = api.send(
        "PUT",
        "/api/queues/%2F/jobs",
        Some(json!({"durable": true})),
    );
    assert_eq!(st, 204);
    let (st, v) = api.send(
        "PUT",
        "/api/queues/%2F/jobs",
        Some(json!({"durable": false})),
    );
    assert_eq!(st, 400, "{v}");
    assert!(v["reason"]
        .as_str()
        .unwrap_or("")
        .contains("inequivalent arg 'durable'"));
    let (st, _) = api.send(
        "PUT",
        "/api/exchanges/%2F/logs",
        Some(json!({"type": "topic", "durable": true})),
    );
    assert_eq!(st, 201);
    let x = api.get("/api/exchanges/%2F/logs");
    assert_eq!(
        (x["type"].clone(), x["durable"].clone()),
        (json!("topic"), json!(true))
    );
    assert_eq!(api.get("/api/exchanges/%2F/amq.default")["name"], "");
    assert!(names(&api.get("/api/exchanges")).contains(&"amq.topic".to_string()));
    assert!(names(&api.get("/api/exchanges/%2F")).contains(&"logs".to_string()));
    let (st, _) = api.send(
        "PUT",
        "/api/exchanges/%2F/bad",
        Some(json!({"type": "nonsense"})),
    );
    assert_eq!(st, 400);

    // Bind, then publish through the exchange.
    let (st, _) = api.send(
        "POST",
        "/api/bindings/%2F/e/logs/q/jobs",
        Some(json!({"routing_key": "a.*"})),
    );
    assert_eq!(st, 201);
    let b = api.get("/api/bindings/%2F/e/logs/q/jobs");
    assert_eq!(b[0]["routing_key"], "a.*");
    assert_eq!(b[0]["properties_key"], "a.*");
    assert_eq!(
        api.get("/api/queues/%2F/jobs/bindings")
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert!(api
        .get("/api/bindings")
        .as_array()
        .is_some_and(|b| b.len() >= 2));
    let (st, _) = api.send(
        "POST",
        "/api/bindings/%2F/e/logs/q/missing",
        Some(json!({"routing_key": "k"})),
    );
    assert_eq!(st, 404);

    let publish = |key: &str, payload: &str| {
        api.send(
            "POST",
            "/api/exchanges/%2F/logs/publish",
            Some(
                json!({"properties": {"delivery_mode": 2, "headers": {"h": 1}},
                        "routing_key": key, "payload": payload, "payload_encoding": "string"}),
            ),
        )
    };
    assert_eq!(publish("a.b", "one"), (200, json!({"routed": true})));
    assert_eq!(publish("z.z", "lost"), (200, json!({"routed": false})));
    let (st, v) = api.send(
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        Some(json!({"properties": {}, "routing_key": "jobs",
                    "payload": "/w==", "payload_encoding": "base64"})),
    );
    assert_eq!((st, v), (200, json!({"routed": true})));
    assert_eq!(api.get("/api/queues/%2F/jobs")["messages"], 2);

    // get with requeue leaves them; ack_requeue_false takes them.
    let get = |mode: &str| {
        api.send(
            "POST",
            "/api/queues/%2F/jobs/get",
            Some(json!({"count": 5, "ackmode": mode, "encoding": "auto"})),
        )
    };
    let (st, msgs) = get("ack_requeue_true");
    assert_eq!(st, 200);
    assert_eq!(msgs.as_array().map(Vec::len), Some(2));
    assert_eq!(msgs[0]["payload"], "one");
    assert_eq!(msgs[0]["payload_encoding"], "string");
    assert_eq!(msgs[0]["routing_key"], "a.b");
    assert_eq!(msgs[0]["exchange"], "logs");
    assert_eq!(msgs[0]["properties"]["delivery_mode"], 2);
    assert_eq!(msgs[0]["message_count"], 1);
    // Not UTF-8, so shown as base64.
    assert_eq!(msgs[1]["payload"], "/w==");
    assert_eq!(msgs[1]["payload_encoding"], "base64");
    assert_eq!(api.get("/api/queues/%2F/jobs")["messages_ready"], 2);
    let (_, msgs) = get("ack_requeue_false");
    assert_eq!(msgs[0]["redelivered"], true);
    assert_eq!(api.get("/api/queues/%2F/jobs")["messages"], 0);
    let (st, _) = get("nonsense");
    assert_eq!(st, 400);

    // Purge, unbind, delete.
    publish("a.c", "two");
    assert_eq!(
        api.send("DELETE", "/api/queues/%2F/jobs/contents", None).0,
        204
    );
    assert_eq!(api.get("/api/queues/%2F/jobs")["messages"], 0);
    assert_eq!(
        api.send("DELETE", "/api/bindings/%2F/e/logs/q/jobs/a.*", None)
            .0,
        204
    );
    assert_eq!(api.get("/api/bindings/%2F/e/logs/q/jobs"), json!([]));
    assert_eq!(api.send("DELETE", "/api/exchanges/%2F/logs", None).0, 204);
    assert_eq!(api.send("GET", "/api/exchanges/%2F/logs", None).0, 404);

    // A consumer sees its queue deleted from the API (basic.cancel), like any client.
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    let _rx = consume(&ch, "jobs", true).await;
    assert_eq!(api.get("/api/queues/%2F/jobs")["consumers"], 1);
    assert_eq!(
        api.send("DELETE", "/api/queues/%2F/jobs?if-unused=true", None)
            .0,
        400
    );
    assert_eq!(api.send("DELETE", "/api/queues/%2F/jobs", None).0, 204);
    assert_eq!(api.send("GET", "/api/queues/%2F/jobs", None).0, 404);
    assert_eq!(api.get("/api/consumers"), json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn users_vhosts_and_permissions() {
    let s = Server::start();
    let api = Api::new(s.http_port());
    assert_eq!(api.send("PUT", "/api/vhosts/dev", None).0, 201);
    assert_eq!(api.send("PUT", "/api/vhosts/dev", None).0, 204);
    assert_eq!(names(&api.get("/api/vhosts")), vec!["/", "dev"]);
    assert_eq!(api.get("/api/vhosts/dev")["name"], "dev");

    let (st, _) = api.send(
        "PUT",
        "/api/users/ann",
        Some(json!({"password": "pw", "tags": "administrator"})),
    );
    assert_eq!(st, 201);
    let u = api.get("/api/users/ann");
    assert_eq!(u["tags"], json!(["administrator"]));
    assert_eq!(u["hashing_algorithm"], "rabbit_password_hashing_sha256");
    assert!(names(&api.get("/api/users")).contains(&"ann".to_string()));
    let ann = Api::as_user(s.http_port(), "ann", "pw");
    assert_eq!(ann.get("/api/whoami")["name"], "ann");

    let perm = json!({"configure": "^a-", "write": ".*", "read": ".*"});
    assert_eq!(
        api.send("PUT", "/api/permissions/dev/ann", Some(perm.clone()))
            .0,
        201
    );
    assert_eq!(api.get("/api/permissions/dev/ann")["configure"], "^a-");
    assert!(api
        .get("/api/permissions")
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["user"] == "ann")));
    assert_eq!(
        api.send("PUT", "/api/permissions/dev/ghost", Some(perm)).0,
        400
    );
    // Permissions apply to API actions: ann may configure only "a-" names in dev.
    assert_eq!(
        ann.send("PUT", "/api/queues/dev/a-1", Some(json!({}))).0,
        201
    );
    let (st, v) = ann.send("PUT", "/api/queues/dev/b-1", Some(json!({})));
    assert_eq!(st, 401, "{v}");
    assert!(v["reason"]
        .as_str()
        .unwrap_or("")
        .contains("access to queue 'b-1'"));

    // Users, vhosts and permissions changed at run time survive a restart.
    let mut s = s;
    s.stop();
    s.restart();
    let (api, ann) = (
        Api::new(s.http_port()),
        Api::as_user(s.http_port(), "ann", "pw"),
    );
    assert_eq!(ann.get("/api/whoami")["name"], "ann");
    assert_eq!(api.get("/api/permissions/dev/ann")["configure"], "^a-");

    assert_eq!(api.send("DELETE", "/api/permissions/dev/ann", None).0, 204);
    assert_eq!(api.send("DELETE", "/api/users/ann", None).0, 204);
    assert_eq!(api.send("DELETE", "/api/users/ann", None).0, 404);
    assert_eq!(ann.send("GET", "/api/overview", None).0, 401);
    assert_eq!(api.send("DELETE", "/api/vhosts/dev", None).0, 204);
    assert_eq!(api.send("DELETE", "/api/vhosts/dev", None).0, 404);
    assert_eq!(api.get("/api/queues"), json!([]));
    // ... and so do deletions.
    s.stop();
    s.restart();
    let api = Api::new(s.http_port());
    assert_eq!(names(&api.get("/api/vhosts")), vec!["/"]);
    assert_eq!(api.send("GET", "/api/users/ann", None).0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn definitions_round_trip_into_an_empty_server() {
    let a = Server::start();
    let api = Api::new(a.http_port());
    api.send("PUT", "/api/vhosts/v2", None);
    api.send(
        "PUT",
        "/api/users/ops",
        Some(json!({"password": "pw", "tags": ["management"]})),
    );
    api.send(
        "PUT",
        "/api/permissions/v2/ops",
        Some(json!({"configure": ".*", "write": ".*", "read": ".*"})),
    );
    api.send(
        "PUT",
        "/api/permissions/v2/guest",
        Some(json!({"configure": ".*", "write": ".*", "read": ".*"})),
    );
    api.send(
        "PUT",
        "/api/exchanges/v2/events",
        Some(json!({"type": "fanout", "durable": true})),
    );
    api.send(
        "PUT",
        "/api/exchanges/%2F/orders",
        Some(json!({"type": "direct", "durable": true})),
    );
    api.send(
        "PUT",
        "/api/queues/%2F/orders.q",
        Some(json!({"durable": true, "arguments": {"x-queue-type": "quorum"}})),
    );
    api.send(
        "PUT",
        "/api/queues/v2/audit",
        Some(json!({"durable": true, "arguments": {"x-max-length": 10}})),
    );
    api.send(
        "PUT",
        "/api/queues/%2F/transient",
        Some(json!({"durable": false})),
    );
    api.send(
        "POST",
        "/api/bindings/%2F/e/orders/q/orders.q",
        Some(json!({"routing_key": "new"})),
    );
    api.send(
        "POST",
        "/api/bindings/v2/e/events/q/audit",
        Some(json!({"routing_key": ""})),
    );
    let exported = api.get("/api/definitions");
    assert_eq!(
        exported["queues"].as_array().map(Vec::len),
        Some(2),
        "{exported}"
    );
    assert_eq!(exported["bindings"].as_array().map(Vec::len), Some(2));

    let b = Server::start();
    let api_b = Api::new(b.http_port());
    let (st, v) = api_b.send("POST", "/api/definitions", Some(exported.clone()));
    assert_eq!(st, 204, "{v}");
    // The imported guest has the exported password hash: log in again as it.
    let again = api_b.get("/api/definitions");
    assert_eq!(again, exported);
    assert_eq!(api_b.get("/api/queues/%2F/orders.q")["type"], "quorum");
    assert_eq!(
        api_b.get("/api/queues/v2/audit")["arguments"]["x-max-length"],
        10
    );

    // All of it is durable, as in RabbitMQ: users, vhosts and permissions
    // as well as the topology.
    let mut b = b;
    b.stop();
    b.restart();
    let api_b = Api::new(b.http_port());
    let restarted = api_b.get("/api/definitions");
    for key in [
        "users",
        "vhosts",
        "permissions",
        "exchanges",
        "queues",
        "bindings",
    ] {
        assert_eq!(restarted[key], exported[key], "{key}");
    }

    let (st, _) = api_b.send("POST", "/api/definitions", Some(json!({"queues": 5})));
    assert_eq!(st, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_root_serves_the_playground_or_says_how_to_build_it() {
    let web = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        web.path().join("index.html"),
        "<html><head><title>p</title></head><body>playground</body></html>",
    )
    .expect("write");
    std::fs::write(web.path().join("app.js"), "let x = 1;").expect("write");
    let dir = web.path().to_string_lossy().to_string();
    let s = Server::start_with(&["--web-dir", &dir]);
    let base = format!("http://127.0.0.1:{}", s.http_port());
    let page = ureq::get(&format!("{base}/")).call().expect("GET /");
    let text = page.into_string().expect("text");
    assert!(text.contains("playground"));
    assert!(text.contains(r#"<meta name="warren-live""#));
    let js = ureq::get(&format!("{base}/app.js"))
        .call()
        .expect("GET /app.js");
    assert_eq!(js.header("content-type"), Some("text/javascript"));
    let live: Value = ureq::get(&format!("{base}/api/warren"))
        .call()
        .expect("GET /api/warren")
        .into_json()
        .expect("json");
    assert_eq!(live["live"], true);
    assert_eq!(live["amqp_port"], s.port);
    assert!(matches!(
        ureq::get(&format!("{base}/../etc/passwd")).call(),
        Err(ureq::Error::Status(404, _))
    ));

    let bare = Server::start_with(&["--web-dir", "/nonexistent-dir"]);
    let text = ureq::get(&format!("http://127.0.0.1:{}/", bare.http_port()))
        .call()
        .expect("GET /")
        .into_string()
        .expect("text");
    assert!(text.contains("cargo xtask web"));
    assert!(text.contains("warren-live"));
}
