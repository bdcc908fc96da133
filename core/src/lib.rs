//! # warren-core
//!
//! A deterministic, sans-IO model of an AMQP 0-9-1 broker that behaves as
//! RabbitMQ 3.10 does where a client can observe it. No sockets, no clock, no
//! threads: the shell (the wire server, the simulation, the browser) calls
//! [`Broker`]'s `handle_*` methods with the current time, then drains
//! [`Output`]s to send and [`Event`]s that explain each step.

pub mod auth;
pub mod broker;
pub mod definitions;
pub mod error;
pub mod events;
pub mod exchange;
pub mod headers_match;
pub mod message;
pub mod protocol;
pub mod queue;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod topic;
pub mod types;
pub mod wire;

pub use broker::{Broker, BrokerConfig};
pub use error::{AmqpError, ReplyCode};
pub use events::{Event, EventKind};
pub use message::Message;
pub use protocol::{ChannelId, Command, ConnId, Millis, Output, Reply, StoreOp};
pub use types::{BasicProperties, FieldTable, FieldValue};

/// The RabbitMQ version whose behaviour Warren reproduces, as reported to clients.
pub const RABBITMQ_VERSION: &str = "3.10.8";
