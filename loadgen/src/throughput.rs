//! The throughput workload: publishers and consumers on one queue, nothing throttled.
//!
//! The figure reported is *consumed* msg/s over the measured span, after a warm-up:
//! publishing faster than the broker can deliver only fills the queue, so the consumed
//! rate is what a system built on the broker can sustain.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amqprs::channel::{BasicAckArguments, BasicPublishArguments};
use amqprs::BasicProperties;

use crate::clients::{stopping, Clients, Ready, Stop};
use crate::confirm_window::Window;
use crate::procfs::CpuUse;
use crate::session::{self, Link};
use crate::target::Target;
use crate::{secs, Error, Field};

#[derive(clap::Args)]
pub struct Args {
    /// Publishing connections.
    #[arg(long, default_value_t = 1)]
    publishers: usize,
    /// Consuming connections.
    #[arg(long, default_value_t = 1)]
    consumers: usize,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 16)]
    body: usize,
    /// Persistent messages (delivery mode 2) to a durable queue.
    #[arg(long)]
    persistent: bool,
    /// Publisher confirms with at most this many unconfirmed messages per publisher
    /// (0: no confirms).
    #[arg(long, default_value_t = 0)]
    confirm_window: usize,
    /// Consumers ack every N deliveries with `multiple` (0: no-ack consumers).
    #[arg(long, default_value_t = 0)]
    ack_every: u64,
    /// Consumer prefetch with manual acks (0: unlimited).
    #[arg(long, default_value_t = 0)]
    prefetch: u16,
    /// Seconds to run before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The broker's process id, to report the CPU it used beside the load generator's.
    #[arg(long)]
    pid: Option<u32>,
}

/// Messages counted by the publisher and consumer tasks.
#[derive(Default)]
struct Counters {
    published: AtomicU64,
    consumed: AtomicU64,
}

pub async fn run(target: &Target, args: Args) -> Result<Vec<Field>, Error> {
    if args.ack_every > 0 && args.prefetch > 0 && args.ack_every > u64::from(args.prefetch) {
        return Err(Error(
            "--ack-every larger than --prefetch would stall the consumers".into(),
        ));
    }
    let warmup = secs(args.warmup, "--warmup")?;
    let measured = secs(args.seconds, "--seconds")?;
    let queue = session::fresh_queue_name("throughput");
    let admin = Link::open(target, "loadgen-admin").await?;
    session::declare_queue(&admin.channel, &queue, args.persistent).await?;
    admin.close().await;

    eprintln!(
        "throughput: {} publisher(s), {} consumer(s), {}-byte {} messages{}; warm-up {:?}, measuring {:?}",
        args.publishers,
        args.consumers,
        args.body,
        if args.persistent { "persistent" } else { "transient" },
        if args.confirm_window > 0 {
            format!(", confirms (window {})", args.confirm_window)
        } else {
            String::new()
        },
        warmup,
        measured,
    );
    let counters = Arc::new(Counters::default());
    let mut clients = Clients::new();
    let measurement = measure(
        target,
        &args,
        &queue,
        &counters,
        &mut clients,
        warmup,
        measured,
    )
    .await;
    let finished = clients.finish().await;
    let deleted = session::delete_queue(target, &queue).await;
    let Measured {
        consumed,
        published,
        nacks,
        cpu,
    } = measurement?;
    finished?;
    deleted?;
    eprintln!(
        "throughput: consumed {consumed:.0} msg/s, published {published:.0} msg/s, {nacks} nacks; CPU: {}",
        cpu.describe()
    );
    let mut fields = vec![
        ("consumed_per_s", format!("{consumed:.0}")),
        ("published_per_s", format!("{published:.0}")),
        ("nacks", nacks.to_string()),
    ];
    fields.extend(cpu.fields());
    Ok(fields)
}

/// What the measured span showed.
struct Measured {
    consumed: f64,
    published: f64,
    nacks: u64,
    cpu: CpuUse,
}

/// Starts the consumers, then the publishers, and measures.
async fn measure(
    target: &Target,
    args: &Args,
    queue: &str,
    counters: &Arc<Counters>,
    clients: &mut Clients,
    warmup: Duration,
    measured: Duration,
) -> Result<Measured, Error> {
    for i in 0..args.consumers {
        let consumer = Consumer {
            target: target.clone(),
            name: format!("loadgen-consumer-{i}"),
            queue: queue.to_string(),
            ack_every: args.ack_every,
            prefetch: args.prefetch,
            counters: counters.clone(),
        };
        clients
            .start(consumer.name.clone(), move |ready, stop| {
                consumer.run(ready, stop)
            })
            .await?;
    }
    let nacks = Arc::new(AtomicU64::new(0));
    for i in 0..args.publishers {
        let publisher = Publisher {
            target: target.clone(),
            name: format!("loadgen-publisher-{i}"),
            queue: queue.to_string(),
            properties: properties(args.persistent),
            body: vec![b'x'; args.body],
            confirm_window: args.confirm_window,
            counters: counters.clone(),
            nacks: nacks.clone(),
        };
        clients
            .start(publisher.name.clone(), move |ready, stop| {
                publisher.run(ready, stop)
            })
            .await?;
    }
    clients.watch(warmup).await?;
    let meter = CpuUse::meter(args.pid)?;
    let (consumed0, published0, start) = snapshot(counters);
    clients.watch(measured).await?;
    let (consumed1, published1, end) = snapshot(counters);
    let cpu = CpuUse::read(&meter)?;
    let elapsed = end.duration_since(start).as_secs_f64();
    Ok(Measured {
        consumed: (consumed1 - consumed0) as f64 / elapsed,
        published: (published1 - published0) as f64 / elapsed,
        nacks: nacks.load(Ordering::Relaxed),
        cpu,
    })
}

fn properties(persistent: bool) -> BasicProperties {
    let mut properties = BasicProperties::default();
    if persistent {
        properties.with_persistence(true);
    }
    properties.finish()
}

fn snapshot(counters: &Counters) -> (u64, u64, Instant) {
    (
        counters.consumed.load(Ordering::Relaxed),
        counters.published.load(Ordering::Relaxed),
        Instant::now(),
    )
}

/// One publishing connection.
struct Publisher {
    target: Target,
    name: String,
    queue: String,
    properties: BasicProperties,
    body: Vec<u8>,
    confirm_window: usize,
    counters: Arc<Counters>,
    nacks: Arc<AtomicU64>,
}

impl Publisher {
    /// Publishes to the default exchange as fast as the client, the socket and (with
    /// confirms) the window allow, until told to stop.
    async fn run(self, ready: Ready, mut stop: Stop) -> Result<(), Error> {
        let link = Link::open(&self.target, &self.name).await?;
        let window = if self.confirm_window > 0 {
            Some(Window::enable(&link.channel, self.confirm_window).await?)
        } else {
            None
        };
        let _ = ready.send(());
        let args = BasicPublishArguments::new("", &self.queue);
        while !stopping(&stop) {
            if let Some((slots, sent, _)) = &window {
                let permit = match slots.try_acquire() {
                    Ok(permit) => permit,
                    Err(_) => tokio::select! {
                        _ = stop.changed() => break,
                        permit = slots.acquire() => permit
                            .map_err(|_| Error("the broker closed the publisher channel".into()))?,
                    },
                };
                permit.forget();
                sent.fetch_add(1, Ordering::Release);
            }
            link.channel
                .basic_publish(self.properties.clone(), self.body.clone(), args.clone())
                .await
                .map_err(|e| Error(format!("publishing: {e}")))?;
            self.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((_, _, nacks)) = &window {
            self.nacks
                .fetch_add(nacks.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        link.close().await;
        Ok(())
    }
}

/// One consuming connection.
struct Consumer {
    target: Target,
    name: String,
    queue: String,
    ack_every: u64,
    prefetch: u16,
    counters: Arc<Counters>,
}

impl Consumer {
    /// Counts deliveries, acking every `ack_every` with `multiple` (none when 0), until
    /// told to stop.
    async fn run(self, ready: Ready, mut stop: Stop) -> Result<(), Error> {
        let link = Link::open(&self.target, &self.name).await?;
        let mut deliveries =
            session::consume(&link.channel, &self.queue, self.ack_every, self.prefetch).await?;
        let _ = ready.send(());
        let mut unacked = 0;
        loop {
            let message = tokio::select! {
                _ = stop.changed() => break,
                message = deliveries.recv() => match message {
                    Some(message) => message,
                    None => return Err(Error("the broker ended the consumer".into())),
                },
            };
            self.counters.consumed.fetch_add(1, Ordering::Relaxed);
            if self.ack_every == 0 {
                continue;
            }
            unacked += 1;
            if unacked >= self.ack_every {
                let Some(deliver) = message.deliver else {
                    continue;
                };
                link.channel
                    .basic_ack(BasicAckArguments::new(deliver.delivery_tag(), true))
                    .await
                    .map_err(|e| Error(format!("acking: {e}")))?;
                unacked = 0;
            }
        }
        link.close().await;
        Ok(())
    }
}
