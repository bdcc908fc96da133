//! RabbitMQ's `definitions.json`: users, vhosts, permissions, exchanges, queues
//! and bindings. The same structs describe durable state in the store, a
//! scenario's topology, and the management API's import and export.

use crate::types::FieldTable;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Definitions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rabbit_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rabbitmq_version: Option<String>,
    pub users: Vec<UserDef>,
    pub vhosts: Vec<VhostDef>,
    pub permissions: Vec<PermissionDef>,
    pub queues: Vec<QueueDef>,
    pub exchanges: Vec<ExchangeDef>,
    pub bindings: Vec<BindingDef>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDef {
    pub name: String,
    /// base64 of a 4-byte salt followed by SHA-256(salt ++ password), as RabbitMQ stores it.
    pub password_hash: String,
    #[serde(default = "default_hashing")]
    pub hashing_algorithm: String,
    /// RabbitMQ 3.10 exports a list; older versions a comma-separated string.
    #[serde(default, deserialize_with = "tags_from_list_or_string")]
    pub tags: Vec<String>,
}

fn default_hashing() -> String {
    "rabbit_password_hashing_sha256".to_string()
}

fn tags_from_list_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tags {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Tags::deserialize(d)? {
        Tags::List(v) => v,
        Tags::Text(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VhostDef {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionDef {
    pub user: String,
    pub vhost: String,
    pub configure: String,
    pub write: String,
    pub read: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueDef {
    pub name: String,
    pub vhost: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeDef {
    pub name: String,
    pub vhost: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BindingDef {
    pub source: String,
    pub vhost: String,
    pub destination: String,
    /// "queue" or "exchange".
    pub destination_type: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default)]
    pub arguments: FieldTable,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rabbitmq_export() {
        let json = r#"{"rabbit_version":"3.10.8","users":[{"name":"guest",
          "password_hash":"abc","hashing_algorithm":"rabbit_password_hashing_sha256",
          "tags":"administrator,management","limits":{}}],
          "vhosts":[{"name":"/","limits":[],"metadata":{}}],
          "permissions":[{"user":"guest","vhost":"/","configure":".*","write":".*","read":".*"}],
          "topic_permissions":[],"parameters":[],"policies":[],
          "queues":[{"name":"q","vhost":"/","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"classic"}}],
          "exchanges":[{"name":"x","vhost":"/","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
          "bindings":[{"source":"x","vhost":"/","destination":"q","destination_type":"queue","routing_key":"a.*","arguments":{}}]}"#;
        let d: Definitions = serde_json::from_str(json).unwrap();
        assert_eq!(d.users[0].tags, vec!["administrator", "management"]);
        assert_eq!(d.exchanges[0].kind, "topic");
        assert_eq!(d.bindings[0].routing_key, "a.*");
    }
}
