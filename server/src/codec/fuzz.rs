//! The server's receive path without sockets, for fuzzing.
//!
//! The codec promises never to panic on peer bytes, and each layer has its
//! own tests. But a peer does not reach one layer alone: its bytes go through
//! the protocol-header check, the handshake, [`decode_frame`] with the
//! negotiated `frame_max`, and per-channel content assembly, in an order and
//! with state that only [`crate::connection`] puts together. [`Receiver`]
//! repeats what that module does with incoming bytes, step for step but with
//! no socket, broker task or clock, so a fuzzer (the cargo-fuzz target in
//! `fuzz/`, and the bounded seeded test CI runs, `server/tests/fuzz_frames.rs`)
//! can drive exactly that composition with arbitrary input.
//!
//! Where the server would ask the broker task (the login, the vhost), the
//! answer here is yes: refusals end the connection, so they only hide the rest
//! of the path from the fuzzer. Keep this module in step with
//! `connection.rs` when the read path changes.

use super::receive::{Received, Receiving};
use super::{
    decode_frame, is_supported_protocol_header, parse_credentials, ClientMethod, CodecError, Frame,
    FramePayload, FRAME_MIN_SIZE,
};
use crate::handshake::{self, Tuning};
use bytes::{BufMut, Bytes, BytesMut};
use warren_core::error::AmqpError;
use warren_core::protocol::Command;
use warren_core::types::{BasicProperties, FieldTable, FieldValue};

/// What the server makes of the peer's bytes, in order.
#[allow(clippy::large_enum_variant)] // mirrors `broker_task::Item`
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A handshake method the connection task acted on itself
    /// (`start-ok`, `tune-ok`, `open`).
    Handshake(ClientMethod),
    /// A complete method for the broker task (`Item::Method`).
    Method(u16, ClientMethod),
    /// A channel error from content assembly (`Item::ChannelError`).
    ChannelError(u16, AmqpError),
    /// A connection error (`Item::ConnectionError`).
    ConnectionError(AmqpError),
}

/// Why the server stopped reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Not an AMQP 0-9-1 protocol header: the server answers with its own
    /// header and hangs up.
    UnsupportedHeader,
    /// The handshake broke a rule (bad frame, wrong method, bad credentials
    /// or tuning): the server closes silently.
    HandshakeFailed,
    /// The byte stream can no longer be cut into frames.
    LostSync,
}

#[derive(Debug)]
enum Phase {
    /// Waiting for the 8 octets of the protocol header.
    Header,
    StartOk,
    TuneOk,
    Open(Tuning),
    /// The read loop of an open connection.
    Running(Tuning),
    Stopped(Stop),
}

/// One connection's receiving half. Bytes may arrive in any pieces; the
/// events do not depend on how the stream is cut, as on a real socket.
#[derive(Debug)]
pub struct Receiver {
    phase: Phase,
    buf: BytesMut,
    receiving: Receiving,
    events: Vec<Event>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    /// A connection that has just been accepted: the protocol header comes first.
    pub fn new() -> Receiver {
        Receiver::in_phase(Phase::Header)
    }

    /// A connection past its handshake, tuned to `frame_max`, so a fuzzer's
    /// bytes go straight to the read loop.
    pub fn open(frame_max: u32) -> Receiver {
        Receiver::in_phase(Phase::Running(Tuning {
            channel_max: handshake::CHANNEL_MAX,
            frame_max,
            heartbeat: 0,
        }))
    }

    fn in_phase(phase: Phase) -> Receiver {
        Receiver {
            phase,
            buf: BytesMut::new(),
            receiving: Receiving::default(),
            events: Vec::new(),
        }
    }

    /// What was found so far.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Why reading stopped, if it did.
    pub fn stopped(&self) -> Option<Stop> {
        match self.phase {
            Phase::Stopped(why) => Some(why),
            _ => None,
        }
    }

    /// Whether the handshake got through (the read loop was reached).
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Running(_))
            || self
                .events
                .iter()
                .any(|e| matches!(e, Event::Handshake(ClientMethod::ConnectionOpen { .. })))
    }

    /// One socket read's worth of bytes: buffered, then taken apart as far
    /// as they go. Ignored once reading has stopped.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.stopped().is_some() {
            return;
        }
        self.buf.extend_from_slice(bytes);
        self.advance();
    }

    fn stop(&mut self, why: Stop) {
        self.phase = Phase::Stopped(why);
        self.buf.clear();
    }

    fn advance(&mut self) {
        loop {
            match self.phase {
                Phase::Header => {
                    if self.buf.len() < 8 {
                        return;
                    }
                    let header = self.buf.split_to(8);
                    if !is_supported_protocol_header(&header) {
                        return self.stop(Stop::UnsupportedHeader);
                    }
                    self.phase = Phase::StartOk;
                }
                Phase::StartOk => match self.handshake_method(FRAME_MIN_SIZE) {
                    Ok(None) => return,
                    Ok(Some(m)) => {
                        let ok = match &m {
                            ClientMethod::ConnectionStartOk {
                                mechanism,
                                response,
                                ..
                            } => parse_credentials(mechanism, response)
                                .is_ok_and(|creds| creds.password_str().is_some()),
                            _ => false,
                        };
                        if !ok {
                            return self.stop(Stop::HandshakeFailed);
                        }
                        self.events.push(Event::Handshake(m));
                        self.phase = Phase::TuneOk;
                    }
                    Err(()) => return self.stop(Stop::HandshakeFailed),
                },
                Phase::TuneOk => match self.handshake_method(FRAME_MIN_SIZE) {
                    Ok(None) => return,
                    Ok(Some(m)) => {
                        let tuning = match &m {
                            ClientMethod::ConnectionTuneOk {
                                channel_max,
                                frame_max,
                                heartbeat,
                            } => handshake::negotiate(*channel_max, *frame_max, *heartbeat).ok(),
                            _ => None,
                        };
                        let Some(tuning) = tuning else {
                            return self.stop(Stop::HandshakeFailed);
                        };
                        self.events.push(Event::Handshake(m));
                        self.phase = Phase::Open(tuning);
                    }
                    Err(()) => return self.stop(Stop::HandshakeFailed),
                },
                Phase::Open(tuning) => match self.handshake_method(tuning.frame_max) {
                    Ok(None) => return,
                    Ok(Some(m @ ClientMethod::ConnectionOpen { .. })) => {
                        self.events.push(Event::Handshake(m));
                        self.phase = Phase::Running(tuning);
                    }
                    Ok(Some(_)) | Err(()) => return self.stop(Stop::HandshakeFailed),
                },
                Phase::Running(tuning) => return self.run(tuning.frame_max),
                Phase::Stopped(_) => return,
            }
        }
    }

    /// `Conn::method` in `connection.rs`: the next channel-0 method, skipping
    /// heartbeats; `Ok(None)` until a whole frame is buffered; any other
    /// frame, and any error, ends the handshake.
    fn handshake_method(&mut self, frame_max: u32) -> Result<Option<ClientMethod>, ()> {
        loop {
            let Some(frame) = decode_frame(&mut self.buf, frame_max).map_err(|_| ())? else {
                return Ok(None);
            };
            match frame.payload {
                FramePayload::Heartbeat => continue,
                FramePayload::Method(m) if frame.channel == 0 => {
                    return ClientMethod::decode(m.class_id, m.method_id, m.args)
                        .map(Some)
                        .map_err(|_| ())
                }
                _ => return Err(()),
            }
        }
    }

    /// The inner loop of `Conn::run`: frames until more bytes are needed or
    /// the stream has lost sync.
    fn run(&mut self, frame_max: u32) {
        loop {
            match decode_frame(&mut self.buf, frame_max) {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => return,
                Err(CodecError::Protocol { error, lost_sync }) => {
                    self.events.push(Event::ConnectionError(error));
                    if lost_sync {
                        return self.stop(Stop::LostSync);
                    }
                }
                Err(CodecError::Io(_)) => return self.stop(Stop::LostSync),
            }
        }
    }

    /// `on_frame` in `connection.rs`.
    fn on_frame(&mut self, frame: Frame) {
        match self.receiving.file(frame) {
            Received::Nothing => {}
            Received::Method(ch, method) => self.events.push(Event::Method(ch, method)),
            Received::ChannelError(ch, e) => self.events.push(Event::ChannelError(ch, e)),
            Received::ConnectionError(e) => self.events.push(Event::ConnectionError(e)),
        }
    }
}

/// Everything a new connection makes of `data`, delivered in one read.
pub fn drive(data: &[u8]) -> Receiver {
    drive_in_reads(data, data.len().max(1))
}

/// The same, delivered in reads of at most `read_size` octets.
pub fn drive_in_reads(data: &[u8], read_size: usize) -> Receiver {
    let mut r = Receiver::new();
    for piece in data.chunks(read_size.max(1)) {
        r.feed(piece);
    }
    r
}

/// The fuzz target's body, shared with the stable test: drives `data` through
/// a new connection (whole, and in small reads) and through an open one.
///
/// Panics only if the receive path panics, or contradicts itself: events that
/// depend on how the stream was cut into reads, or a connection error whose
/// reply code is not a connection-level one (it would go out in
/// `connection.close`). Returns the connection that read `data` whole, for
/// callers that want to know how far the input got.
pub fn exercise(data: &[u8]) -> Receiver {
    let whole = drive(data);
    // A read size that varies with the input, so cuts land everywhere.
    let read_size = 1 + data.len() % 13;
    let pieces = drive_in_reads(data, read_size);
    assert_same(&whole, &pieces, read_size);
    check_codes(&whole);

    let mut open = Receiver::open(handshake::FRAME_MAX);
    open.feed(data);
    check_codes(&open);
    whole
}

fn assert_same(a: &Receiver, b: &Receiver, read_size: usize) {
    // Field tables may hold NaN floats, which are not equal to themselves;
    // their debug texts are.
    let same = (a.events == b.events || format!("{:?}", a.events) == format!("{:?}", b.events))
        && a.stopped() == b.stopped();
    assert!(
        same,
        "reads of {read_size} octets changed the outcome:\n{:?} {:?}\nvs\n{:?} {:?}",
        a.events,
        a.stopped(),
        b.events,
        b.stopped()
    );
}

fn check_codes(r: &Receiver) {
    for e in r.events() {
        match e {
            Event::ConnectionError(err) => {
                assert!(err.is_connection_error(), "connection error {err:?}")
            }
            Event::ChannelError(_, err) => {
                assert!(!err.is_connection_error(), "channel error {err:?}")
            }
            _ => {}
        }
    }
}

/// Valid client byte streams, by name: the fuzzers' seeds. Each is a whole
/// conversation from the protocol header on, so mutations of it reach every
/// phase of the receive path.
pub fn seed_streams() -> Vec<(&'static str, Vec<u8>)> {
    let mut plain = BytesMut::new();
    plain.put_u8(0);
    plain.put_slice(b"guest");
    plain.put_u8(0);
    plain.put_slice(b"guest");

    let mut amqplain = FieldTable::new();
    amqplain.insert("LOGIN", FieldValue::str("guest"));
    amqplain.insert("PASSWORD", FieldValue::str("guest"));
    let mut table = BytesMut::new();
    super::encode_table(&amqplain, &mut table);
    // AMQPLAIN is a table's contents without its length prefix.
    let amqplain = table.freeze().slice(4..);

    let handshake_plain = handshake(&super::PROTOCOL_HEADER, "PLAIN", plain.freeze());
    let handshake_amqplain = handshake(b"AMQP\x01\x01\x00\x09", "AMQPLAIN", amqplain);

    let publish = |body: &'static [u8], properties: BasicProperties| {
        ClientMethod::Command(Command::BasicPublish {
            exchange: "amq.direct".into(),
            routing_key: "rk".into(),
            mandatory: true,
            immediate: false,
            properties,
            body: Bytes::from_static(body),
        })
    };
    let mut headers = FieldTable::new();
    headers.insert("n", FieldValue::I64(-7));
    headers.insert("f", FieldValue::F64(1.5));
    headers.insert("d", FieldValue::Decimal(2, 314));
    headers.insert(
        "a",
        FieldValue::Array(vec![FieldValue::Bool(true), FieldValue::Void]),
    );
    headers.insert("x", FieldValue::Bytes(Bytes::from_static(b"\x00\xff")));
    let rich = BasicProperties {
        content_type: Some("text/plain".into()),
        headers: Some(headers),
        delivery_mode: Some(2),
        priority: Some(3),
        expiration: Some("60000".into()),
        timestamp: Some(1_700_000_000),
        ..Default::default()
    };
    let mut queue_args = FieldTable::new();
    queue_args.insert("x-message-ttl", FieldValue::I32(1000));

    // Body frames of at most 8 octets, so a body spans several frames.
    const SMALL_FRAMES: u32 = 16;
    let stream = |start: &Bytes, methods: &[(u16, ClientMethod)]| {
        let mut buf = BytesMut::from(&start[..]);
        for (ch, m) in methods {
            m.encode(*ch, SMALL_FRAMES, &mut buf);
        }
        buf.to_vec()
    };

    let publish_plain = stream(
        &handshake_plain,
        &[
            (1, ClientMethod::ChannelOpen),
            (
                1,
                publish(b"hello, fuzzer: a body in three frames", Default::default()),
            ),
            (
                1,
                ClientMethod::ChannelClose {
                    reply_code: 200,
                    reply_text: "bye".into(),
                    class_id: 0,
                    method_id: 0,
                },
            ),
            (
                0,
                ClientMethod::ConnectionClose {
                    reply_code: 200,
                    reply_text: "bye".into(),
                    class_id: 0,
                    method_id: 0,
                },
            ),
        ],
    );
    let mut with_heartbeats = BytesMut::from(&publish_plain[..]);
    with_heartbeats.put_slice(&super::HEARTBEAT_FRAME);

    let topology = stream(
        &handshake_amqplain,
        &[
            (1, ClientMethod::ChannelOpen),
            (
                1,
                ClientMethod::Command(Command::ConfirmSelect { nowait: false }),
            ),
            (
                1,
                ClientMethod::Command(Command::QueueDeclare {
                    queue: "q".into(),
                    passive: false,
                    durable: true,
                    exclusive: false,
                    auto_delete: false,
                    nowait: false,
                    arguments: queue_args,
                }),
            ),
            (2, ClientMethod::ChannelOpen),
            (2, publish(b"", rich.clone())),
            (1, publish(b"body", rich)),
            (
                1,
                ClientMethod::Command(Command::BasicAck {
                    delivery_tag: 1,
                    multiple: false,
                }),
            ),
        ],
    );

    vec![
        ("handshake", handshake_plain.to_vec()),
        ("publish", with_heartbeats.to_vec()),
        ("topology", topology),
    ]
}

/// Protocol header, `start-ok`, `tune-ok`, `open`.
fn handshake(header: &[u8], mechanism: &str, response: Bytes) -> Bytes {
    let mut capabilities = FieldTable::new();
    capabilities.insert("authentication_failure_close", FieldValue::Bool(true));
    capabilities.insert("connection.blocked", FieldValue::Bool(true));
    let mut client_properties = FieldTable::new();
    client_properties.insert("product", FieldValue::str("fuzz"));
    client_properties.insert("capabilities", FieldValue::Table(capabilities));

    let mut buf = BytesMut::from(header);
    for m in [
        ClientMethod::ConnectionStartOk {
            client_properties,
            mechanism: mechanism.into(),
            response,
            locale: "en_US".into(),
        },
        ClientMethod::ConnectionTuneOk {
            channel_max: 16,
            frame_max: FRAME_MIN_SIZE,
            heartbeat: 0,
        },
        ClientMethod::ConnectionOpen {
            virtual_host: "/".into(),
        },
    ] {
        m.encode(0, FRAME_MIN_SIZE, &mut buf);
    }
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_get_through_the_handshake_and_publish() {
        for (name, bytes) in seed_streams() {
            let r = drive(&bytes);
            assert_eq!(r.stopped(), None, "{name}");
            let handshake = r
                .events()
                .iter()
                .filter(|e| matches!(e, Event::Handshake(_)))
                .count();
            assert_eq!(handshake, 3, "{name}");
            assert!(
                !r.events()
                    .iter()
                    .any(|e| matches!(e, Event::ConnectionError(_) | Event::ChannelError(..))),
                "{name}: {:?}",
                r.events()
            );
            exercise(&bytes);
        }
        let (_, publish) = &seed_streams()[1];
        let r = drive(publish);
        assert!(r.events().iter().any(|e| matches!(
            e,
            Event::Method(1, ClientMethod::Command(Command::BasicPublish { body, .. }))
                if &body[..] == b"hello, fuzzer: a body in three frames"
        )));
    }

    #[test]
    fn a_bad_header_stops_before_any_frame() {
        let r = drive(b"AMQP\x00\x00\x08\x00\x01\x00\x00\x00\x00\x00\x00\xce");
        assert_eq!(r.stopped(), Some(Stop::UnsupportedHeader));
        assert!(r.events().is_empty());
        assert_eq!(drive(b"AMQP").stopped(), None);
    }

    #[test]
    fn lost_sync_stops_the_read_loop() {
        let mut r = Receiver::open(4096);
        // A body frame on channel 0 (consumed, reported), then a bad frame-end.
        r.feed(&[3, 0, 0, 0, 0, 0, 1, b'x', 0xCE]);
        r.feed(&[8, 0, 0, 0, 0, 0, 0, 0xCD]);
        r.feed(&super::super::HEARTBEAT_FRAME);
        assert_eq!(r.stopped(), Some(Stop::LostSync));
        assert_eq!(r.events().len(), 2, "{:?}", r.events());
    }
}
