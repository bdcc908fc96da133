//! The latency workload: a fixed publish rate, well below saturation, and the time from
//! just before `basic.publish` to the delivery reaching the consumer.
//!
//! The send time travels in the body (8 bytes, nanoseconds since the run started), so
//! nothing is kept per message on the client and publisher and consumer share one clock.
//! Publishing is paced by tokio's timer, whose resolution is 1 ms: at 10k msg/s the
//! messages go out in bursts of about ten per millisecond, for both brokers alike.

use std::time::{Duration, Instant};

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
    let publisher = Link::open(target, "loadgen-latency-publisher").await?;
    eprintln!(
        "latency: {} msg/s of {} bytes; warm-up {warmup:?}, recording {:?}",
        args.rate,
        args.body,
        total - warmup
    );

    let epoch = Instant::now();
    let planned = (total.as_secs_f64() * args.rate) as u64;
    let receiving = tokio::spawn(receive(deliveries, epoch, warmup, total, planned));
    let cpu = tokio::spawn(cpu_after_warmup(args.pid, warmup, total - warmup));
    let sent = publish(
        &publisher.channel,
        &queue,
        args.body,
        args.rate,
        epoch,
        total,
    )
    .await;
    let received = receiving
        .await
        .map_err(|e| Error(format!("the consumer task failed: {e}")));
    publisher.close().await;
    consumer.close().await;
    let deleted = session::delete_queue(target, &queue).await;
    let sent = sent?;
    let Received {
        samples,
        count,
        malformed,
    } = received?;
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

/// Publishes `rate` messages per second for `span`; returns how many were sent.
async fn publish(
    channel: &Channel,
    queue: &str,
    body_len: usize,
    rate: f64,
    epoch: Instant,
    span: Duration,
) -> Result<u64, Error> {
    let args = BasicPublishArguments::new("", queue);
    let properties = BasicProperties::default();
    let mut body = vec![b'x'; body_len];
    let planned = (span.as_secs_f64() * rate) as u64;
    let mut sent = 0u64;
    while sent < planned {
        let due = ((epoch.elapsed().as_secs_f64() * rate) as u64 + 1).min(planned);
        while sent < due {
            body[..8].copy_from_slice(&stamp(epoch).to_le_bytes());
            channel
                .basic_publish(properties.clone(), body.clone(), args.clone())
                .await
                .map_err(|e| Error(format!("publishing: {e}")))?;
            sent += 1;
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    Ok(sent)
}

struct Received {
    /// Latencies in nanoseconds of the messages sent after the warm-up.
    samples: Vec<u64>,
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
        samples: Vec::with_capacity(usize::try_from(planned).unwrap_or(0)),
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
            Some(sent_at) if sent_at >= from => received.samples.push(now.saturating_sub(sent_at)),
            Some(_) => {}
            None => received.malformed += 1,
        }
    }
    received
}
