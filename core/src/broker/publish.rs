//! basic.publish: routing through exchanges, enqueueing with overflow rules,
//! mandatory returns, publisher confirms, and dead-lettering.

use super::{stored, Broker, Pending};
use crate::auth::Access;
use crate::error::{AmqpError, ReplyCode};
use crate::events::EventKind;
use crate::exchange::{Dest, ExchangeKind};
use crate::protocol::{ChannelId, ConnId, Output, StoreOp};
use crate::queue::{Entry, Overflow, QueueType};
use crate::stats::ExchangeStats;
use crate::topic;
use crate::types::{BasicProperties, FieldTable, FieldValue, Message};
use bytes::Bytes;
use std::sync::Arc;

/// Where a message went.
pub(crate) struct Routing {
    pub queues: Vec<Arc<str>>,
    pub why: Vec<String>,
}

/// What enqueueing on one queue did.
#[derive(PartialEq, Eq)]
pub(crate) enum Enqueued {
    Accepted,
    /// Accepted into a queue with consumers that is over the flow mark
    /// ([`super::flow::FLOW_HIGH`]).
    Backlogged,
    Refused,
}

/// The CC and BCC header routing keys (arrays of strings).
fn header_keys<'a>(props: &'a BasicProperties, name: &str, out: &mut Vec<&'a str>) {
    if let Some(FieldValue::Array(items)) = props.header(name) {
        out.extend(items.iter().filter_map(|v| v.as_str()));
    }
}

impl Broker {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn basic_publish(
        &mut self,
        conn: ConnId,
        ch: ChannelId,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        mut properties: BasicProperties,
        body: Bytes,
    ) -> Result<(), AmqpError> {
        let vhost = self.vhost_of(conn)?;
        // RabbitMQ's order: write permission, the exchange, internal, the
        // direct reply-to rewrite, user_id, expiration, then the CC/BCC headers.
        self.check_access(conn, Access::Write, "exchange", exchange)?;
        if !exchange.is_empty() {
            let x = self.vhosts[&vhost]
                .exchanges
                .get(exchange)
                .ok_or_else(|| AmqpError::not_found("exchange", exchange, &vhost))?;
            if x.internal {
                return Err(AmqpError::access_refused(format_args!(
                    "cannot publish to internal exchange '{exchange}' in vhost '{vhost}'"
                )));
            }
        }
        self.reply_to_rewrite(conn, ch, &mut properties)?;
        if let Some(uid) = &properties.user_id {
            let c = self.conn(conn)?;
            let impersonator = self
                .users
                .get(&c.user)
                .is_some_and(|u| u.tags.iter().any(|t| t == "impersonator"));
            if *uid != c.user && !impersonator {
                return Err(AmqpError::precondition(format_args!(
                    "user_id property set to '{uid}' but authenticated user was '{}'",
                    c.user
                )));
            }
        }
        if let Some(exp) = &properties.expiration {
            crate::queue::parse_expiration(exp).map_err(|why| {
                AmqpError::precondition(format_args!("invalid expiration '{exp}': {why}"))
            })?;
        }
        for name in ["CC", "BCC"] {
            match properties.header(name) {
                None | Some(FieldValue::Array(_)) => {}
                Some(other) => {
                    return Err(AmqpError::precondition(format_args!(
                        "invalid message: {{unacceptable_type_in_header,\"{name}\",{}}}",
                        other.type_name()
                    )))
                }
            }
        }
        let chan = self.channel_mut(conn, ch)?;
        chan.stats.publish += 1;
        let seq = if chan.confirm {
            // Counted here, with the channel at hand, rather than looked up
            // again for every confirm; the rare nack takes it back.
            chan.stats.confirm += 1;
            chan.next_publish_seq += 1;
            Some(chan.next_publish_seq - 1)
        } else {
            None
        };
        let msg_id = self.next_msg_id();
        // BCC routes like CC but consumers never see it: take it out first.
        let bcc = properties.headers.as_mut().and_then(|h| h.remove("BCC"));
        let mut bcc_keys: Vec<&str> = Vec::new();
        if let Some(FieldValue::Array(items)) = &bcc {
            bcc_keys.extend(items.iter().filter_map(|v| v.as_str()));
        }
        let message = Message::with_bcc(
            msg_id,
            self.journal.now,
            exchange,
            routing_key,
            &properties,
            &bcc_keys,
            &body,
        );
        self.journal.event(|| EventKind::Published {
            msg_id,
            conn,
            channel: ch,
            exchange: exchange.to_string(),
            routing_key: routing_key.to_string(),
        });
        if exchange.is_empty() && self.reply_to_deliver(routing_key, &message) {
            self.count_exchange(&vhost, exchange, 0);
            if let Some(seq) = seq {
                self.confirm(conn, ch, seq, true);
            }
            return Ok(());
        }
        // Routing keys: the key itself, then CC, then BCC.
        let mut keys: Vec<&str> = vec![routing_key];
        header_keys(&properties, "CC", &mut keys);
        keys.extend_from_slice(&bcc_keys);
        let routing = self.route(&vhost, exchange, &keys, properties.headers.as_ref());
        self.count_exchange(&vhost, exchange, routing.queues.len());
        if routing.queues.is_empty() {
            self.journal.event(|| EventKind::Unroutable {
                msg_id,
                exchange: exchange.to_string(),
                routing_key: routing_key.to_string(),
                mandatory,
            });
            if let Ok(chan) = self.channel_mut(conn, ch) {
                if mandatory {
                    chan.stats.return_unroutable += 1;
                } else {
                    chan.stats.drop_unroutable += 1;
                }
            }
            if mandatory {
                self.journal.out(Output::Return {
                    conn,
                    channel: ch,
                    reply_code: ReplyCode::NoRoute.code(),
                    reply_text: "NO_ROUTE".to_string(),
                    message,
                });
                self.journal.event(|| EventKind::Returned {
                    msg_id,
                    conn,
                    channel: ch,
                });
            }
            if let Some(seq) = seq {
                self.confirm(conn, ch, seq, true);
            }
            return Ok(());
        }
        self.journal.event(|| EventKind::Routed {
            msg_id,
            exchange: exchange.to_string(),
            queues: routing.queues.iter().map(|q| q.to_string()).collect(),
            why: routing.why.clone(),
        });
        let mut refused = false;
        for q in &routing.queues {
            match self.enqueue(&vhost, q, message.clone(), true) {
                Enqueued::Accepted => {}
                Enqueued::Backlogged => self.note_backlog(conn, q),
                Enqueued::Refused => refused = true,
            }
        }
        if let Some(seq) = seq {
            self.confirm(conn, ch, seq, !refused);
        }
        Ok(())
    }

    /// Counts a message published to `exchange` ("" is the default exchange)
    /// that reached `queues` queues.
    fn count_exchange(&mut self, vhost: &str, exchange: &str, queues: usize) {
        let Some(v) = self.vhosts.get_mut(vhost) else {
            return;
        };
        let stats: Option<&mut ExchangeStats> = if exchange.is_empty() {
            Some(&mut v.default_exchange_stats)
        } else {
            v.exchanges.get_mut(exchange).map(|x| &mut x.stats)
        };
        if let Some(s) = stats {
            s.publish_in += 1;
            s.publish_out += queues as u64;
        }
    }

    /// Sends a publisher confirm. RabbitMQ sends a lone ack with
    /// multiple=false, but a nack through its coalescing path, which sets
    /// multiple=true when nothing older is unconfirmed; here every earlier
    /// publish is always confirmed already.
    fn confirm(&mut self, conn: ConnId, ch: ChannelId, seq: u64, ack: bool) {
        if !ack {
            if let Ok(chan) = self.channel_mut(conn, ch) {
                chan.stats.confirm = chan.stats.confirm.saturating_sub(1);
            }
        }
        self.journal.out(Output::Confirm {
            conn,
            channel: ch,
            delivery_tag: seq,
            multiple: !ack,
            ack,
        });
        self.journal.event(|| EventKind::Confirmed {
            conn,
            channel: ch,
            delivery_tag: seq,
            ack,
        });
    }

    /// Routes a message from `exchange` through exchange-to-exchange bindings
    /// (each exchange visited once) and alternate exchanges, to a set of queues.
    pub(crate) fn route(
        &self,
        vhost: &str,
        exchange: &str,
        keys: &[&str],
        headers: Option<&FieldTable>,
    ) -> Routing {
        let mut routing = Routing {
            queues: Vec::new(),
            why: Vec::new(),
        };
        let Some(v) = self.vhosts.get(vhost) else {
            return routing;
        };
        let explain = self.journal.events_on;
        if exchange.is_empty() {
            for k in keys {
                if let Some((name, _)) = v.queues.get_key_value(*k) {
                    if !routing.queues.contains(name) {
                        routing.queues.push(name.clone());
                        if explain {
                            routing.why.push(format!(
                                "default exchange: routing key '{k}' names the queue"
                            ));
                        }
                    }
                }
            }
            return routing;
        }
        let mut seen: Vec<&str> = vec![exchange];
        let mut work: Vec<&str> = vec![exchange];
        let mut hits = Vec::new();
        while let Some(xn) = work.pop() {
            let Some(x) = v.exchanges.get(xn) else {
                continue;
            };
            hits.clear();
            x.route(keys, headers, &mut hits);
            if hits.is_empty() {
                if let Some(ae) = x.alternate() {
                    if !seen.contains(&ae) {
                        if explain {
                            routing.why.push(format!(
                                "nothing matched in '{xn}', so its alternate exchange '{ae}' was tried"
                            ));
                        }
                        seen.push(ae);
                        work.push(ae);
                    }
                }
            }
            for &i in &hits {
                let Some(b) = x.binding(i) else { continue };
                if explain {
                    routing.why.push(explain_match(xn, x.kind, b, keys));
                }
                match &b.dest {
                    // A queue's bindings go when it goes, so the name is
                    // a queue's (`enqueue` still looks it up).
                    Dest::Queue(q) => routing.queues.push(q.clone()),
                    Dest::Exchange(e) => {
                        if !seen.contains(&&**e) {
                            seen.push(e);
                            work.push(e);
                        }
                    }
                }
            }
        }
        if routing.queues.len() > 1 {
            routing.queues.sort();
            routing.queues.dedup();
        }
        routing
    }

    /// Puts a routed message on a queue, applying max-length rules, and
    /// dispatches it at once. `published`: it comes from a basic.publish
    /// (counted in the queue's `publish`), not from dead-lettering.
    pub(crate) fn enqueue(
        &mut self,
        vhost: &str,
        queue: &Arc<str>,
        message: Message,
        published: bool,
    ) -> Enqueued {
        let msg_id = message.id();
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return Enqueued::Refused;
        };
        q.stats.publish += u64::from(published);
        q.last_active = self.journal.now;
        let entry = Entry::new(message, q.next_seq);
        // Quorum queues apply reject-publish after the fact: the publish that
        // takes them over the limit is accepted, later ones are refused until
        // the queue drains to its soft limit. Classic queues check up front.
        let quorum_soft =
            q.args.kind == QueueType::Quorum && q.args.overflow == Overflow::RejectPublish;
        let refuse = if quorum_soft {
            q.rejecting
        } else {
            q.args.overflow != Overflow::DropHead && q.full_for(entry.message.body_size())
        };
        if refuse {
            self.journal.event(|| EventKind::PublishRejected {
                msg_id,
                queue: queue.to_string(),
            });
            if q.args.overflow == Overflow::RejectPublishDlx {
                self.pending.push_back(Pending::DeadLetter {
                    vhost: vhost.to_string(),
                    queue: queue.clone(),
                    entry,
                    reason: "maxlen",
                    stored: false,
                });
            }
            return Enqueued::Refused;
        }
        q.next_seq += 1;
        if stored(q, &entry.message) {
            self.journal.out(Output::Store(StoreOp::MessageEnqueued {
                vhost: vhost.to_string(),
                queue: queue.to_string(),
                msg_id,
                message: entry.message.clone(),
            }));
        }
        let was_empty = q.ready.is_empty();
        q.push(entry);
        if quorum_soft && q.over_limit() {
            q.rejecting = true;
        }
        let depth = q.ready.len();
        self.journal.event(|| EventKind::Enqueued {
            msg_id,
            queue: queue.to_string(),
            depth,
        });
        let drop_head = q.args.overflow == Overflow::DropHead;
        let backlogged = super::flow::over_high(q);
        if was_empty {
            // A consumer that can take the message gets it straight away, as
            // RabbitMQ delivers to a waiting consumer before any max-length
            // rule (and before TTL 0 could expire it).
            self.dispatch(vhost, queue);
        }
        if drop_head {
            self.drop_head_over_limit(vhost, queue);
        }
        if !was_empty {
            self.dispatch(vhost, queue);
        }
        if backlogged {
            Enqueued::Backlogged
        } else {
            Enqueued::Accepted
        }
    }

    /// `x-overflow` drop-head: dead-letters messages from the head while the
    /// queue is over a limit.
    fn drop_head_over_limit(&mut self, vhost: &str, queue: &Arc<str>) {
        let Some(q) = self
            .vhosts
            .get_mut(vhost)
            .and_then(|v| v.queues.get_mut(queue))
        else {
            return;
        };
        while q.over_limit() {
            let Some(e) = q.pop() else { break };
            self.pending.push_back(Pending::DeadLetter {
                vhost: vhost.to_string(),
                queue: queue.clone(),
                entry: e,
                reason: "maxlen",
                stored: true,
            });
        }
    }

    /// A message leaves `queue` for good (rejected, expired, over max-length,
    /// over the delivery limit): removed from the store, and re-published to
    /// the dead-letter exchange at the end of the step if the queue has one.
    pub(crate) fn dead_letter(
        &mut self,
        vhost: &str,
        queue: &Arc<str>,
        entry: Entry,
        reason: &'static str,
    ) {
        self.pending.push_back(Pending::DeadLetter {
            vhost: vhost.to_string(),
            queue: queue.clone(),
            entry,
            reason,
            stored: true,
        });
    }

    /// Tells the store a message left `queue`, if the store holds it (`kept`,
    /// see [`stored`], worked out while the queue was at hand).
    pub(crate) fn forget_stored(&mut self, vhost: &str, queue: &str, kept: bool, entry: &Entry) {
        if kept {
            self.journal.out(Output::Store(StoreOp::MessageRemoved {
                vhost: vhost.to_string(),
                queue: queue.to_string(),
                msg_id: entry.msg_id(),
            }));
        }
    }

    pub(crate) fn republish_dead_letter(
        &mut self,
        vhost: &str,
        queue: &Arc<str>,
        entry: Entry,
        reason: &'static str,
        was_stored: bool,
    ) {
        let Some(q) = self.vhosts.get(vhost).and_then(|v| v.queues.get(queue)) else {
            // The queue went away in the same step; the message goes with it.
            return;
        };
        let (kept, dlx, dlrk) = (
            stored(q, &entry.message),
            q.args.dead_letter_exchange.clone(),
            q.args.dead_letter_routing_key.clone(),
        );
        // A message refused by reject-publish-dlx was never stored.
        if was_stored {
            self.forget_stored(vhost, queue, kept, &entry);
        }
        let msg_id = entry.msg_id();
        if reason == "expired" {
            self.journal.event(|| EventKind::Expired {
                msg_id,
                queue: queue.to_string(),
            });
        }
        self.journal.event(|| EventKind::DeadLettered {
            msg_id,
            queue: queue.to_string(),
            reason: reason.to_string(),
            exchange: dlx.clone(),
        });
        let Some(dlx) = dlx else { return };
        let (message, props) = dead_lettered_message(
            &entry.message,
            queue,
            reason,
            &dlx,
            dlrk.as_deref(),
            self.journal.now,
        );
        // Without a dead-letter routing key, the keys it was published
        // with: its own, CC, and the BCC keys it keeps out of sight.
        let mut keys: Vec<&str> = vec![message.routing_key()];
        let bcc = message.bcc();
        if dlrk.is_none() {
            header_keys(&props, "CC", &mut keys);
            keys.extend_from_slice(&bcc);
        }
        let routing = self.route(vhost, &dlx, &keys, props.headers.as_ref());
        // RabbitMQ drops a dead letter that would go round a cycle of queues
        // back to one it died in, unless a client rejected it on the way (or
        // just now).
        let deaths = match props.header("x-death") {
            Some(FieldValue::Array(d)) if reason != "rejected" => d.as_slice(),
            _ => &[],
        };
        let targets: Vec<Arc<str>> = routing
            .queues
            .into_iter()
            .filter(|target| !is_death_cycle(target, deaths))
            .collect();
        if self.journal.events_on && !targets.is_empty() {
            self.journal.event(|| EventKind::Routed {
                msg_id,
                exchange: dlx.clone(),
                queues: targets.iter().map(|q| q.to_string()).collect(),
                why: routing.why.clone(),
            });
        }
        for t in targets {
            self.enqueue(vhost, &t, message.clone(), false);
        }
    }
}

/// RabbitMQ's `is_cycle`: the x-death entries up to and including the
/// target queue's must all be automatic deaths (no `rejected`).
fn is_death_cycle(target: &str, deaths: &[FieldValue]) -> bool {
    let field = |d: &FieldValue, key: &str| match d {
        FieldValue::Table(t) => t.get(key).and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    };
    let Some(at) = deaths
        .iter()
        .position(|d| field(d, "queue").as_deref() == Some(target))
    else {
        return false;
    };
    deaths[..=at].iter().all(|d| {
        matches!(d, FieldValue::Table(_)) && field(d, "reason").as_deref() != Some("rejected")
    })
}

/// A table's `queue` and `reason`, which identify an x-death entry.
fn death_key(t: &FieldTable) -> (Option<&FieldValue>, Option<&FieldValue>) {
    (t.get("queue"), t.get("reason"))
}

/// RabbitMQ's `group_by_queue_and_reason`: one entry per (queue, reason),
/// counting duplicates from old brokers. Its fold conses, so with two or more
/// entries the result comes out in reverse order.
fn group_deaths(tables: Vec<FieldTable>) -> Vec<FieldTable> {
    if tables.len() < 2 {
        return tables;
    }
    let mut seen = Vec::new();
    let mut acc: Vec<FieldTable> = Vec::new();
    for t in &tables {
        let key = death_key(t);
        let matches: Vec<&FieldTable> = tables.iter().filter(|o| death_key(o) == key).collect();
        let mut first = matches[0].clone();
        if first.get("count").is_none() {
            first
                .0
                .insert(0, ("count".into(), FieldValue::I64(matches.len() as i64)));
        }
        if acc.is_empty() || !seen.contains(&key) {
            acc.insert(0, first);
        }
        seen.push(key);
    }
    acc
}

/// RabbitMQ's `set_table_value`: set or replace a key in place, then sort
/// the table by key (a stable sort, as `lists:keysort`).
fn set_sorted(headers: &mut FieldTable, key: &str, value: FieldValue) {
    headers.insert(key, value);
    *headers = headers.sorted();
}

/// The message as it leaves for the dead-letter exchange, as RabbitMQ 3.10's
/// `rabbit_dead_letter:make_msg` builds it: x-death updated (see
/// `update_x_death_header` there, whose quirks of order are visible to
/// clients), the headers sorted by key, `CC` removed when a dead-letter
/// routing key replaces the keys, and the per-message TTL removed.
fn dead_lettered_message(
    m: &Message,
    queue: &str,
    reason: &str,
    dlx: &str,
    dlrk: Option<&str>,
    now: u64,
) -> (Message, BasicProperties) {
    let mut props = m.properties();
    let mut headers = props.headers.take().unwrap_or_default();
    // The routing key, then the CC keys; not the BCC keys, which RabbitMQ
    // 3.10 leaves out of x-death although it routes the dead letter by them.
    let mut routing_keys = vec![FieldValue::str(m.routing_key())];
    if let Some(FieldValue::Array(keys)) = headers.get("CC") {
        routing_keys.extend(
            keys.iter()
                .filter(|k| matches!(k, FieldValue::LongStr(_)))
                .cloned(),
        );
    }
    let mut info = FieldTable::new();
    info.insert("reason", FieldValue::str(reason));
    info.insert("queue", FieldValue::str(queue));
    info.insert("time", FieldValue::Timestamp(now / 1000));
    info.insert("exchange", FieldValue::str(m.exchange()));
    info.insert("routing-keys", FieldValue::Array(routing_keys));
    if let Some(exp) = &props.expiration {
        info.insert("original-expiration", FieldValue::str(exp));
    }
    let first = |info: FieldTable| {
        let mut e = FieldTable::new();
        e.insert("count", FieldValue::I64(1));
        e.0.extend(info.0);
        e
    };
    match headers.get("x-death").cloned() {
        None => {
            set_sorted(
                &mut headers,
                "x-first-death-reason",
                FieldValue::str(reason),
            );
            set_sorted(&mut headers, "x-first-death-queue", FieldValue::str(queue));
            set_sorted(
                &mut headers,
                "x-first-death-exchange",
                FieldValue::str(m.exchange()),
            );
            set_sorted(
                &mut headers,
                "x-death",
                FieldValue::Array(vec![FieldValue::Table(first(info))]),
            );
        }
        Some(FieldValue::Array(old)) => {
            let tables: Vec<FieldTable> = old
                .into_iter()
                .filter_map(|d| match d {
                    FieldValue::Table(t) => Some(t),
                    _ => None,
                })
                .collect();
            let key = (info.get("queue").cloned(), info.get("reason").cloned());
            let (matches, others): (Vec<FieldTable>, Vec<FieldTable>) = group_deaths(tables)
                .into_iter()
                .partition(|t| (t.get("queue").cloned(), t.get("reason").cloned()) == key);
            let entry = match matches.into_iter().next() {
                None => first(info),
                Some(mut t) => {
                    let n = t.get("count").and_then(|c| c.as_i64()).unwrap_or(0);
                    t.insert("count", FieldValue::I64(n + 1));
                    t
                }
            };
            let mut deaths = vec![FieldValue::Table(entry.sorted())];
            deaths.extend(others.into_iter().map(FieldValue::Table));
            set_sorted(&mut headers, "x-death", FieldValue::Array(deaths));
        }
        // Not an array (a client rewrote it): RabbitMQ starts it afresh.
        Some(_) => set_sorted(
            &mut headers,
            "x-death",
            FieldValue::Array(vec![FieldValue::Table(first(info))]),
        ),
    }
    if dlrk.is_some() {
        headers.remove("CC");
    }
    props.headers = Some(headers);
    props.expiration = None;
    // A dead-letter routing key replaces every key, BCC ones included.
    let bcc = if dlrk.is_some() { Vec::new() } else { m.bcc() };
    let message = Message::with_bcc(
        m.id(),
        now,
        dlx,
        dlrk.unwrap_or(m.routing_key()),
        &props,
        &bcc,
        m.body(),
    );
    (message, props)
}

/// Words for why a binding matched, e.g. "binding 'kern.*' matched: '*' took 'critical'".
fn explain_match(
    exchange: &str,
    kind: ExchangeKind,
    b: &crate::exchange::Binding,
    keys: &[&str],
) -> String {
    let to = format!("{} '{}'", b.dest.kind(), b.dest.name());
    match kind {
        ExchangeKind::Fanout => format!("fanout '{exchange}' copies to every binding: {to}"),
        ExchangeKind::Headers => format!(
            "headers of the message satisfied binding {} → {to}",
            b.arguments
        ),
        ExchangeKind::Direct => format!(
            "binding key '{}' equals the routing key → {to}",
            b.routing_key
        ),
        ExchangeKind::Topic => {
            for k in keys {
                if let Some(took) = topic::explain(&b.routing_key, k) {
                    let parts: Vec<String> = took
                        .iter()
                        .filter(|(w, _)| w == "*" || w == "#")
                        .map(|(w, ws)| {
                            if ws.is_empty() {
                                format!("'{w}' took no words")
                            } else {
                                format!("'{w}' took '{}'", ws.join("."))
                            }
                        })
                        .collect();
                    return if parts.is_empty() {
                        format!("binding '{}' equals '{k}' → {to}", b.routing_key)
                    } else {
                        format!(
                            "binding '{}' matched '{k}': {} → {to}",
                            b.routing_key,
                            parts.join(", ")
                        )
                    };
                }
            }
            format!("binding '{}' matched → {to}", b.routing_key)
        }
    }
}
