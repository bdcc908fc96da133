//! What goes into the broker and what comes out of it.
//!
//! [`Command`] is a client method on an open channel (the connection and channel
//! lifecycle have their own `handle_*` calls on [`crate::Broker`]). [`Output`] is
//! everything the broker sends back to a connection, in the order it must be sent.
//! Both are plain data so the simulation, the wire server and tests drive the
//! broker the same way.

use crate::error::AmqpError;
use crate::types::{BasicProperties, FieldTable, Message};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Identifies a client connection. Chosen by the shell (the server's socket
/// counter, the simulation's client index); the core only compares them.
pub type ConnId = u64;
/// An AMQP channel number within a connection.
pub type ChannelId = u16;
/// Virtual or real time in milliseconds. The core never reads a clock.
pub type Millis = u64;

/// A client method on an open channel, with the fields RabbitMQ acts on.
// Publish carries its properties inline: it is the hot path, and boxing would
// cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    ExchangeDeclare {
        exchange: String,
        kind: String,
        passive: bool,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        nowait: bool,
        arguments: FieldTable,
    },
    ExchangeDelete {
        exchange: String,
        if_unused: bool,
        nowait: bool,
    },
    ExchangeBind {
        destination: String,
        source: String,
        routing_key: String,
        nowait: bool,
        arguments: FieldTable,
    },
    ExchangeUnbind {
        destination: String,
        source: String,
        routing_key: String,
        nowait: bool,
        arguments: FieldTable,
    },
    QueueDeclare {
        queue: String,
        passive: bool,
        durable: bool,
        exclusive: bool,
        auto_delete: bool,
        nowait: bool,
        arguments: FieldTable,
    },
    QueueBind {
        queue: String,
        exchange: String,
        routing_key: String,
        nowait: bool,
        arguments: FieldTable,
    },
    QueueUnbind {
        queue: String,
        exchange: String,
        routing_key: String,
        arguments: FieldTable,
    },
    QueuePurge {
        queue: String,
        nowait: bool,
    },
    QueueDelete {
        queue: String,
        if_unused: bool,
        if_empty: bool,
        nowait: bool,
    },
    BasicQos {
        prefetch_size: u32,
        prefetch_count: u16,
        global: bool,
    },
    BasicConsume {
        queue: String,
        consumer_tag: String,
        no_local: bool,
        no_ack: bool,
        exclusive: bool,
        nowait: bool,
        arguments: FieldTable,
    },
    BasicCancel {
        consumer_tag: String,
        nowait: bool,
    },
    BasicPublish {
        exchange: String,
        routing_key: String,
        mandatory: bool,
        immediate: bool,
        properties: BasicProperties,
        body: Bytes,
    },
    BasicGet {
        queue: String,
        no_ack: bool,
    },
    BasicAck {
        delivery_tag: u64,
        multiple: bool,
    },
    BasicReject {
        delivery_tag: u64,
        requeue: bool,
    },
    BasicNack {
        delivery_tag: u64,
        multiple: bool,
        requeue: bool,
    },
    BasicRecover {
        requeue: bool,
    },
    ConfirmSelect {
        nowait: bool,
    },
    ChannelFlow {
        active: bool,
    },
    TxSelect,
    TxCommit,
    TxRollback,
}

impl Command {
    /// AMQP (class id, method id) of this method, for error replies.
    pub fn method_id(&self) -> (u16, u16) {
        match self {
            Command::ExchangeDeclare { .. } => (40, 10),
            Command::ExchangeDelete { .. } => (40, 20),
            Command::ExchangeBind { .. } => (40, 30),
            Command::ExchangeUnbind { .. } => (40, 40),
            Command::QueueDeclare { .. } => (50, 10),
            Command::QueueBind { .. } => (50, 20),
            Command::QueuePurge { .. } => (50, 30),
            Command::QueueDelete { .. } => (50, 40),
            Command::QueueUnbind { .. } => (50, 50),
            Command::BasicQos { .. } => (60, 10),
            Command::BasicConsume { .. } => (60, 20),
            Command::BasicCancel { .. } => (60, 30),
            Command::BasicPublish { .. } => (60, 40),
            Command::BasicGet { .. } => (60, 70),
            Command::BasicAck { .. } => (60, 80),
            Command::BasicReject { .. } => (60, 90),
            Command::BasicRecover { .. } => (60, 110),
            Command::BasicNack { .. } => (60, 120),
            Command::ConfirmSelect { .. } => (85, 10),
            Command::ChannelFlow { .. } => (20, 20),
            Command::TxSelect => (90, 10),
            Command::TxCommit => (90, 20),
            Command::TxRollback => (90, 30),
        }
    }

    /// The method's AMQP name, e.g. `basic.publish`, for traces.
    pub fn name(&self) -> &'static str {
        match self {
            Command::ExchangeDeclare { .. } => "exchange.declare",
            Command::ExchangeDelete { .. } => "exchange.delete",
            Command::ExchangeBind { .. } => "exchange.bind",
            Command::ExchangeUnbind { .. } => "exchange.unbind",
            Command::QueueDeclare { .. } => "queue.declare",
            Command::QueueBind { .. } => "queue.bind",
            Command::QueuePurge { .. } => "queue.purge",
            Command::QueueDelete { .. } => "queue.delete",
            Command::QueueUnbind { .. } => "queue.unbind",
            Command::BasicQos { .. } => "basic.qos",
            Command::BasicConsume { .. } => "basic.consume",
            Command::BasicCancel { .. } => "basic.cancel",
            Command::BasicPublish { .. } => "basic.publish",
            Command::BasicGet { .. } => "basic.get",
            Command::BasicAck { .. } => "basic.ack",
            Command::BasicReject { .. } => "basic.reject",
            Command::BasicRecover { .. } => "basic.recover",
            Command::BasicNack { .. } => "basic.nack",
            Command::ConfirmSelect { .. } => "confirm.select",
            Command::ChannelFlow { .. } => "channel.flow",
            Command::TxSelect => "tx.select",
            Command::TxCommit => "tx.commit",
            Command::TxRollback => "tx.rollback",
        }
    }
}

/// A synchronous reply to a [`Command`] (the `-ok` methods).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Reply {
    ExchangeDeclareOk,
    ExchangeDeleteOk,
    ExchangeBindOk,
    ExchangeUnbindOk,
    QueueDeclareOk {
        queue: String,
        message_count: u32,
        consumer_count: u32,
    },
    QueueBindOk,
    QueueUnbindOk,
    QueuePurgeOk {
        message_count: u32,
    },
    QueueDeleteOk {
        message_count: u32,
    },
    BasicQosOk,
    BasicConsumeOk {
        consumer_tag: String,
    },
    BasicCancelOk {
        consumer_tag: String,
    },
    BasicGetEmpty,
    BasicRecoverOk,
    ConfirmSelectOk,
    ChannelFlowOk {
        active: bool,
    },
    TxSelectOk,
    TxCommitOk,
    TxRollbackOk,
}

/// Everything the broker sends to a client, addressed to a connection and channel.
/// Outputs are produced in the order the wire must carry them.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// A method reply (`queue.declare-ok`, ...).
    Reply {
        conn: ConnId,
        channel: ChannelId,
        reply: Reply,
    },
    /// `basic.deliver` to a consumer.
    Deliver {
        conn: ConnId,
        channel: ChannelId,
        consumer_tag: Arc<str>,
        delivery_tag: u64,
        redelivered: bool,
        message: Message,
    },
    /// `basic.get-ok`.
    GetOk {
        conn: ConnId,
        channel: ChannelId,
        delivery_tag: u64,
        redelivered: bool,
        message_count: u32,
        message: Message,
    },
    /// `basic.return` of a mandatory message no queue took.
    Return {
        conn: ConnId,
        channel: ChannelId,
        reply_code: u16,
        reply_text: String,
        message: Message,
    },
    /// A publisher confirm: `basic.ack` (ack = true) or `basic.nack`.
    Confirm {
        conn: ConnId,
        channel: ChannelId,
        delivery_tag: u64,
        multiple: bool,
        ack: bool,
    },
    /// Server-sent `basic.cancel` (consumer_cancel_notify), e.g. its queue was deleted.
    CancelConsumer {
        conn: ConnId,
        channel: ChannelId,
        consumer_tag: String,
    },
    /// The broker closes a channel with `channel.close`; the channel's state is
    /// already gone. The shell sends the frame and waits for `close-ok`.
    ChannelClose {
        conn: ConnId,
        channel: ChannelId,
        error: AmqpError,
    },
    /// The broker closes the connection with `connection.close`; the connection's
    /// state is already gone.
    ConnectionClose { conn: ConnId, error: AmqpError },
    /// Something the store must make durable (only emitted for durable entities,
    /// persistent messages in durable queues and every message of a quorum
    /// queue). Ordered before any confirm that
    /// depends on it, so a shell that fsyncs before sending later confirms keeps
    /// RabbitMQ's guarantee.
    Store(StoreOp),
}

impl Output {
    /// The connection this output is for, if it is for a connection.
    pub fn conn(&self) -> Option<ConnId> {
        match self {
            Output::Reply { conn, .. }
            | Output::Deliver { conn, .. }
            | Output::GetOk { conn, .. }
            | Output::Return { conn, .. }
            | Output::Confirm { conn, .. }
            | Output::CancelConsumer { conn, .. }
            | Output::ChannelClose { conn, .. }
            | Output::ConnectionClose { conn, .. } => Some(*conn),
            Output::Store(_) => None,
        }
    }
}

/// A change to durable state. `msg_id`s are unique for the broker's lifetime
/// and restored by [`crate::Broker::recover_message`].
#[derive(Clone, Debug, PartialEq)]
pub enum StoreOp {
    ExchangeDeclared(crate::definitions::ExchangeDef),
    ExchangeDeleted {
        vhost: String,
        name: String,
    },
    QueueDeclared(crate::definitions::QueueDef),
    QueueDeleted {
        vhost: String,
        name: String,
    },
    BindingAdded(crate::definitions::BindingDef),
    BindingRemoved(crate::definitions::BindingDef),
    /// A persistent message entered a durable queue (any message, for a quorum queue).
    MessageEnqueued {
        vhost: String,
        queue: String,
        msg_id: u64,
        message: Message,
    },
    /// A stored message went to a consumer for the first time (it comes back
    /// redelivered after a restart).
    MessageDelivered {
        vhost: String,
        queue: String,
        msg_id: u64,
    },
    /// A persistent message left a durable queue (acked, expired, dropped, purged).
    MessageRemoved {
        vhost: String,
        queue: String,
        msg_id: u64,
    },
    /// Every message of a durable queue left at once (purge).
    QueuePurged {
        vhost: String,
        queue: String,
    },
    /// Users, vhosts and permissions are durable in RabbitMQ (changed over
    /// the management API or `warren ctl`, they survive a restart).
    VhostAdded {
        name: String,
    },
    VhostDeleted {
        name: String,
    },
    UserPut(crate::definitions::UserDef),
    UserDeleted {
        name: String,
    },
    PermissionSet(crate::definitions::PermissionDef),
    PermissionCleared {
        user: String,
        vhost: String,
    },
}
