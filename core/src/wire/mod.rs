//! AMQP 0-9-1 encodings the broker itself needs: primitive types, field
//! tables, and the `basic` content properties.
//!
//! They live in the core, not only in the wire server, because a queued
//! message keeps its properties encoded (see [`crate::message`]), as RabbitMQ
//! keeps `properties_bin`: that is compact, and the server sends them to
//! consumers without encoding them again. The server's codec builds frames and
//! methods on top of these.

pub mod primitives;
pub mod properties;
pub mod table;
