//! The scenario file format (version 1): a topology, clients, a timed script of
//! what each client does, and expectations about what clients observe.
//!
//! A scenario is what the playground exports, what `warren scenario run|check`
//! reads, and what `cargo test` runs. Every field is documented in
//! `docs/scenario-format.md`; the JSON Schema is `docs/scenario.schema.json`.

mod expect;
mod load;
pub mod pika;
#[cfg(feature = "schema")]
mod schema;

pub use expect::{
    check, check_expectation, check_observed, confirm_outcomes, unexpected_errors, CheckReport,
    Failure, Observed, Outcome, QueueFigures, QueueLookup, Skipped, Verdict,
};
pub use load::{parse, ScenarioError};
#[cfg(feature = "schema")]
pub use schema::{json_schema, json_schema_text};

use crate::protocol::Millis;
use crate::types::{BasicProperties, FieldTable};
use serde::{Deserialize, Serialize};

/// The version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A scenario file: see `docs/scenario-format.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must be 1.
    pub version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Seeds server-generated names, so a run is reproducible.
    #[serde(default)]
    pub seed: u64,
    /// Declared at time 0 by a setup connection, before any client acts.
    #[serde(default)]
    pub topology: Topology,
    /// The connections that act in the script (each with one channel at a time).
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    #[serde(default)]
    pub script: Vec<Step>,
    #[serde(default)]
    pub expect: Vec<Expectation>,
    /// Where the playground drew each node; opaque to everything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Topology {
    #[serde(default)]
    pub exchanges: Vec<ExchangeSpec>,
    #[serde(default)]
    pub queues: Vec<QueueSpec>,
    #[serde(default)]
    pub bindings: Vec<BindingSpec>,
}

fn direct() -> String {
    "direct".to_string()
}

fn queue_kind() -> String {
    "queue".to_string()
}

fn guest() -> String {
    "guest".to_string()
}

fn root_vhost() -> String {
    "/".to_string()
}

fn one() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ExchangeSpec {
    pub name: String,
    #[serde(rename = "type", default = "direct")]
    pub kind: String,
    #[serde(default)]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    #[serde(default)]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BindingSpec {
    pub source: String,
    pub destination: String,
    /// "queue" (the default) or "exchange".
    #[serde(default = "queue_kind")]
    pub destination_type: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default)]
    pub arguments: FieldTable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    #[serde(default = "guest")]
    pub user: String,
    #[serde(default = "guest")]
    pub password: String,
    #[serde(default = "root_vhost")]
    pub vhost: String,
}

/// One timed action of the script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Virtual time in milliseconds. Steps at the same time run in file order.
    #[serde(default)]
    pub at: Millis,
    /// Which client acts; not used by `restart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(flatten)]
    pub action: Action,
}

/// What a consumer does with each message it is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnMessage {
    /// basic.ack once processing is done (ignored with auto_ack).
    #[default]
    Ack,
    /// basic.nack (with `requeue`).
    Nack,
    /// basic.reject (with `requeue`).
    Reject,
    /// Never acknowledge: the forgotten-ack mistake.
    Nothing,
}

/// How an RPC server computes its reply from a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReplyWith {
    /// The n-th Fibonacci number, as in the RPC tutorial.
    Fib,
    Echo,
    Upper,
}

/// Actions, named by `do`. Names may refer to a name saved with `as` by
/// writing `$name` (e.g. a server-named queue).
// Publish carries its properties inline; scenarios are small, boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    ExchangeDeclare {
        exchange: String,
        #[serde(rename = "type", default = "direct")]
        kind: String,
        #[serde(default)]
        durable: bool,
        #[serde(default)]
        auto_delete: bool,
        #[serde(default)]
        internal: bool,
        #[serde(default)]
        passive: bool,
        #[serde(default)]
        arguments: FieldTable,
    },
    ExchangeDelete {
        exchange: String,
        #[serde(default)]
        if_unused: bool,
    },
    ExchangeBind {
        destination: String,
        source: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    ExchangeUnbind {
        destination: String,
        source: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueueDeclare {
        /// Empty asks the broker to choose a name (`amq.gen-…`).
        #[serde(default)]
        queue: String,
        #[serde(default)]
        durable: bool,
        #[serde(default)]
        exclusive: bool,
        #[serde(default)]
        auto_delete: bool,
        #[serde(default)]
        passive: bool,
        #[serde(default)]
        arguments: FieldTable,
        /// Saves the declared name as `$<as>` for later steps and expectations.
        #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
        save_as: Option<String>,
    },
    QueueBind {
        queue: String,
        exchange: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueueUnbind {
        queue: String,
        exchange: String,
        #[serde(default)]
        routing_key: String,
        #[serde(default)]
        arguments: FieldTable,
    },
    QueuePurge {
        queue: String,
    },
    QueueDelete {
        queue: String,
        #[serde(default)]
        if_unused: bool,
        #[serde(default)]
        if_empty: bool,
    },
    Qos {
        prefetch_count: u16,
        #[serde(default)]
        global: bool,
    },
    /// basic.consume, with how the consumer behaves.
    Consume {
        queue: String,
        /// Consumer tag; empty lets the broker choose (`amq.ctag-…`).
        #[serde(default)]
        tag: String,
        #[serde(default)]
        auto_ack: bool,
        #[serde(default)]
        exclusive: bool,
        /// Time spent on each message; messages are processed one at a time.
        #[serde(default)]
        processing_ms: Millis,
        #[serde(default)]
        on_message: OnMessage,
        /// For nack/reject: put the message back in the queue.
        #[serde(default)]
        requeue: bool,
        /// Act as an RPC server: publish a reply to `reply_to` with the request's `correlation_id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply: Option<ReplyWith>,
        /// Consumer priority (basic.consume's `x-priority` argument).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<i32>,
    },
    Cancel {
        tag: String,
    },
    Publish {
        #[serde(default)]
        exchange: String,
        #[serde(default)]
        routing_key: String,
        /// `{i}` is replaced by the message's index (0-based) when `count` > 1.
        #[serde(default)]
        body: String,
        #[serde(default)]
        properties: BasicProperties,
        /// Shorthand for `properties.delivery_mode = 2`.
        #[serde(default)]
        persistent: bool,
        #[serde(default)]
        mandatory: bool,
        #[serde(default = "one")]
        count: u32,
        #[serde(default)]
        interval_ms: Millis,
    },
    Get {
        queue: String,
        #[serde(default)]
        auto_ack: bool,
    },
    /// Acknowledge by delivery tag (for messages taken with `get`, or by hand).
    Ack {
        delivery_tag: u64,
        #[serde(default)]
        multiple: bool,
    },
    Nack {
        delivery_tag: u64,
        #[serde(default)]
        multiple: bool,
        #[serde(default)]
        requeue: bool,
    },
    Reject {
        delivery_tag: u64,
        #[serde(default)]
        requeue: bool,
    },
    Recover,
    ConfirmSelect,
    TxSelect,
    TxCommit,
    TxRollback,
    /// Closes the client's channel; the next action opens a new one.
    CloseChannel,
    /// Closes the connection cleanly.
    Close,
    /// The client process dies: its connection drops mid-work.
    Crash,
    /// The broker restarts.
    Restart,
    /// Sends an RPC request: declares an exclusive reply queue on first use,
    /// publishes with `reply_to` and a `correlation_id`, and records the reply.
    RpcCall {
        #[serde(default)]
        exchange: String,
        routing_key: String,
        body: String,
    },
}

/// How received bodies are compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Same bodies in the same order.
    #[default]
    Exact,
    /// Same bodies in any order: for interleavings a real broker does not fix.
    Any,
}

/// What must be observed, named by `expect`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "expect", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    /// Every message body the client was given (deliveries and gets), in order.
    Received {
        client: String,
        bodies: Vec<String>,
        #[serde(default)]
        order: Order,
    },
    /// At least one delivery to the client with this body and these details.
    Delivery {
        client: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        redelivered: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        routing_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange: Option<String>,
        /// Headers the message must carry (others may be present too). Only
        /// the keys given are compared; a table value is compared the same way.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        headers: Option<FieldTable>,
    },
    /// A queue's figures, at a time (after every step at or before it) or at the end.
    Queue {
        queue: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<Millis>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exists: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ready: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unacked: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consumers: Option<u64>,
    },
    /// Bodies returned to the client as unroutable (basic.return), in order.
    Returned { client: String, bodies: Vec<String> },
    /// Publisher confirms the client received.
    Confirms {
        client: String,
        acks: u64,
        nacks: u64,
    },
    /// The client's channel or connection was closed by the broker with this code.
    /// Any error no expectation names fails the scenario.
    Error {
        client: String,
        code: u16,
        /// The full reply text, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Replies an RPC client received, in order.
    RpcReplies { client: String, bodies: Vec<String> },
    /// The counts in the client's last queue.declare-ok for this queue.
    Declared {
        client: String,
        queue: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_count: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consumer_count: Option<u32>,
    },
}
