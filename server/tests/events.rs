//! The event stream: a WebSocket at /api/events sends a topology snapshot,
//! then the core's events (the playground's JSON) as clients act.

mod common;

use common::client::*;
use common::Server;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(port: u16, auth: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{port}/api/events")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Authorization", auth.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("json");
        }
    }
}

/// Reads events until one matches.
async fn until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = next_json(ws).await;
        if pred(&v) {
            return v;
        }
    }
}

const GUEST: &str = "Basic Z3Vlc3Q6Z3Vlc3Q="; // guest:guest

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_then_routed_and_delivered_events() {
    let s = Server::start();
    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    declare(&ch, "before", "classic", false).await;
    publish(&ch, "", "before", b"x", persistent()).await;
    assert_eq!(count(&ch, "before").await, 1); // a round trip: the publish is in

    let mut ws = open(s.http_port(), GUEST).await.expect("ws");
    let snap = next_json(&mut ws).await;
    let queues = snap["snapshot"]["queues"].as_array().expect("queues");
    let before = queues
        .iter()
        .find(|q| q["name"] == "before")
        .expect("queue in snapshot");
    assert_eq!(before["messages"], 1);
    assert!(snap["snapshot"]["exchanges"]
        .as_array()
        .is_some_and(|x| x.len() >= 6));
    assert!(snap["snapshot"]["bindings"].is_array());
    assert!(snap["snapshot"]["consumers"].is_array());

    declare(&ch, "work", "classic", false).await;
    let mut rx = consume(&ch, "work", true).await;
    publish(&ch, "", "work", b"hello", persistent()).await;
    let _ = next(&mut rx).await;

    let routed = until(&mut ws, |e| e["event"] == "routed").await;
    assert_eq!(routed["queues"], serde_json::json!(["work"]));
    let delivered = until(&mut ws, |e| e["event"] == "delivered").await;
    assert_eq!(delivered["queue"], "work");
    assert_eq!(delivered["msg_id"], routed["msg_id"]);
    // Same types as the playground's: it parses as a warren_core::Event.
    let e: warren_core::Event = serde_json::from_value(delivered).expect("an Event");
    assert!(e.seq > 0);
    drop(ws);

    // Unwatched again: the broker goes on (events off) and a new watcher starts afresh.
    publish(&ch, "", "work", b"again", persistent()).await;
    let _ = next(&mut rx).await;
    let mut ws = open(s.http_port(), GUEST).await.expect("ws");
    let snap = next_json(&mut ws).await;
    assert!(snap.get("snapshot").is_some());
    publish(&ch, "", "work", b"third", persistent()).await;
    until(&mut ws, |e| e["event"] == "delivered").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_needs_an_administrator() {
    let s = Server::start();
    assert!(open(s.http_port(), "Basic Z3Vlc3Q6bm9wZQ==").await.is_err()); // guest:nope
                                                                           // Browsers pass credentials in the query instead.
    let url = format!(
        "ws://127.0.0.1:{}/api/events?auth=Z3Vlc3Q6Z3Vlc3Q=",
        s.http_port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws with ?auth");
    assert!(next_json(&mut ws).await.get("snapshot").is_some());
}
