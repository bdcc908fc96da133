//! The wire protocol seen frame by frame: handshake refusals, heartbeats,
//! malformed input and the close codes RabbitMQ uses for it, flow control.

mod common;

use bytes::BytesMut;
use common::{Raw, Server};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warren_core::protocol::{Command, Reply};
use warren_core::types::{BasicProperties, FieldTable};
use warren_server::codec::{ClientMethod, FramePayload, ServerMethod, PROTOCOL_HEADER};

fn declare(queue: &str) -> ClientMethod {
    ClientMethod::Command(Command::QueueDeclare {
        queue: queue.into(),
        passive: false,
        durable: false,
        exclusive: false,
        auto_delete: false,
        nowait: false,
        arguments: FieldTable::new(),
    })
}

fn publish(queue: &str, body: &[u8]) -> ClientMethod {
    ClientMethod::Command(Command::BasicPublish {
        exchange: String::new(),
        routing_key: queue.into(),
        mandatory: false,
        immediate: false,
        properties: BasicProperties::default(),
        body: bytes::Bytes::copy_from_slice(body),
    })
}

/// A connection that must keep working while another one misbehaves.
async fn bystander_works(r: &mut Raw, queue: &str) {
    r.send(1, publish(queue, b"still here")).await;
    r.send(
        1,
        ClientMethod::Command(Command::BasicGet {
            queue: queue.into(),
            no_ack: true,
        }),
    )
    .await;
    match r.method().await {
        Some((1, ServerMethod::BasicGetOk { .. })) => {}
        other => panic!("bystander got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_protocol_header_gets_ours_back() {
    let s = Server::start();
    let mut r = Raw::connect(s.port).await;
    r.send_bytes(b"AMQP\x00\x00\x08\x00").await;
    assert_eq!(r.read_to_close().await, PROTOCOL_HEADER.to_vec());
    let mut r = Raw::connect(s.port).await;
    r.send_bytes(b"HTTP/1.1").await;
    assert_eq!(r.read_to_close().await, PROTOCOL_HEADER.to_vec());
}

#[tokio::test]
async fn server_properties_say_rabbitmq() {
    let s = Server::start();
    let mut r = Raw::connect(s.port).await;
    r.send_bytes(&PROTOCOL_HEADER).await;
    let Some((
        0,
        ServerMethod::ConnectionStart {
            server_properties, ..
        },
    )) = r.method().await
    else {
        panic!("no connection.start");
    };
    assert_eq!(
        server_properties.get("product").and_then(|v| v.as_str()),
        Some("RabbitMQ")
    );
    assert_eq!(
        server_properties.get("version").and_then(|v| v.as_str()),
        Some("3.10.8")
    );
    let Some(warren_core::FieldValue::Table(caps)) = server_properties.get("capabilities") else {
        panic!("no capabilities");
    };
    for cap in [
        "publisher_confirms",
        "direct_reply_to",
        "connection.blocked",
        "authentication_failure_close",
    ] {
        assert_eq!(
            caps.get(cap),
            Some(&warren_core::FieldValue::Bool(true)),
            "{cap}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_403_access_refused() {
    let s = Server::start();
    let mut r = Raw::connect(s.port).await;
    match r.login("guest", "wrong").await {
        Some((
            0,
            ServerMethod::ConnectionClose {
                reply_code,
                reply_text,
                ..
            },
        )) => {
            assert_eq!(reply_code, 403);
            assert!(
                reply_text.starts_with(
                    "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN"
                ),
                "{reply_text}"
            );
        }
        other => panic!("expected connection.close, got {other:?}"),
    }
    r.send(0, ClientMethod::ConnectionCloseOk).await;
    assert!(r.frame().await.is_none());
}

#[tokio::test]
async fn an_unknown_vhost_is_530() {
    let s = Server::start();
    let mut r = Raw::connect(s.port).await;
    assert!(matches!(
        r.login("guest", "guest").await,
        Some((0, ServerMethod::ConnectionTune { .. }))
    ));
    r.send(
        0,
        ClientMethod::ConnectionTuneOk {
            channel_max: 0x7ff,
            frame_max: 131_072,
            heartbeat: 0,
        },
    )
    .await;
    r.send(
        0,
        ClientMethod::ConnectionOpen {
            virtual_host: "nowhere".into(),
        },
    )
    .await;
    let (code, text) = r.expect_connection_close().await;
    assert_eq!(
        (code, text.as_str()),
        (530, "NOT_ALLOWED - vhost nowhere not found")
    );
}

/// Each kind of malformed input closes its connection with RabbitMQ's code,
/// and a connection beside it goes on unharmed.
#[tokio::test]
async fn malformed_input_gets_the_right_close_code_and_hurts_no_one_else() {
    let s = Server::start();
    let mut bystander = Raw::open(s.port, 0).await;
    bystander.channel(1).await;
    bystander.send(1, declare("calm")).await;
    assert!(matches!(
        bystander.method().await,
        Some((1, ServerMethod::Reply(Reply::QueueDeclareOk { .. })))
    ));

    let method = |class: u16, method: u16, args: &[u8]| {
        let mut b = vec![];
        b.extend_from_slice(&class.to_be_bytes());
        b.extend_from_slice(&method.to_be_bytes());
        b.extend_from_slice(args);
        b
    };
    let frame = |kind: u8, ch: u16, payload: &[u8], end: u8| {
        let mut b = vec![kind];
        b.extend_from_slice(&ch.to_be_bytes());
        b.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        b.extend_from_slice(payload);
        b.push(end);
        b
    };
    // queue.declare: ticket, name "q", flags, then a table whose one value has type 'Z'.
    let bad_table = method(50, 10, &[0, 0, 1, b'q', 0, 0, 0, 0, 3, 1, b'a', b'Z']);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "bad frame end",
            frame(1, 1, &method(50, 10, &[0]), 0x00),
            501,
        ),
        ("unknown frame type", frame(9, 1, b"xx", 0xCE), 501),
        (
            "truncated arguments",
            frame(1, 1, &method(50, 10, &[0, 0]), 0xCE),
            501,
        ),
        ("malformed field table", frame(1, 1, &bad_table, 0xCE), 502),
        (
            "unknown method",
            frame(1, 1, &method(60, 999, &[]), 0xCE),
            503,
        ),
        (
            "server-only method",
            frame(1, 1, &method(50, 11, &[]), 0xCE),
            503,
        ),
        (
            "method on an unopened channel",
            frame(1, 7, &method(60, 10, &[0, 0, 0, 0, 0, 1, 0]), 0xCE),
            504,
        ),
        ("body without a publish", frame(3, 1, b"body", 0xCE), 505),
        (
            "content header on channel 0",
            frame(2, 0, &[0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0xCE),
            505,
        ),
    ];
    for (what, bytes, code) in cases {
        let mut r = Raw::open(s.port, 0).await;
        r.channel(1).await;
        r.send_bytes(&bytes).await;
        let (got, text) = r.expect_connection_close().await;
        assert_eq!(got, code, "{what}: {text}");
        r.send(0, ClientMethod::ConnectionCloseOk).await;
        assert!(r.frame().await.is_none(), "{what}: socket still open");
        bystander_works(&mut bystander, "calm").await;
    }
}

#[tokio::test]
async fn heartbeats_go_out_and_a_silent_client_is_dropped() {
    let s = Server::start();
    let mut r = Raw::open(s.port, 1).await;
    // The server beats when it has nothing else to say...
    let f = r
        .frame_within(Duration::from_millis(1500))
        .await
        .expect("a heartbeat");
    assert!(matches!(f.payload, FramePayload::Heartbeat));
    // ...and drops a client silent for two intervals.
    let started = std::time::Instant::now();
    while r.frame_within(Duration::from_secs(5)).await.is_some() {}
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4), "dropped after {waited:?}");

    // A client that beats stays.
    let mut r = Raw::open(s.port, 1).await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        r.send_bytes(&warren_server::codec::HEARTBEAT_FRAME).await;
    }
    r.channel(1).await;
}

#[tokio::test]
async fn after_close_ok_the_client_closes_the_socket_first() {
    // RabbitMQ answers a client's connection.close with close-ok and then
    // waits for the client to close the TCP connection; a server FIN right
    // behind the close-ok makes lapin's close() fail with ConnectionAborted.
    let s = Server::start();
    let mut r = Raw::open(s.port, 0).await;
    r.send(
        0,
        ClientMethod::ConnectionClose {
            reply_code: 200,
            reply_text: "bye".into(),
            class_id: 0,
            method_id: 0,
        },
    )
    .await;
    assert_eq!(r.method().await, Some((0, ServerMethod::ConnectionCloseOk)));
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), r.sock.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "the server closed (or wrote) first: {early:?}"
    );
    r.sock.shutdown().await.expect("shutdown");
    let after = tokio::time::timeout(Duration::from_secs(2), r.sock.read(&mut byte)).await;
    assert!(
        matches!(after, Ok(Ok(0)) | Ok(Err(_))),
        "the server kept the socket open after the client's FIN: {after:?}"
    );
}

#[tokio::test]
async fn update_secret_is_acknowledged() {
    let s = Server::start();
    let mut r = Raw::open(s.port, 0).await;
    r.send(
        0,
        ClientMethod::ConnectionUpdateSecret {
            new_secret: "guest".into(),
            reason: "refresh".into(),
        },
    )
    .await;
    assert_eq!(
        r.method().await,
        Some((0, ServerMethod::ConnectionUpdateSecretOk))
    );
}

#[tokio::test]
async fn channel_close_is_answered_and_frames_after_our_close_are_dropped() {
    let s = Server::start();
    let mut r = Raw::open(s.port, 0).await;
    r.channel(1).await;
    r.send(
        1,
        ClientMethod::Command(Command::QueueDeclare {
            queue: "missing".into(),
            passive: true,
            durable: false,
            exclusive: false,
            auto_delete: false,
            nowait: false,
            arguments: FieldTable::new(),
        }),
    )
    .await;
    // Sent before the client has seen the close: dropped, content included.
    r.send(1, publish("missing", b"ignored")).await;
    match r.method().await {
        Some((
            1,
            ServerMethod::ChannelClose {
                reply_code: 404, ..
            },
        )) => {}
        other => panic!("expected channel.close 404, got {other:?}"),
    }
    r.send(1, ClientMethod::ChannelCloseOk).await;
    r.channel(1).await;
    r.send(
        1,
        ClientMethod::ChannelClose {
            reply_code: 200,
            reply_text: "bye".into(),
            class_id: 0,
            method_id: 0,
        },
    )
    .await;
    assert_eq!(r.method().await, Some((1, ServerMethod::ChannelCloseOk)));
}

#[tokio::test]
async fn publishers_are_blocked_over_the_memory_watermark() {
    let s = Server::start_with(&["--memory-high-watermark", "100000"]);
    let mut publisher = Raw::open(s.port, 0).await;
    publisher.channel(1).await;
    publisher.send(1, declare("big")).await;
    assert!(matches!(
        publisher.method().await,
        Some((1, ServerMethod::Reply(Reply::QueueDeclareOk { .. })))
    ));
    for _ in 0..3 {
        publisher.send(1, publish("big", &[7u8; 50_000])).await;
    }
    match publisher.method().await {
        Some((0, ServerMethod::ConnectionBlocked { reason })) => {
            assert_eq!(reason, "low on memory")
        }
        other => panic!("expected connection.blocked, got {other:?}"),
    }
    // Once it publishes under the alarm, its frames are not read: the
    // declare after this publish is not answered yet.
    publisher.send(1, publish("big", b"one more")).await;
    publisher.send(1, declare("after")).await;
    assert!(publisher
        .frame_within(Duration::from_millis(400))
        .await
        .is_none());
    // Another connection drains the queue; the alarm clears.
    let mut consumer = Raw::open(s.port, 0).await;
    assert!(matches!(
        consumer.method().await,
        Some((0, ServerMethod::ConnectionBlocked { .. }))
    ));
    consumer.channel(1).await;
    consumer
        .send(
            1,
            ClientMethod::Command(Command::QueuePurge {
                queue: "big".into(),
                nowait: false,
            }),
        )
        .await;
    let mut saw_unblocked = false;
    let mut saw_declare_ok = false;
    while !(saw_unblocked && saw_declare_ok) {
        match publisher.method().await {
            Some((0, ServerMethod::ConnectionUnblocked)) => saw_unblocked = true,
            Some((1, ServerMethod::Reply(Reply::QueueDeclareOk { .. }))) => saw_declare_ok = true,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn shutdown_closes_connections_with_320() {
    let mut s = Server::start();
    let mut r = Raw::open(s.port, 0).await;
    r.channel(1).await;
    let pid = s.process_id().expect("running");
    let stop = tokio::task::spawn_blocking(move || {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    });
    let (code, text) = r.expect_connection_close().await;
    assert_eq!(code, 320);
    assert_eq!(
        text,
        "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
    );
    r.send(0, ClientMethod::ConnectionCloseOk).await;
    stop.await.unwrap();
    s.stop();
}

#[tokio::test]
async fn content_is_split_at_frame_max() {
    let s = Server::start();
    let mut r = Raw::connect(s.port).await;
    assert!(matches!(
        r.login("guest", "guest").await,
        Some((0, ServerMethod::ConnectionTune { .. }))
    ));
    r.send(
        0,
        ClientMethod::ConnectionTuneOk {
            channel_max: 10,
            frame_max: 4096,
            heartbeat: 0,
        },
    )
    .await;
    r.send(
        0,
        ClientMethod::ConnectionOpen {
            virtual_host: "/".into(),
        },
    )
    .await;
    assert_eq!(r.method().await, Some((0, ServerMethod::ConnectionOpenOk)));
    r.channel(1).await;
    r.send(1, declare("split")).await;
    assert!(matches!(
        r.method().await,
        Some((1, ServerMethod::Reply(Reply::QueueDeclareOk { .. })))
    ));
    let mut buf = BytesMut::new();
    publish("split", &[1u8; 10_000]).encode(1, 4096, &mut buf);
    r.send_bytes(&buf).await;
    r.send(
        1,
        ClientMethod::Command(Command::BasicGet {
            queue: "split".into(),
            no_ack: true,
        }),
    )
    .await;
    assert!(matches!(
        r.method().await,
        Some((1, ServerMethod::BasicGetOk { .. }))
    ));
    let mut sizes = vec![];
    let mut total = 0;
    while total < 10_000 {
        let f = r.frame().await.expect("content");
        match f.payload {
            FramePayload::Header(h) => assert_eq!(h.body_size, 10_000),
            FramePayload::Body(b) => {
                sizes.push(b.len());
                total += b.len();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(sizes.iter().all(|&n| n <= 4096 - 8), "{sizes:?}");
}

#[tokio::test]
async fn users_vhosts_and_permissions_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let hash = warren_core::auth::hash_password("secret", [1, 2, 3, 4]);
    let defs = format!(
        r#"{{"users":[{{"name":"alice","password_hash":"{hash}","tags":"administrator"}}],
            "vhosts":[{{"name":"v"}}],
            "permissions":[{{"user":"alice","vhost":"v","configure":".*","write":".*","read":".*"}}]}}"#
    );
    let path = dir.path().join("defs.json");
    std::fs::write(&path, defs).unwrap();
    let s = Server::start_with(&["--config", path.to_str().unwrap()]);
    // guest is not created when definitions are loaded at boot.
    let mut r = Raw::connect(s.port).await;
    assert!(matches!(
        r.login("guest", "guest").await,
        Some((
            0,
            ServerMethod::ConnectionClose {
                reply_code: 403,
                ..
            }
        ))
    ));
    let mut r = Raw::connect(s.port).await;
    assert!(matches!(
        r.login("alice", "secret").await,
        Some((0, ServerMethod::ConnectionTune { .. }))
    ));
    r.send(
        0,
        ClientMethod::ConnectionTuneOk {
            channel_max: 10,
            frame_max: 8192,
            heartbeat: 0,
        },
    )
    .await;
    r.send(
        0,
        ClientMethod::ConnectionOpen {
            virtual_host: "v".into(),
        },
    )
    .await;
    assert_eq!(r.method().await, Some((0, ServerMethod::ConnectionOpenOk)));
    r.channel(1).await;
}
