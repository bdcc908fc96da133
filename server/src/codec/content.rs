//! Content: assembling `basic.publish` + header + body frames from a client,
//! and splitting a message into header and body frames to send one.
//!
//! [`ContentAssembler`] is per channel and follows RabbitMQ's command
//! assembler state for state, with its error texts: a method where a header
//! or body was due (or the reverse) is 505 UNEXPECTED_FRAME, a body frame
//! longer than what is left is 501 FRAME_ERROR. Both close the connection.
//!
//! Bodies over the configured maximum message size are not buffered: the
//! assembler still consumes their frames (so the stream stays in step, as in
//! RabbitMQ, where the check happens after the body has arrived) and then
//! reports 406 PRECONDITION_FAILED, a channel error.

use super::client::ClientMethod;
use super::frame::{write_frame, write_frame_with, ContentHeader, FramePayload, FRAME_BODY};
use super::frame::{FRAME_HEADER, FRAME_OVERHEAD};
use super::ids::{has_content, BASIC};
use super::properties::{decode_properties, encode_properties};
use bytes::{BufMut, Bytes, BytesMut};
use warren_core::error::{AmqpError, ReplyCode};
use warren_core::protocol::Command;
use warren_core::types::BasicProperties;

/// RabbitMQ's hard ceiling on a message body (512 MiB): a larger declared body
/// size is a 501 FRAME_ERROR, whatever the configured maximum.
pub const MAX_MSG_SIZE: u64 = 536_870_912;
/// RabbitMQ's default `max_message_size` (128 MiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 134_217_728;

/// A method whose content is still to come.
#[derive(Clone, Debug, PartialEq)]
enum Pending {
    /// The part of a `basic.publish` that arrived in its method frame.
    Publish {
        exchange: String,
        routing_key: String,
        mandatory: bool,
        immediate: bool,
    },
    /// A content-carrying method only servers send (`basic.deliver`, ...).
    /// RabbitMQ assembles its content before the channel refuses it, so the
    /// content is consumed (not kept) and the method reported afterwards.
    ServerOnly { class_id: u16, method_id: u16 },
}

impl Pending {
    fn ids(&self) -> (u16, u16) {
        match self {
            Pending::Publish { .. } => (60, 40),
            Pending::ServerOnly {
                class_id,
                method_id,
            } => (*class_id, *method_id),
        }
    }
}

/// One per channel, so its size does not matter; boxing the properties would
/// cost an allocation per publish.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
enum State {
    /// Expecting a method frame.
    Method,
    /// A content-carrying method arrived; expecting its content header.
    Header(Pending),
    /// Expecting `remaining` more body octets.
    Body {
        pending: Pending,
        properties: BasicProperties,
        body_size: u64,
        remaining: u64,
        /// Fragments so far; none are kept when the body will not be used.
        fragments: Vec<Bytes>,
        keep: bool,
    },
}

/// Collects one channel's frames into complete methods.
#[derive(Clone, Debug)]
pub struct ContentAssembler {
    state: State,
    max_message_size: u64,
}

impl Default for ContentAssembler {
    fn default() -> Self {
        ContentAssembler::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

impl ContentAssembler {
    /// `max_message_size` is RabbitMQ's `max_message_size` setting; it is capped
    /// at [`MAX_MSG_SIZE`], as RabbitMQ caps it.
    pub fn new(max_message_size: u64) -> ContentAssembler {
        ContentAssembler {
            state: State::Method,
            max_message_size: max_message_size.min(MAX_MSG_SIZE),
        }
    }

    /// True between complete methods (no content half received).
    pub fn is_idle(&self) -> bool {
        self.state == State::Method
    }

    /// Feeds one frame's payload for this channel. Returns a method when one is
    /// complete: at once for methods without content, after the last body
    /// frame for `basic.publish` (as `Command::BasicPublish`).
    ///
    /// Heartbeats are the connection's business; one passed here is refused as
    /// RabbitMQ refuses a heartbeat on a channel. After an error the assembler
    /// expects a method again.
    ///
    /// Keep feeding frames of a channel that is closing (waiting for the
    /// client's `channel.close-ok`) and drop what comes out: RabbitMQ's reader
    /// keeps assembling them, so a publish in flight is not mistaken for
    /// unexpected frames.
    pub fn process(
        &mut self,
        channel: u16,
        payload: FramePayload,
    ) -> Result<Option<ClientMethod>, AmqpError> {
        let result = self.step(channel, payload);
        if result.is_err() {
            self.state = State::Method;
        }
        result
    }

    fn step(
        &mut self,
        channel: u16,
        payload: FramePayload,
    ) -> Result<Option<ClientMethod>, AmqpError> {
        if let FramePayload::Heartbeat = payload {
            return Err(super::frame::Frame { channel, payload }.unexpected());
        }
        let state = std::mem::replace(&mut self.state, State::Method);
        match (state, payload) {
            (State::Method, FramePayload::Method(m)) => {
                let pending = match ClientMethod::decode(m.class_id, m.method_id, m.args)? {
                    ClientMethod::BasicPublish {
                        exchange,
                        routing_key,
                        mandatory,
                        immediate,
                    } => Pending::Publish {
                        exchange,
                        routing_key,
                        mandatory,
                        immediate,
                    },
                    ClientMethod::ServerOnly {
                        class_id,
                        method_id,
                    } if has_content(class_id, method_id) => Pending::ServerOnly {
                        class_id,
                        method_id,
                    },
                    other => return Ok(Some(other)),
                };
                self.state = State::Header(pending);
                Ok(None)
            }
            (State::Method, _) => Err(AmqpError::new(
                ReplyCode::UnexpectedFrame,
                "expected method frame, got non method frame instead",
            )),
            (State::Header(pending), FramePayload::Header(h)) => self.header(pending, h),
            (State::Header(pending), _) => Err(no_header(&pending)),
            (
                State::Body {
                    pending,
                    properties,
                    body_size,
                    remaining,
                    mut fragments,
                    keep,
                },
                FramePayload::Body(data),
            ) => {
                let len = data.len() as u64;
                if len > remaining {
                    return Err(AmqpError::new(
                        ReplyCode::FrameError,
                        "content body frame exceeds remaining content size",
                    )
                    .on(pending.ids()));
                }
                if keep && !data.is_empty() {
                    fragments.push(data);
                }
                let remaining = remaining - len;
                if remaining > 0 {
                    self.state = State::Body {
                        pending,
                        properties,
                        body_size,
                        remaining,
                        fragments,
                        keep,
                    };
                    return Ok(None);
                }
                self.complete(pending, properties, body_size, join(fragments, body_size))
            }
            (State::Body { pending, .. }, _) => Err(AmqpError::new(
                ReplyCode::UnexpectedFrame,
                "expected content body, got non content body frame instead",
            )
            .on(pending.ids())),
        }
    }

    fn header(
        &mut self,
        pending: Pending,
        h: ContentHeader,
    ) -> Result<Option<ClientMethod>, AmqpError> {
        if h.weight != 0 {
            return Err(no_header(&pending));
        }
        if h.class_id != BASIC {
            return Err(AmqpError::new(
                ReplyCode::UnexpectedFrame,
                format_args!(
                    "expected content header for class {BASIC}, got one for class {} instead",
                    h.class_id
                ),
            )
            .on(pending.ids()));
        }
        if h.body_size > MAX_MSG_SIZE {
            return Err(AmqpError::new(
                ReplyCode::FrameError,
                format_args!(
                    "content body size {} exceeds maximum allowed size {MAX_MSG_SIZE}",
                    h.body_size
                ),
            )
            .on(pending.ids()));
        }
        let (properties, keep) = match pending {
            Pending::Publish { .. } => (
                decode_properties(h.properties).map_err(|e| e.on(pending.ids()))?,
                h.body_size <= self.max_message_size,
            ),
            Pending::ServerOnly { .. } => (BasicProperties::default(), false),
        };
        if h.body_size == 0 {
            return self.complete(pending, properties, 0, Bytes::new());
        }
        self.state = State::Body {
            pending,
            properties,
            body_size: h.body_size,
            remaining: h.body_size,
            fragments: Vec::new(),
            keep,
        };
        Ok(None)
    }

    /// The method a finished content belongs to, or the size error.
    fn complete(
        &self,
        pending: Pending,
        properties: BasicProperties,
        body_size: u64,
        body: Bytes,
    ) -> Result<Option<ClientMethod>, AmqpError> {
        match pending {
            Pending::Publish {
                exchange,
                routing_key,
                mandatory,
                immediate,
            } => {
                if body_size > self.max_message_size {
                    return Err(self.too_large(body_size));
                }
                Ok(Some(ClientMethod::Command(Command::BasicPublish {
                    exchange,
                    routing_key,
                    mandatory,
                    immediate,
                    properties,
                    body,
                })))
            }
            Pending::ServerOnly {
                class_id,
                method_id,
            } => Ok(Some(ClientMethod::ServerOnly {
                class_id,
                method_id,
            })),
        }
    }

    /// RabbitMQ's channel error for a body over `max_message_size`.
    fn too_large(&self, size: u64) -> AmqpError {
        let text = if self.max_message_size == MAX_MSG_SIZE {
            format!(
                "message size {size} is larger than max size {}",
                self.max_message_size
            )
        } else {
            format!(
                "message size {size} is larger than configured max size {}",
                self.max_message_size
            )
        };
        AmqpError::precondition(text).on((60, 40))
    }
}

fn no_header(pending: &Pending) -> AmqpError {
    AmqpError::new(
        ReplyCode::UnexpectedFrame,
        format_args!(
            "expected content header for class {BASIC}, got non content header frame instead"
        ),
    )
    .on(pending.ids())
}

/// One fragment is passed on as is; several are copied once into one buffer.
/// `body_size` was checked against the maximum and matches the fragments' total.
fn join(mut fragments: Vec<Bytes>, body_size: u64) -> Bytes {
    match fragments.len() {
        0 => Bytes::new(),
        1 => fragments.pop().unwrap_or_default(),
        _ => {
            let mut body = BytesMut::with_capacity(usize::try_from(body_size).unwrap_or(0));
            for f in &fragments {
                body.put_slice(f);
            }
            body.freeze()
        }
    }
}

/// Appends a content header frame and the body frames for `body`, each body
/// frame at most `frame_max` octets long, framing included (0 = no limit).
/// An empty body has no body frames.
pub fn encode_content(
    buf: &mut BytesMut,
    channel: u16,
    properties: &BasicProperties,
    body: &[u8],
    frame_max: u32,
) {
    let mut encoded = BytesMut::new();
    encode_properties(properties, &mut encoded);
    encode_encoded_content(buf, channel, &encoded, body, frame_max);
}

/// [`encode_content`] for properties already encoded, as a queued
/// [`warren_core::Message`] keeps them: copied into the header frame as they are.
pub fn encode_encoded_content(
    buf: &mut BytesMut,
    channel: u16,
    encoded_properties: &[u8],
    body: &[u8],
    frame_max: u32,
) {
    encode_content_header(buf, channel, encoded_properties, body.len() as u64);
    for piece in body.chunks(body_frame_payload(frame_max)) {
        write_frame(buf, FRAME_BODY, channel, piece);
    }
}

/// Appends a content header frame for a body of `body_size` octets.
pub fn encode_content_header(
    buf: &mut BytesMut,
    channel: u16,
    encoded_properties: &[u8],
    body_size: u64,
) {
    write_frame_with(buf, FRAME_HEADER, channel, |buf| {
        buf.put_u16(BASIC);
        buf.put_u16(0);
        buf.put_u64(body_size);
        buf.put_slice(encoded_properties);
    });
}

/// The most body octets one body frame carries under `frame_max` (0 = no limit).
pub fn body_frame_payload(frame_max: u32) -> usize {
    match frame_max {
        0 => u32::MAX as usize,
        n => n.saturating_sub(FRAME_OVERHEAD).max(1) as usize,
    }
}

#[cfg(test)]
mod tests;
