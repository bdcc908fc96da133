//! Running a scenario's script against a real broker, on a real clock scaled
//! from the virtual one, with clients that behave as the simulator's do.

use crate::convert::{props_from_wire, props_to_wire, short, table_to_wire};
use crate::names::Names;
use crate::{RemoteOptions, RemoteRun};
use amqprs::callbacks::{ChannelCallback, ConnectionCallback};
use amqprs::channel::{
    BasicAckArguments, BasicCancelArguments, BasicConsumeArguments, BasicGetArguments,
    BasicNackArguments, BasicPublishArguments, BasicQosArguments, BasicRejectArguments, Channel,
    ConfirmSelectArguments, ExchangeBindArguments, ExchangeDeclareArguments,
    ExchangeDeleteArguments, ExchangeUnbindArguments, QueueBindArguments, QueueDeclareArguments,
    QueueDeleteArguments, QueuePurgeArguments, QueueUnbindArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::consumer::AsyncConsumer;
use amqprs::{
    Ack, BasicProperties as WireProps, Cancel, Close, CloseChannel, Deliver, Nack, Return,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use warren_core::protocol::Millis;
use warren_core::scenario::{
    Action, ClientSpec, Expectation, OnMessage, QueueFigures, QueueLookup, ReplyWith, Scenario,
};
use warren_core::sim::{Observation, Simulation};
use warren_core::types::BasicProperties;

/// What amqprs calls return.
type AmqpResult<T> = std::result::Result<T, amqprs::error::Error>;

/// Where to connect, from an `amqp://user:pass@host:port/vhost` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub vhost: String,
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in '{s}'"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{s}' is not UTF-8 once decoded"))
}

/// Parses a broker URL as RabbitMQ documents it: the vhost is the path with
/// `%2F` for "/"; an empty path means "/" too.
pub fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("amqp://")
        .ok_or_else(|| format!("'{url}' is not an amqp:// URL (amqps is not supported)"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (creds, hostport) = match authority.rfind('@') {
        Some(i) => (&authority[..i], &authority[i + 1..]),
        None => ("guest:guest", authority),
    };
    let (user, password) = creds.split_once(':').unwrap_or((creds, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port '{p}' in '{url}'"))?,
        ),
        None => (hostport, 5672),
    };
    if host.is_empty() {
        return Err(format!("no host in '{url}'"));
    }
    let vhost = if path.is_empty() {
        "/".to_string()
    } else {
        percent_decode(path)?
    };
    Ok(Target {
        host: host.trim_matches(|c| c == '[' || c == ']').to_string(),
        port,
        user: percent_decode(user)?,
        password: percent_decode(password)?,
        vhost,
    })
}

/// Reads the reply code and text out of amqprs's error for a refused
/// connection.open (it only gives the server's close frame as text).
fn close_in_error(e: &str) -> Option<(u16, String)> {
    let at = e.find("reply_code: ")? + "reply_code: ".len();
    let digits: String = e[at..].chars().take_while(char::is_ascii_digit).collect();
    let code = digits.parse().ok()?;
    let text = e
        .find("reply_text: ")
        .and_then(|i| {
            let tail = &e[i..];
            let start = tail.find('"')? + 1;
            let end = tail[start..].find('"')?;
            Some(tail[start..start + end].to_string())
        })
        .unwrap_or_default();
    Some((code, text))
}

/// Where a channel's close (reply code, text) is left for whoever asked.
type CloseSlot = Arc<Mutex<Option<(u16, String)>>>;

/// State every task of a run shares: the clock and what clients observed.
pub(crate) struct Shared {
    /// Virtual time 0: set once the topology is declared and clients connected.
    started: Mutex<Instant>,
    /// Real time spent restarting the broker, which the virtual clock skips.
    paused: Mutex<Duration>,
    scale: f64,
    pub names: Names,
    observations: Mutex<Vec<Observation>>,
    last_activity: Mutex<Instant>,
    /// While the broker restarts, the connections it drops are not errors.
    restarting: AtomicBool,
    pub notes: Mutex<Vec<String>>,
}

impl Shared {
    fn now(&self) -> Millis {
        let paused = *lock(&self.paused);
        let real = lock(&self.started).elapsed().saturating_sub(paused);
        (real.as_secs_f64() * 1000.0 / self.scale) as Millis
    }

    /// When virtual time `t` comes, in real time.
    fn instant_of(&self, t: Millis) -> Instant {
        let paused = *lock(&self.paused);
        *lock(&self.started) + paused + Duration::from_secs_f64(t as f64 * self.scale / 1000.0)
    }

    fn observe(&self, o: Observation) {
        let o = self.names.plain_observation(o);
        lock(&self.observations).push(o);
        *lock(&self.last_activity) = Instant::now();
    }

    fn note(&self, n: String) {
        lock(&self.notes).push(n);
    }

    fn real_ms(&self, virtual_ms: Millis) -> Duration {
        Duration::from_secs_f64(virtual_ms as f64 * self.scale / 1000.0)
    }
}

/// A poisoned lock only means another task panicked; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a consumer handles what it is given (as the simulator's ConsumerPlan).
#[derive(Clone, Debug)]
struct Plan {
    /// The real queue name.
    queue: String,
    auto_ack: bool,
    processing_ms: Millis,
    on_message: OnMessage,
    requeue: bool,
    reply: Option<ReplyWith>,
    rpc_replies: bool,
}

/// How long a channel's close-ok waits for a pending sync (see [`Runner::sync`]). A
/// declare already on its way out goes within microseconds; one that was never sent
/// keeps the flag up until amqprs gives up on it, after the close-ok, so the wait is
/// bounded.
const SYNC_HOLD: Duration = Duration::from_millis(20);

/// What a client's callbacks and its worker share.
#[derive(Default)]
struct ClientState {
    /// Bumped whenever the channel or connection goes, so pending work on the old one is dropped.
    generation: AtomicU64,
    /// Consumers the client cancelled: their pending messages are still settled.
    cancelled: Mutex<HashSet<String>>,
    /// Consumers the broker cancelled: their pending messages are dropped.
    gone: Mutex<HashSet<String>>,
    /// Set while [`Runner::sync`]'s round trip is on its way out on the client's channel,
    /// so a channel.close from the broker holds back amqprs's close-ok (see
    /// [`ChanEvents::close`]) until that frame has gone first.
    syncing: AtomicBool,
}

impl ClientState {
    fn lost_channel(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        lock(&self.cancelled).clear();
        lock(&self.gone).clear();
    }
}

/// A delivery waiting for the client's single worker.
struct Work {
    generation: u64,
    plan: Plan,
    channel: Channel,
    consumer_tag: String,
    delivery_tag: u64,
    body: Vec<u8>,
    reply_to: Option<String>,
    correlation_id: Option<String>,
}

struct Remote {
    conn: Connection,
    /// The local relay the connection goes through: aborting it drops the
    /// TCP connection with no AMQP close, which is what a crash is.
    relay: JoinHandle<()>,
}

struct RClient {
    spec: ClientSpec,
    remote: Option<Remote>,
    channel: Option<Channel>,
    state: Arc<ClientState>,
    work: mpsc::UnboundedSender<Work>,
    rpc_queue: Option<String>,
    rpc_calls: u64,
}

struct ConnEvents {
    client: String,
    shared: Arc<Shared>,
    state: Arc<ClientState>,
}

#[async_trait]
impl ConnectionCallback for ConnEvents {
    async fn close(&mut self, _: &Connection, close: Close) -> AmqpResult<()> {
        self.state.lost_channel();
        if !self.shared.restarting.load(Ordering::SeqCst) {
            self.shared.observe(Observation::Error {
                at: self.shared.now(),
                client: self.client.clone(),
                code: close.reply_code(),
                text: close.reply_text().to_string(),
                connection: true,
            });
        }
        Ok(())
    }
    async fn blocked(&mut self, _: &Connection, reason: String) {
        self.shared
            .note(format!("{}: connection blocked ({reason})", self.client));
    }
    async fn unblocked(&mut self, _: &Connection) {}
    async fn secret_updated(&mut self, _: &Connection) {}
}

struct ChanEvents {
    client: String,
    shared: Arc<Shared>,
    state: Arc<ClientState>,
    /// Where a close is also reported, for connections that are not a client's.
    last_close: Option<CloseSlot>,
}

#[async_trait]
impl ChannelCallback for ChanEvents {
    async fn close(&mut self, _: &Channel, close: CloseChannel) -> AmqpResult<()> {
        // amqprs sends close-ok when this returns; a sync's declare must not follow it.
        let held = Instant::now();
        while self.state.syncing.load(Ordering::SeqCst) && held.elapsed() < SYNC_HOLD {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some(slot) = &self.last_close {
            *lock(slot) = Some((close.reply_code(), close.reply_text().to_string()));
            return Ok(());
        }
        self.state.lost_channel();
        if !self.shared.restarting.load(Ordering::SeqCst) {
            self.shared.observe(Observation::Error {
                at: self.shared.now(),
                client: self.client.clone(),
                code: close.reply_code(),
                text: close.reply_text().to_string(),
                connection: false,
            });
        }
        Ok(())
    }
    async fn cancel(&mut self, _: &Channel, cancel: Cancel) -> AmqpResult<()> {
        let tag = cancel.consumer_tag().to_string();
        lock(&self.state.gone).insert(tag.clone());
        self.shared.observe(Observation::Cancelled {
            at: self.shared.now(),
            client: self.client.clone(),
            consumer_tag: tag,
        });
        Ok(())
    }
    async fn flow(&mut self, _: &Channel, _active: bool) -> AmqpResult<bool> {
        Ok(true)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        self.confirmed(ack.delivery_tag(), ack.mutiple(), true);
    }
    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        self.confirmed(nack.delivery_tag(), nack.multiple(), false);
    }
    async fn publish_return(&mut self, _: &Channel, ret: Return, _: WireProps, content: Vec<u8>) {
        self.shared.observe(Observation::Returned {
            at: self.shared.now(),
            client: self.client.clone(),
            reply_code: ret.reply_code(),
            reply_text: ret.reply_text().to_string(),
            exchange: ret.exchange().to_string(),
            routing_key: ret.routing_key().to_string(),
            body: String::from_utf8_lossy(&content).to_string(),
        });
    }
}

impl ChanEvents {
    fn confirmed(&self, delivery_tag: u64, multiple: bool, ack: bool) {
        self.shared.observe(Observation::Confirmed {
            at: self.shared.now(),
            client: self.client.clone(),
            delivery_tag,
            multiple,
            ack,
        });
    }
}

/// Records each delivery as it arrives and hands it to the client's worker.
struct Recorder {
    client: String,
    shared: Arc<Shared>,
    plan: Plan,
    generation: u64,
    work: mpsc::UnboundedSender<Work>,
}

#[async_trait]
impl AsyncConsumer for Recorder {
    async fn consume(&mut self, channel: &Channel, d: Deliver, props: WireProps, body: Vec<u8>) {
        let at = self.shared.now();
        let properties = props_from_wire(&props);
        if self.plan.rpc_replies {
            self.shared.observe(Observation::RpcReply {
                at,
                client: self.client.clone(),
                correlation_id: properties.correlation_id.clone().unwrap_or_default(),
                body: String::from_utf8_lossy(&body).to_string(),
            });
            return;
        }
        let work = Work {
            generation: self.generation,
            plan: self.plan.clone(),
            channel: channel.clone(),
            consumer_tag: d.consumer_tag().to_string(),
            delivery_tag: d.delivery_tag(),
            body: body.clone(),
            reply_to: properties.reply_to.clone(),
            correlation_id: properties.correlation_id.clone(),
        };
        self.shared.observe(Observation::Delivered {
            at,
            client: self.client.clone(),
            consumer_tag: d.consumer_tag().to_string(),
            queue: self.plan.queue.clone(),
            delivery_tag: d.delivery_tag(),
            redelivered: d.redelivered(),
            exchange: d.exchange().to_string(),
            routing_key: d.routing_key().to_string(),
            body: String::from_utf8_lossy(&body).to_string(),
            properties: Arc::new(properties),
        });
        // The worker is gone only when the run is over.
        let _ = self.work.send(work);
    }
}

/// The client's single worker: processes one message at a time, for
/// `processing_ms` each, then replies and settles, as the simulator's client.
async fn worker(
    shared: Arc<Shared>,
    state: Arc<ClientState>,
    mut rx: mpsc::UnboundedReceiver<Work>,
) {
    while let Some(w) = rx.recv().await {
        if w.plan.processing_ms > 0 {
            tokio::time::sleep(shared.real_ms(w.plan.processing_ms)).await;
        }
        // A restart is instant on the scenario's clock: work that comes due while
        // the broker is going down belongs after it, on a channel that is gone,
        // so it must not reach the broker (an ack sent then would be kept).
        while shared.restarting.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if state.generation.load(Ordering::SeqCst) != w.generation || !w.channel.is_open() {
            continue; // the channel or connection this delivery came on is gone
        }
        if lock(&state.gone).contains(&w.consumer_tag) {
            continue;
        }
        // Cancelled by the client meanwhile: the message is still unacked on the channel, so settle it.
        let cancelled = lock(&state.cancelled).contains(&w.consumer_tag);
        let plan = w.plan;
        if let (false, Some(how), Some(reply_to)) = (cancelled, plan.reply, &w.reply_to) {
            let answer = compute_reply(how, &String::from_utf8_lossy(&w.body));
            let mut props = WireProps::default();
            if let Some(c) = &w.correlation_id {
                props.with_correlation_id(c);
            }
            if short(reply_to).is_ok() {
                let args = BasicPublishArguments::new("", reply_to);
                if let Err(e) = w
                    .channel
                    .basic_publish(props.finish(), answer.into_bytes(), args)
                    .await
                {
                    shared.note(format!("reply publish failed: {e}"));
                }
            }
        }
        settle(&shared, &w.channel, &plan, w.delivery_tag).await;
    }
}

async fn settle(shared: &Shared, channel: &Channel, plan: &Plan, delivery_tag: u64) {
    if plan.auto_ack {
        return;
    }
    let r = match plan.on_message {
        OnMessage::Ack => {
            channel
                .basic_ack(BasicAckArguments::new(delivery_tag, false))
                .await
        }
        OnMessage::Nack => {
            channel
                .basic_nack(BasicNackArguments::new(delivery_tag, false, plan.requeue))
                .await
        }
        OnMessage::Reject => {
            channel
                .basic_reject(BasicRejectArguments::new(delivery_tag, plan.requeue))
                .await
        }
        OnMessage::Nothing => return,
    };
    if let Err(e) = r {
        shared.note(format!("settling delivery {delivery_tag} failed: {e}"));
    }
}

/// An RPC server's answer, as the simulator computes it (kept in step with
/// warren-core's `sim::client::compute_reply`, which is private to the core).
pub(crate) fn compute_reply(how: ReplyWith, request: &str) -> String {
    match how {
        ReplyWith::Echo => request.to_string(),
        ReplyWith::Upper => request.to_uppercase(),
        ReplyWith::Fib => match request.trim().parse::<u32>() {
            Ok(n) if n <= 90 => {
                let (mut a, mut b) = (0u64, 1u64);
                for _ in 0..n {
                    (a, b) = (b, a + b);
                }
                a.to_string()
            }
            _ => format!("cannot compute fib({request})"),
        },
    }
}

/// What the run made on the broker, to delete afterwards (real names).
#[derive(Default)]
pub(crate) struct Made {
    pub queues: BTreeSet<String>,
    pub exchanges: BTreeSet<String>,
}

/// Opens a connection to `target` as `user` through a fresh local relay.
async fn connect(
    target: &Target,
    user: &str,
    password: &str,
    vhost: &str,
) -> Result<Remote, amqprs::error::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| amqprs::error::Error::NetworkError(e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| amqprs::error::Error::NetworkError(e.to_string()))?
        .port();
    let upstream = format!("{}:{}", target.host, target.port);
    let relay = tokio::spawn(async move {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else {
            return;
        };
        // Small AMQP frames one after another: without this, Nagle and delayed
        // acks add ~40 ms to a round trip through the relay.
        let _ = inbound.set_nodelay(true);
        let _ = outbound.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    });
    let args = OpenConnectionArguments::new("127.0.0.1", port, user, password)
        .virtual_host(vhost)
        .finish();
    match Connection::open(&args).await {
        Ok(conn) => Ok(Remote { conn, relay }),
        Err(e) => {
            relay.abort();
            Err(e)
        }
    }
}

/// A clean close that a broker never answers must not hold up the run:
/// give it a few seconds, then let the connection go.
async fn close_quietly(close: impl std::future::Future<Output = AmqpResult<()>>) {
    let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
}

/// How long after its time a timed queue figure is read (real time).
const FIGURES_MARGIN: Duration = Duration::from_millis(25);

/// One entry of the real-time agenda.
#[derive(Clone, Debug)]
enum Entry {
    Step {
        index: usize,
        repeat: u32,
    },
    /// Read the figures for the queue expectation `index`.
    Figures {
        index: usize,
    },
}

pub(crate) struct Runner<'a> {
    scenario: &'a Scenario,
    target: Target,
    opts: &'a RemoteOptions,
    shared: Arc<Shared>,
    clients: Vec<RClient>,
    /// Names saved with `as`, as the scenario knows them (unprefixed).
    vars: BTreeMap<String, String>,
    pub made: Arc<Mutex<Made>>,
    observer: Option<(Remote, Channel, CloseSlot)>,
    figures: BTreeMap<(Option<Millis>, String), QueueLookup>,
    cut_at: Option<Millis>,
    workers: Vec<JoinHandle<()>>,
}

impl<'a> Runner<'a> {
    pub fn new(
        scenario: &'a Scenario,
        target: Target,
        opts: &'a RemoteOptions,
        names: Names,
        made: Arc<Mutex<Made>>,
    ) -> Runner<'a> {
        let shared = Arc::new(Shared {
            started: Mutex::new(Instant::now()),
            paused: Mutex::new(Duration::ZERO),
            scale: opts.time_scale,
            names,
            observations: Mutex::new(Vec::new()),
            last_activity: Mutex::new(Instant::now()),
            restarting: AtomicBool::new(false),
            notes: Mutex::new(Vec::new()),
        });
        let mut workers = Vec::new();
        let clients = scenario
            .clients
            .iter()
            .map(|spec| {
                let state = Arc::new(ClientState::default());
                let (tx, rx) = mpsc::unbounded_channel();
                workers.push(tokio::spawn(worker(shared.clone(), state.clone(), rx)));
                RClient {
                    spec: spec.clone(),
                    remote: None,
                    channel: None,
                    state,
                    work: tx,
                    rpc_queue: None,
                    rpc_calls: 0,
                }
            })
            .collect();
        Runner {
            scenario,
            target,
            opts,
            shared,
            clients,
            vars: BTreeMap::new(),
            made,
            observer: None,
            figures: BTreeMap::new(),
            cut_at: None,
            workers,
        }
    }

    fn names(&self) -> &Names {
        &self.shared.names
    }

    /// `$name` is a name saved with `as`; anything else is itself.
    fn resolve(&self, name: &str) -> String {
        match name.strip_prefix('$') {
            Some(var) => self
                .vars
                .get(var)
                .cloned()
                .unwrap_or_else(|| name.to_string()),
            None => name.to_string(),
        }
    }

    /// The real name of a queue or exchange the scenario writes as `name`.
    fn real(&self, name: &str) -> String {
        self.names().real(&self.resolve(name))
    }

    /// Runs everything, then reads the end figures. Clients stay connected
    /// until `finish`, so the end figures count their consumers.
    pub async fn run(&mut self) -> Result<(), String> {
        // Reading figures needs a connection of its own; opening it first also
        // tells a broker that is not there from a scenario that fails.
        if let QueueLookup::Unobservable(e) = self.passive_declare("amq.warren-probe").await {
            if e.starts_with("cannot connect") {
                return Err(e);
            }
        }
        self.setup().await?;
        self.preconnect().await;
        *lock(&self.shared.started) = Instant::now();
        // The simulator says when the scenario settles; the real run waits as long.
        let mut sim = Simulation::new(self.scenario.clone());
        sim.run();
        let end = sim.now();
        let agenda = self.agenda();
        for (at, entry) in agenda {
            tokio::time::sleep_until(self.shared.instant_of(at).into()).await;
            match entry {
                Entry::Step { index, repeat } => {
                    if !self.step(index, repeat).await? {
                        self.cut_at = Some(at);
                        break;
                    }
                }
                Entry::Figures { index } => {
                    // Broker timers due at `at` (a TTL from a publish at `at - ttl`)
                    // fire a little after `at` on a real broker, as everything does:
                    // read the figures once those have had a moment to run.
                    tokio::time::sleep(FIGURES_MARGIN).await;
                    self.read_figures(index, Some(at)).await
                }
            }
        }
        if self.cut_at.is_none() {
            tokio::time::sleep_until(self.shared.instant_of(end).into()).await;
            tokio::time::sleep(Duration::from_millis(self.opts.settle_ms)).await;
            self.settle_down().await;
            for (i, e) in self.scenario.expect.iter().enumerate() {
                if matches!(e, Expectation::Queue { at: None, .. }) {
                    self.read_figures(i, None).await;
                }
            }
        }
        Ok(())
    }

    /// Connects every client with the scenario's default login before the
    /// clock starts, so connecting does not delay its first action. A client
    /// that cannot connect is left for its first action, which records the
    /// refusal at its time, as in the simulator.
    async fn preconnect(&mut self) {
        let t = self.target.clone();
        for c in &mut self.clients {
            if c.spec.user != "guest" || c.spec.password != "guest" || c.spec.vhost != "/" {
                continue;
            }
            if let Ok(remote) = connect(&t, &t.user, &t.password, &t.vhost).await {
                let events = ConnEvents {
                    client: c.spec.name.clone(),
                    shared: self.shared.clone(),
                    state: c.state.clone(),
                };
                if remote.conn.register_callback(events).await.is_ok() {
                    c.remote = Some(remote);
                }
            }
        }
    }

    /// Waits until nothing has been observed for the settle time (at most 20 of them).
    async fn settle_down(&self) {
        let quiet = Duration::from_millis(self.opts.settle_ms);
        for _ in 0..20 {
            let last = *lock(&self.shared.last_activity);
            let since = last.elapsed();
            if since >= quiet {
                return;
            }
            tokio::time::sleep(quiet - since).await;
        }
    }

    /// Steps in time order (file order at the same time); repeated publishes
    /// with an interval after the steps already due at their time; figures
    /// after every step at or before their time.
    fn agenda(&self) -> Vec<(Millis, Entry)> {
        let mut agenda: Vec<(Millis, u8, usize, Entry)> = Vec::new();
        for (index, step) in self.scenario.script.iter().enumerate() {
            agenda.push((step.at, 0, index, Entry::Step { index, repeat: 0 }));
            if let Action::Publish {
                count, interval_ms, ..
            } = step.action
            {
                if interval_ms > 0 {
                    for repeat in 1..count {
                        let at = step.at + interval_ms * repeat as Millis;
                        agenda.push((at, 1, index, Entry::Step { index, repeat }));
                    }
                }
            }
        }
        for (index, e) in self.scenario.expect.iter().enumerate() {
            if let Expectation::Queue { at: Some(t), .. } = e {
                agenda.push((*t, 2, index, Entry::Figures { index }));
            }
        }
        agenda.sort_by_key(|(at, phase, index, entry)| {
            let repeat = match entry {
                Entry::Step { repeat, .. } => *repeat,
                Entry::Figures { .. } => 0,
            };
            (*at, *phase, repeat, *index)
        });
        agenda.into_iter().map(|(at, _, _, e)| (at, e)).collect()
    }

    async fn admin_connect(&self) -> Result<Remote, String> {
        let t = &self.target;
        connect(t, &t.user, &t.password, &t.vhost)
            .await
            .map_err(|e| format!("cannot connect to {}:{}: {e}", t.host, t.port))
    }

    /// Declares the topology over a setup connection, as the simulator's
    /// hidden setup client does; a refusal is an error of `(topology)`.
    async fn setup(&mut self) -> Result<(), String> {
        let topo = &self.scenario.topology;
        if topo.exchanges.is_empty() && topo.queues.is_empty() && topo.bindings.is_empty() {
            return Ok(());
        }
        let remote = self.admin_connect().await?;
        let slot = Arc::new(Mutex::new(None));
        let ch = self.admin_channel(&remote, slot.clone()).await?;
        let n = self.names().clone();
        let mut failed = None;
        for x in &topo.exchanges {
            lock(&self.made).exchanges.insert(n.real(&x.name));
            let mut a = ExchangeDeclareArguments::new(&n.real(&x.name), &x.kind);
            a.durable = x.durable;
            a.auto_delete = x.auto_delete;
            a.internal = x.internal;
            a.arguments = table_to_wire(&n.arguments(&x.arguments))?;
            if let Err(e) = ch.exchange_declare(a).await {
                failed = Some(e);
                break;
            }
        }
        if failed.is_none() {
            for q in &topo.queues {
                lock(&self.made).queues.insert(n.real(&q.name));
                let a = QueueDeclareArguments::new(&n.real(&q.name))
                    .durable(q.durable)
                    .auto_delete(q.auto_delete)
                    .arguments(table_to_wire(&n.arguments(&q.arguments))?)
                    .finish();
                if let Err(e) = ch.queue_declare(a).await {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() {
            for b in &topo.bindings {
                let args = table_to_wire(&b.arguments)?;
                let r = if b.destination_type == "exchange" {
                    let mut a = ExchangeBindArguments::new(
                        &n.real(&b.destination),
                        &n.real(&b.source),
                        &b.routing_key,
                    );
                    a.arguments = args;
                    ch.exchange_bind(a).await
                } else {
                    let mut a = QueueBindArguments::new(
                        &n.real(&b.destination),
                        &n.real(&b.source),
                        &b.routing_key,
                    );
                    a.arguments = args;
                    ch.queue_bind(a).await
                };
                if let Err(e) = r {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let (code, text) = lock(&slot).clone().unwrap_or((0, e.to_string()));
            self.shared.observe(Observation::Error {
                at: 0,
                client: "(topology)".to_string(),
                code,
                text,
                connection: false,
            });
        }
        close_quietly(remote.conn.close()).await;
        Ok(())
    }

    async fn admin_channel(&self, remote: &Remote, slot: CloseSlot) -> Result<Channel, String> {
        let ch = remote
            .conn
            .open_channel(None)
            .await
            .map_err(|e| format!("cannot open a channel: {e}"))?;
        ch.register_callback(ChanEvents {
            client: "(setup)".into(),
            shared: self.shared.clone(),
            state: Arc::new(ClientState::default()),
            last_close: Some(slot),
        })
        .await
        .map_err(|e| format!("cannot register a callback: {e}"))?;
        Ok(ch)
    }

    /// Reads a queue's figures with a passive queue.declare on a connection of
    /// its own. It reports ready messages and consumers; unacked ones are
    /// not visible over AMQP.
    async fn read_figures(&mut self, index: usize, at: Option<Millis>) {
        let Some(Expectation::Queue { queue, .. }) = self.scenario.expect.get(index) else {
            return;
        };
        let name = self.resolve(queue);
        let real = self.names().real(&name);
        let lookup = self.passive_declare(&real).await;
        self.figures.insert((at, name), lookup);
    }

    async fn passive_declare(&mut self, real: &str) -> QueueLookup {
        for _ in 0..2 {
            let ready = match &self.observer {
                Some((r, ch, _)) => r.conn.is_open() && ch.is_open(),
                None => false,
            };
            if !ready {
                let opened = async {
                    let remote = match &self.observer {
                        Some((r, _, _)) if r.conn.is_open() => None,
                        _ => Some(self.admin_connect().await?),
                    };
                    let slot = Arc::new(Mutex::new(None));
                    let ch = match &remote {
                        Some(r) => self.admin_channel(r, slot.clone()).await?,
                        None => match &self.observer {
                            Some((r, _, _)) => self.admin_channel(r, slot.clone()).await?,
                            None => return Err("no observer".to_string()),
                        },
                    };
                    Ok::<_, String>((remote, ch, slot))
                }
                .await;
                match opened {
                    Ok((Some(r), ch, slot)) => self.observer = Some((r, ch, slot)),
                    Ok((None, ch, slot)) => {
                        if let Some(o) = &mut self.observer {
                            o.1 = ch;
                            o.2 = slot;
                        }
                    }
                    Err(e) => return QueueLookup::Unobservable(e),
                }
            }
            let Some((_, ch, slot)) = &self.observer else {
                continue;
            };
            if short(real).is_err() {
                return QueueLookup::Unobservable(format!("queue name '{real}' is too long"));
            }
            *lock(slot) = None;
            let args = QueueDeclareArguments::new(real).passive(true).finish();
            match ch.queue_declare(args).await {
                Ok(Some((_, ready, consumers))) => {
                    return QueueLookup::Found(QueueFigures {
                        ready: ready as u64,
                        unacked: None,
                        consumers: consumers as u64,
                    })
                }
                Ok(None) => return QueueLookup::Unobservable("no declare-ok".into()),
                Err(e) => {
                    let mut closed = None;
                    for _ in 0..20 {
                        closed = lock(slot).clone();
                        if closed.is_some() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    match closed {
                        Some((404, _)) => return QueueLookup::Missing,
                        Some((405, _)) => {
                            return QueueLookup::Unobservable(
                                "the queue is exclusive to a client's connection, so another connection cannot read its figures".into(),
                            )
                        }
                        Some((code, text)) => {
                            return QueueLookup::Unobservable(format!(
                                "passive queue.declare refused: {code} {text}"
                            ))
                        }
                        None => {
                            self.shared.note(format!("passive declare of '{real}': {e}"));
                        }
                    }
                }
            }
        }
        QueueLookup::Unobservable("could not read the queue's figures".into())
    }

    fn client_index(&self, name: &str) -> Option<usize> {
        self.clients.iter().position(|c| c.spec.name == name)
    }

    /// Makes sure the client has an open connection and channel, as the
    /// simulator's client does at each action. None when it cannot connect
    /// (the refusal is recorded as the client's error).
    async fn ensure_open(&mut self, ci: usize) -> Option<Channel> {
        let t = self.target.clone();
        let shared = self.shared.clone();
        let c = &mut self.clients[ci];
        if !c.remote.as_ref().is_some_and(|r| r.conn.is_open()) {
            if let Some(old) = c.remote.take() {
                old.relay.abort();
            }
            c.channel = None;
            c.rpc_queue = None;
            c.state.lost_channel();
            // The scenario's default login and vhost mean "the broker's own".
            let (user, password) = if c.spec.user == "guest" && c.spec.password == "guest" {
                (t.user.clone(), t.password.clone())
            } else {
                (c.spec.user.clone(), c.spec.password.clone())
            };
            let vhost = if c.spec.vhost == "/" {
                t.vhost.clone()
            } else {
                c.spec.vhost.clone()
            };
            match connect(&t, &user, &password, &vhost).await {
                Ok(remote) => {
                    let events = ConnEvents {
                        client: c.spec.name.clone(),
                        shared: shared.clone(),
                        state: c.state.clone(),
                    };
                    if remote.conn.register_callback(events).await.is_err() {
                        shared.note(format!("{}: cannot register callbacks", c.spec.name));
                    }
                    c.remote = Some(remote);
                }
                Err(e) => {
                    let text = e.to_string();
                    let (code, text) = match close_in_error(&text) {
                        Some(found) => found,
                        // RabbitMQ closes the socket on a failed login unless the client
                        // asks for authentication_failure_close, which amqprs does not.
                        None if text.contains("network") || text.contains("Network") => {
                            shared.note(format!(
                                "{}: login failed without a reason from the broker ({text}); recorded as 403",
                                c.spec.name
                            ));
                            (403, "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.".to_string())
                        }
                        None => (0, text),
                    };
                    shared.observe(Observation::Error {
                        at: shared.now(),
                        client: c.spec.name.clone(),
                        code,
                        text,
                        connection: true,
                    });
                    return None;
                }
            }
        }
        if !c.channel.as_ref().is_some_and(|ch| ch.is_open()) {
            c.state.lost_channel();
            c.rpc_queue = None;
            let remote = c.remote.as_ref()?;
            let ch = match remote.conn.open_channel(None).await {
                Ok(ch) => ch,
                Err(e) => {
                    shared.note(format!("{}: cannot open a channel: {e}", c.spec.name));
                    return None;
                }
            };
            let events = ChanEvents {
                client: c.spec.name.clone(),
                shared: shared.clone(),
                state: c.state.clone(),
                last_close: None,
            };
            if ch.register_callback(events).await.is_err() {
                shared.note(format!("{}: cannot register callbacks", c.spec.name));
            }
            c.channel = Some(ch);
        }
        c.channel.clone()
    }

    /// Waits until the broker has handled what the client sent so far (a
    /// passive declare of `amq.direct` is a harmless round trip), so a step of
    /// another client at the same time comes after it, as in the simulator.
    ///
    /// The step just sent may make the broker close the channel (an unknown delivery
    /// tag, a publish to a missing exchange). If amqprs answered that close with
    /// close-ok before the declare went out, the declare would reach a closed channel
    /// and the broker would close the whole connection (504, "expected
    /// 'channel.open'"), which no client of the scenario did. So the channel's close
    /// callback waits while a sync is pending: the declare is then either out before
    /// the close-ok (the closing broker ignores it) or never sent (amqprs fails the
    /// call once the channel is gone).
    async fn sync(&self, ci: usize, ch: &Channel) {
        let state = self.clients[ci].state.clone();
        state.syncing.store(true, Ordering::SeqCst);
        let mut a = ExchangeDeclareArguments::new("amq.direct", "direct");
        a.passive = true;
        let _ = ch.exchange_declare(a).await;
        state.syncing.store(false, Ordering::SeqCst);
    }

    /// Runs one script step. Ok(false) stops the run (a restart that cannot be done).
    async fn step(&mut self, index: usize, repeat: u32) -> Result<bool, String> {
        let Some(step) = self.scenario.script.get(index) else {
            return Ok(true);
        };
        if let Action::Restart = step.action {
            return self.restart().await;
        }
        let Some(ci) = step.client.as_deref().and_then(|n| self.client_index(n)) else {
            return Ok(true);
        };
        let client = self.clients[ci].spec.name.clone();
        match &step.action {
            Action::Close | Action::Crash => {
                let c = &mut self.clients[ci];
                c.state.lost_channel();
                c.channel = None;
                c.rpc_queue = None;
                if let Some(remote) = c.remote.take() {
                    if matches!(step.action, Action::Close) {
                        close_quietly(remote.conn.close()).await;
                    }
                    remote.relay.abort();
                }
                return Ok(true);
            }
            Action::CloseChannel => {
                let c = &mut self.clients[ci];
                if let Some(ch) = c.channel.take() {
                    c.state.lost_channel();
                    c.rpc_queue = None;
                    if ch.is_open() {
                        close_quietly(ch.close()).await;
                    }
                }
                return Ok(true);
            }
            _ => {}
        }
        let Some(ch) = self.ensure_open(ci).await else {
            return Ok(true);
        };
        let n = self.names().clone();
        let r = match &step.action {
            Action::ExchangeDeclare {
                exchange,
                kind,
                durable,
                auto_delete,
                internal,
                passive,
                arguments,
            } => {
                let name = self.real(exchange);
                short(&name)?;
                if !passive {
                    lock(&self.made).exchanges.insert(name.clone());
                }
                let mut a = ExchangeDeclareArguments::new(&name, kind);
                a.passive = *passive;
                a.durable = *durable;
                a.auto_delete = *auto_delete;
                a.internal = *internal;
                a.arguments = table_to_wire(&n.arguments(arguments))?;
                ch.exchange_declare(a).await
            }
            Action::ExchangeDelete {
                exchange,
                if_unused,
            } => {
                let mut a = ExchangeDeleteArguments::new(&self.real(exchange));
                a.if_unused = *if_unused;
                ch.exchange_delete(a).await
            }
            Action::ExchangeBind {
                destination,
                source,
                routing_key,
                arguments,
            }
            | Action::ExchangeUnbind {
                destination,
                source,
                routing_key,
                arguments,
            } => {
                let (d, s, k) = (
                    self.real(destination),
                    self.real(source),
                    self.resolve(routing_key),
                );
                let args = table_to_wire(arguments)?;
                if matches!(step.action, Action::ExchangeBind { .. }) {
                    let mut a = ExchangeBindArguments::new(&d, &s, &k);
                    a.arguments = args;
                    ch.exchange_bind(a).await
                } else {
                    let mut a = ExchangeUnbindArguments::new(&d, &s, &k);
                    a.arguments = args;
                    ch.exchange_unbind(a).await
                }
            }
            Action::QueueDeclare {
                queue,
                durable,
                exclusive,
                auto_delete,
                passive,
                arguments,
                save_as,
            } => {
                let name = self.real(queue);
                short(&name)?;
                let a = QueueDeclareArguments::new(&name)
                    .passive(*passive)
                    .durable(*durable)
                    .exclusive(*exclusive)
                    .auto_delete(*auto_delete)
                    .arguments(table_to_wire(&n.arguments(arguments))?)
                    .finish();
                match ch.queue_declare(a).await {
                    Ok(Some((declared, message_count, consumer_count))) => {
                        if !passive {
                            lock(&self.made).queues.insert(declared.clone());
                        }
                        let plain = n.plain(&declared);
                        if let Some(var) = save_as {
                            self.vars.insert(var.clone(), plain);
                        }
                        self.shared.observe(Observation::Declared {
                            at: self.shared.now(),
                            client: client.clone(),
                            queue: declared,
                            message_count,
                            consumer_count,
                        });
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Action::QueueBind {
                queue,
                exchange,
                routing_key,
                arguments,
            } => {
                let x = self.resolve(exchange);
                let mut a = QueueBindArguments::new(
                    &self.real(queue),
                    &n.real(&x),
                    &n.routing_key(&x, &self.resolve(routing_key)),
                );
                a.arguments = table_to_wire(arguments)?;
                ch.queue_bind(a).await
            }
            Action::QueueUnbind {
                queue,
                exchange,
                routing_key,
                arguments,
            } => {
                let x = self.resolve(exchange);
                let mut a = QueueUnbindArguments::new(
                    &self.real(queue),
                    &n.real(&x),
                    &n.routing_key(&x, &self.resolve(routing_key)),
                );
                a.arguments = table_to_wire(arguments)?;
                ch.queue_unbind(a).await
            }
            Action::QueuePurge { queue } => ch
                .queue_purge(QueuePurgeArguments::new(&self.real(queue)))
                .await
                .map(|_| ()),
            Action::QueueDelete {
                queue,
                if_unused,
                if_empty,
            } => {
                let mut a = QueueDeleteArguments::new(&self.real(queue));
                a.if_unused = *if_unused;
                a.if_empty = *if_empty;
                ch.queue_delete(a).await.map(|_| ())
            }
            Action::Qos {
                prefetch_count,
                global,
            } => {
                ch.basic_qos(BasicQosArguments::new(0, *prefetch_count, *global))
                    .await
            }
            Action::Consume {
                queue,
                tag,
                auto_ack,
                exclusive,
                processing_ms,
                on_message,
                requeue,
                reply,
                priority,
            } => {
                let plan = Plan {
                    queue: self.real(queue),
                    auto_ack: *auto_ack,
                    processing_ms: *processing_ms,
                    on_message: *on_message,
                    requeue: *requeue,
                    reply: *reply,
                    rpc_replies: false,
                };
                self.consume(ci, &ch, plan, tag, *exclusive, *priority)
                    .await
            }
            Action::Cancel { tag } => {
                let tag = self.resolve(tag);
                let state = self.clients[ci].state.clone();
                let r = ch.basic_cancel(BasicCancelArguments::new(&tag)).await;
                if r.is_ok() {
                    lock(&state.cancelled).insert(tag);
                }
                r.map(|_| ())
            }
            Action::Publish {
                exchange,
                routing_key,
                body,
                properties,
                persistent,
                mandatory,
                count,
                interval_ms,
            } => {
                let mut props = properties.clone();
                if *persistent {
                    props.delivery_mode = Some(2);
                }
                let props = props_to_wire(&n.properties(&props))?;
                let x = self.resolve(exchange);
                let mut args = BasicPublishArguments::new(
                    &n.real(&x),
                    &n.routing_key(&x, &self.resolve(routing_key)),
                );
                short(&args.exchange)?;
                short(&args.routing_key)?;
                args.mandatory = *mandatory;
                // Back-to-back copies go out together; copies with an interval are their own entries.
                let copies = if *interval_ms == 0 {
                    0..*count
                } else {
                    repeat..repeat + 1
                };
                let mut r = Ok(());
                for i in copies {
                    let body = body.replace("{i}", &i.to_string()).into_bytes();
                    r = ch.basic_publish(props.clone(), body, args.clone()).await;
                    if r.is_err() {
                        break;
                    }
                }
                self.sync(ci, &ch).await;
                r
            }
            Action::Get { queue, auto_ack } => {
                let real = self.real(queue);
                let a = BasicGetArguments::new(&real).no_ack(*auto_ack).finish();
                match ch.basic_get(a).await {
                    Ok(Some((ok, props, body))) => {
                        self.shared.observe(Observation::Got {
                            at: self.shared.now(),
                            client: client.clone(),
                            queue: real,
                            delivery_tag: ok.delivery_tag(),
                            redelivered: ok.redelivered(),
                            message_count: ok.message_count(),
                            exchange: ok.exchange().to_string(),
                            routing_key: ok.routing_key().to_string(),
                            body: String::from_utf8_lossy(&body).to_string(),
                            properties: Arc::new(props_from_wire(&props)),
                        });
                        Ok(())
                    }
                    Ok(None) => {
                        self.shared.observe(Observation::GetEmpty {
                            at: self.shared.now(),
                            client: client.clone(),
                            queue: real,
                        });
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Action::Ack {
                delivery_tag,
                multiple,
            } => {
                let r = ch
                    .basic_ack(BasicAckArguments::new(*delivery_tag, *multiple))
                    .await;
                self.sync(ci, &ch).await;
                r
            }
            Action::Nack {
                delivery_tag,
                multiple,
                requeue,
            } => {
                let r = ch
                    .basic_nack(BasicNackArguments::new(*delivery_tag, *multiple, *requeue))
                    .await;
                self.sync(ci, &ch).await;
                r
            }
            Action::Reject {
                delivery_tag,
                requeue,
            } => {
                let r = ch
                    .basic_reject(BasicRejectArguments::new(*delivery_tag, *requeue))
                    .await;
                self.sync(ci, &ch).await;
                r
            }
            Action::Recover => ch.basic_recover(true).await,
            Action::ConfirmSelect => ch.confirm_select(ConfirmSelectArguments::new(false)).await,
            Action::TxSelect => ch.tx_select().await,
            Action::TxCommit => ch.tx_commit().await,
            Action::TxRollback => ch.tx_rollback().await,
            Action::RpcCall {
                exchange,
                routing_key,
                body,
            } => self.rpc_call(ci, &ch, exchange, routing_key, body).await,
            Action::Close | Action::Crash | Action::CloseChannel | Action::Restart => Ok(()),
        };
        if let Err(e) = r {
            // A refusal closes the channel and the callback records it; give it a moment.
            tokio::time::sleep(Duration::from_millis(20)).await;
            if ch.is_open() {
                self.shared
                    .note(format!("{client}: step {index} failed: {e}"));
            }
        }
        Ok(true)
    }

    async fn consume(
        &mut self,
        ci: usize,
        ch: &Channel,
        plan: Plan,
        tag: &str,
        exclusive: bool,
        priority: Option<i32>,
    ) -> AmqpResult<()> {
        if short(&plan.queue).is_err() || short(tag).is_err() {
            return Err(amqprs::error::Error::ChannelUseError(
                "name too long".into(),
            ));
        }
        let c = &self.clients[ci];
        let mut a = BasicConsumeArguments::new(&plan.queue, tag);
        a.no_ack = plan.auto_ack;
        a.exclusive = exclusive;
        if let Some(p) = priority {
            let mut args = amqprs::FieldTable::new();
            args.insert(
                "x-priority"
                    .try_into()
                    .map_err(|_| amqprs::error::Error::ChannelUseError("x-priority".into()))?,
                amqprs::FieldValue::I(p),
            );
            a.arguments = args;
        }
        let recorder = Recorder {
            client: c.spec.name.clone(),
            shared: self.shared.clone(),
            plan: plan.clone(),
            generation: c.state.generation.load(Ordering::SeqCst),
            work: c.work.clone(),
        };
        let state = c.state.clone();
        let r = ch.basic_consume(recorder, a).await;
        if let Ok(t) = &r {
            // A tag used again is a new consumer.
            lock(&state.cancelled).remove(t);
            lock(&state.gone).remove(t);
        }
        r.map(|_| ())
    }

    /// An RPC request: a reply queue on first use, then a publish with
    /// reply_to and a fresh correlation id, as the simulator's client does.
    async fn rpc_call(
        &mut self,
        ci: usize,
        ch: &Channel,
        exchange: &str,
        routing_key: &str,
        body: &str,
    ) -> AmqpResult<()> {
        let client = self.clients[ci].spec.name.clone();
        if self.clients[ci].rpc_queue.is_none() {
            let a = QueueDeclareArguments::new("").exclusive(true).finish();
            let Some((q, message_count, consumer_count)) = ch.queue_declare(a).await? else {
                return Ok(());
            };
            lock(&self.made).queues.insert(q.clone());
            self.shared.observe(Observation::Declared {
                at: self.shared.now(),
                client: client.clone(),
                queue: q.clone(),
                message_count,
                consumer_count,
            });
            let plan = Plan {
                queue: q.clone(),
                auto_ack: true,
                processing_ms: 0,
                on_message: OnMessage::Ack,
                requeue: false,
                reply: None,
                rpc_replies: true,
            };
            self.consume(ci, ch, plan, "", false, None).await?;
            self.clients[ci].rpc_queue = Some(q);
        }
        let c = &mut self.clients[ci];
        c.rpc_calls += 1;
        let props = BasicProperties {
            reply_to: c.rpc_queue.clone(),
            correlation_id: Some(format!("{}-{}", c.spec.name, c.rpc_calls)),
            ..BasicProperties::default()
        };
        let n = self.names();
        let x = self.resolve(exchange);
        let args =
            BasicPublishArguments::new(&n.real(&x), &n.routing_key(&x, &self.resolve(routing_key)));
        let props = props_to_wire(&props).map_err(amqprs::error::Error::ChannelUseError)?;
        let r = ch
            .basic_publish(props, body.as_bytes().to_vec(), args)
            .await;
        self.sync(ci, ch).await;
        r
    }

    /// Restarts the broker with the given command, or stops the run when
    /// there is none (Ok(false)): what follows a restart cannot be checked.
    async fn restart(&mut self) -> Result<bool, String> {
        let Some(cmd) = self.opts.restart_cmd.clone() else {
            self.shared
                .note("restart skipped: no --restart-cmd".to_string());
            return Ok(false);
        };
        let began = Instant::now();
        self.shared.restarting.store(true, Ordering::SeqCst);
        let status = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .status()
            .await
            .map_err(|e| format!("cannot run the restart command '{cmd}': {e}"))?;
        if !status.success() {
            self.shared.restarting.store(false, Ordering::SeqCst);
            return Err(format!("the restart command '{cmd}' failed: {status}"));
        }
        for c in &mut self.clients {
            c.state.lost_channel();
            c.channel = None;
            c.rpc_queue = None;
            if let Some(r) = c.remote.take() {
                r.relay.abort();
            }
        }
        if let Some((r, _, _)) = self.observer.take() {
            r.relay.abort();
        }
        // Wait for the broker to take connections again (a minute at most).
        let mut up = false;
        for _ in 0..120 {
            if let Ok(r) = self.admin_connect().await {
                close_quietly(r.conn.close()).await;
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.shared.restarting.store(false, Ordering::SeqCst);
        if !up {
            return Err("the broker did not come back after the restart".into());
        }
        // The virtual clock stands still while the broker restarts.
        *lock(&self.shared.paused) += began.elapsed();
        self.shared.note(format!(
            "restarted the broker in {} ms (not counted on the scenario's clock)",
            began.elapsed().as_millis()
        ));
        Ok(true)
    }

    /// Closes every connection cleanly and collects what the run saw.
    pub async fn finish(mut self) -> RemoteRun {
        self.shared.restarting.store(true, Ordering::SeqCst);
        for c in &mut self.clients {
            c.channel = None;
            if let Some(r) = c.remote.take() {
                if r.conn.is_open() {
                    close_quietly(r.conn.close()).await;
                }
                r.relay.abort();
            }
        }
        if let Some((r, _, _)) = self.observer.take() {
            close_quietly(r.conn.close()).await;
            r.relay.abort();
        }
        self.clients.clear();
        for w in self.workers.drain(..) {
            w.abort();
        }
        let observations = std::mem::take(&mut *lock(&self.shared.observations));
        let notes = std::mem::take(&mut *lock(&self.shared.notes));
        RemoteRun {
            observations,
            figures: std::mem::take(&mut self.figures),
            vars: std::mem::take(&mut self.vars),
            notes,
            prefix: self.shared.names.prefix.clone(),
            cut_at: self.cut_at,
        }
    }
}

/// Deletes everything a run made, on a connection of its own. Errors are
/// collected, not fatal: cleanup runs after failures too.
pub(crate) async fn cleanup(target: &Target, made: &Made) -> Vec<String> {
    let mut notes = Vec::new();
    if made.queues.is_empty() && made.exchanges.is_empty() {
        return notes;
    }
    let remote = match connect(target, &target.user, &target.password, &target.vhost).await {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!("cleanup: cannot connect: {e}"));
            return notes;
        }
    };
    let mut ch: Option<Channel> = None;
    let items = made
        .queues
        .iter()
        .map(|q| (true, q))
        .chain(made.exchanges.iter().map(|x| (false, x)));
    for (is_queue, name) in items {
        if name.is_empty() || name.starts_with("amq.") && !name.starts_with("amq.gen-") {
            continue;
        }
        if !ch.as_ref().is_some_and(|c| c.is_open()) {
            ch = remote.conn.open_channel(None).await.ok();
        }
        let Some(c) = &ch else {
            notes.push("cleanup: cannot open a channel".into());
            break;
        };
        let r = if is_queue {
            c.queue_delete(QueueDeleteArguments::new(name))
                .await
                .map(|_| ())
        } else {
            c.exchange_delete(ExchangeDeleteArguments::new(name)).await
        };
        // Exclusive queues are gone with their connections; a 404/405 there is expected.
        if let Err(e) = r {
            if !name.starts_with("amq.gen-") {
                notes.push(format!("cleanup: deleting '{name}': {e}"));
            }
        }
    }
    close_quietly(remote.conn.close()).await;
    remote.relay.abort();
    notes
}

/// Checks for tests: parse_url and reading close frames from errors.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_rabbitmq_writes_them() {
        let t = parse_url("amqp://u:p%40ss@broker.example:5673/%2F").expect("parses");
        assert_eq!(t.user, "u");
        assert_eq!(t.password, "p@ss");
        assert_eq!(t.host, "broker.example");
        assert_eq!(t.port, 5673);
        assert_eq!(t.vhost, "/");
        let t = parse_url("amqp://localhost").expect("parses");
        assert_eq!(
            (t.port, t.vhost.as_str(), t.user.as_str()),
            (5672, "/", "guest")
        );
        assert_eq!(parse_url("amqp://h/prod").expect("parses").vhost, "prod");
        assert!(parse_url("http://h").is_err());
        assert!(parse_url("amqp://h:xx/").is_err());
        assert!(parse_url("amqp://h/%zz").is_err());
    }

    #[test]
    fn close_frames_are_read_from_errors() {
        let e = r#"AMQP connection open error: failed to open connection, reason: Close(Close { reply_code: 530, reply_text: ShortStr(31, "NOT_ALLOWED - vhost x not found"), class_id: 10, method_id: 40 })"#;
        assert_eq!(
            close_in_error(e),
            Some((530, "NOT_ALLOWED - vhost x not found".to_string()))
        );
        assert_eq!(close_in_error("network error"), None);
    }

    #[test]
    fn replies_as_in_the_tutorial() {
        assert_eq!(compute_reply(ReplyWith::Fib, "10"), "55");
        assert_eq!(compute_reply(ReplyWith::Upper, "ab"), "AB");
    }

    #[test]
    fn field_tables_are_plain_json() {
        use warren_core::types::FieldTable;
        assert!(table_to_wire(&FieldTable::new()).is_ok());
    }
}
