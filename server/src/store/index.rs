//! The store's picture of durable state: durable exchanges, queues, bindings
//! and, per durable queue, its persistent messages in queue order.
//!
//! It is rebuilt by replaying records at start-up and kept up to date by the
//! store thread as ops arrive, so a snapshot (compaction) can be written from
//! it without asking the broker. Messages are `Arc`s shared with the broker's
//! queues, so keeping them here costs an index entry, not a copy of the body.

use bytes::BytesMut;
use std::collections::{BTreeMap, HashMap, HashSet};
use warren_core::definitions::{BindingDef, ExchangeDef, PermissionDef, QueueDef, UserDef};
use warren_core::protocol::StoreOp;
use warren_core::types::Message;

/// (vhost, name).
pub type Key = (String, String);

/// One durable queue and its stored messages.
#[derive(Debug)]
pub struct StoredQueue {
    pub def: QueueDef,
    /// By arrival order: the order the queue had them in.
    pub messages: BTreeMap<u64, (u64, Message)>,
    /// msg_id → arrival order, to find a message being removed.
    by_id: HashMap<u64, u64>,
    /// Messages that went to a consumer: they come back redelivered.
    pub delivered: HashSet<u64>,
}

#[derive(Debug, Default)]
pub struct Index {
    pub exchanges: BTreeMap<Key, ExchangeDef>,
    pub queues: BTreeMap<Key, StoredQueue>,
    /// Keyed by everything that identifies a binding (arguments encoded).
    pub bindings: BTreeMap<Vec<u8>, BindingDef>,
    /// Vhosts added (true) or deleted (false) since the store began; what
    /// the config file says is applied first at start-up, then these.
    pub vhosts: BTreeMap<String, bool>,
    /// Users put (Some) or deleted (None), by name.
    pub users: BTreeMap<String, Option<UserDef>>,
    /// Permissions set (Some) or cleared (None), by (user, vhost).
    pub permissions: BTreeMap<Key, Option<PermissionDef>>,
    next_order: u64,
    /// Body bytes of the stored messages, to judge when compaction pays.
    pub live_bytes: u64,
    pub live_messages: u64,
}

fn binding_key(b: &BindingDef) -> Vec<u8> {
    let mut buf = BytesMut::new();
    for part in [
        &b.vhost,
        &b.source,
        &b.destination_type,
        &b.destination,
        &b.routing_key,
    ] {
        buf.extend_from_slice(&(part.len() as u32).to_be_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    crate::codec::encode_table(&b.arguments.sorted(), &mut buf);
    buf.to_vec()
}

impl Index {
    /// Applies one op. Replaying an op twice is harmless, except a purge,
    /// which is why logs are replayed exactly once each (see `STORE.md`).
    pub fn apply(&mut self, op: StoreOp) {
        match op {
            StoreOp::ExchangeDeclared(x) => {
                self.exchanges.insert((x.vhost.clone(), x.name.clone()), x);
            }
            StoreOp::ExchangeDeleted { vhost, name } => {
                self.exchanges.remove(&(vhost.clone(), name.clone()));
                self.bindings.retain(|_, b| {
                    b.vhost != vhost
                        || (b.source != name
                            && !(b.destination_type == "exchange" && b.destination == name))
                });
            }
            StoreOp::QueueDeclared(q) => {
                let key = (q.vhost.clone(), q.name.clone());
                match self.queues.get_mut(&key) {
                    Some(existing) => existing.def = q,
                    None => {
                        self.queues.insert(
                            key,
                            StoredQueue {
                                def: q,
                                messages: BTreeMap::new(),
                                by_id: HashMap::new(),
                                delivered: HashSet::new(),
                            },
                        );
                    }
                }
            }
            StoreOp::QueueDeleted { vhost, name } => {
                if let Some(q) = self.queues.remove(&(vhost.clone(), name.clone())) {
                    self.forget_all(&q);
                }
                self.bindings.retain(|_, b| {
                    b.vhost != vhost || !(b.destination_type == "queue" && b.destination == name)
                });
            }
            StoreOp::BindingAdded(b) => {
                self.bindings.insert(binding_key(&b), b);
            }
            StoreOp::BindingRemoved(b) => {
                self.bindings.remove(&binding_key(&b));
            }
            StoreOp::MessageEnqueued {
                vhost,
                queue,
                msg_id,
                message,
            } => {
                let Some(q) = self.queues.get_mut(&(vhost, queue)) else {
                    return;
                };
                if q.by_id.contains_key(&msg_id) {
                    return;
                }
                let order = self.next_order;
                self.next_order += 1;
                self.live_bytes += message.body_size() as u64;
                self.live_messages += 1;
                q.by_id.insert(msg_id, order);
                q.messages.insert(order, (msg_id, message));
            }
            StoreOp::MessageDelivered {
                vhost,
                queue,
                msg_id,
            } => {
                if let Some(q) = self.queues.get_mut(&(vhost, queue)) {
                    if q.by_id.contains_key(&msg_id) {
                        q.delivered.insert(msg_id);
                    }
                }
            }
            StoreOp::MessageRemoved {
                vhost,
                queue,
                msg_id,
            } => {
                let Some(q) = self.queues.get_mut(&(vhost, queue)) else {
                    return;
                };
                q.delivered.remove(&msg_id);
                if let Some(order) = q.by_id.remove(&msg_id) {
                    if let Some((_, m)) = q.messages.remove(&order) {
                        self.live_bytes -= m.body_size() as u64;
                        self.live_messages -= 1;
                    }
                }
            }
            StoreOp::VhostAdded { name } => {
                self.vhosts.insert(name, true);
            }
            StoreOp::VhostDeleted { name } => {
                // As in the broker: a vhost's permissions go with it.
                for ((_, v), p) in self.permissions.iter_mut() {
                    if *v == name {
                        *p = None;
                    }
                }
                self.vhosts.insert(name, false);
            }
            StoreOp::UserPut(u) => {
                self.users.insert(u.name.clone(), Some(u));
            }
            StoreOp::UserDeleted { name } => {
                for ((u, _), p) in self.permissions.iter_mut() {
                    if *u == name {
                        *p = None;
                    }
                }
                self.users.insert(name, None);
            }
            StoreOp::PermissionSet(p) => {
                self.permissions
                    .insert((p.user.clone(), p.vhost.clone()), Some(p));
            }
            StoreOp::PermissionCleared { user, vhost } => {
                self.permissions.insert((user, vhost), None);
            }
            StoreOp::QueuePurged { vhost, queue } => {
                if let Some(q) = self.queues.get_mut(&(vhost, queue)) {
                    let (bytes, count) = totals(q);
                    self.live_bytes -= bytes;
                    self.live_messages -= count;
                    q.messages.clear();
                    q.by_id.clear();
                    q.delivered.clear();
                }
            }
        }
    }

    /// The access-control state as ops, for a snapshot: vhosts, then users,
    /// then permissions, so replaying them cascades the same way.
    pub fn access_ops(&self) -> Vec<StoreOp> {
        let vhosts = self.vhosts.iter().map(|(name, present)| {
            let name = name.clone();
            if *present {
                StoreOp::VhostAdded { name }
            } else {
                StoreOp::VhostDeleted { name }
            }
        });
        let users = self.users.iter().map(|(name, u)| match u {
            Some(u) => StoreOp::UserPut(u.clone()),
            None => StoreOp::UserDeleted { name: name.clone() },
        });
        let permissions = self.permissions.iter().map(|((user, vhost), p)| match p {
            Some(p) => StoreOp::PermissionSet(p.clone()),
            None => StoreOp::PermissionCleared {
                user: user.clone(),
                vhost: vhost.clone(),
            },
        });
        vhosts.chain(users).chain(permissions).collect()
    }

    fn forget_all(&mut self, q: &StoredQueue) {
        let (bytes, count) = totals(q);
        self.live_bytes -= bytes;
        self.live_messages -= count;
    }
}

fn totals(q: &StoredQueue) -> (u64, u64) {
    let bytes = q.messages.values().map(|(_, m)| m.body_size() as u64).sum();
    (bytes, q.messages.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_core::types::BasicProperties;

    fn queue(name: &str) -> StoreOp {
        StoreOp::QueueDeclared(QueueDef {
            name: name.into(),
            vhost: "/".into(),
            durable: true,
            auto_delete: false,
            arguments: Default::default(),
        })
    }

    fn msg(queue: &str, id: u64) -> StoreOp {
        StoreOp::MessageEnqueued {
            vhost: "/".into(),
            queue: queue.into(),
            msg_id: id,
            message: Message::new(id, 0, "", queue, &BasicProperties::default(), &[0u8; 10]),
        }
    }

    #[test]
    fn messages_keep_their_order_and_leave() {
        let mut ix = Index::default();
        ix.apply(queue("q"));
        for id in [5, 3, 9] {
            ix.apply(msg("q", id));
        }
        ix.apply(StoreOp::MessageRemoved {
            vhost: "/".into(),
            queue: "q".into(),
            msg_id: 3,
        });
        let q = &ix.queues[&("/".to_string(), "q".to_string())];
        let ids: Vec<u64> = q.messages.values().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![5, 9]);
        assert_eq!((ix.live_messages, ix.live_bytes), (2, 20));
        ix.apply(StoreOp::QueueDeleted {
            vhost: "/".into(),
            name: "q".into(),
        });
        assert_eq!((ix.live_messages, ix.live_bytes), (0, 0));
    }
}
