//! Connections, channels, errors, timers, restart, and the durable definitions
//! (users, vhosts, permissions, exchanges, queues, bindings).

use super::state::{Channel, Connection};
use super::{Broker, Permission, Vhost};
use crate::definitions::{
    BindingDef, Definitions, ExchangeDef, PermissionDef, QueueDef, UserDef, VhostDef,
};
use crate::error::{AmqpError, ReplyCode};
use crate::events::EventKind;
use crate::exchange::{Dest, Exchange, ExchangeKind};
use crate::protocol::{ChannelId, ConnId, Millis, Output, StoreOp};
use crate::queue::{Entry, Queue, QueueArgs};
use crate::types::Message;
use std::sync::Arc;

impl Broker {
    /// Checks a login. `mechanism` is named in the refusal, as RabbitMQ does;
    /// `loopback` says whether the peer is on this host (guest may only log in from there).
    pub fn authenticate(
        &self,
        mechanism: &str,
        user: &str,
        password: &str,
        loopback: bool,
    ) -> Result<(), AmqpError> {
        let ok = self
            .users
            .get(user)
            .is_some_and(|u| crate::auth::password_matches(&u.password_hash, password))
            && (user != "guest" || loopback);
        if ok {
            Ok(())
        } else {
            Err(AmqpError::access_refused(format_args!(
                "Login was refused using authentication mechanism {mechanism}. For details see the broker logfile."
            )))
        }
    }

    /// connection.open: the vhost must exist and the user have some permission on it.
    pub fn handle_connection_open(
        &mut self,
        now: Millis,
        conn: ConnId,
        user: &str,
        vhost: &str,
    ) -> Result<(), AmqpError> {
        self.journal.now = now;
        if !self.vhosts.contains_key(vhost) {
            return Err(AmqpError::new(
                ReplyCode::NotAllowed,
                format_args!("vhost {vhost} not found"),
            ));
        }
        if !self
            .permissions
            .contains_key(&(user.to_string(), vhost.to_string()))
        {
            return Err(AmqpError::new(
                ReplyCode::NotAllowed,
                format_args!("access to vhost '{vhost}' refused for user '{user}'"),
            ));
        }
        self.churn.connection_created += 1;
        self.conns.insert(
            conn,
            Connection {
                id: conn,
                user: user.to_string(),
                vhost: vhost.to_string(),
                channels: Default::default(),
                backlog: None,
            },
        );
        self.journal.event(|| EventKind::ConnectionOpened {
            conn,
            user: user.to_string(),
            vhost: vhost.to_string(),
        });
        Ok(())
    }

    /// The connection is gone (closed by the client, or its socket died):
    /// unacked messages are requeued, exclusive queues deleted.
    pub fn handle_connection_closed(&mut self, now: Millis, conn: ConnId, reason: &str) {
        self.journal.now = now;
        self.drop_connection(conn, reason);
        self.settle();
    }

    pub fn handle_channel_open(
        &mut self,
        now: Millis,
        conn: ConnId,
        ch: ChannelId,
    ) -> Result<(), AmqpError> {
        self.journal.now = now;
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or_else(|| AmqpError::new(ReplyCode::ChannelError, "connection not open"))?;
        if c.channels.contains_key(&ch) {
            // A connection error: the shell closes the connection with it.
            return Err(
                AmqpError::new(ReplyCode::ChannelError, "second 'channel.open' seen").on((20, 10)),
            );
        }
        c.channels.insert(ch, Channel::new());
        self.churn.channel_created += 1;
        self.journal
            .event(|| EventKind::ChannelOpened { conn, channel: ch });
        Ok(())
    }

    /// The client closed a channel (channel.close), or acknowledged our close.
    pub fn handle_channel_close(&mut self, now: Millis, conn: ConnId, ch: ChannelId) {
        self.journal.now = now;
        self.close_channel_state(conn, ch, "closed by the client");
        self.settle();
    }

    /// Whether a channel is open, for shells that must tell frames on unknown channels apart.
    pub fn channel_is_open(&self, conn: ConnId, ch: ChannelId) -> bool {
        self.conns
            .get(&conn)
            .is_some_and(|c| c.channels.contains_key(&ch))
    }

    /// Cancels a channel's consumers and requeues its unacked messages.
    fn close_channel_state(&mut self, conn: ConnId, ch: ChannelId, reason: &str) {
        let tags: Vec<Arc<str>> = match self.conns.get(&conn).and_then(|c| c.channels.get(&ch)) {
            Some(chan) => chan.consumers.keys().cloned().collect(),
            None => return,
        };
        // Unacked messages first, so they are back in place before any
        // auto-delete queue goes with its last consumer.
        self.requeue_channel(conn, ch, reason, false);
        for t in tags {
            self.remove_consumer(conn, ch, &t, reason);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            if let Some(chan) = c.channels.remove(&ch) {
                self.churn.channel_closed += 1;
                if let Some(v) = self.vhosts.get_mut(&c.vhost) {
                    v.retired += chan.stats;
                }
            }
        }
        self.journal.event(|| EventKind::ChannelClosed {
            conn,
            channel: ch,
            reason: reason.to_string(),
        });
    }

    fn drop_connection(&mut self, conn: ConnId, reason: &str) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let vhost = c.vhost.clone();
        let chans: Vec<ChannelId> = c.channels.keys().copied().collect();
        for ch in chans {
            self.close_channel_state(conn, ch, reason);
        }
        let exclusive: Vec<Arc<str>> = self
            .vhosts
            .get(&vhost)
            .map(|v| {
                v.queues
                    .values()
                    .filter(|q| q.exclusive_owner == Some(conn))
                    .map(|q| q.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        for q in exclusive {
            self.delete_queue(&vhost, &q, "exclusive: its connection closed");
        }
        if self.conns.remove(&conn).is_some() {
            self.churn.connection_closed += 1;
        }
        self.journal.event(|| EventKind::ConnectionClosed {
            conn,
            reason: reason.to_string(),
        });
    }

    /// Closes the channel (channel error) or connection (connection error)
    /// with `err`, as RabbitMQ does on a failed method.
    pub(crate) fn fail(&mut self, conn: ConnId, ch: ChannelId, err: AmqpError) {
        self.journal.event(|| EventKind::Error {
            conn,
            channel: ch,
            code: err.code.code(),
            text: err.text.clone(),
            connection: err.is_connection_error(),
        });
        if err.is_connection_error() {
            self.drop_connection(conn, &err.text);
            self.journal
                .out(Output::ConnectionClose { conn, error: err });
        } else {
            self.close_channel_state(conn, ch, &err.text);
            self.journal.out(Output::ChannelClose {
                conn,
                channel: ch,
                error: err,
            });
        }
    }

    /// Closes a connection from the broker side (e.g. 320 CONNECTION_FORCED at shutdown).
    pub fn close_connection(&mut self, now: Millis, conn: ConnId, err: AmqpError) {
        self.journal.now = now;
        self.fail(conn, 0, err);
        self.settle();
    }

    /// When the broker next needs [`Broker::handle_timeout`]: the earliest
    /// message expiry at a queue head or unused-queue expiry.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let mut next: Option<Millis> = None;
        for v in self.vhosts.values() {
            for q in v.queues.values() {
                let head = q.head_expiry();
                let unused = match (q.args.expires, q.consumer_count()) {
                    (Some(x), 0) => Some(q.last_used.saturating_add(x)),
                    _ => None,
                };
                for t in [head, unused].into_iter().flatten() {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
        }
        next
    }

    /// Time has reached `now`: expire messages and unused queues that are due.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.journal.now = now;
        let mut heads = Vec::new();
        let mut unused = Vec::new();
        for (vn, v) in &self.vhosts {
            for q in v.queues.values() {
                if q.head_expiry().is_some_and(|t| t <= now) {
                    heads.push((vn.clone(), q.name.clone()));
                }
                if q.consumer_count() == 0
                    && q.args
                        .expires
                        .is_some_and(|x| q.last_used.saturating_add(x) <= now)
                {
                    unused.push((vn.clone(), q.name.clone()));
                }
            }
        }
        for (v, q) in heads {
            self.dispatch(&v, &q);
        }
        for (v, q) in unused {
            self.delete_queue(&v, &q, "x-expires: unused for too long");
        }
        self.settle();
    }

    /// A broker restart as clients see it: every connection drops, then only
    /// durable exchanges, queues and bindings, persistent messages in durable
    /// queues and every message of a quorum queue, remain. (The real server restarts as a process and
    /// recovers from its store; this is the simulation's restart.)
    pub fn restart(&mut self, now: Millis) {
        self.journal.now = now;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for c in conns {
            self.drop_connection(c, "broker restarted");
        }
        self.settle();
        // Nothing can be sent to connections that are gone.
        self.journal
            .outputs
            .retain(|o| matches!(o, Output::Store(_)));
        // A restarted node counts connections, channels and queues afresh.
        self.churn = Default::default();
        let mut queues_kept = 0;
        let mut messages_kept = 0;
        for v in self.vhosts.values_mut() {
            v.exchanges.retain(|_, x| x.durable);
            v.queues
                .retain(|_, q| q.durable && q.exclusive_owner.is_none());
            for q in v.queues.values_mut() {
                // What the store held: see `stored`.
                let quorum = q.args.kind == crate::queue::QueueType::Quorum;
                q.ready.retain(|m| quorum || m.persistent());
                q.returned = q.returned.min(q.ready.len());
                q.rejecting = false;
                q.active.clear();
                q.blocked.clear();
                q.waiting.clear();
                q.unacked = 0;
                q.cancelled_holders = 0;
                q.exclusive_consumer = false;
                q.last_used = now;
                q.last_active = now;
                q.stats = Default::default();
                queues_kept += 1;
                messages_kept += q.ready.len();
            }
            let names: Vec<(Arc<str>, bool)> =
                v.exchanges.keys().map(|k| (k.clone(), true)).collect();
            let queues: Vec<Arc<str>> = v.queues.keys().cloned().collect();
            // A restarted node starts its statistics from nothing.
            v.retired = Default::default();
            v.default_exchange_stats = Default::default();
            for x in v.exchanges.values_mut() {
                x.stats = Default::default();
                let dead: Vec<Dest> = x
                    .bindings()
                    .map(|b| b.dest.clone())
                    .filter(|d| match d {
                        Dest::Queue(q) => !queues.contains(q),
                        Dest::Exchange(e) => !names.iter().any(|(n, _)| n == e),
                    })
                    .collect();
                for d in dead {
                    x.unbind_dest(&d);
                }
            }
        }
        self.journal.event(|| EventKind::BrokerRestarted {
            queues_kept,
            messages_kept,
        });
    }

    // ---- durable definitions ------------------------------------------------

    /// Adds a vhost if there is none by that name. Users, vhosts and
    /// permissions are durable in RabbitMQ, so every change to them is a
    /// store op too.
    pub fn add_vhost(&mut self, name: &str) {
        if self.vhosts.contains_key(name) {
            return;
        }
        self.vhosts.insert(name.to_string(), Vhost::new());
        self.journal.out(Output::Store(StoreOp::VhostAdded {
            name: name.to_string(),
        }));
    }

    /// Deletes a vhost; its connections are closed with 320 CONNECTION_FORCED.
    pub fn delete_vhost(&mut self, now: Millis, name: &str) -> bool {
        let conns: Vec<ConnId> = self
            .conns
            .values()
            .filter(|c| c.vhost == name)
            .map(|c| c.id)
            .collect();
        for c in conns {
            self.close_connection(
                now,
                c,
                AmqpError::new(ReplyCode::ConnectionForced, "vhost is down"),
            );
        }
        self.permissions.retain(|(_, v), _| v != name);
        let existed = self.vhosts.remove(name).is_some();
        if existed {
            self.journal.out(Output::Store(StoreOp::VhostDeleted {
                name: name.to_string(),
            }));
        }
        existed
    }

    pub fn vhost_names(&self) -> Vec<String> {
        self.vhosts.keys().cloned().collect()
    }

    /// Adds or replaces a user.
    pub fn put_user(&mut self, user: UserDef) {
        self.journal
            .out(Output::Store(StoreOp::UserPut(user.clone())));
        self.users.insert(user.name.clone(), user);
    }

    /// Deletes a user and their permissions.
    pub fn delete_user(&mut self, name: &str) -> bool {
        self.permissions.retain(|(u, _), _| u != name);
        let existed = self.users.remove(name).is_some();
        if existed {
            self.journal.out(Output::Store(StoreOp::UserDeleted {
                name: name.to_string(),
            }));
        }
        existed
    }

    pub fn user(&self, name: &str) -> Option<&UserDef> {
        self.users.get(name)
    }

    pub fn users(&self) -> Vec<UserDef> {
        self.users.values().cloned().collect()
    }

    pub fn set_permissions(&mut self, p: PermissionDef) {
        self.journal
            .out(Output::Store(StoreOp::PermissionSet(p.clone())));
        self.permissions
            .insert((p.user.clone(), p.vhost.clone()), Permission::new(p));
    }

    pub fn clear_permissions(&mut self, user: &str, vhost: &str) -> bool {
        let existed = self
            .permissions
            .remove(&(user.to_string(), vhost.to_string()))
            .is_some();
        if existed {
            self.journal.out(Output::Store(StoreOp::PermissionCleared {
                user: user.to_string(),
                vhost: vhost.to_string(),
            }));
        }
        existed
    }

    pub fn permissions(&self) -> Vec<PermissionDef> {
        self.permissions.values().map(|p| p.def.clone()).collect()
    }

    /// Declares what a definitions file holds, directly (no connection, no
    /// permission checks: this is the operator's own configuration).
    pub fn load_definitions(&mut self, defs: &Definitions) -> Result<(), AmqpError> {
        for v in &defs.vhosts {
            self.add_vhost(&v.name);
        }
        for u in &defs.users {
            self.put_user(u.clone());
        }
        for p in &defs.permissions {
            self.set_permissions(p.clone());
        }
        for x in &defs.exchanges {
            self.define_exchange(x)?;
        }
        for q in &defs.queues {
            self.define_queue(q)?;
        }
        for b in &defs.bindings {
            self.define_binding(b)?;
        }
        Ok(())
    }

    pub fn define_exchange(&mut self, x: &ExchangeDef) -> Result<(), AmqpError> {
        let kind = ExchangeKind::parse(&x.kind).ok_or_else(|| {
            AmqpError::new(
                ReplyCode::CommandInvalid,
                format_args!("unknown exchange type '{}'", x.kind),
            )
        })?;
        self.add_vhost(&x.vhost);
        if let Some(v) = self.vhosts.get_mut(&x.vhost) {
            v.exchanges
                .entry(x.name.as_str().into())
                .or_insert_with(|| {
                    Exchange::new(
                        &x.name,
                        kind,
                        x.durable,
                        x.auto_delete,
                        x.internal,
                        x.arguments.clone(),
                    )
                });
        }
        Ok(())
    }

    pub fn define_queue(&mut self, q: &QueueDef) -> Result<(), AmqpError> {
        let args = QueueArgs::parse(&q.arguments, &q.name, &q.vhost)?;
        let now = self.journal.now;
        self.add_vhost(&q.vhost);
        if let Some(v) = self.vhosts.get_mut(&q.vhost) {
            v.queues.entry(q.name.as_str().into()).or_insert_with(|| {
                Queue::new(
                    &q.name,
                    q.durable,
                    None,
                    q.auto_delete,
                    q.arguments.clone(),
                    args,
                    now,
                )
            });
        }
        Ok(())
    }

    pub fn define_binding(&mut self, b: &BindingDef) -> Result<(), AmqpError> {
        let v = self.vhosts.get_mut(&b.vhost).ok_or_else(|| {
            AmqpError::new(
                ReplyCode::NotAllowed,
                format_args!("vhost {} not found", b.vhost),
            )
        })?;
        let dest = if b.destination_type == "exchange" {
            if !v.exchanges.contains_key(b.destination.as_str()) {
                return Err(AmqpError::not_found("exchange", &b.destination, &b.vhost));
            }
            Dest::Exchange(b.destination.as_str().into())
        } else {
            if !v.queues.contains_key(b.destination.as_str()) {
                return Err(AmqpError::not_found("queue", &b.destination, &b.vhost));
            }
            Dest::Queue(b.destination.as_str().into())
        };
        let x = v
            .exchanges
            .get_mut(b.source.as_str())
            .ok_or_else(|| AmqpError::not_found("exchange", &b.source, &b.vhost))?;
        x.bind(dest, &b.routing_key, b.arguments.clone());
        Ok(())
    }

    /// Everything durable, in RabbitMQ's definitions format (built-in exchanges left out).
    pub fn export_definitions(&self) -> Definitions {
        let mut d = Definitions {
            rabbit_version: Some(crate::RABBITMQ_VERSION.to_string()),
            rabbitmq_version: Some(crate::RABBITMQ_VERSION.to_string()),
            users: self.users(),
            vhosts: self
                .vhosts
                .keys()
                .map(|n| VhostDef { name: n.clone() })
                .collect(),
            permissions: self.permissions(),
            ..Definitions::default()
        };
        for (vn, v) in &self.vhosts {
            for x in v.exchanges.values() {
                if x.name.starts_with("amq.") || !x.durable {
                    continue;
                }
                d.exchanges.push(ExchangeDef {
                    name: x.name.to_string(),
                    vhost: vn.clone(),
                    kind: x.kind.as_str().to_string(),
                    durable: x.durable,
                    auto_delete: x.auto_delete,
                    internal: x.internal,
                    arguments: x.arguments.clone(),
                });
                for b in x.bindings() {
                    let durable_dest = match &b.dest {
                        Dest::Queue(q) => v
                            .queues
                            .get(q)
                            .is_some_and(|q| q.durable && q.exclusive_owner.is_none()),
                        Dest::Exchange(e) => v.exchanges.get(e).is_some_and(|e| e.durable),
                    };
                    if durable_dest {
                        d.bindings.push(BindingDef {
                            source: x.name.to_string(),
                            vhost: vn.clone(),
                            destination: b.dest.name().to_string(),
                            destination_type: b.dest.kind().to_string(),
                            routing_key: b.routing_key.to_string(),
                            arguments: b.arguments.clone(),
                        });
                    }
                }
            }
            for q in v.queues.values() {
                if q.durable && q.exclusive_owner.is_none() {
                    d.queues.push(QueueDef {
                        name: q.name.to_string(),
                        vhost: vn.clone(),
                        durable: true,
                        auto_delete: q.auto_delete,
                        arguments: q.arguments.clone(),
                    });
                }
            }
        }
        d
    }

    /// Puts a stored persistent message back in its queue at start-up. The
    /// message's id comes from the store (ids above every recovered one are
    /// used for new messages); its publish time should be the broker's time
    /// now, as TTLs count again from a restart.
    pub fn recover_message(
        &mut self,
        vhost: &str,
        queue: &str,
        message: Message,
        redelivered: bool,
    ) {
        self.next_msg_id = self.next_msg_id.max(message.id() + 1);
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return;
        };
        let mut entry = Entry::new(message, q.next_seq);
        entry.redelivered = redelivered;
        q.next_seq += 1;
        q.push(entry);
    }
}
