//! Shared test harness: starts the built `warren` binary on a free port with
//! its own data dir, and a raw AMQP client for tests that must see frames.
#![allow(dead_code)]

use bytes::BytesMut;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use warren_core::types::{FieldTable, FieldValue};
use warren_server::codec::{decode_frame, ClientMethod, Frame, FramePayload, ServerMethod};

/// A running `warren serve`.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    /// The server's first line ("... AMQP on ..., HTTP on ..., ...").
    banner: String,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts with extra `warren serve` arguments.
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut s = Server {
            child: None,
            port: 0,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            banner: String::new(),
        };
        for _ in 0..5 {
            s.port = free_port();
            if s.spawn() {
                return s;
            }
        }
        panic!("warren did not start");
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Spawns on `self.port`; false if it exited (e.g. the port was taken).
    fn spawn(&mut self) -> bool {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warren"))
            .arg("serve")
            .args(["--bind", "127.0.0.1"])
            .args(["--amqp-port", &self.port.to_string()])
            .arg("--data-dir")
            .arg(self.data_dir())
            // Never the default 15672: a RabbitMQ may hold it.
            .args(if self.extra.iter().any(|a| a == "--http-port") {
                &[][..]
            } else {
                &["--http-port", "0"][..]
            })
            .args(&self.extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn warren");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let ready = BufReader::new(stdout).read_line(&mut line).unwrap_or(0) > 0;
        if ready && line.contains("AMQP on") {
            self.banner = line;
            self.child = Some(child);
            true
        } else {
            let _ = child.kill();
            let _ = child.wait();
            false
        }
    }

    /// A port the banner names ("HTTP on 127.0.0.1:N"); start the server
    /// with `--http-port 0` (or `--memcacheq-port 0`) to get a free one.
    fn banner_port(&self, what: &str) -> u16 {
        let at = self
            .banner
            .find(&format!("{what} on "))
            .unwrap_or_else(|| panic!("no {what} port in {:?}", self.banner));
        let rest = &self.banner[at..];
        let addr = rest.split([',', ' ']).nth(2).expect("address");
        addr.rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }

    pub fn http_port(&self) -> u16 {
        self.banner_port("HTTP")
    }

    pub fn memcacheq_port(&self) -> u16 {
        self.banner_port("memcacheq")
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2F", self.port)
    }

    fn signal(&mut self, sig: &str) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args([sig, &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Stops cleanly (SIGTERM) and waits for the process to end.
    pub fn stop(&mut self) {
        self.signal("-TERM");
    }

    /// kill -9.
    pub fn kill(&mut self) {
        self.signal("-KILL");
    }

    /// Starts again on the same port and data dir.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill it first");
        for _ in 0..50 {
            if self.spawn() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("warren did not restart");
    }

    pub fn process_id(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn data_dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// A hand-driven AMQP client that shows exactly what the server sends.
pub struct Raw {
    pub sock: TcpStream,
    buf: BytesMut,
}

pub fn plain(user: &str, pass: &str) -> bytes::Bytes {
    bytes::Bytes::from(format!("\0{user}\0{pass}"))
}

pub fn client_properties() -> FieldTable {
    let mut caps = FieldTable::new();
    for c in [
        "authentication_failure_close",
        "connection.blocked",
        "consumer_cancel_notify",
    ] {
        caps.insert(c, FieldValue::Bool(true));
    }
    let mut p = FieldTable::new();
    p.insert("capabilities", FieldValue::Table(caps));
    p
}

impl Raw {
    pub async fn connect(port: u16) -> Raw {
        let sock = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        Raw {
            sock,
            buf: BytesMut::new(),
        }
    }

    pub async fn send_bytes(&mut self, b: &[u8]) {
        self.sock.write_all(b).await.expect("write");
    }

    pub async fn send(&mut self, channel: u16, m: ClientMethod) {
        let mut buf = BytesMut::new();
        m.encode(channel, 131_072, &mut buf);
        self.send_bytes(&buf).await;
    }

    /// The next frame, or None if the socket closed (or 5 s passed).
    pub async fn frame(&mut self) -> Option<Frame> {
        self.frame_within(Duration::from_secs(5)).await
    }

    pub async fn frame_within(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(Some(f)) = decode_frame(&mut self.buf, 0) {
                return Some(f);
            }
            match tokio::time::timeout_at(deadline, self.sock.read_buf(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    /// The next method (heartbeats skipped), decoded.
    pub async fn method(&mut self) -> Option<(u16, ServerMethod)> {
        loop {
            let f = self.frame().await?;
            if let FramePayload::Method(m) = f.payload {
                let decoded =
                    ServerMethod::decode(m.class_id, m.method_id, m.args).expect("decodable");
                return Some((f.channel, decoded));
            }
        }
    }

    /// Reads raw bytes until the socket closes (or 5 s); returns them.
    pub async fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = self.buf.split().to_vec();
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.sock.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => out.extend_from_slice(&chunk[..n]),
                _ => return out,
            }
        }
    }

    /// Header, start-ok; returns what the server answered it with.
    pub async fn login(&mut self, user: &str, pass: &str) -> Option<(u16, ServerMethod)> {
        self.send_bytes(b"AMQP\x00\x00\x09\x01").await;
        match self.method().await {
            Some((0, ServerMethod::ConnectionStart { .. })) => {}
            other => panic!("expected connection.start, got {other:?}"),
        }
        self.send(
            0,
            ClientMethod::ConnectionStartOk {
                client_properties: client_properties(),
                mechanism: "PLAIN".into(),
                response: plain(user, pass),
                locale: "en_US".into(),
            },
        )
        .await;
        self.method().await
    }

    /// A whole handshake to an open connection with `heartbeat`.
    pub async fn open(port: u16, heartbeat: u16) -> Raw {
        let mut r = Raw::connect(port).await;
        match r.login("guest", "guest").await {
            Some((0, ServerMethod::ConnectionTune { .. })) => {}
            other => panic!("expected tune, got {other:?}"),
        }
        r.send(
            0,
            ClientMethod::ConnectionTuneOk {
                channel_max: 2047,
                frame_max: 131_072,
                heartbeat,
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
        r
    }

    /// Opens channel `ch`.
    pub async fn channel(&mut self, ch: u16) {
        self.send(ch, ClientMethod::ChannelOpen).await;
        assert_eq!(self.method().await, Some((ch, ServerMethod::ChannelOpenOk)));
    }

    /// Waits for a connection.close; returns its code and text.
    pub async fn expect_connection_close(&mut self) -> (u16, String) {
        loop {
            match self.method().await {
                Some((
                    0,
                    ServerMethod::ConnectionClose {
                        reply_code,
                        reply_text,
                        ..
                    },
                )) => return (reply_code, reply_text),
                Some(_) => continue,
                None => panic!("the socket closed without connection.close"),
            }
        }
    }
}

pub mod client;

pub mod http;
