//! Consumers and deliveries: basic.consume/cancel/qos/get/ack/nack/reject/recover,
//! round-robin dispatch with prefetch, requeueing, TTL expiry at the head,
//! publisher confirm mode and transactions.

use super::state::{Channel, Consumer, Unacked};
use super::{Broker, Vhost};
use crate::auth::Access;
use crate::error::{AmqpError, ReplyCode};
use crate::events::EventKind;
use crate::protocol::{ChannelId, ConnId, Millis, Output, Reply};
use crate::queue::{ConsumerRef, Entry, Queue, QueueType};
use crate::types::{FieldTable, FieldValue, Message};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a client said about a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ack,
    Reject { requeue: bool },
}

/// Whether a ready message has expired. A message whose TTL ends at the very
/// moment it was enqueued (TTL 0) may still go to a consumer ready at that moment.
fn is_expired(q: &Queue, m: &Message, now: Millis) -> bool {
    q.expiry_of(m)
        .is_some_and(|x| x < now || (x == now && m.published_at() < now))
}

/// The message a client sees. Quorum queues add `x-delivery-count`: to a
/// consumer once the message was returned, to basic.get always (0 at first),
/// replacing whatever the publisher put there.
fn as_delivered(kind: QueueType, e: &Entry, get: bool) -> Message {
    if kind == QueueType::Quorum && (get || e.delivery_count > 0) {
        let m = &e.message;
        let mut props = m.properties();
        props
            .headers
            .get_or_insert_with(Default::default)
            .insert("x-delivery-count", FieldValue::I64(e.delivery_count as i64));
        Message::new(
            m.id(),
            m.published_at(),
            m.exchange(),
            m.routing_key(),
            &props,
            m.body(),
        )
    } else {
        e.message.clone()
    }
}

/// basic.consume's `x-priority`: any integer type; anything else is refused
/// as RabbitMQ refuses it.
fn consumer_priority(args: &FieldTable, queue: &str, vhost: &str) -> Result<i64, AmqpError> {
    match args.get("x-priority") {
        None => Ok(0),
        Some(v) => match v.as_i64() {
            Some(n) => Ok(n),
            None => Err(AmqpError::precondition(format_args!(
                "invalid arg 'x-priority' for queue '{queue}' in vhost '{vhost}': \"expected integer, got {}\"",
                v.type_name()
            ))),
        },
    }
}

/// The store records a stored message's first delivery, so a message that
/// was out with a consumer comes back marked redelivered after a restart, as
/// RabbitMQ's queue index does.
fn delivered_op(vhost: &str, queue: &str, entry: &Entry) -> crate::protocol::StoreOp {
    crate::protocol::StoreOp::MessageDelivered {
        vhost: vhost.to_string(),
        queue: queue.to_string(),
        msg_id: entry.msg_id(),
    }
}

fn unknown_tag(tag: u64) -> AmqpError {
    AmqpError::precondition(format_args!("unknown delivery tag {tag}"))
}

impl Broker {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn basic_consume(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        queue: &str,
        tag: String,
        (no_ack, exclusive, nowait): (bool, bool, bool),
        arguments: &FieldTable,
    ) -> Result<(), AmqpError> {
        if queue == super::reply_to::PSEUDO_QUEUE {
            return self.reply_to_consume(conn, ch, tag, no_ack, nowait);
        }
        let vhost = self.vhost_of(conn)?;
        // RabbitMQ's order: a reused tag (a connection error), the queue name,
        // read permission, the queue itself, then the queue's own refusals.
        if !tag.is_empty()
            && self
                .channel_mut(conn, ch)?
                .consumers
                .contains_key(tag.as_str())
        {
            return Err(AmqpError::new(
                ReplyCode::NotAllowed,
                format_args!("attempt to reuse consumer tag '{tag}'"),
            ));
        }
        let queue = self.queue_name(conn, ch, queue)?;
        self.check_access(conn, Access::Read, "queue", &queue)?;
        let global_qos = self.channel_mut(conn, ch)?.global_prefetch > 0;
        let q = self.usable_queue(conn, &vhost, &queue)?;
        if q.args.kind == QueueType::Quorum && global_qos {
            return Err(AmqpError::new(
                ReplyCode::NotImplemented,
                format_args!("queue '{queue}' in vhost '{vhost}' does not support global qos"),
            ));
        }
        let priority = consumer_priority(arguments, &queue, &vhost)?;
        let (qname, in_use) = (
            q.name.clone(),
            // A classic single-active-consumer queue takes no exclusive
            // consumer (a quorum one does).
            q.exclusive_consumer
                || (exclusive
                    && (q.consumer_count() > 0
                        || (q.args.single_active_consumer && q.args.kind == QueueType::Classic))),
        );
        if in_use {
            return Err(AmqpError::access_refused(format_args!(
                "queue '{queue}' in vhost '{vhost}' in exclusive use"
            )));
        }
        let tag: Arc<str> = if tag.is_empty() {
            self.rng.name("amq.ctag").into()
        } else {
            tag.into()
        };
        let chan = self.channel_mut(conn, ch)?;
        chan.consumers.insert(
            tag.clone(),
            Consumer {
                queue: qname.clone(),
                no_ack,
                exclusive,
                prefetch: chan.prefetch,
                unacked: 0,
            },
        );
        if let Some(q) = self
            .vhosts
            .get_mut(&vhost)
            .and_then(|v| v.queues.get_mut(&qname))
        {
            q.add_consumer(ConsumerRef {
                conn,
                channel: ch,
                tag: tag.clone(),
                priority,
            });
            q.had_consumer = true;
            q.exclusive_consumer |= exclusive;
            q.last_active = self.journal.now;
        }
        if !nowait {
            self.reply(
                conn,
                ch,
                Reply::BasicConsumeOk {
                    consumer_tag: tag.to_string(),
                },
            );
        }
        self.journal.event(|| EventKind::ConsumerAdded {
            queue: qname.to_string(),
            conn,
            channel: ch,
            consumer_tag: tag.to_string(),
        });
        self.dispatch(&vhost, &qname);
        Ok(())
    }

    pub(crate) fn basic_cancel(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        tag: &str,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        self.channel_mut(conn, ch)?;
        self.remove_consumer(conn, ch, tag, "cancelled by basic.cancel");
        if !nowait {
            self.reply(
                conn,
                ch,
                Reply::BasicCancelOk {
                    consumer_tag: tag.to_string(),
                },
            );
        }
        Ok(())
    }

    /// Takes a consumer off its queue (its unacked messages stay with the
    /// channel); deletes an auto-delete queue whose last consumer this was.
    pub(crate) fn remove_consumer(&mut self, conn: ConnId, ch: ChannelId, tag: &str, reason: &str) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let vhost = c.vhost.clone();
        let Some(chan) = c.channels.get_mut(&ch) else {
            return;
        };
        let Some((tag, consumer)) = chan.consumers.remove_entry(tag) else {
            return;
        };
        let Some(q) = self
            .vhosts
            .get_mut(&vhost)
            .and_then(|v| v.queues.get_mut(&consumer.queue))
        else {
            return;
        };
        q.remove_consumer(conn, ch, &tag);
        if consumer.exclusive {
            q.exclusive_consumer = false;
        }
        if q.args.kind == QueueType::Quorum && !consumer.no_ack && consumer.unacked > 0 {
            q.cancelled_holders += 1;
            chan.cancelled_holding
                .insert(tag.clone(), (consumer.queue.clone(), consumer.unacked));
        }
        // A quorum queue hands its messages to the consumer that takes over
        // at once; a classic one waits for its next dispatch (RabbitMQ 3.10).
        let hand_over = q.args.kind == QueueType::Quorum && q.args.single_active_consumer;
        let auto_delete = q.auto_delete && q.had_consumer && q.consumer_count() == 0;
        if q.consumer_count() == 0 {
            // Unused from now on: RabbitMQ restarts the x-expires timer.
            q.last_used = self.journal.now;
        }
        q.last_active = self.journal.now;
        self.journal.event(|| EventKind::ConsumerRemoved {
            queue: consumer.queue.to_string(),
            conn,
            channel: ch,
            consumer_tag: tag.to_string(),
            reason: reason.to_string(),
        });
        if auto_delete {
            self.delete_queue(
                &vhost,
                &consumer.queue,
                "auto-delete: its last consumer went away",
            );
        } else if hand_over {
            self.pending.push_back(super::Pending::Dispatch {
                vhost,
                queue: consumer.queue.clone(),
            });
        }
    }

    pub(crate) fn basic_qos(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        prefetch_size: u32,
        count: u16,
        global: bool,
    ) -> Result<(), AmqpError> {
        if prefetch_size != 0 {
            return Err(AmqpError::new(
                ReplyCode::NotImplemented,
                format_args!("prefetch_size!=0 ({prefetch_size})"),
            ));
        }
        let chan = self.channel_mut(conn, ch)?;
        if global {
            chan.global_prefetch = count;
        } else {
            chan.prefetch = count;
        }
        self.reply(conn, ch, Reply::BasicQosOk);
        self.unblock(conn, ch);
        Ok(())
    }

    /// Gives ready messages to consumers in turn until the queue is empty or
    /// every consumer is at its limit; then expires what is due at the head.
    pub(crate) fn dispatch(&mut self, vhost: &str, queue: &str) {
        let now = self.journal.now;
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return;
        };
        let mut expired = Vec::new();
        loop {
            while q.ready.front().is_some_and(|m| is_expired(q, m, now)) {
                expired.extend(q.pop());
            }
            if q.ready.is_empty() || q.active.is_empty() {
                break;
            }
            let mut delivered = false;
            for _ in 0..q.active.len() {
                let Some(c) = q.active.pop_front() else { break };
                let Some(chan) = self
                    .conns
                    .get_mut(&c.conn)
                    .and_then(|k| k.channels.get_mut(&c.channel))
                else {
                    continue;
                };
                let Some(cons) = chan.consumers.get(&c.tag) else {
                    continue;
                };
                if !Channel::can_send(chan, cons) {
                    let reason = if cons.prefetch > 0 && cons.unacked >= cons.prefetch as u32 {
                        format!("prefetch {} reached", cons.prefetch)
                    } else {
                        format!("channel prefetch {} reached (global)", chan.global_prefetch)
                    };
                    self.journal.event(|| EventKind::ConsumerSkipped {
                        queue: queue.to_string(),
                        consumer_tag: c.tag.to_string(),
                        reason,
                    });
                    q.blocked.push(c);
                    continue;
                }
                let no_ack = cons.no_ack;
                let Some(entry) = q.pop() else {
                    q.active.push_front(c);
                    break;
                };
                let tag = chan.next_delivery_tag;
                chan.next_delivery_tag += 1;
                q.last_active = now;
                chan.stats.handed_out(false, no_ack, entry.redelivered);
                q.stats.handed_out(false, no_ack, entry.redelivered);
                self.journal.out(Output::Deliver {
                    conn: c.conn,
                    channel: c.channel,
                    consumer_tag: c.tag.clone(),
                    delivery_tag: tag,
                    redelivered: entry.redelivered,
                    message: as_delivered(q.args.kind, &entry, false),
                });
                self.journal.event(|| EventKind::Delivered {
                    msg_id: entry.msg_id(),
                    queue: queue.to_string(),
                    conn: c.conn,
                    channel: c.channel,
                    consumer_tag: c.tag.to_string(),
                    delivery_tag: tag,
                    redelivered: entry.redelivered,
                });
                if no_ack {
                    if super::stored(q, &entry.message) {
                        self.journal
                            .out(Output::Store(crate::protocol::StoreOp::MessageRemoved {
                                vhost: vhost.to_string(),
                                queue: queue.to_string(),
                                msg_id: entry.msg_id(),
                            }));
                    }
                } else {
                    if !entry.redelivered && super::stored(q, &entry.message) {
                        self.journal
                            .out(Output::Store(delivered_op(vhost, queue, &entry)));
                    }
                    if let Some(cons) = chan.consumers.get_mut(&c.tag) {
                        cons.unacked += 1;
                    }
                    chan.consumer_unacked += 1;
                    q.unacked += 1;
                    chan.unacked.insert(
                        tag,
                        Unacked {
                            queue: q.name.clone(),
                            entry,
                            consumer: Some(c.tag.clone()),
                        },
                    );
                }
                q.rejoin(c);
                delivered = true;
                break;
            }
            if !delivered {
                break;
            }
        }
        while q.head_expiry().is_some_and(|x| x <= now) {
            expired.extend(q.pop());
        }
        let name = q.name.clone();
        for e in expired {
            self.dead_letter(vhost, &name, e, "expired");
        }
    }

    pub(crate) fn basic_get(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        queue: &str,
        no_ack: bool,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        let queue = self.queue_name(conn, ch, queue)?;
        self.check_access(conn, Access::Read, "queue", &queue)?;
        self.usable_queue(conn, &vhost, &queue)?;
        let now = self.journal.now;
        // Expire first, so a get never hands out a message that is past its TTL.
        self.dispatch(&vhost, &queue);
        self.settle();
        let Some(q) = self
            .vhosts
            .get_mut(&vhost)
            .and_then(|v| v.queues.get_mut(queue.as_str()))
        else {
            return Err(AmqpError::not_found("queue", &queue, &vhost));
        };
        q.last_used = now;
        q.last_active = now;
        let Some(entry) = q.pop() else {
            q.stats.get_empty += 1;
            self.channel_mut(conn, ch)?.stats.get_empty += 1;
            self.reply(conn, ch, Reply::BasicGetEmpty);
            return Ok(());
        };
        let message_count = q.ready.len() as u32;
        let message = as_delivered(q.args.kind, &entry, true);
        let (qname, kept) = (q.name.clone(), super::stored(q, &entry.message));
        if !no_ack {
            q.unacked += 1;
        }
        q.stats.handed_out(true, no_ack, entry.redelivered);
        let chan = self.channel_mut(conn, ch)?;
        chan.stats.handed_out(true, no_ack, entry.redelivered);
        let tag = chan.next_delivery_tag;
        chan.next_delivery_tag += 1;
        let (msg_id, redelivered) = (entry.msg_id(), entry.redelivered);
        if no_ack {
            self.forget_stored(&vhost, &qname, kept, &entry);
        } else {
            if kept && !redelivered {
                self.journal
                    .out(Output::Store(delivered_op(&vhost, &qname, &entry)));
            }
            let chan = self.channel_mut(conn, ch)?;
            chan.unacked.insert(
                tag,
                Unacked {
                    queue: qname.clone(),
                    entry,
                    consumer: None,
                },
            );
        }
        self.journal.out(Output::GetOk {
            conn,
            channel: ch,
            delivery_tag: tag,
            redelivered,
            message_count,
            message,
        });
        self.journal.event(|| EventKind::Got {
            msg_id,
            queue: qname.to_string(),
            conn,
            channel: ch,
            delivery_tag: tag,
            redelivered,
        });
        Ok(())
    }

    /// basic.ack / basic.reject / basic.nack.
    pub(crate) fn settle_deliveries(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        tag: u64,
        multiple: bool,
        outcome: Outcome,
    ) -> Result<(), AmqpError> {
        let chan = self.channel_mut(conn, ch)?;
        // Tag 0 with multiple means every outstanding delivery. Otherwise the
        // tag itself must be outstanding, even with multiple (RabbitMQ walks
        // its unacked list up to that exact tag and fails if it is not there).
        let tags: Vec<u64> = if multiple && tag == 0 {
            chan.unacked.keys().copied().collect()
        } else if multiple && chan.unacked.contains_key(&tag) {
            chan.unacked.range(..=tag).map(|(k, _)| *k).collect()
        } else if !multiple && chan.unacked.contains_key(&tag) {
            vec![tag]
        } else {
            return Err(unknown_tag(tag));
        };
        if outcome == Outcome::Ack {
            // Every tag is outstanding, so each is one message acked.
            chan.stats.ack += tags.len() as u64;
        }
        let vhost = self.vhost_of(conn)?;
        let taken = self.take_unacked(conn, ch, &tags);
        for (tag, u) in taken {
            self.settle_one(&vhost, conn, ch, tag, u, outcome);
        }
        self.unblock(conn, ch);
        Ok(())
    }

    /// [`take_unacked`] on a channel, with its vhost's queues at hand (looked up only
    /// when a cancelled holder lets go, not on every ack).
    fn take_unacked(&mut self, conn: ConnId, ch: ChannelId, tags: &[u64]) -> Vec<(u64, Unacked)> {
        let Some(c) = self.conns.get_mut(&conn) else {
            return Vec::new();
        };
        match c.channels.get_mut(&ch) {
            Some(chan) => take_unacked(chan, tags, &mut self.vhosts, &c.vhost),
            None => Vec::new(),
        }
    }

    fn settle_one(
        &mut self,
        vhost: &str,
        conn: ConnId,
        ch: ChannelId,
        tag: u64,
        u: Unacked,
        outcome: Outcome,
    ) {
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(&u.queue))
        else {
            return; // its queue was deleted; the message went with it
        };
        q.unacked = q.unacked.saturating_sub(1);
        q.last_active = self.journal.now;
        let kept = super::stored(q, &u.entry.message);
        let msg_id = u.entry.msg_id();
        match outcome {
            Outcome::Ack => {
                q.stats.ack += 1;
                self.journal.event(|| EventKind::Acked {
                    msg_id,
                    queue: u.queue.to_string(),
                    conn,
                    channel: ch,
                    delivery_tag: tag,
                });
                self.forget_stored(vhost, &u.queue, kept, &u.entry);
            }
            Outcome::Reject { requeue } => {
                self.journal.event(|| EventKind::Rejected {
                    msg_id,
                    queue: u.queue.to_string(),
                    delivery_tag: tag,
                    requeue,
                });
                if requeue {
                    self.requeue(
                        vhost,
                        &u.queue,
                        u.entry,
                        "the consumer asked for it to be requeued",
                        true,
                    );
                } else {
                    self.dead_letter(vhost, &u.queue, u.entry, "rejected");
                }
            }
        }
    }

    /// Returns an unacked message to its queue, marked redelivered. A classic
    /// queue puts it back at its original place. A quorum queue counts the
    /// return (dead-lettering past `x-delivery-limit`); a client's requeue
    /// (`explicit`) of a queue without a delivery limit goes to the back, any
    /// other return to the front, after earlier returns.
    pub(crate) fn requeue(
        &mut self,
        vhost: &str,
        queue: &Arc<str>,
        mut entry: Entry,
        reason: &str,
        explicit: bool,
    ) {
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return;
        };
        q.last_active = self.journal.now;
        entry.redelivered = true;
        if q.args.kind == QueueType::Quorum {
            entry.delivery_count += 1;
            if q.args
                .delivery_limit
                .is_some_and(|l| entry.delivery_count as u64 > l)
            {
                self.dead_letter(vhost, queue, entry, "delivery_limit");
                return;
            }
        }
        let msg_id = entry.msg_id();
        match q.args.kind {
            QueueType::Classic => q.requeue(entry),
            QueueType::Quorum if explicit && q.args.delivery_limit.is_none() => {
                q.requeue_at_back(entry)
            }
            QueueType::Quorum => q.return_to_front(entry),
        }
        self.journal.event(|| EventKind::Requeued {
            msg_id,
            queue: queue.to_string(),
            reason: reason.to_string(),
        });
        self.pending.push_back(super::Pending::Dispatch {
            vhost: vhost.to_string(),
            queue: queue.clone(),
        });
    }

    /// Lets consumers of a channel that were skipped at their limit rejoin the
    /// tail of their queues' rings, then dispatches those queues.
    pub(crate) fn unblock(&mut self, conn: ConnId, ch: ChannelId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let vhost = c.vhost.clone();
        let Some(chan) = c.channels.get(&ch) else {
            return;
        };
        let mut queues: Vec<Arc<str>> = chan.consumers.values().map(|c| c.queue.clone()).collect();
        queues.sort();
        queues.dedup();
        for qn in &queues {
            let Some(q) = self
                .vhosts
                .get_mut(&vhost)
                .and_then(|v| v.queues.get_mut(qn))
            else {
                continue;
            };
            let mut i = 0;
            while i < q.blocked.len() {
                let r = &q.blocked[i];
                let free = r.conn == conn
                    && r.channel == ch
                    && chan
                        .consumers
                        .get(&r.tag)
                        .is_some_and(|cons| chan.can_send(cons));
                if free {
                    let r = q.blocked.remove(i);
                    q.rejoin(r);
                } else {
                    i += 1;
                }
            }
        }
        for qn in queues {
            self.dispatch(&vhost, &qn);
        }
    }

    pub(crate) fn basic_recover(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        requeue: bool,
    ) -> Result<(), AmqpError> {
        if !requeue {
            return Err(AmqpError::new(ReplyCode::NotImplemented, "requeue=false"));
        }
        self.requeue_channel(conn, ch, "basic.recover", true);
        self.reply(conn, ch, Reply::BasicRecoverOk);
        self.unblock(conn, ch);
        Ok(())
    }

    /// Requeues every unacked message of a channel, in delivery order: on
    /// basic.recover (`explicit`, like a nack) or when the channel goes.
    pub(crate) fn requeue_channel(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        reason: &str,
        explicit: bool,
    ) {
        let Ok(vhost) = self.vhost_of(conn) else {
            return;
        };
        let Ok(chan) = self.channel_mut(conn, ch) else {
            return;
        };
        let tags: Vec<u64> = chan.unacked.keys().copied().collect();
        let taken = self.take_unacked(conn, ch, &tags);
        for (_, u) in taken {
            if let Some(q) = self
                .vhosts
                .get_mut(&vhost)
                .and_then(|v| v.queues.get_mut(&u.queue))
            {
                q.unacked = q.unacked.saturating_sub(1);
            }
            self.requeue(&vhost, &u.queue, u.entry, reason, explicit);
        }
    }

    pub(crate) fn confirm_select(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        nowait: bool,
    ) -> Result<(), AmqpError> {
        let chan = self.channel_mut(conn, ch)?;
        if chan.tx.is_some() {
            return Err(AmqpError::precondition(
                "cannot switch from tx to confirm mode",
            ));
        }
        chan.confirm = true;
        if !nowait {
            self.reply(conn, ch, Reply::ConfirmSelectOk);
        }
        Ok(())
    }

    pub(crate) fn tx_select(&mut self, conn: ConnId, ch: ChannelId) -> Result<(), AmqpError> {
        let chan = self.channel_mut(conn, ch)?;
        if chan.confirm {
            return Err(AmqpError::precondition(
                "cannot switch from confirm to tx mode",
            ));
        }
        chan.tx.get_or_insert_with(Vec::new);
        self.reply(conn, ch, Reply::TxSelectOk);
        Ok(())
    }

    pub(crate) fn tx_commit(&mut self, conn: ConnId, ch: ChannelId) -> Result<(), AmqpError> {
        let chan = self.channel_mut(conn, ch)?;
        let Some(held) = chan.tx.replace(Vec::new()) else {
            return Err(AmqpError::precondition("channel is not transactional"));
        };
        // Run the held commands as if the channel were not transactional.
        chan.tx = None;
        let mut result = Ok(());
        for cmd in held {
            result = self.command(conn, ch, cmd);
            if result.is_err() {
                break;
            }
        }
        if let Ok(chan) = self.channel_mut(conn, ch) {
            chan.tx = Some(Vec::new());
        }
        result?;
        self.reply(conn, ch, Reply::TxCommitOk);
        Ok(())
    }

    pub(crate) fn tx_rollback(&mut self, conn: ConnId, ch: ChannelId) -> Result<(), AmqpError> {
        let chan = self.channel_mut(conn, ch)?;
        match chan.tx.as_mut() {
            None => Err(AmqpError::precondition("channel is not transactional")),
            Some(held) => {
                held.clear();
                self.reply(conn, ch, Reply::TxRollbackOk);
                Ok(())
            }
        }
    }
}

/// Removes deliveries from a channel, keeping its prefetch counters right, and the
/// count of a cancelled quorum consumer's held messages: when its last one goes, the
/// queue stops counting it (see [`Channel::cancelled_holding`]).
fn take_unacked(
    chan: &mut Channel,
    tags: &[u64],
    vhosts: &mut BTreeMap<String, Vhost>,
    vhost: &str,
) -> Vec<(u64, Unacked)> {
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        if let Some(u) = chan.unacked.remove(t) {
            if let Some(tag) = u.consumer.as_ref() {
                if let Some(c) = chan.consumers.get_mut(tag) {
                    c.unacked = c.unacked.saturating_sub(1);
                } else if let Some((queue, held)) = chan.cancelled_holding.get_mut(tag) {
                    *held = held.saturating_sub(1);
                    if *held == 0 {
                        if let Some(q) = vhosts.get_mut(vhost).and_then(|v| v.queues.get_mut(queue))
                        {
                            q.cancelled_holders = q.cancelled_holders.saturating_sub(1);
                        }
                        chan.cancelled_holding.remove(tag);
                    }
                }
            }
            if u.consumer.is_some() {
                chan.consumer_unacked = chan.consumer_unacked.saturating_sub(1);
            }
            out.push((*t, u));
        }
    }
    out
}
