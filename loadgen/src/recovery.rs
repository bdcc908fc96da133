//! The recovery workload: store many persistent messages, crash the broker (SIGKILL, no
//! chance to flush or tidy up), start it again and time until it serves them.
//!
//! The server issue asks that restart be fast "even with many stored messages"; what an
//! application sees after a crash is the time until it can connect *and* the queue
//! reports every confirmed message again, so both are reported. Only confirmed messages
//! are counted on: a broker owes nothing for the rest.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use amqprs::channel::BasicPublishArguments;
use amqprs::BasicProperties;
use tokio::process::{Child, Command};

use crate::confirm_window::Window;
use crate::session::{self, Link};
use crate::startup::{spawn, stop, wait_for_amqp};
use crate::target::Target;
use crate::{secs, Error, Field};

#[derive(clap::Args)]
pub struct Args {
    /// Persistent messages stored (and confirmed) before the crash.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 16)]
    body: usize,
    /// At most this many unconfirmed messages while storing them.
    #[arg(long, default_value_t = 1000)]
    confirm_window: usize,
    /// A shell command that kills the broker with SIGKILL (default: SIGKILL to the
    /// child; RabbitMQ's child is a wrapper script, so it needs the VM's pid).
    #[arg(long)]
    kill_cmd: Option<String>,
    /// A shell command that stops the broker at the end (default: SIGTERM to the child).
    #[arg(long)]
    stop_cmd: Option<String>,
    /// Where the broker's stdout and stderr go, both starts (default: discarded).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Give up on any one step (start, storing, recovering) after this many seconds.
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
    /// The broker command and its arguments, after `--`; it must keep its state in
    /// the same place on both starts.
    #[arg(required = true, last = true)]
    command: Vec<String>,
}

/// Pause between probes of the queue's depth after the restart.
const PROBE_INTERVAL: Duration = Duration::from_millis(5);

pub async fn run(target: &Target, args: Args) -> Result<Vec<Field>, Error> {
    if args.confirm_window == 0 {
        return Err(Error("--confirm-window must be at least 1".into()));
    }
    let timeout = secs(args.timeout, "--timeout")?;
    let queue = session::fresh_queue_name("recovery");

    let mut child = spawn(&args.command, args.log.as_deref(), false)?;
    let first = async {
        wait_for_amqp(target, &mut child, Instant::now(), timeout).await?;
        store(target, &queue, &args, timeout).await
    }
    .await;
    let stored_for = match first {
        Ok(took) => took,
        Err(e) => {
            stop(&mut child, args.stop_cmd.as_deref()).await;
            return Err(e);
        }
    };
    crash(&mut child, args.kill_cmd.as_deref()).await?;

    let start = Instant::now();
    let mut child = spawn(&args.command, args.log.as_deref(), true)?;
    let second = async {
        let accepting = wait_for_amqp(target, &mut child, start, timeout).await?;
        let serving = wait_for_depth(target, &queue, args.messages, start, timeout).await?;
        Ok::<_, Error>((accepting, serving))
    }
    .await;
    let deleted = match &second {
        Ok(_) => session::delete_queue(target, &queue).await,
        Err(_) => Ok(()),
    };
    stop(&mut child, args.stop_cmd.as_deref()).await;
    let (accepting, serving) = second?;
    deleted?;
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    eprintln!(
        "recovery: {} confirmed messages stored in {:.1} s; after kill -9 the broker accepted AMQP in {} ms and reported them all in {} ms",
        args.messages,
        stored_for.as_secs_f64(),
        ms(accepting),
        ms(serving)
    );
    Ok(vec![
        ("accepting_ms", ms(accepting)),
        ("recovered_ms", ms(serving)),
        ("messages", args.messages.to_string()),
        ("store_s", format!("{:.2}", stored_for.as_secs_f64())),
    ])
}

/// Declares a durable queue and publishes `messages` persistent messages to it in
/// confirm mode, returning once every one is confirmed (a nack fails the run).
async fn store(
    target: &Target,
    queue: &str,
    args: &Args,
    timeout: Duration,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let link = Link::open(target, "loadgen-recovery").await?;
    session::declare_queue(&link.channel, queue, true).await?;
    let (slots, sent, nacks) = Window::enable(&link.channel, args.confirm_window).await?;
    let publish = BasicPublishArguments::new("", queue);
    let mut properties = BasicProperties::default();
    properties.with_persistence(true);
    let properties = properties.finish();
    let body = vec![b'x'; args.body];
    let deadline = started + timeout;
    for _ in 0..args.messages {
        let permit = tokio::time::timeout_at(deadline.into(), slots.acquire())
            .await
            .map_err(|_| Error(format!("storing took over {timeout:?}")))?
            .map_err(|_| Error("the broker closed the channel while storing".into()))?;
        permit.forget();
        sent.fetch_add(1, Ordering::Release);
        link.channel
            .basic_publish(properties.clone(), body.clone(), publish.clone())
            .await
            .map_err(|e| Error(format!("publishing: {e}")))?;
    }
    // Every slot back means every message confirmed.
    let all = u32::try_from(args.confirm_window).unwrap_or(u32::MAX);
    let confirmed = tokio::time::timeout_at(deadline.into(), slots.acquire_many(all))
        .await
        .map_err(|_| Error(format!("confirms still missing after {timeout:?}")))?
        .map_err(|_| Error("the broker closed the channel before confirming".into()))?;
    drop(confirmed);
    let stored_for = started.elapsed();
    link.close().await;
    match nacks.load(Ordering::Relaxed) {
        0 => Ok(stored_for),
        n => Err(Error(format!("the broker nacked {n} messages"))),
    }
}

/// Kills the broker with SIGKILL (or the given command) and waits for the child to end.
async fn crash(child: &mut Child, kill_cmd: Option<&str>) -> Result<(), Error> {
    match kill_cmd {
        Some(cmd) => {
            let status = Command::new("sh")
                .args(["-c", cmd])
                .status()
                .await
                .map_err(|e| Error(format!("running the kill command: {e}")))?;
            if !status.success() {
                return Err(Error(format!("the kill command failed ({status})")));
            }
        }
        None => child
            .start_kill()
            .map_err(|e| Error(format!("killing the broker: {e}")))?,
    }
    match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error(format!("waiting for the killed broker: {e}"))),
        Err(_) => {
            let _ = child.kill().await;
            Err(Error(
                "the broker was still running 30 s after the kill".into(),
            ))
        }
    }
}

/// Probes the queue's depth (a passive declare on a fresh connection each time, since
/// a queue still being recovered may close the channel) until it reports `expected`.
async fn wait_for_depth(
    target: &Target,
    queue: &str,
    expected: u64,
    start: Instant,
    timeout: Duration,
) -> Result<Duration, Error> {
    let mut last = None;
    loop {
        if let Ok(link) = Link::open(target, "loadgen-recovery-probe").await {
            let depth = session::queued(&link.channel, queue).await;
            link.close().await;
            match depth {
                Ok(depth) if depth >= expected => return Ok(start.elapsed()),
                Ok(depth) => last = Some(depth),
                Err(_) => {}
            }
        }
        if start.elapsed() > timeout {
            return Err(Error(match last {
                Some(depth) => {
                    format!("only {depth} of {expected} messages back after {timeout:?}")
                }
                None => format!("queue {queue} not back after {timeout:?}"),
            }));
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}
