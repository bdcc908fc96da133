//! The AMQP 0-9-1 wire codec: bytes ↔ frames ↔ methods and content, in the
//! types of `warren-core`.
//!
//! Layers, bottom up:
//! - [`frame`]: protocol header, frames, the `tokio_util` [`FrameCodec`];
//! - [`table`]: field tables and values;
//! - [`client`] / [`server`]: methods each side sends ([`ClientMethod`],
//!   [`ServerMethod`]), decoded and encoded;
//! - [`properties`] and [`content`]: content headers, the per-channel
//!   [`ContentAssembler`], and splitting content into frames;
//! - [`output`]: the core's `Output`s as frames;
//! - [`auth`]: PLAIN and AMQPLAIN responses.
//!
//! Every decoder takes peer data and never panics; protocol violations come
//! back as `AmqpError`s with RabbitMQ's reply codes and (approximately) its texts.
//!
//! Receiving, in short: feed socket bytes to [`FrameCodec`] (or
//! [`decode_frame`]); handle heartbeats and channel-0 methods
//! ([`ClientMethod::decode`]) in the connection; pass every other frame to
//! that channel's [`ContentAssembler::process`], which yields complete
//! [`ClientMethod`]s, publishes included.

pub mod auth;
pub mod client;
pub mod content;
pub mod frame;
pub mod fuzz;
pub mod ids;
pub mod outbuf;
pub mod output;
pub mod receive;
pub mod server;

pub use warren_core::wire::primitives as wire;
pub use warren_core::wire::{properties, table};

pub use auth::{parse_credentials, Credentials};
pub use client::ClientMethod;
pub use content::{encode_content, ContentAssembler, DEFAULT_MAX_MESSAGE_SIZE, MAX_MSG_SIZE};
pub use frame::{
    decode_frame, is_supported_protocol_header, ContentHeader, Frame, FrameCodec, FramePayload,
    MethodFrame, FRAME_MIN_SIZE, HEARTBEAT_FRAME, PROTOCOL_HEADER,
};
pub use outbuf::OutFrames;
pub use output::encode_output;
pub use properties::{decode_properties, encode_properties};
pub use server::ServerMethod;
pub use table::{decode_table, encode_table};

use warren_core::error::AmqpError;

/// What can go wrong reading frames off a socket.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer broke the framing rules. `error` (a connection error, 501) goes
    /// into `connection.close`. When `lost_sync` is true the byte stream can no
    /// longer be split into frames: send the close and stop reading, as RabbitMQ
    /// does. Otherwise the bad frame was consumed and reading may go on (e.g. to
    /// wait for the client's `connection.close-ok`).
    #[error("{error}")]
    Protocol { error: AmqpError, lost_sync: bool },
}
