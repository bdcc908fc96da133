//! exchange.* and queue.* methods: declaring, deleting, binding, purging.

use super::{stored, Broker, Pending};
use crate::auth::Access;
use crate::definitions::{BindingDef, ExchangeDef, QueueDef};
use crate::error::{AmqpError, ReplyCode};
use crate::events::EventKind;
use crate::exchange::{Dest, Exchange, ExchangeKind};
use crate::protocol::{ChannelId, ConnId, Output, Reply, StoreOp};
use crate::queue::{Queue, QueueArgs, QueueType};
use crate::types::{FieldTable, FieldValue};
use std::sync::Arc;

pub(crate) struct ExchangeDeclare {
    pub name: String,
    pub kind: String,
    pub passive: bool,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
}

pub(crate) struct QueueDeclare {
    pub name: String,
    pub passive: bool,
    pub durable: bool,
    pub exclusive: bool,
    pub auto_delete: bool,
    pub arguments: FieldTable,
}

fn default_exchange_refused() -> AmqpError {
    AmqpError::access_refused("operation not permitted on the default exchange")
}

fn inequivalent(
    field: &str,
    what: &str,
    name: &str,
    vhost: &str,
    got: impl std::fmt::Display,
    cur: impl std::fmt::Display,
) -> AmqpError {
    AmqpError::precondition(format_args!(
        "inequivalent arg '{field}' for {what} '{name}' in vhost '{vhost}': received '{got}' but current is '{cur}'"
    ))
}

/// A headers binding's `x-match` must be one of the four known strings;
/// RabbitMQ quotes the value Erlang-style in its 406.
fn check_x_match(args: &FieldTable) -> Result<(), AmqpError> {
    if crate::headers_match::XMatch::from_args(args).is_some() {
        return Ok(());
    }
    match args.get("x-match") {
        None => Ok(()),
        Some(FieldValue::LongStr(b)) => Err(AmqpError::precondition(format_args!(
            "Invalid x-match field value <<\"{}\">>; expected all, any, all-with-x, or any-with-x",
            String::from_utf8_lossy(b)
        ))),
        Some(other) => Err(AmqpError::precondition(format_args!(
            "Invalid x-match field type {} (value {other}); expected longstr",
            other.type_name()
        ))),
    }
}

pub(crate) fn exclusive_locked(name: &str, vhost: &str) -> AmqpError {
    AmqpError::new(
        ReplyCode::ResourceLocked,
        format_args!(
            "cannot obtain exclusive access to locked queue '{name}' in vhost '{vhost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."
        ),
    )
}

impl Broker {
    pub(crate) fn exchange_declare(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        d: ExchangeDeclare,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let name = d.name.clone();
        if d.passive {
            if name.is_empty() {
                return Err(default_exchange_refused());
            }
            if self.vhosts[&vhost].exchanges.contains_key(name.as_str()) {
                if !nowait {
                    self.reply(conn, ch, Reply::ExchangeDeclareOk);
                }
                return Ok(());
            }
            return Err(AmqpError::not_found("exchange", &name, &vhost));
        }
        let kind = ExchangeKind::parse(&d.kind).ok_or_else(|| {
            AmqpError::new(
                ReplyCode::CommandInvalid,
                format_args!("unknown exchange type '{}'", d.kind),
            )
        })?;
        if name.is_empty() {
            return Err(default_exchange_refused());
        }
        self.check_access(conn, Access::Configure, "exchange", &name)?;
        let v = self
            .vhosts
            .get_mut(&vhost)
            .ok_or_else(|| AmqpError::not_found("vhost", &vhost, &vhost))?;
        match v.exchanges.get(name.as_str()) {
            Some(x) => {
                if x.kind != kind {
                    return Err(inequivalent(
                        "type",
                        "exchange",
                        &name,
                        &vhost,
                        &d.kind,
                        x.kind.as_str(),
                    ));
                }
                if x.durable != d.durable {
                    return Err(inequivalent(
                        "durable", "exchange", &name, &vhost, d.durable, x.durable,
                    ));
                }
                if x.auto_delete != d.auto_delete {
                    return Err(inequivalent(
                        "auto_delete",
                        "exchange",
                        &name,
                        &vhost,
                        d.auto_delete,
                        x.auto_delete,
                    ));
                }
                if x.internal != d.internal {
                    return Err(inequivalent(
                        "internal", "exchange", &name, &vhost, d.internal, x.internal,
                    ));
                }
                let (new, cur) = (
                    d.arguments.get("alternate-exchange"),
                    x.arguments.get("alternate-exchange"),
                );
                if new != cur {
                    return Err(crate::queue::inequivalent_arg(
                        "exchange",
                        &name,
                        &vhost,
                        "alternate-exchange",
                        new,
                        cur,
                    ));
                }
            }
            None => {
                if name.starts_with("amq.") {
                    return Err(AmqpError::access_refused(format_args!(
                        "exchange name '{name}' contains reserved prefix 'amq.*'"
                    )));
                }
                // RabbitMQ checks the alternate exchange's type, and that the
                // user may read from this exchange and write to the AE.
                match d.arguments.get("alternate-exchange") {
                    None => {}
                    Some(FieldValue::LongStr(_)) => {
                        let ae = d.arguments.get("alternate-exchange").and_then(|v| v.as_str());
                        self.check_access(conn, Access::Read, "exchange", &name)?;
                        self.check_access(conn, Access::Write, "exchange", ae.unwrap_or_default())?;
                    }
                    Some(other) => {
                        return Err(AmqpError::precondition(format_args!(
                            "invalid type '{}' for arg 'alternate-exchange' in exchange '{name}' in vhost '{vhost}'",
                            other.type_name()
                        )))
                    }
                }
                let Some(v) = self.vhosts.get_mut(&vhost) else {
                    return Err(AmqpError::not_found("vhost", &vhost, &vhost));
                };
                let x = Exchange::new(
                    &name,
                    kind,
                    d.durable,
                    d.auto_delete,
                    d.internal,
                    d.arguments.clone(),
                );
                v.exchanges.insert(name.as_str().into(), x);
                if d.durable {
                    self.journal
                        .out(Output::Store(StoreOp::ExchangeDeclared(ExchangeDef {
                            name: name.clone(),
                            vhost: vhost.clone(),
                            kind: d.kind.clone(),
                            durable: true,
                            auto_delete: d.auto_delete,
                            internal: d.internal,
                            arguments: d.arguments,
                        })));
                }
                self.journal.event(|| EventKind::ExchangeDeclared {
                    vhost: vhost.clone(),
                    exchange: name.clone(),
                    kind: d.kind.clone(),
                });
            }
        }
        if !nowait {
            self.reply(conn, ch, Reply::ExchangeDeclareOk);
        }
        Ok(())
    }

    pub(crate) fn exchange_delete(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        name: &str,
        if_unused: bool,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        if name.is_empty() {
            return Err(default_exchange_refused());
        }
        if name.starts_with("amq.") {
            return Err(AmqpError::access_refused(format_args!(
                "deletion of system exchange '{name}' in vhost '{vhost}' not allowed"
            )));
        }
        self.check_access(conn, Access::Configure, "exchange", name)?;
        if let Some(x) = self.vhosts[&vhost].exchanges.get(name) {
            if if_unused && x.binding_count() > 0 {
                return Err(AmqpError::precondition(format_args!(
                    "exchange '{name}' in vhost '{vhost}' in use"
                )));
            }
            self.remove_exchange(&vhost, name, "deleted by exchange.delete");
        }
        if !nowait {
            self.reply(conn, ch, Reply::ExchangeDeleteOk);
        }
        Ok(())
    }

    /// Removes an exchange, its bindings, and bindings to it.
    pub(crate) fn remove_exchange(&mut self, vhost: &str, name: &str, reason: &str) {
        let Some(v) = self.vhosts.get_mut(vhost) else {
            return;
        };
        let Some(x) = v.exchanges.remove(name) else {
            return;
        };
        if x.durable {
            self.journal.out(Output::Store(StoreOp::ExchangeDeleted {
                vhost: vhost.to_string(),
                name: name.to_string(),
            }));
        }
        self.journal.event(|| EventKind::ExchangeDeleted {
            vhost: vhost.to_string(),
            exchange: name.to_string(),
            reason: reason.to_string(),
        });
        self.unbind_everywhere(vhost, &Dest::Exchange(x.name.clone()));
    }

    /// Removes every binding leading to `dest`, then auto-deletes exchanges
    /// left with no bindings.
    pub(crate) fn unbind_everywhere(&mut self, vhost: &str, dest: &Dest) {
        let Some(v) = self.vhosts.get_mut(vhost) else {
            return;
        };
        let mut emptied = Vec::new();
        let mut gone = Vec::new();
        for x in v.exchanges.values_mut() {
            let removed = x.unbind_dest(dest);
            if removed.is_empty() {
                continue;
            }
            for b in removed {
                gone.push((x.name.clone(), x.durable, b));
            }
            if x.auto_delete && x.binding_count() == 0 {
                emptied.push(x.name.clone());
            }
        }
        for (source, durable, b) in gone {
            if durable {
                self.journal
                    .out(Output::Store(StoreOp::BindingRemoved(BindingDef {
                        source: source.to_string(),
                        vhost: vhost.to_string(),
                        destination: b.dest.name().to_string(),
                        destination_type: b.dest.kind().to_string(),
                        routing_key: b.routing_key.to_string(),
                        arguments: b.arguments.clone(),
                    })));
            }
        }
        for x in emptied {
            self.remove_exchange(vhost, &x, "auto-delete: its last binding was removed");
        }
    }

    /// exchange.bind (`bind`) and exchange.unbind.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exchange_bind(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        destination: &str,
        source: &str,
        key: &str,
        args: FieldTable,
        nowait: bool,
        bind: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        // RabbitMQ's order: write on the destination, neither may be the
        // default exchange, read on the source, then both must exist (the
        // source is reported first). Unbinding what is not there is a no-op.
        self.check_access(conn, Access::Write, "exchange", destination)?;
        if destination.is_empty() || source.is_empty() {
            return Err(default_exchange_refused());
        }
        self.check_access(conn, Access::Read, "exchange", source)?;
        let v = &self.vhosts[&vhost];
        for x in [source, destination] {
            if !v.exchanges.contains_key(x) {
                if bind {
                    return Err(AmqpError::not_found("exchange", x, &vhost));
                }
                if !nowait {
                    self.reply(conn, ch, Reply::ExchangeUnbindOk);
                }
                return Ok(());
            }
        }
        if bind && v.exchanges[source].kind == ExchangeKind::Headers {
            check_x_match(&args)?;
        }
        self.change_binding(
            &vhost,
            source,
            Dest::Exchange(destination.into()),
            key,
            args,
            bind,
        );
        if !nowait {
            self.reply(
                conn,
                ch,
                if bind {
                    Reply::ExchangeBindOk
                } else {
                    Reply::ExchangeUnbindOk
                },
            );
        }
        Ok(())
    }

    /// Resolves an empty queue name to the channel's last declared queue.
    pub(crate) fn queue_name(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        name: &str,
    ) -> Result<String, AmqpError> {
        if !name.is_empty() {
            return Ok(name.to_string());
        }
        self.channel_mut(conn, ch)?
            .last_queue
            .as_ref()
            .map(|q| q.to_string())
            .ok_or_else(|| AmqpError::new(ReplyCode::NotFound, "no previously declared queue"))
    }

    /// Finds a queue this connection may use (exclusive queues are their owner's).
    pub(crate) fn usable_queue(
        &self,
        conn: ConnId,
        vhost: &str,
        name: &str,
    ) -> Result<&Queue, AmqpError> {
        let q = self.vhosts[vhost]
            .queues
            .get(name)
            .ok_or_else(|| AmqpError::not_found("queue", name, vhost))?;
        match q.exclusive_owner {
            Some(owner) if owner != conn => Err(exclusive_locked(name, vhost)),
            _ => Ok(q),
        }
    }

    /// queue.bind (`bind`) and queue.unbind.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn queue_bind(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        queue: &str,
        exchange: &str,
        key: &str,
        args: FieldTable,
        nowait: bool,
        bind: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let queue = self.queue_name(conn, ch, queue)?;
        // RabbitMQ's order: write on the queue, not the default exchange, read
        // on the exchange, then existence (the exchange is reported first).
        self.check_access(conn, Access::Write, "queue", &queue)?;
        if exchange.is_empty() {
            return Err(default_exchange_refused());
        }
        self.check_access(conn, Access::Read, "exchange", exchange)?;
        let v = &self.vhosts[&vhost];
        let (Some(x), true) = (
            v.exchanges.get(exchange),
            v.queues.contains_key(queue.as_str()),
        ) else {
            if bind {
                return Err(match v.exchanges.contains_key(exchange) {
                    false => AmqpError::not_found("exchange", exchange, &vhost),
                    true => AmqpError::not_found("queue", &queue, &vhost),
                });
            }
            // Unbinding from a missing queue or exchange is a no-op.
            self.reply(conn, ch, Reply::QueueUnbindOk);
            return Ok(());
        };
        // A binding that is not there is removed without looking at the queue;
        // otherwise exclusive queues are their owner's.
        let dest = Dest::Queue(queue.as_str().into());
        let sorted = args.sorted();
        let exists = || {
            x.bindings()
                .any(|b| b.dest == dest && *b.routing_key == *key && b.arguments.sorted() == sorted)
        };
        if bind || exists() {
            self.usable_queue(conn, &vhost, &queue)?;
        }
        if bind && x.kind == ExchangeKind::Headers {
            check_x_match(&args)?;
        }
        self.change_binding(
            &vhost,
            exchange,
            Dest::Queue(queue.as_str().into()),
            key,
            args,
            bind,
        );
        if !nowait || !bind {
            self.reply(
                conn,
                ch,
                if bind {
                    Reply::QueueBindOk
                } else {
                    Reply::QueueUnbindOk
                },
            );
        }
        Ok(())
    }

    /// Adds or removes one binding, with store ops, events and auto-delete.
    pub(crate) fn change_binding(
        &mut self,
        vhost: &str,
        source: &str,
        dest: Dest,
        key: &str,
        args: FieldTable,
        bind: bool,
    ) {
        let Some(v) = self.vhosts.get_mut(vhost) else {
            return;
        };
        let dest_durable = match &dest {
            Dest::Queue(q) => v.queues.get(q).is_some_and(|q| q.durable),
            Dest::Exchange(x) => v.exchanges.get(x).is_some_and(|x| x.durable),
        };
        let Some(x) = v.exchanges.get_mut(source) else {
            return;
        };
        let changed = if bind {
            x.bind(dest.clone(), key, args.clone())
        } else {
            x.unbind(&dest, key, &args)
        };
        if !changed {
            return;
        }
        let auto_deleted = !bind && x.auto_delete && x.binding_count() == 0;
        if x.durable && dest_durable {
            let def = BindingDef {
                source: source.to_string(),
                vhost: vhost.to_string(),
                destination: dest.name().to_string(),
                destination_type: dest.kind().to_string(),
                routing_key: key.to_string(),
                arguments: args,
            };
            self.journal.out(Output::Store(if bind {
                StoreOp::BindingAdded(def)
            } else {
                StoreOp::BindingRemoved(def)
            }));
        }
        self.journal.event(|| {
            let (source, destination, destination_type, routing_key) = (
                source.to_string(),
                dest.name().to_string(),
                dest.kind().to_string(),
                key.to_string(),
            );
            let vhost = vhost.to_string();
            if bind {
                EventKind::Bound {
                    vhost,
                    source,
                    destination,
                    destination_type,
                    routing_key,
                }
            } else {
                EventKind::Unbound {
                    vhost,
                    source,
                    destination,
                    destination_type,
                    routing_key,
                }
            }
        });
        if auto_deleted {
            self.remove_exchange(vhost, source, "auto-delete: its last binding was removed");
        }
    }

    pub(crate) fn queue_declare(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        d: QueueDeclare,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let server_named = d.name.is_empty();
        let now = self.journal.now;
        if d.passive {
            // No empty-name shortcut here: RabbitMQ looks for a queue named ''.
            let q = self.usable_queue(conn, &vhost, &d.name)?;
            let reply = Reply::QueueDeclareOk {
                queue: d.name.clone(),
                message_count: q.ready.len() as u32,
                consumer_count: q.reported_consumer_count() as u32,
            };
            if !nowait {
                // Asking for the counts counts as use (x-expires restarts).
                if let Some(q) = self
                    .vhosts
                    .get_mut(&vhost)
                    .and_then(|v| v.queues.get_mut(d.name.as_str()))
                {
                    q.last_used = now;
                    q.last_active = now;
                }
                self.reply(conn, ch, reply);
            }
            self.channel_mut(conn, ch)?.last_queue = Some(d.name.as_str().into());
            return Ok(());
        }
        let name = if server_named {
            if d.arguments.get("x-queue-type").and_then(|t| t.as_str()) == Some("quorum") {
                return Err(AmqpError::precondition(
                    "Cannot declare a server-named queue for type rabbit_quorum_queue",
                ));
            }
            self.rng.name("amq.gen")
        } else if d.name.starts_with("amq.") {
            // Even for a queue that exists, e.g. a server-named one.
            return Err(AmqpError::access_refused(format_args!(
                "queue name '{}' contains reserved prefix 'amq.*'",
                d.name
            )));
        } else {
            d.name.clone()
        };
        self.check_access(conn, Access::Configure, "queue", &name)?;
        let owner = d.exclusive.then_some(conn);
        // Exclusive queues are never durable (RabbitMQ ignores the flag).
        let durable = d.durable && !d.exclusive;
        let exists = self.has_queue(&vhost, &name);
        if !exists {
            // Checked before the arguments: the dead-letter exchange's type,
            // then read on the queue and write on that exchange.
            match d.arguments.get("x-dead-letter-exchange") {
                None => {}
                Some(FieldValue::LongStr(x)) => {
                    let x = String::from_utf8_lossy(x).into_owned();
                    self.check_access(conn, Access::Read, "queue", &name)?;
                    self.check_access(conn, Access::Write, "exchange", &x)?;
                }
                Some(other) => {
                    return Err(AmqpError::precondition(format_args!(
                        "invalid type '{}' for arg 'x-dead-letter-exchange' in queue '{name}' in vhost '{vhost}'",
                        other.type_name()
                    )))
                }
            }
        }
        let v = self
            .vhosts
            .get_mut(&vhost)
            .ok_or_else(|| AmqpError::not_found("vhost", &vhost, &vhost))?;
        let reply = match v.queues.get_mut(name.as_str()) {
            Some(q) => {
                if q.exclusive_owner != owner {
                    return Err(exclusive_locked(&name, &vhost));
                }
                if q.durable != durable {
                    return Err(inequivalent(
                        "durable", "queue", &name, &vhost, durable, q.durable,
                    ));
                }
                if q.auto_delete != d.auto_delete {
                    return Err(inequivalent(
                        "auto_delete",
                        "queue",
                        &name,
                        &vhost,
                        d.auto_delete,
                        q.auto_delete,
                    ));
                }
                q.check_equivalent_args(&d.arguments, &vhost)?;
                if !nowait {
                    q.last_used = now;
                }
                q.last_active = now;
                Reply::QueueDeclareOk {
                    queue: name.clone(),
                    message_count: q.ready.len() as u32,
                    consumer_count: q.reported_consumer_count() as u32,
                }
            }
            None => {
                let args = QueueArgs::parse(&d.arguments, &name, &vhost)?;
                if args.kind == QueueType::Quorum {
                    // RabbitMQ's order: auto-delete, exclusive, durable.
                    let bad = if d.auto_delete {
                        Some("auto-delete")
                    } else if d.exclusive {
                        Some("exclusive-owner")
                    } else if !durable {
                        Some("non-durable")
                    } else {
                        None
                    };
                    if let Some(prop) = bad {
                        return Err(AmqpError::precondition(format_args!(
                            "invalid property '{prop}' for queue '{name}' in vhost '{vhost}'"
                        )));
                    }
                }
                let q = Queue::new(
                    &name,
                    durable,
                    owner,
                    d.auto_delete,
                    d.arguments.clone(),
                    args,
                    now,
                );
                v.queues.insert(name.as_str().into(), q);
                self.churn.queue_created += 1;
                if durable {
                    self.journal
                        .out(Output::Store(StoreOp::QueueDeclared(QueueDef {
                            name: name.clone(),
                            vhost: vhost.clone(),
                            durable: true,
                            auto_delete: d.auto_delete,
                            arguments: d.arguments,
                        })));
                }
                self.journal.event(|| EventKind::QueueDeclared {
                    vhost: vhost.clone(),
                    queue: name.clone(),
                    server_named,
                });
                Reply::QueueDeclareOk {
                    queue: name.clone(),
                    message_count: 0,
                    consumer_count: 0,
                }
            }
        };
        self.churn.queue_declared += 1;
        self.channel_mut(conn, ch)?.last_queue = Some(name.as_str().into());
        if !nowait {
            self.reply(conn, ch, reply);
        }
        Ok(())
    }

    pub(crate) fn queue_purge(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        queue: &str,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let queue = self.queue_name(conn, ch, queue)?;
        self.check_access(conn, Access::Read, "queue", &queue)?;
        self.usable_queue(conn, &vhost, &queue)?;
        let count = self.purge(&vhost, &queue);
        if !nowait {
            self.reply(
                conn,
                ch,
                Reply::QueuePurgeOk {
                    message_count: count,
                },
            );
        }
        Ok(())
    }

    /// Drops every ready message of a queue; returns how many.
    pub fn purge(&mut self, vhost: &str, queue: &str) -> u32 {
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return 0;
        };
        let count = q.ready.len() as u32;
        let any_stored = q.ready.iter().any(|e| stored(q, &e.message));
        q.clear_ready();
        if any_stored {
            self.journal.out(Output::Store(StoreOp::QueuePurged {
                vhost: vhost.to_string(),
                queue: queue.to_string(),
            }));
        }
        self.journal.event(|| EventKind::Purged {
            queue: queue.to_string(),
            count,
        });
        count
    }

    pub(crate) fn queue_delete_cmd(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        queue: &str,
        if_unused: bool,
        if_empty: bool,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let queue = self.queue_name(conn, ch, queue)?;
        self.check_access(conn, Access::Configure, "queue", &queue)?;
        let count = match self.usable_queue(conn, &vhost, &queue) {
            Err(e) if e.code == ReplyCode::NotFound => None,
            Err(e) => return Err(e),
            Ok(q) => {
                if if_unused && q.consumer_count() > 0 {
                    return Err(AmqpError::precondition(format_args!(
                        "queue '{queue}' in vhost '{vhost}' in use"
                    )));
                }
                if if_empty && !q.ready.is_empty() {
                    return Err(AmqpError::precondition(format_args!(
                        "queue '{queue}' in vhost '{vhost}' not empty"
                    )));
                }
                Some(q.ready.len() as u32)
            }
        };
        // delete-ok goes out before the consumers' basic.cancel, as RabbitMQ
        // replies before the queue process is gone.
        if !nowait {
            self.reply(
                conn,
                ch,
                Reply::QueueDeleteOk {
                    message_count: count.unwrap_or(0),
                },
            );
        }
        if count.is_some() {
            self.delete_queue(&vhost, &queue, "deleted by queue.delete");
        }
        Ok(())
    }

    /// Deletes a queue: its consumers are cancelled (with a notification), its
    /// bindings removed, its ready messages dropped. Returns the ready count.
    pub fn delete_queue(&mut self, vhost: &str, name: &str, reason: &str) -> u32 {
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.remove(name))
        else {
            return 0;
        };
        let count = q.ready.len() as u32;
        if q.cancelled_holders > 0 {
            // Cancelled consumers still holding its messages stop being counted with
            // it, so a queue declared later under the same name starts from none.
            for k in self.conns.values_mut().filter(|k| k.vhost == vhost) {
                for chan in k.channels.values_mut() {
                    chan.cancelled_holding
                        .retain(|_, (queue, _)| **queue != *name);
                }
            }
        }
        for c in q
            .active
            .iter()
            .chain(q.blocked.iter())
            .chain(q.waiting.iter())
        {
            if let Some(chan) = self
                .conns
                .get_mut(&c.conn)
                .and_then(|k| k.channels.get_mut(&c.channel))
            {
                chan.consumers.remove(&c.tag);
            }
            self.journal.out(Output::CancelConsumer {
                conn: c.conn,
                channel: c.channel,
                consumer_tag: c.tag.to_string(),
            });
        }
        if q.durable && q.exclusive_owner.is_none() {
            self.journal.out(Output::Store(StoreOp::QueueDeleted {
                vhost: vhost.to_string(),
                name: name.to_string(),
            }));
        }
        // RabbitMQ 3.10 counts a quorum queue's deletion twice in its churn
        // figures (checked against it with pika); the count follows it.
        self.churn.queue_deleted += if q.args.kind == QueueType::Quorum {
            2
        } else {
            1
        };
        self.journal.event(|| EventKind::QueueDeleted {
            vhost: vhost.to_string(),
            queue: name.to_string(),
            reason: reason.to_string(),
        });
        self.pending.retain(|p| !matches!(p, Pending::Dispatch { vhost: v, queue } if v == vhost && **queue == *name));
        self.unbind_everywhere(vhost, &Dest::Queue(Arc::from(name)));
        count
    }
}
