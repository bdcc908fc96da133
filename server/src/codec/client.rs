//! Methods a client sends, decoded into [`ClientMethod`] (and encoded again,
//! for tests and Rust test clients).
//!
//! Channel methods the broker core acts on become `ClientMethod::Command` with
//! a `warren_core::protocol::Command`; connection and channel lifecycle methods
//! have their own variants, because the server handles them itself.
//!
//! Errors follow RabbitMQ: arguments that do not fit the method exactly (too
//! short, or bytes left over) are 501 FRAME_ERROR "cannot decode <<...>>";
//! a malformed field table inside them is 502 SYNTAX_ERROR; both name the
//! method's class and method ids.

use super::content::encode_content;
use super::frame::{write_frame_with, FRAME_METHOD};
use super::ids;
use super::table::{encode_table, read_table};
use super::wire::{bit, erlang_binary, put_bits, put_longstr, put_shortstr, ParseError, Reader};
use bytes::{BufMut, Bytes, BytesMut};
use warren_core::error::{AmqpError, ReplyCode};
use warren_core::protocol::Command;
use warren_core::types::FieldTable;

/// A method from a client, decoded.
///
/// Most values are `Command`s, which are large because of `basic.publish`'s
/// properties; boxing them would cost an allocation per method for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ClientMethod {
    ConnectionStartOk {
        client_properties: FieldTable,
        mechanism: String,
        response: Bytes,
        locale: String,
    },
    ConnectionSecureOk {
        response: Bytes,
    },
    ConnectionTuneOk {
        channel_max: u16,
        frame_max: u32,
        heartbeat: u16,
    },
    /// `connection.open`; its reserved `capabilities` and `insist` are ignored.
    ConnectionOpen {
        virtual_host: String,
    },
    ConnectionClose {
        reply_code: u16,
        reply_text: String,
        class_id: u16,
        method_id: u16,
    },
    ConnectionCloseOk,
    ConnectionUpdateSecret {
        new_secret: Bytes,
        reason: String,
    },
    /// `channel.open`; its reserved out-of-band argument is ignored.
    ChannelOpen,
    /// The client's answer to a server-sent `channel.flow`.
    ChannelFlowOk {
        active: bool,
    },
    ChannelClose {
        reply_code: u16,
        reply_text: String,
        class_id: u16,
        method_id: u16,
    },
    ChannelCloseOk,
    /// The deprecated `access.request`; RabbitMQ answers `access.request-ok`.
    AccessRequest {
        realm: String,
    },
    /// `basic.publish` before its content: the [`super::ContentAssembler`]
    /// completes it into `Command::BasicPublish` once header and body arrive.
    BasicPublish {
        exchange: String,
        routing_key: String,
        mandatory: bool,
        immediate: bool,
    },
    /// `basic.recover-async`: like `basic.recover` without the reply.
    /// (RabbitMQ refuses `requeue = false` with 540 NOT_IMPLEMENTED.)
    BasicRecoverAsync {
        requeue: bool,
    },
    /// A method of the spec only a server sends (`basic.deliver`, `queue.declare-ok`,
    /// ...). Its arguments are not decoded. RabbitMQ answers it with
    /// 503 COMMAND_INVALID "unimplemented method" on a channel, and with
    /// 504 CHANNEL_ERROR "unexpected method in connection state ..." on channel 0.
    ServerOnly {
        class_id: u16,
        method_id: u16,
    },
    /// Every other channel method, for the broker core.
    Command(Command),
}

/// The error for a (class, method) pair that is not in the spec.
///
/// RabbitMQ's reader crashes on these (`unknown_method_id`) and drops the TCP
/// connection without a `connection.close`; we report 503 COMMAND_INVALID so
/// the server can close politely, or drop the socket to match exactly.
pub fn unknown_method(class_id: u16, method_id: u16) -> AmqpError {
    AmqpError::new(
        ReplyCode::CommandInvalid,
        format_args!("unknown method id {{{class_id},{method_id}}}"),
    )
    .on((class_id, method_id))
}

impl ClientMethod {
    /// Decodes a method frame's arguments.
    pub fn decode(class_id: u16, method_id: u16, args: Bytes) -> Result<ClientMethod, AmqpError> {
        if ids::method_name(class_id, method_id).is_none() {
            return Err(unknown_method(class_id, method_id));
        }
        let mut r = Reader::new(args.clone());
        let decoded = decode_args(class_id, method_id, &mut r).and_then(|m| {
            let exact = matches!(m, ClientMethod::ServerOnly { .. }) || r.is_empty();
            if exact {
                Ok(m)
            } else {
                Err(ParseError::Truncated)
            }
        });
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

    /// AMQP (class id, method id).
    pub fn method_id(&self) -> (u16, u16) {
        use ClientMethod::*;
        match self {
            ConnectionStartOk { .. } => (10, 11),
            ConnectionSecureOk { .. } => (10, 21),
            ConnectionTuneOk { .. } => (10, 31),
            ConnectionOpen { .. } => (10, 40),
            ConnectionClose { .. } => (10, 50),
            ConnectionCloseOk => (10, 51),
            ConnectionUpdateSecret { .. } => (10, 70),
            ChannelOpen => (20, 10),
            ChannelFlowOk { .. } => (20, 21),
            ChannelClose { .. } => (20, 40),
            ChannelCloseOk => (20, 41),
            AccessRequest { .. } => (30, 10),
            BasicPublish { .. } => (60, 40),
            BasicRecoverAsync { .. } => (60, 100),
            ServerOnly {
                class_id,
                method_id,
            } => (*class_id, *method_id),
            Command(c) => c.method_id(),
        }
    }

    /// The spec name, e.g. `"queue.declare"`.
    pub fn name(&self) -> &'static str {
        let (c, m) = self.method_id();
        ids::method_name(c, m).unwrap_or("unknown")
    }

    /// Whether this method belongs on channel 0 (the connection class).
    pub fn is_connection_method(&self) -> bool {
        self.method_id().0 == ids::CONNECTION
    }

    /// Appends the method's arguments (not the class and method ids).
    /// `Command::BasicPublish` writes only the method's own fields; its
    /// properties and body go in content frames (see [`ClientMethod::encode`]).
    pub fn encode_args(&self, buf: &mut BytesMut) {
        use ClientMethod::*;
        match self {
            ConnectionStartOk {
                client_properties,
                mechanism,
                response,
                locale,
            } => {
                encode_table(client_properties, buf);
                put_shortstr(buf, mechanism);
                put_longstr(buf, response);
                put_shortstr(buf, locale);
            }
            ConnectionSecureOk { response } => put_longstr(buf, response),
            ConnectionTuneOk {
                channel_max,
                frame_max,
                heartbeat,
            } => {
                buf.put_u16(*channel_max);
                buf.put_u32(*frame_max);
                buf.put_u16(*heartbeat);
            }
            ConnectionOpen { virtual_host } => {
                put_shortstr(buf, virtual_host);
                put_shortstr(buf, "");
                put_bits(buf, &[false]);
            }
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
            ConnectionCloseOk | ChannelCloseOk | ServerOnly { .. } => {}
            ConnectionUpdateSecret { new_secret, reason } => {
                put_longstr(buf, new_secret);
                put_shortstr(buf, reason);
            }
            ChannelOpen => put_shortstr(buf, ""),
            ChannelFlowOk { active } => put_bits(buf, &[*active]),
            AccessRequest { realm } => {
                put_shortstr(buf, realm);
                // exclusive, passive, active, write, read: what old clients sent.
                put_bits(buf, &[false, true, true, true, true]);
            }
            BasicPublish {
                exchange,
                routing_key,
                mandatory,
                immediate,
            } => encode_publish_args(buf, exchange, routing_key, *mandatory, *immediate),
            BasicRecoverAsync { requeue } => put_bits(buf, &[*requeue]),
            Command(c) => encode_command_args(c, buf),
        }
    }

    /// Appends the method frame on `channel`, and for a complete
    /// `Command::BasicPublish` its content header and body frames too, each
    /// body frame at most `frame_max` octets long (0 = no limit).
    pub fn encode(&self, channel: u16, frame_max: u32, buf: &mut BytesMut) {
        let (class_id, method_id) = self.method_id();
        write_frame_with(buf, FRAME_METHOD, channel, |buf| {
            buf.put_u16(class_id);
            buf.put_u16(method_id);
            self.encode_args(buf);
        });
        if let ClientMethod::Command(Command::BasicPublish {
            properties, body, ..
        }) = self
        {
            encode_content(buf, channel, properties, body, frame_max);
        }
    }
}

fn encode_publish_args(
    buf: &mut BytesMut,
    exchange: &str,
    routing_key: &str,
    mandatory: bool,
    immediate: bool,
) {
    buf.put_u16(0);
    put_shortstr(buf, exchange);
    put_shortstr(buf, routing_key);
    put_bits(buf, &[mandatory, immediate]);
}

fn decode_args(class_id: u16, method_id: u16, r: &mut Reader) -> Result<ClientMethod, ParseError> {
    use ClientMethod as M;
    Ok(match (class_id, method_id) {
        (10, 11) => M::ConnectionStartOk {
            client_properties: read_table(r)?,
            mechanism: r.shortstr()?,
            response: r.longstr()?,
            locale: r.shortstr()?,
        },
        (10, 21) => M::ConnectionSecureOk {
            response: r.longstr()?,
        },
        (10, 31) => M::ConnectionTuneOk {
            channel_max: r.u16()?,
            frame_max: r.u32()?,
            heartbeat: r.u16()?,
        },
        (10, 40) => {
            let virtual_host = r.shortstr()?;
            let _capabilities = r.shortstr_bytes()?;
            let _insist = r.u8()?;
            M::ConnectionOpen { virtual_host }
        }
        (10, 50) => M::ConnectionClose {
            reply_code: r.u16()?,
            reply_text: r.shortstr()?,
            class_id: r.u16()?,
            method_id: r.u16()?,
        },
        (10, 51) => M::ConnectionCloseOk,
        (10, 70) => M::ConnectionUpdateSecret {
            new_secret: r.longstr()?,
            reason: r.shortstr()?,
        },
        (20, 10) => {
            let _out_of_band = r.shortstr_bytes()?;
            M::ChannelOpen
        }
        (20, 20) => M::Command(Command::ChannelFlow {
            active: bit(r.u8()?, 0),
        }),
        (20, 21) => M::ChannelFlowOk {
            active: bit(r.u8()?, 0),
        },
        (20, 40) => M::ChannelClose {
            reply_code: r.u16()?,
            reply_text: r.shortstr()?,
            class_id: r.u16()?,
            method_id: r.u16()?,
        },
        (20, 41) => M::ChannelCloseOk,
        (30, 10) => {
            let realm = r.shortstr()?;
            let _flags = r.u8()?;
            M::AccessRequest { realm }
        }
        (60, 40) => {
            let _ticket = r.u16()?;
            let exchange = r.shortstr()?;
            let routing_key = r.shortstr()?;
            let bits = r.u8()?;
            M::BasicPublish {
                exchange,
                routing_key,
                mandatory: bit(bits, 0),
                immediate: bit(bits, 1),
            }
        }
        (60, 100) => M::BasicRecoverAsync {
            requeue: bit(r.u8()?, 0),
        },
        _ => match decode_command(class_id, method_id, r)? {
            Some(command) => M::Command(command),
            None => M::ServerOnly {
                class_id,
                method_id,
            },
        },
    })
}

/// The methods that become a core `Command`; `None` for the rest of the spec.
fn decode_command(
    class_id: u16,
    method_id: u16,
    r: &mut Reader,
) -> Result<Option<Command>, ParseError> {
    Ok(Some(match (class_id, method_id) {
        (40, 10) => {
            let _ticket = r.u16()?;
            let exchange = r.shortstr()?;
            let kind = r.shortstr()?;
            let bits = r.u8()?;
            Command::ExchangeDeclare {
                exchange,
                kind,
                passive: bit(bits, 0),
                durable: bit(bits, 1),
                auto_delete: bit(bits, 2),
                internal: bit(bits, 3),
                nowait: bit(bits, 4),
                arguments: read_table(r)?,
            }
        }
        (40, 20) => {
            let _ticket = r.u16()?;
            let exchange = r.shortstr()?;
            let bits = r.u8()?;
            Command::ExchangeDelete {
                exchange,
                if_unused: bit(bits, 0),
                nowait: bit(bits, 1),
            }
        }
        (40, 30) | (40, 40) => {
            let _ticket = r.u16()?;
            let destination = r.shortstr()?;
            let source = r.shortstr()?;
            let routing_key = r.shortstr()?;
            let nowait = bit(r.u8()?, 0);
            let arguments = read_table(r)?;
            if method_id == 30 {
                Command::ExchangeBind {
                    destination,
                    source,
                    routing_key,
                    nowait,
                    arguments,
                }
            } else {
                Command::ExchangeUnbind {
                    destination,
                    source,
                    routing_key,
                    nowait,
                    arguments,
                }
            }
        }
        (50, 10) => {
            let _ticket = r.u16()?;
            let queue = r.shortstr()?;
            let bits = r.u8()?;
            Command::QueueDeclare {
                queue,
                passive: bit(bits, 0),
                durable: bit(bits, 1),
                exclusive: bit(bits, 2),
                auto_delete: bit(bits, 3),
                nowait: bit(bits, 4),
                arguments: read_table(r)?,
            }
        }
        (50, 20) => {
            let _ticket = r.u16()?;
            Command::QueueBind {
                queue: r.shortstr()?,
                exchange: r.shortstr()?,
                routing_key: r.shortstr()?,
                nowait: bit(r.u8()?, 0),
                arguments: read_table(r)?,
            }
        }
        (50, 30) => {
            let _ticket = r.u16()?;
            Command::QueuePurge {
                queue: r.shortstr()?,
                nowait: bit(r.u8()?, 0),
            }
        }
        (50, 40) => {
            let _ticket = r.u16()?;
            let queue = r.shortstr()?;
            let bits = r.u8()?;
            Command::QueueDelete {
                queue,
                if_unused: bit(bits, 0),
                if_empty: bit(bits, 1),
                nowait: bit(bits, 2),
            }
        }
        (50, 50) => {
            let _ticket = r.u16()?;
            Command::QueueUnbind {
                queue: r.shortstr()?,
                exchange: r.shortstr()?,
                routing_key: r.shortstr()?,
                arguments: read_table(r)?,
            }
        }
        (60, 10) => Command::BasicQos {
            prefetch_size: r.u32()?,
            prefetch_count: r.u16()?,
            global: bit(r.u8()?, 0),
        },
        (60, 20) => {
            let _ticket = r.u16()?;
            let queue = r.shortstr()?;
            let consumer_tag = r.shortstr()?;
            let bits = r.u8()?;
            Command::BasicConsume {
                queue,
                consumer_tag,
                no_local: bit(bits, 0),
                no_ack: bit(bits, 1),
                exclusive: bit(bits, 2),
                nowait: bit(bits, 3),
                arguments: read_table(r)?,
            }
        }
        (60, 30) => Command::BasicCancel {
            consumer_tag: r.shortstr()?,
            nowait: bit(r.u8()?, 0),
        },
        (60, 70) => {
            let _ticket = r.u16()?;
            Command::BasicGet {
                queue: r.shortstr()?,
                no_ack: bit(r.u8()?, 0),
            }
        }
        (60, 80) => Command::BasicAck {
            delivery_tag: r.u64()?,
            multiple: bit(r.u8()?, 0),
        },
        (60, 90) => Command::BasicReject {
            delivery_tag: r.u64()?,
            requeue: bit(r.u8()?, 0),
        },
        (60, 110) => Command::BasicRecover {
            requeue: bit(r.u8()?, 0),
        },
        (60, 120) => {
            let delivery_tag = r.u64()?;
            let bits = r.u8()?;
            Command::BasicNack {
                delivery_tag,
                multiple: bit(bits, 0),
                requeue: bit(bits, 1),
            }
        }
        (85, 10) => Command::ConfirmSelect {
            nowait: bit(r.u8()?, 0),
        },
        (90, 10) => Command::TxSelect,
        (90, 20) => Command::TxCommit,
        (90, 30) => Command::TxRollback,
        _ => return Ok(None),
    }))
}

/// Appends a core command's arguments as its method frame carries them.
pub fn encode_command_args(command: &Command, buf: &mut BytesMut) {
    match command {
        Command::ExchangeDeclare {
            exchange,
            kind,
            passive,
            durable,
            auto_delete,
            internal,
            nowait,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, exchange);
            put_shortstr(buf, kind);
            put_bits(buf, &[*passive, *durable, *auto_delete, *internal, *nowait]);
            encode_table(arguments, buf);
        }
        Command::ExchangeDelete {
            exchange,
            if_unused,
            nowait,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, exchange);
            put_bits(buf, &[*if_unused, *nowait]);
        }
        Command::ExchangeBind {
            destination,
            source,
            routing_key,
            nowait,
            arguments,
        }
        | Command::ExchangeUnbind {
            destination,
            source,
            routing_key,
            nowait,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, destination);
            put_shortstr(buf, source);
            put_shortstr(buf, routing_key);
            put_bits(buf, &[*nowait]);
            encode_table(arguments, buf);
        }
        Command::QueueDeclare {
            queue,
            passive,
            durable,
            exclusive,
            auto_delete,
            nowait,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_bits(
                buf,
                &[*passive, *durable, *exclusive, *auto_delete, *nowait],
            );
            encode_table(arguments, buf);
        }
        Command::QueueBind {
            queue,
            exchange,
            routing_key,
            nowait,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_shortstr(buf, exchange);
            put_shortstr(buf, routing_key);
            put_bits(buf, &[*nowait]);
            encode_table(arguments, buf);
        }
        Command::QueueUnbind {
            queue,
            exchange,
            routing_key,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_shortstr(buf, exchange);
            put_shortstr(buf, routing_key);
            encode_table(arguments, buf);
        }
        Command::QueuePurge { queue, nowait } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_bits(buf, &[*nowait]);
        }
        Command::QueueDelete {
            queue,
            if_unused,
            if_empty,
            nowait,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_bits(buf, &[*if_unused, *if_empty, *nowait]);
        }
        Command::BasicQos {
            prefetch_size,
            prefetch_count,
            global,
        } => {
            buf.put_u32(*prefetch_size);
            buf.put_u16(*prefetch_count);
            put_bits(buf, &[*global]);
        }
        Command::BasicConsume {
            queue,
            consumer_tag,
            no_local,
            no_ack,
            exclusive,
            nowait,
            arguments,
        } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_shortstr(buf, consumer_tag);
            put_bits(buf, &[*no_local, *no_ack, *exclusive, *nowait]);
            encode_table(arguments, buf);
        }
        Command::BasicCancel {
            consumer_tag,
            nowait,
        } => {
            put_shortstr(buf, consumer_tag);
            put_bits(buf, &[*nowait]);
        }
        Command::BasicPublish {
            exchange,
            routing_key,
            mandatory,
            immediate,
            ..
        } => encode_publish_args(buf, exchange, routing_key, *mandatory, *immediate),
        Command::BasicGet { queue, no_ack } => {
            buf.put_u16(0);
            put_shortstr(buf, queue);
            put_bits(buf, &[*no_ack]);
        }
        Command::BasicAck {
            delivery_tag,
            multiple,
        } => {
            buf.put_u64(*delivery_tag);
            put_bits(buf, &[*multiple]);
        }
        Command::BasicReject {
            delivery_tag,
            requeue,
        } => {
            buf.put_u64(*delivery_tag);
            put_bits(buf, &[*requeue]);
        }
        Command::BasicNack {
            delivery_tag,
            multiple,
            requeue,
        } => {
            buf.put_u64(*delivery_tag);
            put_bits(buf, &[*multiple, *requeue]);
        }
        Command::BasicRecover { requeue } => put_bits(buf, &[*requeue]),
        Command::ConfirmSelect { nowait } => put_bits(buf, &[*nowait]),
        Command::ChannelFlow { active } => put_bits(buf, &[*active]),
        Command::TxSelect | Command::TxCommit | Command::TxRollback => {}
    }
}

#[cfg(test)]
mod tests;
