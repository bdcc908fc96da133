//! The memcacheq front door with a real memcached client (the `memcache`
//! crate), plus raw lines for the errors a client library never sends.

mod common;

use common::client::*;
use common::http::Api;
use common::Server;
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn set_enqueues_and_get_dequeues_with_a_memcached_client() {
    let s = Server::start_with(&["--memcacheq-port", "0"]);
    let url = format!("memcache://127.0.0.1:{}?protocol=ascii", s.memcacheq_port());
    let mc = memcache::Client::connect(url).expect("memcache client");
    mc.set("jobs", "first", 0).expect("set");
    mc.set("jobs", "second", 0).expect("set");
    // The queue was declared durable and holds persistent messages.
    let q = Api::new(s.http_port()).get("/api/queues/%2F/jobs");
    assert_eq!(
        (q["durable"].clone(), q["messages"].clone()),
        (true.into(), 2.into())
    );
    let a: Option<String> = mc.get("jobs").expect("get");
    let b: Option<String> = mc.get("jobs").expect("get");
    let c: Option<String> = mc.get("jobs").expect("get");
    assert_eq!(
        (a.as_deref(), b.as_deref(), c),
        (Some("first"), Some("second"), None)
    );
    let none: Option<String> = mc.get("never-set").expect("get");
    assert_eq!(none, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn amqp_clients_see_memcacheq_messages_and_they_survive_a_restart() {
    let mut s = Server::start_with(&["--memcacheq-port", "0"]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", s.memcacheq_port())).expect("connect");
    raw.write_all(b"set orders 42 0 5\r\nhello\r\n")
        .expect("write");
    let mut buf = [0u8; 64];
    let n = raw.read(&mut buf).expect("read");
    assert_eq!(&buf[..n], b"STORED\r\n");
    drop(raw);
    s.stop();
    s.restart();

    let conn = connect(s.port).await;
    let ch = channel(&conn).await;
    assert_eq!(get(&ch, "orders").await.as_deref(), Some(&b"hello"[..]));
    // And the other way: an AMQP publish is a memcacheq get (flags 0).
    publish(&ch, "", "orders", b"from-amqp", persistent()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = exchange(s.memcacheq_port(), b"get orders\r\n", b"END\r\n");
    assert_eq!(reply, b"VALUE orders 0 9\r\nfrom-amqp\r\nEND\r\n");
}

/// Sends raw bytes and reads until the answer ends with `end`.
fn exchange(port: u16, send: &[u8], end: &[u8]) -> Vec<u8> {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    c.write_all(send).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(end) {
        let n = c.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "closed early after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn errors_are_memcached_lines() {
    let s = Server::start_with(&["--memcacheq-port", "0"]);
    let port = s.memcacheq_port();
    assert_eq!(exchange(port, b"frobnicate\r\n", b"\r\n"), b"ERROR\r\n");
    assert_eq!(
        exchange(port, b"set q x 0 1\r\n", b"\r\n"),
        b"CLIENT_ERROR bad command line format\r\n"
    );
    // The stray line end after the bad chunk is then an empty command.
    assert_eq!(
        exchange(port, b"set q 0 0 2\r\nabcd\r\n", b"ERROR\r\n"),
        b"CLIENT_ERROR bad data chunk\r\nERROR\r\n"
    );
    assert_eq!(
        exchange(port, b"set q 3 0 2\r\nab\r\nget q\r\n", b"END\r\n"),
        b"STORED\r\nVALUE q 3 2\r\nab\r\nEND\r\n"
    );
    assert!(exchange(port, b"version\r\n", b"\r\n").starts_with(b"VERSION warren-"));
}
