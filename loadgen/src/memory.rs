//! The memory workload: queue N small messages with no consumer and see how much more
//! RAM the broker process holds.
//!
//! The baseline is read after the connection and queue exist, so the growth is the
//! messages' cost alone. The second reading waits until the broker itself reports all N
//! messages queued (a passive declare), then a settle time, so lazily finished work
//! (RabbitMQ's queue process catching up with its mailbox) is included.

use std::time::{Duration, Instant};

use amqprs::channel::BasicPublishArguments;
use amqprs::BasicProperties;

use crate::procfs;
use crate::session::{self, Link};
use crate::target::Target;
use crate::{secs, Error, Field};

#[derive(clap::Args)]
pub struct Args {
    /// The broker's process id (whose /proc/PID/status is read).
    #[arg(long)]
    pid: u32,
    /// Messages to queue.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 16)]
    body: usize,
    /// Seconds to wait after the broker reports the messages queued.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Give up when the messages are not all queued after this many seconds.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
}

pub async fn run(target: &Target, args: Args) -> Result<Vec<Field>, Error> {
    let settle = secs(args.settle, "--settle")?;
    let timeout = secs(args.timeout, "--timeout")?;
    let queue = session::fresh_queue_name("memory");
    let link = Link::open(target, "loadgen-memory").await?;
    session::declare_queue(&link.channel, &queue, false).await?;
    let outcome = fill_and_measure(&link, &queue, &args, settle, timeout).await;
    link.close().await;
    let deleted = session::delete_queue(target, &queue).await;
    let fields = outcome?;
    deleted?;
    Ok(fields)
}

async fn fill_and_measure(
    link: &Link,
    queue: &str,
    args: &Args,
    settle: Duration,
    timeout: Duration,
) -> Result<Vec<Field>, Error> {
    let before = procfs::rss(args.pid)?;
    eprintln!(
        "memory: broker pid {} at {:.1} MiB; queueing {} messages of {} bytes",
        args.pid,
        mib(before),
        args.messages,
        args.body
    );
    let start = Instant::now();
    let publish = BasicPublishArguments::new("", queue);
    let properties = BasicProperties::default();
    let body = vec![b'x'; args.body];
    for _ in 0..args.messages {
        link.channel
            .basic_publish(properties.clone(), body.clone(), publish.clone())
            .await
            .map_err(|e| Error(format!("publishing: {e}")))?;
    }
    let depth = loop {
        let depth = session::queued(&link.channel, queue).await?;
        if depth >= args.messages {
            break depth;
        }
        if start.elapsed() > timeout {
            return Err(Error(format!(
                "only {depth} of {} messages queued after {timeout:?}",
                args.messages
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let queued_after = start.elapsed();
    tokio::time::sleep(settle).await;
    let after = procfs::rss(args.pid)?;
    let growth = after.saturating_sub(before);
    let per_message = growth as f64 / args.messages as f64;
    eprintln!(
        "memory: {depth} queued after {queued_after:.1?}; {:.1} MiB → {:.1} MiB: +{:.1} MiB, {per_message:.0} bytes per message",
        mib(before),
        mib(after),
        mib(growth)
    );
    Ok(vec![
        ("rss_before", before.to_string()),
        ("rss_after", after.to_string()),
        ("growth_bytes", growth.to_string()),
        ("bytes_per_message", format!("{per_message:.1}")),
        ("fill_s", format!("{:.2}", queued_after.as_secs_f64())),
    ])
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
