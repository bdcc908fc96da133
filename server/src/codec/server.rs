//! Methods the server sends, as [`ServerMethod`]: encoded for the wire, and
//! decodable too, for tests and Rust test clients.
//!
//! The `-ok` replies to core commands are `warren_core::protocol::Reply`
//! values, wrapped in `ServerMethod::Reply`, so the broker's output is sent
//! without translation.

use super::client::unknown_method;
use super::frame::{write_frame_with, FRAME_METHOD};
use super::ids;
use super::table::{encode_table, read_table};
use super::wire::{bit, erlang_binary, put_bits, put_longstr, put_shortstr, ParseError, Reader};
use bytes::{BufMut, Bytes, BytesMut};
use warren_core::error::{AmqpError, ReplyCode};
use warren_core::protocol::Reply;
use warren_core::types::FieldTable;

/// The SASL mechanisms we offer, in RabbitMQ's order.
pub const MECHANISMS: &str = "PLAIN AMQPLAIN";
/// The only locale RabbitMQ offers.
pub const LOCALES: &str = "en_US";

/// A method from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMethod {
    ConnectionStart {
        version_major: u8,
        version_minor: u8,
        server_properties: FieldTable,
        /// Space-separated mechanism names.
        mechanisms: Bytes,
        /// Space-separated locales.
        locales: Bytes,
    },
    ConnectionSecure {
        challenge: Bytes,
    },
    ConnectionTune {
        channel_max: u16,
        frame_max: u32,
        heartbeat: u16,
    },
    ConnectionOpenOk,
    ConnectionClose {
        reply_code: u16,
        reply_text: String,
        class_id: u16,
        method_id: u16,
    },
    ConnectionCloseOk,
    ConnectionBlocked {
        reason: String,
    },
    ConnectionUnblocked,
    ConnectionUpdateSecretOk,
    ChannelOpenOk,
    /// Server-sent flow control (RabbitMQ no longer sends it, but clients know it).
    ChannelFlow {
        active: bool,
    },
    ChannelClose {
        reply_code: u16,
        reply_text: String,
        class_id: u16,
        method_id: u16,
    },
    ChannelCloseOk,
    /// Answer to the deprecated `access.request`; the ticket is always 1.
    AccessRequestOk,
    /// The `-ok` reply to a core command.
    Reply(Reply),
    BasicDeliver {
        consumer_tag: String,
        delivery_tag: u64,
        redelivered: bool,
        exchange: String,
        routing_key: String,
    },
    BasicGetOk {
        delivery_tag: u64,
        redelivered: bool,
        exchange: String,
        routing_key: String,
        message_count: u32,
    },
    BasicReturn {
        reply_code: u16,
        reply_text: String,
        exchange: String,
        routing_key: String,
    },
    /// A publisher confirm.
    BasicAck {
        delivery_tag: u64,
        multiple: bool,
    },
    /// A negative publisher confirm.
    BasicNack {
        delivery_tag: u64,
        multiple: bool,
        requeue: bool,
    },
    /// Server-sent cancel (consumer cancel notification).
    BasicCancel {
        consumer_tag: String,
        nowait: bool,
    },
}

/// (class id, method id) of a reply.
pub fn reply_method_id(reply: &Reply) -> (u16, u16) {
    match reply {
        Reply::ExchangeDeclareOk => (40, 11),
        Reply::ExchangeDeleteOk => (40, 21),
        Reply::ExchangeBindOk => (40, 31),
        Reply::ExchangeUnbindOk => (40, 51),
        Reply::QueueDeclareOk { .. } => (50, 11),
        Reply::QueueBindOk => (50, 21),
        Reply::QueuePurgeOk { .. } => (50, 31),
        Reply::QueueDeleteOk { .. } => (50, 41),
        Reply::QueueUnbindOk => (50, 51),
        Reply::BasicQosOk => (60, 11),
        Reply::BasicConsumeOk { .. } => (60, 21),
        Reply::BasicCancelOk { .. } => (60, 31),
        Reply::BasicGetEmpty => (60, 72),
        Reply::BasicRecoverOk => (60, 111),
        Reply::ConfirmSelectOk => (85, 11),
        Reply::ChannelFlowOk { .. } => (20, 21),
        Reply::TxSelectOk => (90, 11),
        Reply::TxCommitOk => (90, 21),
        Reply::TxRollbackOk => (90, 31),
    }
}

fn encode_reply_args(reply: &Reply, buf: &mut BytesMut) {
    match reply {
        Reply::QueueDeclareOk {
            queue,
            message_count,
            consumer_count,
        } => {
            put_shortstr(buf, queue);
            buf.put_u32(*message_count);
            buf.put_u32(*consumer_count);
        }
        Reply::QueuePurgeOk { message_count } | Reply::QueueDeleteOk { message_count } => {
            buf.put_u32(*message_count)
        }
        Reply::BasicConsumeOk { consumer_tag } | Reply::BasicCancelOk { consumer_tag } => {
            put_shortstr(buf, consumer_tag)
        }
        // The reserved cluster-id, always empty.
        Reply::BasicGetEmpty => put_shortstr(buf, ""),
        Reply::ChannelFlowOk { active } => put_bits(buf, &[*active]),
        Reply::ExchangeDeclareOk
        | Reply::ExchangeDeleteOk
        | Reply::ExchangeBindOk
        | Reply::ExchangeUnbindOk
        | Reply::QueueBindOk
        | Reply::QueueUnbindOk
        | Reply::BasicQosOk
        | Reply::BasicRecoverOk
        | Reply::ConfirmSelectOk
        | Reply::TxSelectOk
        | Reply::TxCommitOk
        | Reply::TxRollbackOk => {}
    }
}

/// `basic.deliver` arguments, from borrowed fields (no copies per delivery).
pub(crate) fn encode_deliver_args(
    buf: &mut BytesMut,
    consumer_tag: &str,
    delivery_tag: u64,
    redelivered: bool,
    exchange: &str,
    routing_key: &str,
) {
    put_shortstr(buf, consumer_tag);
    buf.put_u64(delivery_tag);
    put_bits(buf, &[redelivered]);
    put_shortstr(buf, exchange);
    put_shortstr(buf, routing_key);
}

/// `basic.get-ok` arguments, from borrowed fields.
pub(crate) fn encode_get_ok_args(
    buf: &mut BytesMut,
    delivery_tag: u64,
    redelivered: bool,
    exchange: &str,
    routing_key: &str,
    message_count: u32,
) {
    buf.put_u64(delivery_tag);
    put_bits(buf, &[redelivered]);
    put_shortstr(buf, exchange);
    put_shortstr(buf, routing_key);
    buf.put_u32(message_count);
}

/// `basic.return` arguments, from borrowed fields.
pub(crate) fn encode_return_args(
    buf: &mut BytesMut,
    reply_code: u16,
    reply_text: &str,
    exchange: &str,
    routing_key: &str,
) {
    buf.put_u16(reply_code);
    put_shortstr(buf, reply_text);
    put_shortstr(buf, exchange);
    put_shortstr(buf, routing_key);
}

/// Writes a method frame whose arguments `args` appends.
pub(crate) fn write_method(
    buf: &mut BytesMut,
    channel: u16,
    (class_id, method_id): (u16, u16),
    args: impl FnOnce(&mut BytesMut),
) {
    write_frame_with(buf, FRAME_METHOD, channel, |buf| {
        buf.put_u16(class_id);
        buf.put_u16(method_id);
        args(buf);
    });
}

impl ServerMethod {
    /// `connection.start` as RabbitMQ sends it for 0-9-1: version 0-9, PLAIN
    /// and AMQPLAIN, locale en_US.
    pub fn connection_start(server_properties: FieldTable) -> ServerMethod {
        ServerMethod::ConnectionStart {
            version_major: 0,
            version_minor: 9,
            server_properties,
            mechanisms: Bytes::from_static(MECHANISMS.as_bytes()),
            locales: Bytes::from_static(LOCALES.as_bytes()),
        }
    }

    /// `connection.close` carrying an error.
    pub fn connection_close(error: &AmqpError) -> ServerMethod {
        ServerMethod::ConnectionClose {
            reply_code: error.code.code(),
            reply_text: error.text.clone(),
            class_id: error.class_id,
            method_id: error.method_id,
        }
    }

    /// `channel.close` carrying an error.
    pub fn channel_close(error: &AmqpError) -> ServerMethod {
        ServerMethod::ChannelClose {
            reply_code: error.code.code(),
            reply_text: error.text.clone(),
            class_id: error.class_id,
            method_id: error.method_id,
        }
    }

    /// AMQP (class id, method id).
    pub fn method_id(&self) -> (u16, u16) {
        use ServerMethod::*;
        match self {
            ConnectionStart { .. } => (10, 10),
            ConnectionSecure { .. } => (10, 20),
            ConnectionTune { .. } => (10, 30),
            ConnectionOpenOk => (10, 41),
            ConnectionClose { .. } => (10, 50),
            ConnectionCloseOk => (10, 51),
            ConnectionBlocked { .. } => (10, 60),
            ConnectionUnblocked => (10, 61),
            ConnectionUpdateSecretOk => (10, 71),
            ChannelOpenOk => (20, 11),
            ChannelFlow { .. } => (20, 20),
            ChannelClose { .. } => (20, 40),
            ChannelCloseOk => (20, 41),
            AccessRequestOk => (30, 11),
            Reply(r) => reply_method_id(r),
            BasicDeliver { .. } => (60, 60),
            BasicGetOk { .. } => (60, 71),
            BasicReturn { .. } => (60, 50),
            BasicAck { .. } => (60, 80),
            BasicNack { .. } => (60, 120),
            BasicCancel { .. } => (60, 30),
        }
    }

    /// The spec name, e.g. `"basic.deliver"`.
    pub fn name(&self) -> &'static str {
        let (c, m) = self.method_id();
        ids::method_name(c, m).unwrap_or("unknown")
    }

    /// Appends the method's arguments (not the class and method ids).
    pub fn encode_args(&self, buf: &mut BytesMut) {
        use ServerMethod::*;
        match self {
            ConnectionStart {
                version_major,
                version_minor,
                server_properties,
                mechanisms,
                locales,
            } => {
                buf.put_u8(*version_major);
                buf.put_u8(*version_minor);
                encode_table(server_properties, buf);
                put_longstr(buf, mechanisms);
                put_longstr(buf, locales);
            }
            ConnectionSecure { challenge } => put_longstr(buf, challenge),
            ConnectionTune {
                channel_max,
                frame_max,
                heartbeat,
            } => {
                buf.put_u16(*channel_max);
                buf.put_u32(*frame_max);
                buf.put_u16(*heartbeat);
            }
            // The reserved known-hosts.
            ConnectionOpenOk => put_shortstr(buf, ""),
            ConnectionClose {
                reply_code,
                reply_text,
                class_id,
                method_id,
            }
            | ChannelClose {
                reply_code,
                reply_text,
                class_id,
                method_id,
            } => {
                buf.put_u16(*reply_code);
                put_shortstr(buf, reply_text);
                buf.put_u16(*class_id);
                buf.put_u16(*method_id);
            }
            ConnectionBlocked { reason } => put_shortstr(buf, reason),
            ConnectionCloseOk | ConnectionUnblocked | ConnectionUpdateSecretOk | ChannelCloseOk => {
            }
            // The reserved channel-id, an empty long string.
            ChannelOpenOk => put_longstr(buf, b""),
            ChannelFlow { active } => put_bits(buf, &[*active]),
            AccessRequestOk => buf.put_u16(1),
            Reply(r) => encode_reply_args(r, buf),
            BasicDeliver {
                consumer_tag,
                delivery_tag,
                redelivered,
                exchange,
                routing_key,
            } => encode_deliver_args(
                buf,
                consumer_tag,
                *delivery_tag,
                *redelivered,
                exchange,
                routing_key,
            ),
            BasicGetOk {
                delivery_tag,
                redelivered,
                exchange,
                routing_key,
                message_count,
            } => encode_get_ok_args(
                buf,
                *delivery_tag,
                *redelivered,
                exchange,
                routing_key,
                *message_count,
            ),
            BasicReturn {
                reply_code,
                reply_text,
                exchange,
                routing_key,
            } => encode_return_args(buf, *reply_code, reply_text, exchange, routing_key),
            BasicAck {
                delivery_tag,
                multiple,
            } => {
                buf.put_u64(*delivery_tag);
                put_bits(buf, &[*multiple]);
            }
            BasicNack {
                delivery_tag,
                multiple,
                requeue,
            } => {
                buf.put_u64(*delivery_tag);
                put_bits(buf, &[*multiple, *requeue]);
            }
            BasicCancel {
                consumer_tag,
                nowait,
            } => {
                put_shortstr(buf, consumer_tag);
                put_bits(buf, &[*nowait]);
            }
        }
    }

    /// Appends the method frame on `channel`. Content (for deliver, get-ok,
    /// return) follows separately: see [`super::encode_content`].
    pub fn encode(&self, channel: u16, buf: &mut BytesMut) {
        write_method(buf, channel, self.method_id(), |buf| self.encode_args(buf));
    }

    /// Decodes a server method's arguments (for clients and tests). Errors as
    /// for client methods; a method the server never sends is 503.
    pub fn decode(class_id: u16, method_id: u16, args: Bytes) -> Result<ServerMethod, AmqpError> {
        if ids::method_name(class_id, method_id).is_none() {
            return Err(unknown_method(class_id, method_id));
        }
        let mut r = Reader::new(args.clone());
        let decoded = match decode_args(class_id, method_id, &mut r) {
            Ok(Some(m)) if r.is_empty() => Ok(m),
            Ok(Some(_)) => Err(ParseError::Truncated),
            Ok(None) => {
                return Err(AmqpError::new(
                    ReplyCode::CommandInvalid,
                    format_args!(
                        "{} is not sent by a server",
                        ids::method_name(class_id, method_id).unwrap_or("unknown")
                    ),
                )
                .on((class_id, method_id)))
            }
            Err(e) => Err(e),
        };
        decoded.map_err(|e| {
            match e {
                ParseError::Truncated => AmqpError::new(
                    ReplyCode::FrameError,
                    format_args!("cannot decode {}", erlang_binary(&args)),
                ),
                ParseError::Syntax(text) => AmqpError::new(ReplyCode::SyntaxError, text),
            }
            .on((class_id, method_id))
        })
    }
}

fn decode_args(
    class_id: u16,
    method_id: u16,
    r: &mut Reader,
) -> Result<Option<ServerMethod>, ParseError> {
    use ServerMethod as S;
    let reply = |r: Reply| Some(S::Reply(r));
    Ok(match (class_id, method_id) {
        (10, 10) => Some(S::ConnectionStart {
            version_major: r.u8()?,
            version_minor: r.u8()?,
            server_properties: read_table(r)?,
            mechanisms: r.longstr()?,
            locales: r.longstr()?,
        }),
        (10, 20) => Some(S::ConnectionSecure {
            challenge: r.longstr()?,
        }),
        (10, 30) => Some(S::ConnectionTune {
            channel_max: r.u16()?,
            frame_max: r.u32()?,
            heartbeat: r.u16()?,
        }),
        (10, 41) => {
            r.shortstr_bytes()?;
            Some(S::ConnectionOpenOk)
        }
        (10, 50) => Some(S::ConnectionClose {
            reply_code: r.u16()?,
            reply_text: r.shortstr()?,
            class_id: r.u16()?,
            method_id: r.u16()?,
        }),
        (10, 51) => Some(S::ConnectionCloseOk),
        (10, 60) => Some(S::ConnectionBlocked {
            reason: r.shortstr()?,
        }),
        (10, 61) => Some(S::ConnectionUnblocked),
        (10, 71) => Some(S::ConnectionUpdateSecretOk),
        (20, 11) => {
            r.longstr()?;
            Some(S::ChannelOpenOk)
        }
        (20, 20) => Some(S::ChannelFlow {
            active: bit(r.u8()?, 0),
        }),
        (20, 21) => reply(Reply::ChannelFlowOk {
            active: bit(r.u8()?, 0),
        }),
        (20, 40) => Some(S::ChannelClose {
            reply_code: r.u16()?,
            reply_text: r.shortstr()?,
            class_id: r.u16()?,
            method_id: r.u16()?,
        }),
        (20, 41) => Some(S::ChannelCloseOk),
        (30, 11) => {
            r.u16()?;
            Some(S::AccessRequestOk)
        }
        (40, 11) => reply(Reply::ExchangeDeclareOk),
        (40, 21) => reply(Reply::ExchangeDeleteOk),
        (40, 31) => reply(Reply::ExchangeBindOk),
        (40, 51) => reply(Reply::ExchangeUnbindOk),
        (50, 11) => reply(Reply::QueueDeclareOk {
            queue: r.shortstr()?,
            message_count: r.u32()?,
            consumer_count: r.u32()?,
        }),
        (50, 21) => reply(Reply::QueueBindOk),
        (50, 31) => reply(Reply::QueuePurgeOk {
            message_count: r.u32()?,
        }),
        (50, 41) => reply(Reply::QueueDeleteOk {
            message_count: r.u32()?,
        }),
        (50, 51) => reply(Reply::QueueUnbindOk),
        (60, 11) => reply(Reply::BasicQosOk),
        (60, 21) => reply(Reply::BasicConsumeOk {
            consumer_tag: r.shortstr()?,
        }),
        (60, 30) => Some(S::BasicCancel {
            consumer_tag: r.shortstr()?,
            nowait: bit(r.u8()?, 0),
        }),
        (60, 31) => reply(Reply::BasicCancelOk {
            consumer_tag: r.shortstr()?,
        }),
        (60, 50) => Some(S::BasicReturn {
            reply_code: r.u16()?,
            reply_text: r.shortstr()?,
            exchange: r.shortstr()?,
            routing_key: r.shortstr()?,
        }),
        (60, 60) => Some(S::BasicDeliver {
            consumer_tag: r.shortstr()?,
            delivery_tag: r.u64()?,
            redelivered: bit(r.u8()?, 0),
            exchange: r.shortstr()?,
            routing_key: r.shortstr()?,
        }),
        (60, 71) => Some(S::BasicGetOk {
            delivery_tag: r.u64()?,
            redelivered: bit(r.u8()?, 0),
            exchange: r.shortstr()?,
            routing_key: r.shortstr()?,
            message_count: r.u32()?,
        }),
        (60, 72) => {
            r.shortstr_bytes()?;
            reply(Reply::BasicGetEmpty)
        }
        (60, 80) => Some(S::BasicAck {
            delivery_tag: r.u64()?,
            multiple: bit(r.u8()?, 0),
        }),
        (60, 111) => reply(Reply::BasicRecoverOk),
        (60, 120) => {
            let delivery_tag = r.u64()?;
            let bits = r.u8()?;
            Some(S::BasicNack {
                delivery_tag,
                multiple: bit(bits, 0),
                requeue: bit(bits, 1),
            })
        }
        (85, 11) => reply(Reply::ConfirmSelectOk),
        (90, 11) => reply(Reply::TxSelectOk),
        (90, 21) => reply(Reply::TxCommitOk),
        (90, 31) => reply(Reply::TxRollbackOk),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
