//! The latency workload: a fixed publish rate, well below saturation, and the time from
//! just before `basic.publish` to the delivery reaching the consumer.
//!
//! The send time travels in the body (8 bytes, nanoseconds since the run started), so
//! nothing is kept per message on the client and publisher and consumer share one clock.
//!
//! Pacing (`--pacing`): `timer` (the default, and what the bench runs) publishes what is
//! due each time tokio's timer wakes the publisher; its resolution is 1 ms, so at 10k
//! msg/s the messages go out in bursts of ten to seventeen, for both brokers alike, each
//! stamped before the client has written the ones ahead of it. `even` sends one message
//! every 1/rate seconds from a publisher thread of its own that sleeps to each due time.
//! `loadgen/wire_latency.py --split` shows what each costs the client (BENCHMARKS.md).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use amqprs::channel::{BasicPublishArguments, Channel, ConsumerMessage};
use amqprs::BasicProperties;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::percentile::Sorted;
use crate::procfs::CpuUse;
use crate::session::{self, Link};
use crate::target::Target;
use crate::{secs, Error, Field};

#[derive(clap::Args)]
pub struct Args {
    /// Messages per second.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Message body size in bytes (at least 8: the send time).
    #[arg(long, default_value_t = 16)]
    body: usize,
    /// Seconds before latencies are recorded.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds recorded.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The broker's process id, to report the CPU it used beside the load generator's.
    #[arg(long)]
    pid: Option<u32>,
    /// How the publisher keeps the rate: `timer` (tokio's 1 ms timer: bursts) or
    /// `even` (one message every 1/rate s).
    #[arg(long, value_enum, default_value_t = Pacing::Timer)]
    pacing: Pacing,
    /// Write each recorded message's send and receive times to this file (first line:
    /// the wall-clock nanoseconds at the run's start; then `sent received`, both in
    /// nanoseconds from it), for `loadgen/wire_latency.py --split`.
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Pacing {
    /// Bursts: whatever is due each time tokio's 1 ms timer fires.
    Timer,
    /// One message every 1/rate seconds, from a thread that sleeps to each due time.
    Even,
}

/// How long the consumer waits for stragglers after the last publish.
const DRAIN: Duration = Duration::from_secs(2);

pub async fn run(target: &Target, args: Args) -> Result<Vec<Field>, Error> {
    if args.body < 8 {
        return Err(Error("--body must hold the 8-byte send time".into()));
    }
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err(Error("--rate must be a positive number".into()));
    }
    let warmup = secs(args.warmup, "--warmup")?;
    let total = warmup + secs(args.seconds, "--seconds")?;
    let queue = session::fresh_queue_name("latency");
    let consumer = Link::open(target, "loadgen-latency-consumer").await?;
    session::declare_queue(&consumer.channel, &queue, false).await?;
    let deliveries = session::consume(&consumer.channel, &queue, 0, 0).await?;
    eprintln!(
        "latency: {} msg/s of {} bytes, {} pacing; warm-up {warmup:?}, recording {:?}",
        args.rate,
        args.body,
        match args.pacing {
            Pacing::Even => "even",
            Pacing::Timer => "timer",
        },
        total - warmup
    );

    let epoch = Instant::now();
    let epoch_wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let plan = Plan {
        target: target.clone(),
        queue: queue.clone(),
        body_len: args.body,
        rate: args.rate,
        epoch,
        span: total,
    };
    let receiving = tokio::spawn(receive(deliveries, epoch, warmup, total, plan.planned()));
    let cpu = tokio::spawn(cpu_after_warmup(args.pid, warmup, total - warmup));
    let sent = match args.pacing {
        Pacing::Timer => plan.publish(Pacing::Timer).await,
        Pacing::Even => plan.publish_evenly().await,
    };
    let received = receiving
        .await
        .map_err(|e| Error(format!("the consumer task failed: {e}")));
    consumer.close().await;
    let deleted = session::delete_queue(target, &queue).await;
    if let (Some(path), Ok(received)) = (&args.dump, &received) {
        dump(path, epoch_wall, &received.pairs)?;
    }
    let sent = sent?;
    let Received {
        pairs,
        count,
        malformed,
    } = received?;
    let samples = pairs
        .iter()
        .map(|(sent, got)| got.saturating_sub(*sent))
        .collect();
    deleted?;
    let cpu = cpu
        .await
        .map_err(|e| Error(format!("the CPU meter failed: {e}")))??;

    let sorted = Sorted::new(samples);
    let us = |p: f64| sorted.percentile(p).map_or(0.0, |ns| ns as f64 / 1000.0);
    let (p50, p99, p999, max) = (us(50.0), us(99.0), us(99.9), us(100.0));
    eprintln!(
        "latency: sent {sent}, received {count}, recorded {}; p50 {p50:.0} µs, p99 {p99:.0} µs, p99.9 {p999:.0} µs, max {max:.0} µs",
        sorted.len()
    );
    eprintln!("latency: CPU: {}", cpu.describe());
    if malformed > 0 {
        return Err(Error(format!("{malformed} deliveries had no send time")));
    }
    if sorted.len() == 0 {
        return Err(Error("no message arrived in the recorded span".into()));
    }
    let mut fields = vec![
        ("p50_us", format!("{p50:.0}")),
        ("p99_us", format!("{p99:.0}")),
        ("p999_us", format!("{p999:.0}")),
        ("max_us", format!("{max:.0}")),
        ("sent", sent.to_string()),
        ("received", count.to_string()),
    ];
    fields.extend(cpu.fields());
    Ok(fields)
}

/// The CPU used over the recorded span (after the warm-up).
async fn cpu_after_warmup(
    broker: Option<u32>,
    warmup: Duration,
    recorded: Duration,
) -> Result<CpuUse, Error> {
    tokio::time::sleep(warmup).await;
    let meter = CpuUse::meter(broker)?;
    tokio::time::sleep(recorded).await;
    CpuUse::read(&meter)
}

/// Nanoseconds since `epoch`, as sent in bodies.
fn stamp(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What the publisher is to send: `rate` messages per second for `span` from `epoch`.
struct Plan {
    target: Target,
    queue: String,
    body_len: usize,
    rate: f64,
    epoch: Instant,
    span: Duration,
}

impl Plan {
    fn planned(&self) -> u64 {
        (self.span.as_secs_f64() * self.rate) as u64
    }

    /// When message `n` is due.
    fn due(&self, n: u64) -> Instant {
        self.epoch + Duration::from_secs_f64(n as f64 / self.rate)
    }

    /// Publishes the plan on this task; returns how many were sent.
    ///
    /// `Timer`: whatever is due each time tokio's timer wakes the task (1 ms
    /// resolution: bursts of ten or more at 10k msg/s). `Even`: each message at its due
    /// time, sleeping the thread (not on tokio's timer) until then, so this must run on
    /// a thread of its own ([`Plan::publish_evenly`]). A message found late goes at
    /// once, so the rate holds on average; its stamp is the time it was really sent.
    async fn publish(&self, pacing: Pacing) -> Result<u64, Error> {
        let link = Link::open(&self.target, "loadgen-latency-publisher").await?;
        let mut sender = Sender::new(&link.channel, &self.queue, self.body_len);
        let planned = self.planned();
        let mut sent = 0u64;
        let outcome = async {
            while sent < planned {
                match pacing {
                    Pacing::Timer => {
                        let elapsed = self.epoch.elapsed().as_secs_f64();
                        let due = ((elapsed * self.rate) as u64 + 1).min(planned);
                        while sent < due {
                            sender.send(self.epoch).await?;
                            sent += 1;
                        }
                        tokio::time::sleep(Duration::from_micros(500)).await;
                    }
                    Pacing::Even => {
                        let wait = self.due(sent).saturating_duration_since(Instant::now());
                        if !wait.is_zero() {
                            // Blocks this thread, which has nothing else to do meanwhile:
                            // the client's tasks for this connection ran at the yield.
                            std::thread::sleep(wait);
                        }
                        sender.send(self.epoch).await?;
                        sent += 1;
                        // Lets the client's writer task put this message on the socket
                        // now, before the thread sleeps for the next one.
                        tokio::task::yield_now().await;
                    }
                }
            }
            Ok(sent)
        }
        .await;
        link.close().await;
        outcome
    }

    /// [`Plan::publish`] with even pacing, on a thread of its own with a
    /// single-threaded runtime, since it sleeps that thread between messages.
    async fn publish_evenly(self) -> Result<u64, Error> {
        let thread = std::thread::Builder::new()
            .name("loadgen-latency-publisher".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error(format!("starting a runtime: {e}")))?;
                runtime.block_on(self.publish(Pacing::Even))
            })
            .map_err(|e| Error(format!("starting the publisher thread: {e}")))?;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|e| Error(format!("waiting for the publisher: {e}")))?
            .map_err(|_| Error("the publisher thread panicked".into()))?
    }
}

/// Publishes stamped messages on one channel.
struct Sender<'a> {
    channel: &'a Channel,
    args: BasicPublishArguments,
    properties: BasicProperties,
    body: Vec<u8>,
}

impl<'a> Sender<'a> {
    fn new(channel: &'a Channel, queue: &str, body_len: usize) -> Sender<'a> {
        Sender {
            channel,
            args: BasicPublishArguments::new("", queue),
            properties: BasicProperties::default(),
            body: vec![b'x'; body_len],
        }
    }

    /// Stamps the body with the time now and publishes it.
    async fn send(&mut self, epoch: Instant) -> Result<(), Error> {
        self.body[..8].copy_from_slice(&stamp(epoch).to_le_bytes());
        self.channel
            .basic_publish(
                self.properties.clone(),
                self.body.clone(),
                self.args.clone(),
            )
            .await
            .map_err(|e| Error(format!("publishing: {e}")))
    }
}

/// Writes the recorded send and receive times (see `--dump`).
fn dump(path: &std::path::Path, epoch_wall: u128, pairs: &[(u64, u64)]) -> Result<(), Error> {
    let mut out = format!("{epoch_wall}\n");
    for (sent, received) in pairs {
        out.push_str(&format!("{sent} {received}\n"));
    }
    std::fs::write(path, out).map_err(|e| Error(format!("writing {}: {e}", path.display())))
}

struct Received {
    /// Send and receive times (nanoseconds from the epoch) of the messages sent after
    /// the warm-up.
    pairs: Vec<(u64, u64)>,
    count: u64,
    malformed: u64,
}

/// Records each delivery's latency until all `planned` messages arrived, or `DRAIN`
/// after the last one was due (at `total` from `epoch`).
async fn receive(
    mut deliveries: UnboundedReceiver<ConsumerMessage>,
    epoch: Instant,
    warmup: Duration,
    total: Duration,
    planned: u64,
) -> Received {
    let from = u64::try_from(warmup.as_nanos()).unwrap_or(u64::MAX);
    let mut received = Received {
        pairs: Vec::with_capacity(usize::try_from(planned).unwrap_or(0)),
        count: 0,
        malformed: 0,
    };
    let give_up = tokio::time::sleep_until((epoch + total + DRAIN).into());
    tokio::pin!(give_up);
    while received.count < planned {
        let message = tokio::select! {
            _ = &mut give_up => break,
            message = deliveries.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let now = stamp(epoch);
        received.count += 1;
        let sent_at = message
            .content
            .as_deref()
            .and_then(|body| body.get(..8))
            .and_then(|bytes| bytes.try_into().ok())
            .map(u64::from_le_bytes);
        match sent_at {
            Some(sent_at) if sent_at >= from => received.pairs.push((sent_at, now)),
            Some(_) => {}
            None => received.malformed += 1,
        }
    }
    received
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rate: f64, span: Duration) -> Plan {
        Plan {
            target: Target::parse("amqp://guest:guest@127.0.0.1:5672/%2F").expect("a valid URL"),
            queue: "q".into(),
            body_len: 16,
            rate,
            epoch: Instant::now(),
            span,
        }
    }

    #[test]
    fn even_pacing_spaces_messages_by_one_over_the_rate() {
        let plan = plan(10_000.0, Duration::from_secs(2));
        assert_eq!(plan.planned(), 20_000);
        assert_eq!(plan.due(0), plan.epoch);
        let gap = plan.due(11) - plan.due(10);
        assert!(gap.abs_diff(Duration::from_micros(100)) < Duration::from_nanos(10));
        let last = plan.due(19_999) - plan.epoch;
        assert!(last.abs_diff(Duration::from_micros(1_999_900)) < Duration::from_micros(1));
    }

    #[test]
    fn dump_writes_the_start_then_one_line_per_message() {
        let path = std::env::temp_dir().join(format!("loadgen-dump-{}.txt", std::process::id()));
        dump(&path, 1_733_000_000_123_456_789, &[(10, 250), (110, 400)]).expect("written");
        let text = std::fs::read_to_string(&path).expect("readable");
        let _ = std::fs::remove_file(&path);
        assert_eq!(text, "1733000000123456789\n10 250\n110 400\n");
    }
}
