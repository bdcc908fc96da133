//! The startup workload: spawn the broker and time until an AMQP client gets through the
//! handshake (connection.open-ok), which is when an application can start working.
//!
//! A listening socket alone does not count: a broker may accept TCP before it can
//! serve (RabbitMQ opens its listener late in boot, but a proxy in front would not).
//! So each probe first tries a plain TCP connect, cheap to repeat every millisecond, and
//! only then a full client handshake.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::target::Target;
use crate::{secs, Error, Field};

#[derive(clap::Args)]
pub struct Args {
    /// Give up when the broker does not accept AMQP within this many seconds.
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// A shell command that stops the broker afterwards (default: SIGTERM to the child).
    #[arg(long)]
    stop_cmd: Option<String>,
    /// Where the broker's stdout and stderr go (default: discarded).
    #[arg(long)]
    log: Option<PathBuf>,
    /// The broker command and its arguments, after `--`.
    #[arg(required = true, last = true)]
    command: Vec<String>,
}

/// Pause between probes while the broker is not listening yet.
const PROBE_INTERVAL: Duration = Duration::from_millis(1);

/// How long a stopping broker gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(30);

pub async fn run(target: &Target, args: Args) -> Result<Vec<Field>, Error> {
    let timeout = secs(args.timeout, "--timeout")?;
    let program = args.command.first().cloned().unwrap_or_default();
    let start = Instant::now();
    let mut child = spawn(&args.command, args.log.as_deref(), false)?;
    let ready = wait_for_amqp(target, &mut child, start, timeout).await;
    stop(&mut child, args.stop_cmd.as_deref()).await;
    let ready = ready?;
    eprintln!(
        "startup: {program} accepted AMQP after {:.1} ms",
        ready.as_secs_f64() * 1000.0
    );
    Ok(vec![("ms", format!("{:.1}", ready.as_secs_f64() * 1000.0))])
}

/// Starts `command` (the program, then its arguments) with its output going to `log`
/// (appended to when `append`, so a second start keeps the first one's lines) or
/// nowhere.
pub fn spawn(command: &[String], log: Option<&Path>, append: bool) -> Result<Child, Error> {
    let (program, rest) = command
        .split_first()
        .ok_or_else(|| Error("no broker command given".into()))?;
    let mut broker = Command::new(program);
    broker.args(rest).stdin(Stdio::null());
    match log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .map_err(|e| Error(format!("opening {}: {e}", path.display())))?;
            let copy = file
                .try_clone()
                .map_err(|e| Error(format!("{}: {e}", path.display())))?;
            broker.stdout(file).stderr(copy);
        }
        None => {
            broker.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    broker
        .spawn()
        .map_err(|e| Error(format!("starting {program}: {e}")))
}

/// Probes until a handshake succeeds; fails when the child exits or time runs out.
pub async fn wait_for_amqp(
    target: &Target,
    child: &mut Child,
    start: Instant,
    timeout: Duration,
) -> Result<Duration, Error> {
    let address = (target.host.as_str(), target.port);
    loop {
        if TcpStream::connect(address).await.is_ok() {
            if let Ok(connection) = target.connect("loadgen-startup-probe").await {
                let ready = start.elapsed();
                let _ = connection.close().await;
                return Ok(ready);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Error(format!(
                "the broker exited before accepting AMQP ({status})"
            )));
        }
        if start.elapsed() > timeout {
            return Err(Error(format!("no AMQP handshake within {timeout:?}")));
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

/// Stops the broker: the stop command, or SIGTERM; killed if still there after a grace.
pub async fn stop(child: &mut Child, stop_cmd: Option<&str>) {
    let stopped = match stop_cmd {
        Some(cmd) => Command::new("sh").args(["-c", cmd]).status().await,
        None => match child.id() {
            Some(pid) => {
                Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await
            }
            None => return, // already reaped
        },
    };
    if let Err(e) = stopped {
        eprintln!("startup: stopping the broker: {e}");
    }
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        eprintln!("startup: the broker did not stop within {STOP_GRACE:?}; killing it");
        let _ = child.kill().await;
    }
}
