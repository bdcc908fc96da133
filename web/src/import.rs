//! Import of a RabbitMQ `definitions.json` (what `rabbitmqctl export_definitions` and
//! the management UI write): its exchanges, queues and bindings of vhost `/` become
//! the scenario's topology, so a real broker's layout can be explored in the simulator.
//!
//! Only the three lists are read; users, permissions and policies have no place in a
//! scenario. The file is read as a `serde_json::Value` and picked apart by hand rather
//! than through derived structs (such as core's `definitions` types): each derived
//! type adds its own copy of serde_json's parser to the wasm, while `Value` is shared
//! with live mode.

use serde::Deserialize;
use serde_json::Value;
use warren_core::scenario::{BindingSpec, ExchangeSpec, QueueSpec, Scenario, Topology};
use warren_core::FieldTable;

/// A converted definitions file and what became of it, in words for the status line.
#[derive(Debug, PartialEq)]
pub struct Imported {
    pub scenario: Scenario,
    pub summary: String,
}

/// The document, when it looks like a definitions file rather than a scenario (which
/// has `"version": 1`): an object with `rabbit_version` or one of the three lists.
pub fn as_definitions(text: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(text).ok()?;
    let has = |k: &str| v.get(k).is_some();
    let looks = v.is_object()
        && !has("version")
        && [
            "rabbit_version",
            "rabbitmq_version",
            "queues",
            "exchanges",
            "bindings",
        ]
        .into_iter()
        .any(has);
    looks.then_some(v)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A flag, with RabbitMQ's default when absent (durable is true unless said otherwise).
fn flag(v: &Value, key: &str, default: bool) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn arguments(v: &Value) -> Result<FieldTable, String> {
    match v.get("arguments") {
        None | Some(Value::Null) => Ok(FieldTable::default()),
        Some(args) => FieldTable::deserialize(args)
            .map_err(|e| format!("{} has bad arguments: {e}", text(v, "name"))),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None => Ok(&[]),
        Some(l) => l
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| format!("'{key}' is not a list")),
    }
}

/// Converts a definitions document (see [`as_definitions`]) into a scenario named
/// `name` with no clients. Built-in exchanges (`amq.*`, the default) are left out:
/// declaring them is refused.
pub fn definitions(defs: &Value, name: &str) -> Result<Imported, String> {
    let on_root = |v: &Value| v.get("vhost").and_then(Value::as_str).unwrap_or("/") == "/";
    let mut skipped = 0;
    let mut topology = Topology::default();
    for x in list(defs, "exchanges")? {
        let name = text(x, "name");
        if !on_root(x) || name.is_empty() || name.starts_with("amq.") {
            skipped += 1;
            continue;
        }
        let kind = text(x, "type");
        topology.exchanges.push(ExchangeSpec {
            kind: if kind.is_empty() {
                "direct".into()
            } else {
                kind
            },
            durable: flag(x, "durable", true),
            auto_delete: flag(x, "auto_delete", false),
            internal: flag(x, "internal", false),
            arguments: arguments(x)?,
            name,
        });
    }
    for q in list(defs, "queues")? {
        if !on_root(q) {
            skipped += 1;
            continue;
        }
        topology.queues.push(QueueSpec {
            name: text(q, "name"),
            durable: flag(q, "durable", true),
            auto_delete: flag(q, "auto_delete", false),
            arguments: arguments(q)?,
        });
    }
    for b in list(defs, "bindings")? {
        let source = text(b, "source");
        // The default exchange's bindings are implicit; they cannot be declared.
        if !on_root(b) || source.is_empty() {
            skipped += 1;
            continue;
        }
        let kind = text(b, "destination_type");
        topology.bindings.push(BindingSpec {
            source,
            destination: text(b, "destination"),
            destination_type: if kind.is_empty() {
                "queue".into()
            } else {
                kind
            },
            routing_key: text(b, "routing_key"),
            arguments: arguments(b)?,
        });
    }
    let names = |list: Vec<&str>| {
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    let summary = format!(
        "{} exchanges ({}), {} queues ({}), {} bindings{}",
        topology.exchanges.len(),
        names(topology.exchanges.iter().map(|x| x.name.as_str()).collect()),
        topology.queues.len(),
        names(topology.queues.iter().map(|q| q.name.as_str()).collect()),
        topology.bindings.len(),
        if skipped > 0 {
            format!("; skipped {skipped} outside vhost / or built in")
        } else {
            String::new()
        }
    );
    let scenario = Scenario {
        version: warren_core::scenario::FORMAT_VERSION,
        name: name.to_string(),
        description: "Imported from a RabbitMQ definitions file.".to_string(),
        seed: 0,
        topology,
        clients: Vec::new(),
        script: Vec::new(),
        expect: Vec::new(),
        layout: None,
    };
    Ok(Imported { scenario, summary })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const EXPORT: &str = r#"{"rabbit_version":"3.12.0","rabbitmq_version":"3.12.0",
      "users":[{"name":"guest","password_hash":"x","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["administrator"],"limits":{}}],
      "vhosts":[{"name":"/"},{"name":"other"}],"permissions":[],"policies":[],
      "queues":[{"name":"orders","vhost":"/","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"classic"}},
                {"name":"elsewhere","vhost":"other","durable":true,"auto_delete":false,"arguments":{}}],
      "exchanges":[{"name":"shop","vhost":"/","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
      "bindings":[{"source":"shop","vhost":"/","destination":"orders","destination_type":"queue","routing_key":"order.*","arguments":{}}]}"#;

    #[test]
    fn a_rabbitmq_export_becomes_a_topology() {
        let defs = as_definitions(EXPORT).unwrap();
        let got = definitions(&defs, "defs").unwrap();
        let t = &got.scenario.topology;
        assert_eq!(t.exchanges[0].kind, "topic");
        assert_eq!(
            t.queues[0]
                .arguments
                .get("x-queue-type")
                .map(|v| v.to_string()),
            Some("classic".to_string())
        );
        assert_eq!(t.queues.len(), 1);
        assert_eq!(t.bindings[0].routing_key, "order.*");
        assert!(got.summary.contains("skipped 1"), "{}", got.summary);
        // What it produces is a valid scenario that runs.
        let json = serde_json::to_string(&got.scenario).unwrap();
        let s = warren_core::scenario::parse(&json).unwrap();
        assert!(warren_core::scenario::check(&s).passed());
    }

    #[test]
    fn scenarios_are_not_taken_for_definitions() {
        let s = serde_json::to_string(&crate::example::work_queue()).unwrap();
        assert!(as_definitions(&s).is_none());
        assert!(as_definitions("not json").is_none());
        assert!(as_definitions(r#"{"queues":[]}"#).is_some());
        assert!(as_definitions(r#"{"queues":{}}"#)
            .and_then(|d| definitions(&d, "x").err())
            .is_some());
    }
}
