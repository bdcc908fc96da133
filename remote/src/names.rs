//! Per-run names: every queue and exchange a scenario creates gets a random
//! prefix on the real broker, so runs never collide with each other or with
//! what else lives there, and everything a run made can be found and deleted.
//!
//! Routing keys are not resources and stay as written, with one exception: on
//! the default exchange ("") a routing key *is* a queue name, so it is
//! prefixed like the queue it names. What clients observe is mapped back, so
//! observations read exactly as in the simulator.

use std::sync::Arc;
use warren_core::sim::Observation;
use warren_core::types::{BasicProperties, FieldTable, FieldValue};

#[derive(Clone, Debug)]
pub struct Names {
    pub prefix: String,
    /// The broker vhost the scenario's "/" is mapped to.
    pub vhost: String,
}

impl Names {
    /// Names the broker owns ("" and `amq.*`, including server-named
    /// `amq.gen-…` queues) stay as they are; everything else is prefixed.
    pub fn real(&self, name: &str) -> String {
        if name.is_empty() || name.starts_with("amq.") {
            name.to_string()
        } else {
            format!("{}{name}", self.prefix)
        }
    }

    /// A routing key as sent: a queue name on the default exchange, else a word.
    pub fn routing_key(&self, exchange: &str, key: &str) -> String {
        if exchange.is_empty() {
            self.real(key)
        } else {
            key.to_string()
        }
    }

    /// Queue and exchange arguments that name exchanges (or, with the default
    /// exchange as dead-letter exchange, a queue) get the same prefix.
    pub fn arguments(&self, args: &FieldTable) -> FieldTable {
        let dlx_is_default = args
            .get("x-dead-letter-exchange")
            .and_then(FieldValue::as_str)
            .is_some_and(str::is_empty);
        let mut out = args.clone();
        for (k, v) in out.0.iter_mut() {
            let rename = match k.as_str() {
                "x-dead-letter-exchange" | "alternate-exchange" => true,
                "x-dead-letter-routing-key" => dlx_is_default,
                _ => false,
            };
            if let (true, Some(s)) = (rename, v.as_str()) {
                *v = FieldValue::str(&self.real(s));
            }
        }
        out
    }

    pub fn properties(&self, p: &BasicProperties) -> BasicProperties {
        let mut p = p.clone();
        // A reply_to names a queue the answer is published to on the default exchange.
        p.reply_to = p.reply_to.map(|r| self.real(&r));
        p
    }

    /// Text as the scenario would see it: the prefix removed, the vhost shown as "/".
    pub fn plain(&self, text: &str) -> String {
        let mut s = text.replace(&self.prefix, "");
        if self.vhost != "/" {
            s = s.replace(&format!("vhost '{}'", self.vhost), "vhost '/'");
        }
        s
    }

    fn plain_value(&self, v: &FieldValue) -> FieldValue {
        match v {
            FieldValue::LongStr(b) => FieldValue::str(&self.plain(&String::from_utf8_lossy(b))),
            FieldValue::Array(items) => {
                FieldValue::Array(items.iter().map(|i| self.plain_value(i)).collect())
            }
            FieldValue::Table(t) => FieldValue::Table(self.plain_table(t)),
            other => other.clone(),
        }
    }

    fn plain_table(&self, t: &FieldTable) -> FieldTable {
        FieldTable(
            t.0.iter()
                .map(|(k, v)| (k.clone(), self.plain_value(v)))
                .collect(),
        )
    }

    fn plain_properties(&self, p: &BasicProperties) -> Arc<BasicProperties> {
        let mut p = p.clone();
        p.reply_to = p.reply_to.map(|r| self.plain(&r));
        p.headers = p.headers.map(|h| self.plain_table(&h));
        Arc::new(p)
    }

    /// An observation with every real name mapped back to the scenario's.
    pub fn plain_observation(&self, o: Observation) -> Observation {
        let n = |s: String| self.plain(&s);
        match o {
            Observation::Delivered {
                at,
                client,
                consumer_tag,
                queue,
                delivery_tag,
                redelivered,
                exchange,
                routing_key,
                body,
                properties,
            } => Observation::Delivered {
                at,
                client,
                consumer_tag,
                queue: n(queue),
                delivery_tag,
                redelivered,
                exchange: n(exchange),
                routing_key: n(routing_key),
                body,
                properties: self.plain_properties(&properties),
            },
            Observation::Got {
                at,
                client,
                queue,
                delivery_tag,
                redelivered,
                message_count,
                exchange,
                routing_key,
                body,
                properties,
            } => Observation::Got {
                at,
                client,
                queue: n(queue),
                delivery_tag,
                redelivered,
                message_count,
                exchange: n(exchange),
                routing_key: n(routing_key),
                body,
                properties: self.plain_properties(&properties),
            },
            Observation::GetEmpty { at, client, queue } => Observation::GetEmpty {
                at,
                client,
                queue: n(queue),
            },
            Observation::Returned {
                at,
                client,
                reply_code,
                reply_text,
                exchange,
                routing_key,
                body,
            } => Observation::Returned {
                at,
                client,
                reply_code,
                reply_text: n(reply_text),
                exchange: n(exchange),
                routing_key: n(routing_key),
                body,
            },
            Observation::Error {
                at,
                client,
                code,
                text,
                connection,
            } => Observation::Error {
                at,
                client,
                code,
                text: n(text),
                connection,
            },
            Observation::Declared {
                at,
                client,
                queue,
                message_count,
                consumer_count,
            } => Observation::Declared {
                at,
                client,
                queue: n(queue),
                message_count,
                consumer_count,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            prefix: "wr-x1-".into(),
            vhost: "/".into(),
        }
    }

    #[test]
    fn broker_names_are_kept() {
        let n = names();
        assert_eq!(n.real(""), "");
        assert_eq!(n.real("amq.gen-abc"), "amq.gen-abc");
        assert_eq!(n.real("hello"), "wr-x1-hello");
    }

    #[test]
    fn default_exchange_keys_are_queue_names() {
        let n = names();
        assert_eq!(n.routing_key("", "hello"), "wr-x1-hello");
        assert_eq!(n.routing_key("logs", "kern.*"), "kern.*");
    }

    #[test]
    fn dead_letter_arguments_follow() {
        let n = names();
        let args: FieldTable = [
            ("x-dead-letter-exchange", FieldValue::str("")),
            ("x-dead-letter-routing-key", FieldValue::str("dead")),
            ("x-message-ttl", FieldValue::I32(5)),
        ]
        .into_iter()
        .collect();
        let out = n.arguments(&args);
        assert_eq!(
            out.get("x-dead-letter-routing-key")
                .and_then(FieldValue::as_str),
            Some("wr-x1-dead")
        );
        assert_eq!(out.get("x-message-ttl"), Some(&FieldValue::I32(5)));
    }

    #[test]
    fn texts_read_as_in_the_scenario() {
        let n = Names {
            prefix: "wr-x1-".into(),
            vhost: "test".into(),
        };
        assert_eq!(
            n.plain("NOT_FOUND - no queue 'wr-x1-q' in vhost 'test'"),
            "NOT_FOUND - no queue 'q' in vhost '/'"
        );
    }
}
