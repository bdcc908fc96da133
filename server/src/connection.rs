//! One client connection: the protocol header, the handshake
//! (start / start-ok / tune / tune-ok / open), then the read loop that turns
//! socket bytes into frames, frames into methods (content assembled per
//! channel), and sends them to the broker task in one batch per read.
//!
//! Writing is the [`crate::writer`] task's job, so this task only reads. A
//! malformed frame or method becomes an [`Item::ConnectionError`] for the
//! broker task, which closes this connection (and only this one) with
//! RabbitMQ's reply code.

use crate::broker_task::{ConnMeta, Item, ToBroker};
use crate::codec::receive::{Received, Receiving};
use crate::codec::{
    decode_frame, is_supported_protocol_header, parse_credentials, ClientMethod, CodecError, Frame,
    FramePayload, ServerMethod, FRAME_MIN_SIZE, PROTOCOL_HEADER,
};
use crate::handshake::{self, Tuning};
use crate::writer::{self, Writer, WriterMsg};
use bytes::{Bytes, BytesMut};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use warren_core::error::AmqpError;
use warren_core::protocol::{Command, ConnId};

/// How long a client has to get from TCP connect to `connection.open`
/// (RabbitMQ's `handshake_timeout`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a publisher in flow waits before its socket is read again
/// even though its queue has not caught up: a safety net, so that a consumer
/// that stopped taking messages slows its publishers rather than stopping them.
pub const FLOW_MAX_PAUSE: Duration = Duration::from_millis(100);
/// RabbitMQ makes a client whose handshake failed (other than by a refused
/// login it may be told about) wait this long before closing the socket,
/// "so they can't DOS us with repeated failed logins".
pub const SILENT_CLOSE_DELAY: Duration = Duration::from_secs(3);

/// What the connection task needs from the server.
#[derive(Clone)]
pub struct Shared {
    pub broker: mpsc::Sender<ToBroker>,
    /// True while the memory alarm is on: publishers are not read.
    pub alarm: watch::Receiver<bool>,
}

/// Why the handshake stopped.
enum Stop {
    /// The socket closed or failed, or the client was too slow.
    Gone,
    /// A protocol error before the connection was open: close silently.
    Silent,
}

struct Conn {
    id: ConnId,
    rd: OwnedReadHalf,
    buf: BytesMut,
    writer: Writer,
    done: watch::Receiver<bool>,
    /// Set by the broker task while this connection is in publisher flow.
    flow: (watch::Sender<bool>, watch::Receiver<bool>),
    shared: Shared,
    meta: ConnMeta,
}

/// Serves one accepted socket to the end.
pub async fn serve(stream: TcpStream, id: ConnId, shared: Shared) {
    let (loopback, peer) = match stream.peer_addr() {
        Ok(addr) => {
            let ip = addr.ip();
            let lo = ip.is_loopback()
                || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
            (lo, addr)
        }
        Err(_) => return,
    };
    let meta = ConnMeta {
        peer: Some(peer),
        local: stream.local_addr().ok(),
        connected_at: crate::clock::wall_now(),
        client_properties: Default::default(),
    };
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let (done_tx, done) = watch::channel(false);
    let writer = writer::spawn(wr, done_tx);
    let mut c = Conn {
        id,
        rd,
        buf: BytesMut::with_capacity(64 * 1024),
        writer,
        done,
        flow: watch::channel(false),
        shared,
        meta,
    };
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    match c.handshake(loopback, deadline).await {
        Ok(Some(tuning)) => {
            c.run(tuning).await;
            let _ = c.shared.broker.send(ToBroker::Closed { conn: id }).await;
        }
        Ok(None) => {} // refused with a connection.close; already handled
        Err(Stop::Silent) => {
            tokio::time::sleep(SILENT_CLOSE_DELAY).await;
            c.writer.control(WriterMsg::Shutdown);
        }
        Err(Stop::Gone) => c.writer.control(WriterMsg::Shutdown),
    }
}

fn send_method(writer: &Writer, channel: u16, m: ServerMethod) {
    let mut buf = BytesMut::with_capacity(256);
    m.encode(channel, &mut buf);
    writer.send(buf.freeze());
}

impl Conn {
    /// Reads until one whole frame is buffered (handshake only).
    async fn frame(&mut self, frame_max: u32, deadline: Instant) -> Result<Frame, Stop> {
        loop {
            match decode_frame(&mut self.buf, frame_max) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) => {}
                Err(_) => return Err(Stop::Silent),
            }
            match tokio::time::timeout_at(deadline, self.rd.read_buf(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => self.writer.traffic().received(n),
                _ => return Err(Stop::Gone),
            }
        }
    }

    /// The next method on channel 0, skipping heartbeats (handshake only).
    async fn method(&mut self, frame_max: u32, deadline: Instant) -> Result<ClientMethod, Stop> {
        loop {
            let f = self.frame(frame_max, deadline).await?;
            match f.payload {
                FramePayload::Heartbeat => continue,
                FramePayload::Method(m) if f.channel == 0 => {
                    return ClientMethod::decode(m.class_id, m.method_id, m.args)
                        .map_err(|_| Stop::Silent)
                }
                _ => return Err(Stop::Silent),
            }
        }
    }

    /// Runs the handshake. `Ok(Some)` when the connection is open;
    /// `Ok(None)` when it was refused with a `connection.close`.
    async fn handshake(
        &mut self,
        loopback: bool,
        deadline: Instant,
    ) -> Result<Option<Tuning>, Stop> {
        let mut header = [0u8; 8];
        match tokio::time::timeout_at(deadline, self.rd.read_exact(&mut header)).await {
            Ok(Ok(n)) => self.writer.traffic().received(n),
            _ => return Err(Stop::Gone),
        }
        if !is_supported_protocol_header(&header) {
            // Tell the client what we speak, then hang up (AMQP 0-9-1 §4.2.2).
            self.writer.send(Bytes::from_static(&PROTOCOL_HEADER));
            return Err(Stop::Gone);
        }
        send_method(
            &self.writer,
            0,
            ServerMethod::connection_start(handshake::server_properties()),
        );

        let (client_properties, mechanism, response) =
            match self.method(FRAME_MIN_SIZE, deadline).await? {
                ClientMethod::ConnectionStartOk {
                    client_properties,
                    mechanism,
                    response,
                    ..
                } => (client_properties, mechanism, response),
                _ => return Err(Stop::Silent),
            };
        let creds = parse_credentials(&mechanism, &response).map_err(|_| Stop::Silent)?;
        let refused = || {
            AmqpError::access_refused(format_args!(
                "Login was refused using authentication mechanism {mechanism}. For details see the broker logfile."
            ))
            .on((10, 11))
        };
        let verdict = match creds.password_str() {
            None => Err(refused()),
            Some(password) => {
                let (tx, rx) = oneshot::channel();
                let ask = ToBroker::Authenticate {
                    mechanism: mechanism.clone(),
                    username: creds.username.clone(),
                    password: password.to_string(),
                    loopback,
                    reply: tx,
                };
                self.ask(ask, rx).await?
            }
        };
        if let Err(e) = verdict {
            if handshake::client_has_capability(&client_properties, "authentication_failure_close")
            {
                self.refuse(e.on((10, 11)), deadline).await;
                return Ok(None);
            }
            return Err(Stop::Silent);
        }

        send_method(
            &self.writer,
            0,
            ServerMethod::ConnectionTune {
                channel_max: handshake::CHANNEL_MAX,
                frame_max: handshake::FRAME_MAX,
                heartbeat: handshake::HEARTBEAT,
            },
        );
        let tuning = match self.method(FRAME_MIN_SIZE, deadline).await? {
            ClientMethod::ConnectionTuneOk {
                channel_max,
                frame_max,
                heartbeat,
            } => {
                handshake::negotiate(channel_max, frame_max, heartbeat).map_err(|_| Stop::Silent)?
            }
            _ => return Err(Stop::Silent),
        };
        self.writer.control(WriterMsg::Heartbeat(tuning.heartbeat));

        let vhost = match self.method(tuning.frame_max, deadline).await? {
            ClientMethod::ConnectionOpen { virtual_host } => virtual_host,
            _ => return Err(Stop::Silent),
        };
        let (tx, rx) = oneshot::channel();
        let open = ToBroker::Open {
            conn: self.id,
            user: creds.username.clone(),
            vhost,
            tuning,
            blocked_capable: handshake::client_has_capability(
                &client_properties,
                "connection.blocked",
            ),
            writer: self.writer.clone(),
            flow: self.flow.0.clone(),
            meta: ConnMeta {
                client_properties: client_properties.clone(),
                ..self.meta.clone()
            },
            reply: tx,
        };
        match self.ask(open, rx).await? {
            Ok(()) => Ok(Some(tuning)),
            Err(e) => {
                self.refuse(e.on((10, 40)), deadline + writer::CLOSING_TIMEOUT)
                    .await;
                Ok(None)
            }
        }
    }

    async fn ask<T>(&self, msg: ToBroker, rx: oneshot::Receiver<T>) -> Result<T, Stop> {
        self.shared.broker.send(msg).await.map_err(|_| Stop::Gone)?;
        rx.await.map_err(|_| Stop::Gone)
    }

    /// Sends `connection.close` with `err` and waits (briefly) for `close-ok`.
    async fn refuse(&mut self, err: AmqpError, deadline: Instant) {
        send_method(&self.writer, 0, ServerMethod::connection_close(&err));
        self.writer.control(WriterMsg::Closing);
        let limit = deadline.min(Instant::now() + writer::CLOSING_TIMEOUT);
        loop {
            match self.frame(FRAME_MIN_SIZE, limit).await {
                Ok(Frame {
                    payload: FramePayload::Method(m),
                    channel: 0,
                }) if (m.class_id, m.method_id) == (10, 51) => break,
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        self.writer.control(WriterMsg::Shutdown);
    }

    /// The read loop of an open connection; returns when it is over.
    async fn run(&mut self, tuning: Tuning) {
        let mut receiving = Receiving::default();
        // RabbitMQ drops a client it has not heard from for two intervals.
        let silence =
            (tuning.heartbeat > 0).then(|| Duration::from_secs(u64::from(tuning.heartbeat) * 2));
        let mut lost_sync = false;
        loop {
            let mut items = Vec::new();
            let mut published = false;
            while !lost_sync {
                match decode_frame(&mut self.buf, tuning.frame_max) {
                    Ok(Some(frame)) => on_frame(receiving.file(frame), &mut items, &mut published),
                    Ok(None) => break,
                    Err(CodecError::Protocol {
                        error,
                        lost_sync: lost,
                    }) => {
                        items.push(Item::ConnectionError(error));
                        lost_sync = lost;
                    }
                    Err(CodecError::Io(_)) => lost_sync = true,
                }
            }
            if lost_sync {
                // The stream can no longer be cut into frames; what comes is ignored.
                self.buf.clear();
            }
            if !items.is_empty() {
                let msg = ToBroker::Frames {
                    conn: self.id,
                    items,
                };
                if self.shared.broker.send(msg).await.is_err() {
                    return;
                }
            }
            if published && *self.shared.alarm.borrow() {
                // A publisher under the memory alarm is not read (nor timed
                // out for silence) until the alarm clears.
                let mut alarm = self.shared.alarm.clone();
                tokio::select! {
                    _ = alarm.wait_for(|on| !*on) => {}
                    _ = self.done.wait_for(|d| *d) => return,
                }
            }
            if published && *self.flow.1.borrow() {
                // In flow (its queue is not keeping up): not read until the
                // queue catches up, or for FLOW_MAX_PAUSE at most.
                let mut flow = self.flow.1.clone();
                tokio::select! {
                    _ = flow.wait_for(|on| !*on) => {}
                    _ = tokio::time::sleep(FLOW_MAX_PAUSE) => {}
                    _ = self.done.wait_for(|d| *d) => return,
                }
            }
            let wait = silence.unwrap_or(Duration::from_secs(86_400 * 365));
            tokio::select! {
                r = self.rd.read_buf(&mut self.buf) => match r {
                    Ok(n) if n > 0 => self.writer.traffic().received(n),
                    _ => return,
                },
                _ = tokio::time::sleep(wait) => return, // missed heartbeats
                _ = self.done.wait_for(|d| *d) => return,
            }
        }
    }
}

/// Turns a filed frame into an [`Item`] for the broker task, noting publishes
/// (a publisher is not read under the memory alarm).
fn on_frame(received: Received, items: &mut Vec<Item>, published: &mut bool) {
    match received {
        Received::Nothing => {}
        Received::Method(ch, method) => {
            if let ClientMethod::Command(Command::BasicPublish { .. }) = method {
                *published = true;
            }
            items.push(Item::Method(ch, method));
        }
        Received::ChannelError(ch, e) => items.push(Item::ChannelError(ch, e)),
        Received::ConnectionError(e) => items.push(Item::ConnectionError(e)),
    }
}
