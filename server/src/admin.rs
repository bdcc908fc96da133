//! Management calls into the broker task.
//!
//! The HTTP API, `warren ctl` (through it), the memcacheq front door and the
//! event stream all need the core, which only the broker task owns. Rather
//! than one message variant per endpoint, they send a closure
//! ([`ToBroker::Call`]) that the task runs between two batches of frames,
//! so every figure is current and every action is ordered with the AMQP
//! traffic, exactly as if it had arrived on a connection.
//!
//! Actions that AMQP can express run through a [`Session`]: an internal
//! connection opened as the authenticated user on the target vhost, with
//! the same permission checks, errors and side effects (store ops, consumer
//! cancellations, events) as a client's. Internal connection ids start at
//! [`INTERNAL_CONN_BASE`], a range the AMQP listener never hands out, and
//! the broker task routes their outputs back to the session instead of a socket.

use crate::broker_task::{BrokerTask, ConnMeta, ToBroker};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use warren_core::error::AmqpError;
use warren_core::protocol::{ChannelId, Command, ConnId, Millis, Output};
use warren_core::{Broker, Event};

/// First connection id of the management's internal connections.
pub const INTERNAL_CONN_BASE: ConnId = 1 << 48;

/// The channel a session runs its commands on.
const SESSION_CHANNEL: ChannelId = 1;

/// Sends a call's answer; run once the store holds what the call changed.
pub type Done = Box<dyn FnOnce() + Send>;

/// A management call: runs in the broker task, returns how to answer.
pub type Call = Box<dyn FnOnce(&mut Admin<'_>) -> Done + Send>;

/// A call as sent to the broker task (opaque, so `ToBroker` stays `Debug`).
pub struct AdminCall(pub(crate) Call);

impl std::fmt::Debug for AdminCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminCall")
    }
}

/// The broker task is gone (the server is shutting down).
#[derive(Debug, Clone, Copy)]
pub struct BrokerGone;

/// A cloneable way to run management calls in the broker task.
#[derive(Clone)]
pub struct BrokerHandle {
    tx: mpsc::Sender<ToBroker>,
}

impl BrokerHandle {
    pub fn new(tx: mpsc::Sender<ToBroker>) -> BrokerHandle {
        BrokerHandle { tx }
    }

    /// Runs `f` in the broker task and returns its result. When `f` changed
    /// durable state, the result arrives once that change is on disk.
    pub async fn call<R, F>(&self, f: F) -> Result<R, BrokerGone>
    where
        R: Send + 'static,
        F: FnOnce(&mut Admin<'_>) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let call: Call = Box::new(move |admin| {
            let r = f(admin);
            Box::new(move || {
                let _ = tx.send(r);
            })
        });
        self.tx
            .send(ToBroker::Call(AdminCall(call)))
            .await
            .map_err(|_| BrokerGone)?;
        rx.await.map_err(|_| BrokerGone)
    }
}

/// What a call sees: the core (read it freely), sessions for actions, and
/// the event stream.
pub struct Admin<'a> {
    task: &'a mut BrokerTask,
}

impl<'a> Admin<'a> {
    pub(crate) fn new(task: &'a mut BrokerTask) -> Admin<'a> {
        Admin { task }
    }

    /// The core, for read-only views.
    pub fn broker(&self) -> &Broker {
        self.task.core()
    }

    /// Connections, channels and queues that came and went, the management's
    /// own sessions left out.
    pub fn churn(&self) -> warren_core::stats::Churn {
        self.task.client_churn()
    }

    /// The memory high watermark and whether the alarm is on.
    pub fn memory_alarm(&self) -> (u64, bool) {
        self.task.memory_alarm()
    }

    /// The sampled message counters the management API's rates come from.
    pub fn rates(&self) -> &crate::rates::Rates {
        self.task.rates()
    }

    /// A client connection's traffic, bytes waiting to be written (`send_pend`)
    /// and heartbeat in seconds; None for unknown and internal connections.
    pub fn conn_traffic(
        &self,
        conn: ConnId,
    ) -> Option<(crate::writer::TrafficFigures, usize, u16)> {
        self.task.conn_traffic(conn)
    }

    /// Bytes (received, sent) by a vhost's connections, closed ones included.
    pub fn vhost_traffic(&self, vhost: &str) -> (u64, u64) {
        self.task.vhost_traffic(vhost)
    }

    /// The server's view of a client connection: (peer and start time,
    /// frame_max, channel_max); None for unknown and internal connections.
    pub fn conn_meta(&self, conn: ConnId) -> Option<(ConnMeta, u32, u16)> {
        self.task.conn_meta(conn).map(|(m, f, c)| (m.clone(), f, c))
    }

    /// Whether a client connection is in publisher flow (`state: flow` in
    /// the management API, as RabbitMQ shows a publisher it is slowing).
    pub fn in_flow(&self, conn: ConnId) -> bool {
        self.task.in_flow(conn)
    }

    /// The broker's clock.
    pub fn now(&self) -> Millis {
        self.task.now()
    }

    /// Changes the core directly (users, vhosts, permissions, definitions:
    /// operator actions with no AMQP method). Outputs it causes (connections
    /// closed, store ops) are routed as usual afterwards.
    pub fn with_core<R>(&mut self, f: impl FnOnce(&mut Broker, Millis) -> R) -> R {
        let now = self.task.now();
        let r = f(self.task.core_mut(), now);
        self.task.drain_outputs();
        r
    }

    /// Opens an internal connection as `user` on `vhost`; fails as
    /// `connection.open` would (unknown vhost, no permission on it).
    pub fn session(&mut self, user: &str, vhost: &str) -> Result<Session<'_, 'a>, AmqpError> {
        let conn = self.task.next_internal_conn();
        let now = self.task.now();
        self.task
            .core_mut()
            .handle_connection_open(now, conn, user, vhost)?;
        self.task.internal_opened.0 += 1;
        Ok(Session {
            admin: self,
            conn,
            channel_open: false,
            closed: false,
        })
    }

    /// Subscribes to the core's events (turning them on); take the snapshot
    /// right after, in the same call, so nothing falls between the two.
    pub fn subscribe_events(&mut self) -> broadcast::Receiver<Arc<Event>> {
        self.task.subscribe_events()
    }
}

/// An internal connection with one channel, closed when dropped (which
/// requeues whatever it left unacknowledged, as a client's close would).
pub struct Session<'s, 'a> {
    admin: &'s mut Admin<'a>,
    conn: ConnId,
    channel_open: bool,
    closed: bool,
}

impl Session<'_, '_> {
    /// Runs one command and returns what the broker sent this connection
    /// for it; a channel or connection error becomes `Err`.
    pub fn run(&mut self, cmd: Command) -> Result<Vec<Output>, AmqpError> {
        if self.closed {
            return Err(AmqpError::new(
                warren_core::ReplyCode::ConnectionForced,
                "the management connection was closed",
            ));
        }
        let task = &mut *self.admin.task;
        let now = task.now();
        if !self.channel_open {
            task.core_mut()
                .handle_channel_open(now, self.conn, SESSION_CHANNEL)?;
            task.internal_opened.1 += 1;
            self.channel_open = true;
        }
        task.core_mut()
            .handle_command(now, self.conn, SESSION_CHANNEL, cmd);
        task.drain_outputs();
        let outs = task.take_internal();
        for o in &outs {
            match o {
                Output::ChannelClose { error, .. } => {
                    self.channel_open = false;
                    return Err(error.clone());
                }
                Output::ConnectionClose { error, .. } => {
                    self.closed = true;
                    return Err(error.clone());
                }
                _ => {}
            }
        }
        Ok(outs)
    }

    /// The core, to read figures between commands.
    pub fn broker(&self) -> &Broker {
        self.admin.task.core()
    }
}

impl Drop for Session<'_, '_> {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let task = &mut *self.admin.task;
        let now = task.now();
        task.core_mut()
            .handle_connection_closed(now, self.conn, "management request done");
        task.drain_outputs();
        task.take_internal();
    }
}
