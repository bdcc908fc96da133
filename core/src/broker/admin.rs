//! Operator actions that have no AMQP method: importing a definitions file
//! into a running broker (the management API's `POST /api/definitions`).
//!
//! Unlike [`Broker::load_definitions`], which runs before the store is
//! recovered and must not write to it, an import is a live change: every
//! durable exchange, queue and binding it creates is emitted as a
//! [`StoreOp`] so it survives a restart, and as an event so watchers see it.
//! Existing entities are left alone, as RabbitMQ's import does.

use super::Broker;
use crate::definitions::Definitions;
use crate::error::AmqpError;
use crate::events::EventKind;
use crate::protocol::{Millis, Output, StoreOp};

impl Broker {
    /// Imports definitions into the running broker: vhosts, users and
    /// permissions are added or replaced; exchanges, queues and bindings
    /// missing so far are created (and stored, when durable).
    pub fn import_definitions(&mut self, now: Millis, defs: &Definitions) -> Result<(), AmqpError> {
        self.journal.now = now;
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
            if x.name.is_empty() || x.name.starts_with("amq.") {
                continue;
            }
            let existed = self.has_exchange(&x.vhost, &x.name);
            self.define_exchange(x)?;
            if !existed {
                if x.durable {
                    self.journal
                        .out(Output::Store(StoreOp::ExchangeDeclared(x.clone())));
                }
                self.journal.event(|| EventKind::ExchangeDeclared {
                    vhost: x.vhost.clone(),
                    exchange: x.name.clone(),
                    kind: x.kind.clone(),
                });
            }
        }
        for q in &defs.queues {
            let existed = self.has_queue(&q.vhost, &q.name);
            self.define_queue(q)?;
            if !existed {
                if q.durable {
                    self.journal
                        .out(Output::Store(StoreOp::QueueDeclared(q.clone())));
                }
                self.journal.event(|| EventKind::QueueDeclared {
                    vhost: q.vhost.clone(),
                    queue: q.name.clone(),
                    server_named: false,
                });
            }
        }
        for b in &defs.bindings {
            let before = self.binding_count(&b.vhost, &b.source);
            self.define_binding(b)?;
            if self.binding_count(&b.vhost, &b.source) == before {
                continue;
            }
            let durable = self.vhosts.get(&b.vhost).is_some_and(|v| {
                let source = v
                    .exchanges
                    .get(b.source.as_str())
                    .is_some_and(|x| x.durable);
                let dest = if b.destination_type == "exchange" {
                    v.exchanges
                        .get(b.destination.as_str())
                        .is_some_and(|x| x.durable)
                } else {
                    v.queues
                        .get(b.destination.as_str())
                        .is_some_and(|q| q.durable && q.exclusive_owner.is_none())
                };
                source && dest
            });
            if durable {
                self.journal
                    .out(Output::Store(StoreOp::BindingAdded(b.clone())));
            }
            self.journal.event(|| EventKind::Bound {
                vhost: b.vhost.clone(),
                source: b.source.clone(),
                destination: b.destination.clone(),
                destination_type: b.destination_type.clone(),
                routing_key: b.routing_key.clone(),
            });
        }
        Ok(())
    }

    /// Deletes a vhost with everything in it, as RabbitMQ's `delete_vhost`:
    /// connections closed (320), queues deleted (consumers cancelled), and
    /// durable queues and exchanges removed from the store so a restart
    /// does not bring them back.
    pub fn drop_vhost(&mut self, now: Millis, name: &str) -> bool {
        self.journal.now = now;
        let Some(v) = self.vhosts.get(name) else {
            return false;
        };
        let queues: Vec<String> = v.queues.keys().map(|q| q.to_string()).collect();
        let exchanges: Vec<String> = v
            .exchanges
            .values()
            .filter(|x| x.durable && !x.name.starts_with("amq."))
            .map(|x| x.name.to_string())
            .collect();
        for q in queues {
            self.delete_queue(name, &q, "vhost deleted");
        }
        for x in exchanges {
            self.journal.out(Output::Store(StoreOp::ExchangeDeleted {
                vhost: name.to_string(),
                name: x,
            }));
        }
        self.delete_vhost(now, name)
    }

    fn has_exchange(&self, vhost: &str, name: &str) -> bool {
        self.vhosts
            .get(vhost)
            .is_some_and(|v| v.exchanges.contains_key(name))
    }

    fn binding_count(&self, vhost: &str, source: &str) -> usize {
        self.vhosts
            .get(vhost)
            .and_then(|v| v.exchanges.get(source))
            .map_or(0, |x| x.binding_count())
    }
}
