//! The broker: a sans-IO state machine driven by `handle_*` calls, emitting
//! [`Output`]s to send and [`Event`]s to explain, polled by the shell.
//!
//! Every `handle_*` call runs to a settled state before returning: dead letters
//! it caused are re-routed and queues it touched are dispatched, so the outputs
//! of one call are complete and in wire order.

mod admin;
mod declare;
mod deliver;
mod flow;
mod inspect;
mod lifecycle;
mod publish;
mod reply_to;
mod state;

pub use inspect::{
    BindingInfo, ChannelInfo, ConnectionInfo, ConsumerInfo, ExchangeInfo, QueueInfo,
};

use crate::auth::{self, Access};
use crate::definitions::{PermissionDef, UserDef};
use crate::error::{AmqpError, ReplyCode};
use crate::events::{Event, EventKind};
use crate::exchange::{Exchange, ExchangeKind};
use crate::protocol::{ChannelId, Command, ConnId, Millis, Output};
use crate::queue::{Entry, Queue};
use crate::rng::Rng;
use crate::types::{FieldTable, Message};
use state::{Channel, Connection};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// How a broker is made.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// Seeds server-generated names (`amq.gen-…`, `amq.ctag-…`).
    pub seed: u64,
    /// Whether to record events (the benchmarks turn them off).
    pub events: bool,
    /// Creates vhost `/` and user guest/guest with full permissions, as a fresh RabbitMQ does.
    pub default_user: bool,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            seed: 0,
            events: true,
            default_user: true,
        }
    }
}

/// One vhost's exchanges and queues.
#[derive(Clone, Debug)]
pub(crate) struct Vhost {
    pub exchanges: BTreeMap<Arc<str>, Exchange>,
    pub queues: BTreeMap<Arc<str>, Queue>,
    /// The message counts of this vhost's closed channels: its totals are
    /// these plus its open channels' own.
    pub retired: crate::stats::MessageStats,
    /// The default exchange's counts (it is not in `exchanges`).
    pub default_exchange_stats: crate::stats::ExchangeStats,
}

impl Vhost {
    fn new() -> Vhost {
        let mut v = Vhost {
            exchanges: BTreeMap::new(),
            queues: BTreeMap::new(),
            retired: Default::default(),
            default_exchange_stats: Default::default(),
        };
        for (name, kind) in [
            ("amq.direct", ExchangeKind::Direct),
            ("amq.fanout", ExchangeKind::Fanout),
            ("amq.topic", ExchangeKind::Topic),
            ("amq.headers", ExchangeKind::Headers),
            ("amq.match", ExchangeKind::Headers),
        ] {
            v.exchanges.insert(
                name.into(),
                Exchange::new(name, kind, true, false, false, FieldTable::new()),
            );
        }
        v
    }
}

/// A user's permissions on one vhost, with the patterns compiled once.
#[derive(Clone, Debug)]
pub(crate) struct Permission {
    pub def: PermissionDef,
    configure: auth::Pattern,
    write: auth::Pattern,
    read: auth::Pattern,
}

impl Permission {
    fn new(def: PermissionDef) -> Permission {
        Permission {
            configure: auth::Pattern::new(&def.configure),
            write: auth::Pattern::new(&def.write),
            read: auth::Pattern::new(&def.read),
            def,
        }
    }

    fn allows(&self, access: Access, resource: &str) -> bool {
        match access {
            Access::Configure => self.configure.allows(resource),
            Access::Write => self.write.allows(resource),
            Access::Read => self.read.allows(resource),
        }
    }
}

/// Outputs and events of the step in progress. Kept apart from the broker's
/// entities so code can hold a queue and emit at the same time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Journal {
    pub outputs: VecDeque<Output>,
    pub events: VecDeque<Event>,
    pub events_on: bool,
    pub next_seq: u64,
    pub now: Millis,
}

impl Journal {
    pub fn out(&mut self, o: Output) {
        self.outputs.push_back(o);
    }

    /// Records an event; `make` runs only when events are on.
    pub fn event(&mut self, make: impl FnOnce() -> EventKind) {
        if self.events_on {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.events.push_back(Event {
                seq,
                time: self.now,
                kind: make(),
            });
        }
    }
}

/// Work a step leaves for the end of the step.
#[derive(Clone, Debug)]
pub(crate) enum Pending {
    /// A message leaving a queue for its dead-letter exchange.
    DeadLetter {
        vhost: String,
        queue: Arc<str>,
        entry: Entry,
        reason: &'static str,
        /// Whether the store holds it (false for a publish refused by reject-publish-dlx).
        stored: bool,
    },
    /// A queue whose consumers may be able to take messages now.
    Dispatch { vhost: String, queue: Arc<str> },
}

/// The broker. `Clone` is a full snapshot, which is how the playground rewinds.
#[derive(Clone, Debug)]
pub struct Broker {
    pub(crate) vhosts: BTreeMap<String, Vhost>,
    pub(crate) users: BTreeMap<String, UserDef>,
    pub(crate) permissions: BTreeMap<(String, String), Permission>,
    pub(crate) conns: BTreeMap<ConnId, Connection>,
    pub(crate) rng: Rng,
    pub(crate) next_msg_id: u64,
    pub(crate) journal: Journal,
    pub(crate) pending: VecDeque<Pending>,
    /// Connections, channels and queues that came and went.
    pub(crate) churn: crate::stats::Churn,
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Broker {
        let mut b = Broker {
            vhosts: BTreeMap::new(),
            users: BTreeMap::new(),
            permissions: BTreeMap::new(),
            conns: BTreeMap::new(),
            rng: Rng::new(config.seed),
            next_msg_id: 1,
            journal: Journal {
                events_on: config.events,
                ..Journal::default()
            },
            pending: VecDeque::new(),
            churn: Default::default(),
        };
        if config.default_user {
            b.add_vhost("/");
            let salt = (b.rng.next_u64() as u32).to_be_bytes();
            b.put_user(auth::user_def("guest", "guest", &["administrator"], salt));
            b.set_permissions(auth::full_permissions("guest", "/"));
            // Built in, like RabbitMQ's first-boot defaults: not a change
            // for the store to record.
            b.journal.outputs.clear();
        }
        b
    }

    /// Sets the clock for what comes before the first call that carries a
    /// time: recovery and boot definitions (`define_*`, `recover_message`).
    /// The server's clock is wall-clock milliseconds, so a queue recovered
    /// with `x-expires` must start counting from now, not from 1970.
    pub fn set_clock(&mut self, now: Millis) {
        self.journal.now = now;
    }

    /// The next output to send, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.journal.outputs.pop_front()
    }

    /// The next event, in order.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.journal.events.pop_front()
    }

    /// Whether events are being recorded.
    pub fn set_events(&mut self, on: bool) {
        self.journal.events_on = on;
    }

    /// Handles a client method on an open channel. Errors become
    /// `ChannelClose`/`ConnectionClose` outputs, as RabbitMQ would send them.
    pub fn handle_command(&mut self, now: Millis, conn: ConnId, channel: ChannelId, cmd: Command) {
        self.journal.now = now;
        let method = cmd.method_id();
        if self.journal.events_on {
            let summary = summarize(&cmd);
            self.journal.event(|| EventKind::Method {
                conn,
                channel,
                method: cmd.name().to_string(),
                summary,
            });
        }
        let result = match self.channel_mut(conn, channel) {
            Err(e) => Err(e),
            Ok(ch) => match &mut ch.tx {
                Some(held)
                    if matches!(
                        cmd,
                        Command::BasicPublish { .. }
                            | Command::BasicAck { .. }
                            | Command::BasicNack { .. }
                            | Command::BasicReject { .. }
                    ) =>
                {
                    held.push(cmd);
                    Ok(())
                }
                _ => self.command(conn, channel, cmd),
            },
        };
        if let Err(e) = result {
            self.fail(conn, channel, e.on(method));
        }
        self.settle();
    }

    /// Runs one command; errors are returned for [`Broker::fail`].
    fn command(&mut self, conn: ConnId, ch: ChannelId, cmd: Command) -> Result<(), AmqpError> {
        match cmd {
            Command::ExchangeDeclare {
                exchange,
                kind,
                passive,
                durable,
                auto_delete,
                internal,
                nowait,
                arguments,
            } => self.exchange_declare(
                conn,
                ch,
                declare::ExchangeDeclare {
                    name: exchange,
                    kind,
                    passive,
                    durable,
                    auto_delete,
                    internal,
                    arguments,
                },
                nowait,
            ),
            Command::ExchangeDelete {
                exchange,
                if_unused,
                nowait,
            } => self.exchange_delete(conn, ch, &exchange, if_unused, nowait),
            Command::ExchangeBind {
                destination,
                source,
                routing_key,
                nowait,
                arguments,
            } => self.exchange_bind(
                conn,
                ch,
                &destination,
                &source,
                &routing_key,
                arguments,
                nowait,
                true,
            ),
            Command::ExchangeUnbind {
                destination,
                source,
                routing_key,
                nowait,
                arguments,
            } => self.exchange_bind(
                conn,
                ch,
                &destination,
                &source,
                &routing_key,
                arguments,
                nowait,
                false,
            ),
            Command::QueueDeclare {
                queue,
                passive,
                durable,
                exclusive,
                auto_delete,
                nowait,
                arguments,
            } => self.queue_declare(
                conn,
                ch,
                declare::QueueDeclare {
                    name: queue,
                    passive,
                    durable,
                    exclusive,
                    auto_delete,
                    arguments,
                },
                nowait,
            ),
            Command::QueueBind {
                queue,
                exchange,
                routing_key,
                nowait,
                arguments,
            } => self.queue_bind(
                conn,
                ch,
                &queue,
                &exchange,
                &routing_key,
                arguments,
                nowait,
                true,
            ),
            Command::QueueUnbind {
                queue,
                exchange,
                routing_key,
                arguments,
            } => self.queue_bind(
                conn,
                ch,
                &queue,
                &exchange,
                &routing_key,
                arguments,
                false,
                false,
            ),
            Command::QueuePurge { queue, nowait } => self.queue_purge(conn, ch, &queue, nowait),
            Command::QueueDelete {
                queue,
                if_unused,
                if_empty,
                nowait,
            } => self.queue_delete_cmd(conn, ch, &queue, if_unused, if_empty, nowait),
            Command::BasicQos {
                prefetch_size,
                prefetch_count,
                global,
            } => self.basic_qos(conn, ch, prefetch_size, prefetch_count, global),
            Command::BasicConsume {
                queue,
                consumer_tag,
                no_ack,
                exclusive,
                nowait,
                arguments,
                ..
            } => self.basic_consume(
                conn,
                ch,
                &queue,
                consumer_tag,
                (no_ack, exclusive, nowait),
                &arguments,
            ),
            Command::BasicCancel {
                consumer_tag,
                nowait,
            } => self.basic_cancel(conn, ch, &consumer_tag, nowait),
            Command::BasicPublish {
                exchange,
                routing_key,
                mandatory,
                immediate,
                properties,
                body,
            } => {
                if immediate {
                    return Err(AmqpError::new(ReplyCode::NotImplemented, "immediate=true"));
                }
                self.basic_publish(
                    conn,
                    ch,
                    &exchange,
                    &routing_key,
                    mandatory,
                    properties,
                    body,
                )
            }
            Command::BasicGet { queue, no_ack } => self.basic_get(conn, ch, &queue, no_ack),
            Command::BasicAck {
                delivery_tag,
                multiple,
            } => self.settle_deliveries(conn, ch, delivery_tag, multiple, deliver::Outcome::Ack),
            Command::BasicReject {
                delivery_tag,
                requeue,
            } => self.settle_deliveries(
                conn,
                ch,
                delivery_tag,
                false,
                deliver::Outcome::Reject { requeue },
            ),
            Command::BasicNack {
                delivery_tag,
                multiple,
                requeue,
            } => self.settle_deliveries(
                conn,
                ch,
                delivery_tag,
                multiple,
                deliver::Outcome::Reject { requeue },
            ),
            Command::BasicRecover { requeue } => self.basic_recover(conn, ch, requeue),
            Command::ConfirmSelect { nowait } => self.confirm_select(conn, ch, nowait),
            Command::ChannelFlow { active } => {
                if !active {
                    return Err(AmqpError::new(ReplyCode::NotImplemented, "active=false"));
                }
                self.reply(conn, ch, crate::protocol::Reply::ChannelFlowOk { active });
                Ok(())
            }
            Command::TxSelect => self.tx_select(conn, ch),
            Command::TxCommit => self.tx_commit(conn, ch),
            Command::TxRollback => self.tx_rollback(conn, ch),
        }
    }

    /// Drains work left by a step: dead letters to re-route, queues to dispatch.
    pub(crate) fn settle(&mut self) {
        while let Some(p) = self.pending.pop_front() {
            match p {
                Pending::DeadLetter {
                    vhost,
                    queue,
                    entry,
                    reason,
                    stored,
                } => self.republish_dead_letter(&vhost, &queue, entry, reason, stored),
                Pending::Dispatch { vhost, queue } => self.dispatch(&vhost, &queue),
            }
        }
    }

    pub(crate) fn reply(
        &mut self,
        conn: ConnId,
        channel: ChannelId,
        reply: crate::protocol::Reply,
    ) {
        self.journal.out(Output::Reply {
            conn,
            channel,
            reply,
        });
    }

    pub(crate) fn conn(&self, conn: ConnId) -> Result<&Connection, AmqpError> {
        self.conns
            .get(&conn)
            .ok_or_else(|| AmqpError::new(ReplyCode::ChannelError, "connection not open"))
    }

    pub(crate) fn channel_mut(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
    ) -> Result<&mut Channel, AmqpError> {
        self.conns
            .get_mut(&conn)
            .and_then(|c| c.channels.get_mut(&ch))
            .ok_or_else(|| AmqpError::new(ReplyCode::ChannelError, "expected 'channel.open'"))
    }

    pub(crate) fn vhost_of(&self, conn: ConnId) -> Result<String, AmqpError> {
        Ok(self.conn(conn)?.vhost.clone())
    }

    /// Checks a user's configure/write/read permission on a resource.
    pub(crate) fn check_access(
        &self,
        conn: ConnId,
        access: Access,
        kind: &str,
        name: &str,
    ) -> Result<(), AmqpError> {
        let c = self.conn(conn)?;
        // The default exchange is checked, and named, as "amq.default".
        let name = if kind == "exchange" && name.is_empty() {
            "amq.default"
        } else {
            name
        };
        let ok = self
            .permissions
            .get(&(c.user.clone(), c.vhost.clone()))
            .is_some_and(|p| p.allows(access, name));
        if ok {
            Ok(())
        } else {
            Err(AmqpError::access_refused(format_args!(
                "access to {kind} '{name}' in vhost '{}' refused for user '{}'",
                c.vhost, c.user
            )))
        }
    }

    pub(crate) fn next_msg_id(&mut self) -> u64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    /// The current time as the last call gave it.
    pub fn now(&self) -> Millis {
        self.journal.now
    }
}

/// A short description of a command's arguments, for the event log.
fn summarize(cmd: &Command) -> String {
    match cmd {
        Command::ExchangeDeclare { exchange, kind, .. } => format!("'{exchange}' type {kind}"),
        Command::QueueDeclare { queue, .. } => format!("'{queue}'"),
        Command::QueueBind {
            queue,
            exchange,
            routing_key,
            ..
        } => format!("'{queue}' to '{exchange}' key '{routing_key}'"),
        Command::BasicPublish {
            exchange,
            routing_key,
            ..
        } => format!("to '{exchange}' key '{routing_key}'"),
        Command::BasicConsume { queue, .. } | Command::BasicGet { queue, .. } => {
            format!("'{queue}'")
        }
        Command::BasicCancel { consumer_tag, .. } => format!("'{consumer_tag}'"),
        Command::BasicAck {
            delivery_tag,
            multiple,
        } => format!(
            "tag {delivery_tag}{}",
            if *multiple { " multiple" } else { "" }
        ),
        Command::BasicNack {
            delivery_tag,
            requeue,
            ..
        }
        | Command::BasicReject {
            delivery_tag,
            requeue,
        } => format!("tag {delivery_tag} requeue={requeue}"),
        Command::BasicQos {
            prefetch_count,
            global,
            ..
        } => format!("prefetch {prefetch_count} global={global}"),
        _ => String::new(),
    }
}

/// Whether a queue's copy of a message belongs in the store: persistent
/// messages in durable queues, and every message of a quorum queue (they are
/// all written to its log, and all survive a restart).
pub(crate) fn stored(q: &Queue, m: &Message) -> bool {
    q.durable && (m.persistent() || q.args.kind == crate::queue::QueueType::Quorum)
}
