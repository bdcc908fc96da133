//! Warren's AMQP 0-9-1 server: the network shell around `warren-core`.
//!
//! `warren serve` runs the broker core behind real sockets, so RabbitMQ
//! clients (pika, amqplib, lapin, amqprs) connect to it as to RabbitMQ 3.10.
//! Every broker decision is the core's; this crate does framing ([`codec`]),
//! sockets and the handshake ([`connection`]), time and the single task that
//! owns the core ([`broker_task`]), and disk ([`store`]). Around it: the
//! management API, event stream and playground over HTTP ([`http`], through
//! [`admin`]; message rates in [`rates`]), the memcacheq front door ([`memcacheq`]) and `warren ctl`
//! ([`ctl`]), a client of the HTTP API.

pub mod admin;
pub mod broker_task;
pub mod clock;
pub mod codec;
pub mod config;
pub mod connection;
pub mod ctl;
pub mod handshake;
pub mod http;
pub mod memcacheq;
pub mod rates;
pub mod scenario_cli;
pub mod serve;
pub mod store;
pub mod writer;
