//! The one task that owns the broker core.
//!
//! Connection readers send it decoded methods in batches; it calls the core,
//! turns the core's outputs into frames in per-connection buffers, and hands
//! each buffer to that connection's writer once per batch (one channel send
//! and one socket write for many frames). It also keeps the channel state the
//! wire needs and the core does not (a channel we closed, waiting for
//! `close-ok`), drives the core's timers, forwards store ops to the store
//! thread, holds publisher confirms until the store has fsynced what they
//! depend on, raises the memory alarm, and tells a publisher's reader to
//! pause while the core says it is in flow (`warren_core::broker::flow`).
//!
//! Owning the core in one task is what makes the server a faithful shell:
//! every decision is the core's, taken in one order, as in the simulation.

use crate::admin::{AdminCall, Done, INTERNAL_CONN_BASE};
use crate::clock::Clock;
use crate::codec::outbuf::FrameSink;
use crate::codec::{encode_output, ClientMethod, OutFrames, ServerMethod};
use crate::handshake::Tuning;
use crate::rates::{Rates, TrafficSample};
use crate::store::StoreMsg;
use crate::writer::{TrafficFigures, Writer, WriterMsg};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use warren_core::error::{AmqpError, ReplyCode};
use warren_core::protocol::{ChannelId, Command, ConnId, Millis, Output, Reply, StoreOp};
use warren_core::stats::Churn;
use warren_core::{Broker, Event};

/// Maps looked up for every frame and output, keyed by numbers (connection ids
/// we hand out, channel numbers below 2048): SipHash's DoS resistance buys
/// nothing here and cost a few percent of the CPU per message.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// One thing a reader found on the wire, after framing and content assembly.
// Nearly every item is a method; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    /// A complete method (publishes with their content) on a channel.
    Method(ChannelId, ClientMethod),
    /// A channel error found while assembling content (a message over the
    /// size limit): that channel is closed with it.
    ChannelError(ChannelId, AmqpError),
    /// A connection error (bad frame, bad method): the connection is closed with it.
    ConnectionError(AmqpError),
}

/// A message to the broker task.
#[derive(Debug)]
pub enum ToBroker {
    /// Checks a login (`connection.start-ok`).
    Authenticate {
        mechanism: String,
        username: String,
        password: String,
        loopback: bool,
        reply: oneshot::Sender<Result<(), AmqpError>>,
    },
    /// `connection.open`: on success the broker task sends `open-ok` itself,
    /// so it is ordered before anything else the connection is sent.
    Open {
        conn: ConnId,
        user: String,
        vhost: String,
        tuning: Tuning,
        blocked_capable: bool,
        writer: Writer,
        /// Set while the connection is in flow: its reader pauses.
        flow: watch::Sender<bool>,
        /// Who is connected, for the management API.
        meta: ConnMeta,
        reply: oneshot::Sender<Result<(), AmqpError>>,
    },
    /// What a reader decoded from one read of its socket.
    Frames { conn: ConnId, items: Vec<Item> },
    /// The socket is gone (closed, failed, or silent past the heartbeat timeout).
    Closed { conn: ConnId },
    /// Close every connection with 320 CONNECTION_FORCED, flush the store, answer.
    Shutdown { done: oneshot::Sender<()> },
    /// A management request (HTTP API, memcacheq, event subscriptions): runs
    /// against the core in the task's order; see [`crate::admin`].
    Call(AdminCall),
}

/// How many reader messages the task handles before it flushes what they
/// produced. Each may hold a whole 64 KiB read of publishes, so 64 of them
/// (as before) could be 7 ms of work with 4 KiB bodies, during which the
/// deliveries an ack had just allowed waited unflushed and a prefetch-bound
/// consumer ran dry; with 4 the 4 KiB benchmark gained about 4%.
const MESSAGES_PER_TURN: usize = 4;

/// How many events a slow event-stream subscriber may fall behind before it
/// is told it lagged and skips ahead.
const EVENT_BACKLOG: usize = 16 * 1024;

/// The reply text RabbitMQ sends to every connection when it shuts down.
pub const SHUTDOWN_TEXT: &str = "broker forced connection closure with reason 'shutdown'";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChanState {
    Open,
    /// We sent `channel.close`; everything but `close`/`close-ok` is dropped.
    Closing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    Open,
    /// We sent `connection.close`; waiting for `close-ok`.
    Closing,
    /// Closed by the client or finished: waiting for the reader to report the socket gone.
    Gone,
}

/// What the management API shows about a connection beyond the core's view.
#[derive(Clone, Debug, Default)]
pub struct ConnMeta {
    pub peer: Option<std::net::SocketAddr>,
    pub local: Option<std::net::SocketAddr>,
    /// Milliseconds since the Unix epoch.
    pub connected_at: u64,
    pub client_properties: warren_core::FieldTable,
}

struct Conn {
    writer: Writer,
    /// Its vhost, to keep its traffic in the vhost's totals when it closes.
    vhost: String,
    /// The negotiated heartbeat interval in seconds (`timeout` in the management API).
    heartbeat: u16,
    /// True while the core has this connection in publisher flow.
    flow: watch::Sender<bool>,
    meta: ConnMeta,
    frame_max: u32,
    channel_max: u16,
    blocked_capable: bool,
    state: ConnState,
    channels: HashMap<ChannelId, ChanState>,
    /// Frames ready to go at the next flush.
    buf: OutFrames,
    /// Frames waiting for the store: (store sequence number needed, frames).
    /// Everything after a held confirm waits too, to keep the order.
    held: VecDeque<(u64, OutFrames)>,
    /// Tell the writer `Closing` once the held frames are out.
    closing_after: bool,
    /// Tell the writer `Shutdown` once the held frames are out.
    shutdown_after: bool,
    dirty: bool,
}

impl Conn {
    /// Where the next frames go: behind held frames if there are any.
    fn tail(&mut self) -> &mut OutFrames {
        match self.held.back_mut() {
            Some((_, b)) => b,
            None => &mut self.buf,
        }
    }
}

/// Settings of the broker task.
pub struct Settings {
    pub memory_high_watermark: u64,
    /// How often message counters are sampled for rates (RabbitMQ's
    /// `collect_statistics_interval`).
    pub stats_interval: Duration,
}

/// The broker task's state.
pub struct BrokerTask {
    core: Broker,
    clock: Clock,
    conns: HashMap<ConnId, Conn>,
    dirty: Vec<ConnId>,
    store: mpsc::UnboundedSender<StoreMsg>,
    store_ops: Vec<StoreOp>,
    /// Sequence number of the last store op produced, and of the last one fsynced.
    store_seq: u64,
    synced_seq: u64,
    held_conns: HashSet<ConnId>,
    /// Connections in publisher flow, checked after every batch until the
    /// core lets them go.
    flowing: Vec<ConnId>,
    alarm: watch::Sender<bool>,
    watermark: u64,
    /// Drop the core's `basic.recover-ok` for this channel (basic.recover-async).
    swallow_recover_ok: Option<(ConnId, ChannelId)>,
    last_timeout: Millis,
    /// Outputs for the management's internal connections, taken by their session.
    internal_out: Vec<Output>,
    next_internal: ConnId,
    /// Management answers waiting for the store: (store sequence number needed, answer).
    held_calls: VecDeque<(u64, Done)>,
    /// The event stream; the core records events only while someone listens.
    events: broadcast::Sender<Arc<Event>>,
    events_on: bool,
    /// The last two samples of the message counters, for the management API's rates.
    rates: Rates,
    /// Bytes (received, sent) of each vhost's closed connections.
    closed_traffic: HashMap<String, (u64, u64)>,
    /// Connections and channels the management's sessions opened (each is
    /// closed before its call returns): not a client's, so not churn.
    pub(crate) internal_opened: (u64, u64),
    stats_interval: Duration,
}

impl BrokerTask {
    pub fn new(
        core: Broker,
        clock: Clock,
        store: mpsc::UnboundedSender<StoreMsg>,
        alarm: watch::Sender<bool>,
        settings: Settings,
    ) -> BrokerTask {
        BrokerTask {
            core,
            clock,
            conns: HashMap::default(),
            dirty: Vec::new(),
            store,
            store_ops: Vec::new(),
            store_seq: 0,
            synced_seq: 0,
            held_conns: HashSet::new(),
            flowing: Vec::new(),
            alarm,
            watermark: settings.memory_high_watermark,
            rates: Rates::default(),
            closed_traffic: HashMap::default(),
            internal_opened: (0, 0),
            stats_interval: settings.stats_interval,
            swallow_recover_ok: None,
            last_timeout: 0,
            internal_out: Vec::new(),
            next_internal: INTERNAL_CONN_BASE,
            held_calls: VecDeque::new(),
            events: broadcast::channel(EVENT_BACKLOG).0,
            events_on: false,
        }
    }

    pub(crate) fn now(&self) -> Millis {
        self.clock.now()
    }

    pub(crate) fn core(&self) -> &Broker {
        &self.core
    }

    pub(crate) fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The core's churn without the management's own sessions, which open
    /// and close a connection and a channel per action (RabbitMQ's HTTP API
    /// does not show up as client connections either).
    pub(crate) fn client_churn(&self) -> Churn {
        let mut c = self.core.churn();
        let (conns, chans) = self.internal_opened;
        c.connection_created = c.connection_created.saturating_sub(conns);
        c.connection_closed = c.connection_closed.saturating_sub(conns);
        c.channel_created = c.channel_created.saturating_sub(chans);
        c.channel_closed = c.channel_closed.saturating_sub(chans);
        c
    }

    pub(crate) fn memory_alarm(&self) -> (u64, bool) {
        (self.watermark, *self.alarm.borrow())
    }

    /// A client connection's traffic, bytes waiting to be written, and heartbeat.
    pub(crate) fn conn_traffic(&self, id: ConnId) -> Option<(TrafficFigures, usize, u16)> {
        self.conns
            .get(&id)
            .map(|c| (c.writer.traffic().figures(), c.writer.queued(), c.heartbeat))
    }

    /// Bytes (received, sent) by every connection of `vhost`, closed ones included.
    pub(crate) fn vhost_traffic(&self, vhost: &str) -> (u64, u64) {
        let (mut recv, mut send) = self.closed_traffic.get(vhost).copied().unwrap_or_default();
        for c in self.conns.values().filter(|c| c.vhost == vhost) {
            let t = c.writer.traffic().figures();
            recv += t.recv_oct;
            send += t.send_oct;
        }
        (recv, send)
    }

    fn traffic_sample(&self) -> TrafficSample {
        let mut s = TrafficSample {
            vhosts: self.closed_traffic.clone().into_iter().collect(),
            ..TrafficSample::default()
        };
        for (id, c) in &self.conns {
            let t = c.writer.traffic().figures();
            s.conns.insert(*id, (t.recv_oct, t.send_oct));
            let v = s.vhosts.entry(c.vhost.clone()).or_default();
            v.0 += t.recv_oct;
            v.1 += t.send_oct;
        }
        s
    }

    pub(crate) fn core_mut(&mut self) -> &mut Broker {
        &mut self.core
    }

    /// What the server knows of a client connection (peer, start time) and
    /// its negotiated frame_max and channel_max.
    pub(crate) fn conn_meta(&self, id: ConnId) -> Option<(&ConnMeta, u32, u16)> {
        self.conns
            .get(&id)
            .map(|c| (&c.meta, c.frame_max, c.channel_max))
    }

    /// Whether a client connection is in publisher flow (its reader paused).
    pub(crate) fn in_flow(&self, id: ConnId) -> bool {
        self.conns.get(&id).is_some_and(|c| *c.flow.borrow())
    }

    /// A fresh id for a management connection, in a range readers never use.
    pub(crate) fn next_internal_conn(&mut self) -> ConnId {
        let id = self.next_internal;
        self.next_internal += 1;
        id
    }

    /// What the core sent the management's internal connections since the last take.
    pub(crate) fn take_internal(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.internal_out)
    }

    /// Subscribes to the event stream and turns the core's events on. Events
    /// recorded so far are sent out first, so the caller's snapshot (taken
    /// right after, in the same task turn) is exactly where the stream starts.
    pub(crate) fn subscribe_events(&mut self) -> broadcast::Receiver<Arc<Event>> {
        self.pump_events();
        let rx = self.events.subscribe();
        if !self.events_on {
            self.events_on = true;
            self.core.set_events(true);
        }
        rx
    }

    /// Hands recorded events to the subscribers; with none left, turns
    /// recording off so the broker does no event work at all.
    fn pump_events(&mut self) {
        if !self.events_on {
            return;
        }
        if self.events.receiver_count() == 0 {
            self.events_on = false;
            self.core.set_events(false);
            while self.core.poll_event().is_some() {}
            return;
        }
        while let Some(e) = self.core.poll_event() {
            let _ = self.events.send(Arc::new(e));
        }
    }

    /// Runs a management call; its answer waits for the store when the call
    /// changed durable state, so an HTTP 2xx or a memcacheq STORED means on disk.
    fn run_call(&mut self, call: AdminCall) {
        let before = self.store_seq;
        let done = (call.0)(&mut crate::admin::Admin::new(self));
        if self.store_seq > before && self.store_seq > self.synced_seq {
            self.held_calls.push_back((self.store_seq, done));
        } else {
            done();
        }
    }

    /// Runs until shut down (or every sender is gone).
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<ToBroker>,
        mut synced: mpsc::UnboundedReceiver<u64>,
    ) {
        let mut batch = Vec::with_capacity(MESSAGES_PER_TURN);
        let mut memory_tick = tokio::time::interval(Duration::from_millis(100));
        memory_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Its first tick is at once: the baseline the first rates are measured from.
        let mut stats_tick = tokio::time::interval(self.stats_interval);
        stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown: Option<(oneshot::Sender<()>, Instant)> = None;
        loop {
            let timer = self.core.poll_timeout().map(|t| {
                // Never spin on a deadline the core did not clear.
                let t = t.max(self.last_timeout + 1);
                self.clock.instant_of(t)
            });
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                biased;
                Some(s) = synced.recv() => self.on_synced(s),
                n = rx.recv_many(&mut batch, MESSAGES_PER_TURN) => {
                    if n == 0 {
                        break;
                    }
                    for msg in batch.drain(..) {
                        if let ToBroker::Shutdown { done } = msg {
                            self.begin_shutdown();
                            shutdown = Some((done, Instant::now() + Duration::from_secs(3)));
                        } else {
                            self.handle(msg);
                        }
                    }
                }
                _ = tokio::time::sleep_until(timer.unwrap_or(far)), if timer.is_some() => {
                    let now = self.now();
                    self.last_timeout = now;
                    self.core.handle_timeout(now);
                    self.drain_outputs();
                }
                _ = memory_tick.tick() => self.check_memory(),
                _ = stats_tick.tick() => {
                    let now = self.now();
                    let mut stats = self.core.stats_snapshot();
                    stats.churn = self.client_churn();
                    let traffic = self.traffic_sample();
                    self.rates.sample(now, stats, traffic);
                }
            }
            self.flush();
            if let Some((_, deadline)) = &shutdown {
                if self.conns.is_empty() || Instant::now() >= *deadline {
                    break;
                }
            }
        }
        // Make the store durable and compact before answering.
        let (tx, rx_done) = oneshot::channel();
        if !self.store_ops.is_empty() {
            let ops = std::mem::take(&mut self.store_ops);
            let _ = self.store.send(StoreMsg::Ops {
                ops,
                seq: self.store_seq,
            });
        }
        if self.store.send(StoreMsg::Flush(tx)).is_ok() {
            let _ = rx_done.await;
        }
        for c in self.conns.values() {
            c.writer.control(WriterMsg::Shutdown);
        }
        for (_, done) in self.held_calls.drain(..) {
            done();
        }
        if let Some((done, _)) = shutdown {
            let _ = done.send(());
        }
    }

    fn handle(&mut self, msg: ToBroker) {
        match msg {
            ToBroker::Authenticate {
                mechanism,
                username,
                password,
                loopback,
                reply,
            } => {
                let _ = reply.send(
                    self.core
                        .authenticate(&mechanism, &username, &password, loopback),
                );
            }
            ToBroker::Open {
                conn,
                user,
                vhost,
                tuning,
                blocked_capable,
                writer,
                flow,
                meta,
                reply,
            } => {
                let now = self.now();
                match self.core.handle_connection_open(now, conn, &user, &vhost) {
                    Ok(()) => {
                        let mut c = Conn {
                            writer,
                            vhost: vhost.clone(),
                            heartbeat: tuning.heartbeat,
                            flow,
                            meta,
                            frame_max: tuning.frame_max,
                            channel_max: tuning.channel_max,
                            blocked_capable,
                            state: ConnState::Open,
                            channels: HashMap::default(),
                            buf: OutFrames::new(),
                            held: VecDeque::new(),
                            closing_after: false,
                            shutdown_after: false,
                            dirty: false,
                        };
                        ServerMethod::ConnectionOpenOk.encode(0, c.buf.buf());
                        if blocked_capable && *self.alarm.borrow() {
                            blocked_frame(true).encode(0, c.buf.buf());
                        }
                        self.conns.insert(conn, c);
                        self.mark_dirty(conn);
                        let _ = reply.send(Ok(()));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            ToBroker::Frames { conn, items } => {
                for item in items {
                    self.on_item(conn, item);
                }
                self.check_flow(conn);
            }
            ToBroker::Closed { conn } => {
                if let Some(c) = self.conns.remove(&conn) {
                    c.writer.control(WriterMsg::Shutdown);
                    self.held_conns.remove(&conn);
                    let t = c.writer.traffic().figures();
                    let kept = self.closed_traffic.entry(c.vhost).or_default();
                    kept.0 += t.recv_oct;
                    kept.1 += t.send_oct;
                }
                let now = self.now();
                self.core
                    .handle_connection_closed(now, conn, "the client's socket closed");
                self.drain_outputs();
            }
            ToBroker::Shutdown { .. } => {}
            ToBroker::Call(call) => self.run_call(call),
        }
    }

    fn begin_shutdown(&mut self) {
        let now = self.now();
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.state == ConnState::Open)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let err = AmqpError::new(ReplyCode::ConnectionForced, SHUTDOWN_TEXT);
            self.core.close_connection(now, id, err);
        }
        self.drain_outputs();
    }

    fn on_item(&mut self, id: ConnId, item: Item) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        match c.state {
            ConnState::Gone => return,
            ConnState::Closing => {
                // After our connection.close only its answer counts.
                if let Item::Method(
                    0,
                    ClientMethod::ConnectionCloseOk | ClientMethod::ConnectionClose { .. },
                ) = item
                {
                    c.state = ConnState::Gone;
                    c.shutdown_after = true;
                    self.mark_dirty(id);
                }
                return;
            }
            ConnState::Open => {}
        }
        match item {
            Item::ConnectionError(err) => self.connection_error(id, err),
            Item::ChannelError(ch, err) => {
                if self.chan_state(id, ch) == Some(ChanState::Open) {
                    let now = self.now();
                    self.core.handle_channel_close(now, id, ch);
                    self.drain_outputs();
                    self.route(Output::ChannelClose {
                        conn: id,
                        channel: ch,
                        error: err,
                    });
                }
            }
            Item::Method(0, m) => self.channel0(id, m),
            Item::Method(ch, m) => self.channel_method(id, ch, m),
        }
    }

    fn chan_state(&self, id: ConnId, ch: ChannelId) -> Option<ChanState> {
        self.conns.get(&id)?.channels.get(&ch).copied()
    }

    fn set_chan_state(&mut self, id: ConnId, ch: ChannelId, state: Option<ChanState>) {
        if let Some(c) = self.conns.get_mut(&id) {
            match state {
                Some(s) => c.channels.insert(ch, s),
                None => c.channels.remove(&ch),
            };
        }
    }

    /// Closes a connection with a connection error found by the server (bad
    /// frames, methods out of place); the core drops its state.
    fn connection_error(&mut self, id: ConnId, err: AmqpError) {
        let now = self.now();
        self.core.close_connection(now, id, err);
        self.drain_outputs();
    }

    fn channel0(&mut self, id: ConnId, m: ClientMethod) {
        match m {
            ClientMethod::ConnectionClose { .. } => {
                let now = self.now();
                self.core
                    .handle_connection_closed(now, id, "closed by the client");
                self.drain_outputs();
                if let Some(c) = self.conns.get_mut(&id) {
                    ServerMethod::ConnectionCloseOk.encode(0, c.tail().buf());
                    c.state = ConnState::Gone;
                    // As RabbitMQ does, leave closing the socket to the
                    // client, which may still be reading our close-ok:
                    // clients such as lapin report an aborted connection
                    // when the server's FIN comes first. The writer closes
                    // it itself if the client has not after CLOSING_TIMEOUT.
                    c.closing_after = true;
                    self.mark_dirty(id);
                }
            }
            ClientMethod::ConnectionCloseOk => {
                // Nothing of ours to acknowledge: the client is going anyway.
                let now = self.now();
                self.core
                    .handle_connection_closed(now, id, "closed by the client");
                self.drain_outputs();
                if let Some(c) = self.conns.get_mut(&id) {
                    c.state = ConnState::Gone;
                    c.shutdown_after = true;
                    self.mark_dirty(id);
                }
            }
            ClientMethod::ConnectionUpdateSecret { .. } => {
                self.send_method(id, 0, ServerMethod::ConnectionUpdateSecretOk);
            }
            other => {
                let err = AmqpError::new(
                    ReplyCode::ChannelError,
                    "unexpected method in connection state running",
                )
                .on(other.method_id());
                self.connection_error(id, err);
            }
        }
    }

    fn channel_method(&mut self, id: ConnId, ch: ChannelId, m: ClientMethod) {
        let Some(c) = self.conns.get(&id) else {
            return;
        };
        let (open_count, channel_max) = (c.channels.len(), c.channel_max);
        let now = self.now();
        match self.chan_state(id, ch) {
            Some(ChanState::Closing) => match m {
                ClientMethod::ChannelCloseOk => self.set_chan_state(id, ch, None),
                ClientMethod::ChannelClose { .. } => {
                    // Both sides closed at once: answer, and the channel is done.
                    self.set_chan_state(id, ch, None);
                    self.send_method(id, ch, ServerMethod::ChannelCloseOk);
                }
                _ => {}
            },
            None => match m {
                ClientMethod::ChannelOpen => {
                    if open_count >= usize::from(channel_max) {
                        let err = AmqpError::new(
                            ReplyCode::NotAllowed,
                            format_args!(
                                "number of channels opened ({open_count}) has reached the negotiated channel_max ({channel_max})"
                            ),
                        )
                        .on((20, 10));
                        self.connection_error(id, err);
                        return;
                    }
                    match self.core.handle_channel_open(now, id, ch) {
                        Ok(()) => {
                            self.set_chan_state(id, ch, Some(ChanState::Open));
                            self.send_method(id, ch, ServerMethod::ChannelOpenOk);
                        }
                        Err(e) => self.connection_error(id, e),
                    }
                }
                other => {
                    let err = AmqpError::new(ReplyCode::ChannelError, "expected 'channel.open'")
                        .on(other.method_id());
                    self.connection_error(id, err);
                }
            },
            Some(ChanState::Open) => match m {
                ClientMethod::Command(cmd) => {
                    self.core.handle_command(now, id, ch, cmd);
                    self.drain_outputs();
                }
                ClientMethod::ChannelClose { .. } => {
                    self.set_chan_state(id, ch, None);
                    self.core.handle_channel_close(now, id, ch);
                    self.drain_outputs();
                    self.send_method(id, ch, ServerMethod::ChannelCloseOk);
                }
                ClientMethod::ChannelOpen => match self.core.handle_channel_open(now, id, ch) {
                    Ok(()) => self.send_method(id, ch, ServerMethod::ChannelOpenOk),
                    Err(e) => self.connection_error(id, e),
                },
                ClientMethod::ChannelCloseOk | ClientMethod::ChannelFlowOk { .. } => {}
                ClientMethod::AccessRequest { .. } => {
                    self.send_method(id, ch, ServerMethod::AccessRequestOk);
                }
                ClientMethod::BasicRecoverAsync { requeue } => {
                    self.swallow_recover_ok = Some((id, ch));
                    self.core
                        .handle_command(now, id, ch, Command::BasicRecover { requeue });
                    self.drain_outputs();
                    self.swallow_recover_ok = None;
                }
                other => {
                    // Server-only methods, and connection methods on a channel.
                    let err = AmqpError::new(ReplyCode::CommandInvalid, "unimplemented method")
                        .on(other.method_id());
                    self.connection_error(id, err);
                }
            },
        }
    }

    /// Encodes a method of ours (not from the core) in the connection's order.
    fn send_method(&mut self, id: ConnId, ch: ChannelId, m: ServerMethod) {
        if let Some(c) = self.conns.get_mut(&id) {
            m.encode(ch, c.tail().buf());
            self.mark_dirty(id);
        }
    }

    fn mark_dirty(&mut self, id: ConnId) {
        if let Some(c) = self.conns.get_mut(&id) {
            if !c.dirty {
                c.dirty = true;
                self.dirty.push(id);
            }
        }
    }

    /// Takes every output of the last core call and routes it.
    pub(crate) fn drain_outputs(&mut self) {
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Store(op) => {
                    self.store_ops.push(op);
                    self.store_seq += 1;
                }
                other => self.route(other),
            }
        }
    }

    fn route(&mut self, o: Output) {
        let Some(id) = o.conn() else { return };
        if id >= INTERNAL_CONN_BASE {
            self.internal_out.push(o);
            return;
        }
        if let Some((sc, sch)) = self.swallow_recover_ok {
            if let Output::Reply {
                conn,
                channel,
                reply: Reply::BasicRecoverOk,
            } = &o
            {
                if *conn == sc && *channel == sch {
                    return;
                }
            }
        }
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.state == ConnState::Gone {
            return;
        }
        match &o {
            Output::ChannelClose { channel, .. } => {
                c.channels.insert(*channel, ChanState::Closing);
            }
            Output::ConnectionClose { .. } => {
                c.state = ConnState::Closing;
                c.closing_after = true;
            }
            _ => {}
        }
        // A confirm (or a commit) may only go out once the store ops before
        // it are on disk; frames after it on this connection wait with it.
        let needs_sync = matches!(
            o,
            Output::Confirm { .. }
                | Output::Reply {
                    reply: Reply::TxCommitOk,
                    ..
                }
        ) && self.store_seq > self.synced_seq;
        if needs_sync && c.held.back().map(|h| h.0) != Some(self.store_seq) {
            c.held.push_back((self.store_seq, OutFrames::new()));
            self.held_conns.insert(id);
        }
        let frame_max = c.frame_max;
        encode_output(&o, frame_max, c.tail());
        self.mark_dirty(id);
    }

    /// The store has fsynced up to `seq`: release what waited for it.
    fn on_synced(&mut self, seq: u64) {
        self.synced_seq = self.synced_seq.max(seq);
        while self
            .held_calls
            .front()
            .is_some_and(|h| h.0 <= self.synced_seq)
        {
            if let Some((_, done)) = self.held_calls.pop_front() {
                done();
            }
        }
        let ids: Vec<ConnId> = self.held_conns.iter().copied().collect();
        for id in ids {
            let Some(c) = self.conns.get_mut(&id) else {
                self.held_conns.remove(&id);
                continue;
            };
            while c.held.front().is_some_and(|h| h.0 <= self.synced_seq) {
                if let Some((_, frames)) = c.held.pop_front() {
                    c.buf.append(frames);
                }
            }
            if c.held.is_empty() {
                self.held_conns.remove(&id);
            }
            self.mark_dirty(id);
        }
    }

    /// Puts a connection in flow if the core says its publishes are piling
    /// up in a consumed queue.
    fn check_flow(&mut self, id: ConnId) {
        let Some(c) = self.conns.get(&id) else { return };
        if *c.flow.borrow() || !self.core.publisher_flow(id) {
            return;
        }
        c.flow.send_replace(true);
        self.flowing.push(id);
    }

    /// Lets go the connections in flow whose queue has caught up.
    fn release_flow(&mut self) {
        let core = &mut self.core;
        let conns = &self.conns;
        self.flowing.retain(|id| {
            let Some(c) = conns.get(id) else { return false };
            if core.publisher_flow(*id) {
                return true;
            }
            c.flow.send_replace(false);
            false
        });
    }

    /// Hands buffered frames to the writers and store ops to the store.
    fn flush(&mut self) {
        if !self.flowing.is_empty() {
            self.release_flow();
        }
        self.pump_events();
        if !self.store_ops.is_empty() {
            let ops = std::mem::take(&mut self.store_ops);
            let _ = self.store.send(StoreMsg::Ops {
                ops,
                seq: self.store_seq,
            });
        }
        for id in self.dirty.drain(..) {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            c.dirty = false;
            if !c.buf.is_empty() {
                c.writer.send_pieces(c.buf.take());
            }
            if c.held.is_empty() {
                if c.closing_after {
                    c.closing_after = false;
                    c.writer.control(WriterMsg::Closing);
                }
                if c.shutdown_after {
                    c.shutdown_after = false;
                    c.writer.control(WriterMsg::Shutdown);
                }
            }
        }
    }

    /// Raises or clears the memory alarm: queued message bytes plus bytes
    /// waiting in writers, against the high watermark.
    fn check_memory(&mut self) {
        let queued = self.core.ready_bytes();
        let writing: u64 = self.conns.values().map(|c| c.writer.queued() as u64).sum();
        let on = queued + writing > self.watermark;
        if on == *self.alarm.borrow() {
            return;
        }
        self.alarm.send_replace(on);
        let ids: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.blocked_capable && c.state == ConnState::Open)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.send_method(id, 0, blocked_frame(on));
        }
        self.flush();
    }
}

fn blocked_frame(on: bool) -> ServerMethod {
    if on {
        ServerMethod::ConnectionBlocked {
            reason: "low on memory".to_string(),
        }
    } else {
        ServerMethod::ConnectionUnblocked
    }
}
