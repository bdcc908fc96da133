//! Runs a warren scenario against a real AMQP 0-9-1 broker (RabbitMQ, or
//! `warren serve`) and checks the same expectations the simulator checks.
//!
//! A scenario states what clients observe; this crate plays its clients over
//! real connections (one per scenario client, with amqprs) on a real clock
//! scaled from the virtual one, records the same `Observation`s the simulator
//! records, and hands them to warren-core's checker through `Observed`. So a
//! scenario that passes here and in the simulator is evidence the simulator
//! behaves like the broker; `diff` shows where they part.
//!
//! See README.md for what cannot be observed over AMQP and how names are
//! isolated per run.

mod cli;
mod convert;
mod diff;
mod names;
mod runner;

pub use cli::{check_cli, diff_cli};
pub use diff::{diff, DiffReport};
pub use runner::{parse_url, Target};

use names::Names;
use runner::{cleanup, Made, Runner};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use warren_core::protocol::Millis;
use warren_core::scenario::{
    check_expectation, unexpected_errors, Expectation, Observed, Outcome, QueueLookup, Scenario,
    Skipped, Verdict,
};
use warren_core::sim::Observation;

/// How a remote run is done.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// Real milliseconds per virtual millisecond. 1.0 runs the script at its
    /// own pace; larger values give a slow or distant broker more margin
    /// between steps (a TTL of 1000 ms in the scenario stays 1000 ms on the
    /// broker, so scenarios with TTLs want 1.0).
    pub time_scale: f64,
    /// A shell command that restarts the broker and returns once it is
    /// restarting (e.g. `rabbitmqctl stop_app && rabbitmqctl start_app`).
    /// Without one, a scenario's `restart` stops the run there.
    pub restart_cmd: Option<String>,
    /// Prefixed to every queue and exchange the scenario creates; empty picks
    /// a random `wr-xxxxxxxx-` so concurrent runs never collide.
    pub prefix: String,
    /// How long (real ms) nothing must be observed before the end figures are read.
    pub settle_ms: u64,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            time_scale: 1.0,
            restart_cmd: None,
            prefix: String::new(),
            settle_ms: 300,
        }
    }
}

/// What a run against a real broker let its clients observe.
#[derive(Clone, Debug)]
pub struct RemoteRun {
    /// In the order they arrived, with names as the scenario writes them.
    pub observations: Vec<Observation>,
    /// Queue figures read at each `queue` expectation's time (None: the end),
    /// by the scenario's name for the queue.
    figures: BTreeMap<(Option<Millis>, String), QueueLookup>,
    vars: BTreeMap<String, String>,
    /// What the run could not do as the scenario says, and other remarks.
    pub notes: Vec<String>,
    /// The prefix the run's names had on the broker.
    pub prefix: String,
    /// When a `restart` could not be done: the run stopped there.
    pub cut_at: Option<Millis>,
}

impl Observed for RemoteRun {
    fn observations(&self) -> &[Observation] {
        &self.observations
    }

    fn queue(&self, name: &str, at: Option<Millis>) -> QueueLookup {
        self.figures
            .get(&(at, name.to_string()))
            .cloned()
            .unwrap_or_else(|| QueueLookup::Unobservable("the run did not read it".into()))
    }

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
}

/// A fresh prefix per run: std's random hasher keys are enough to keep
/// concurrent runs apart, without a dependency for random numbers.
fn random_prefix() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("wr-{:08x}-", h.finish() as u32)
}

/// Runs `scenario` against the broker at `broker_url`: one real connection per
/// client, the script on a real clock, queue figures read at each `queue`
/// expectation's time. Everything the run created is deleted afterwards,
/// whether it succeeded or not. Err is for runs that could not be done at all
/// (no broker, a bad URL), not for expectations that fail.
pub async fn run_remote(
    scenario: &Scenario,
    broker_url: &str,
    opts: &RemoteOptions,
) -> Result<RemoteRun, String> {
    let target = parse_url(broker_url)?;
    if !(opts.time_scale.is_finite() && opts.time_scale > 0.0) {
        return Err(format!(
            "time scale must be a positive number, not {}",
            opts.time_scale
        ));
    }
    let names = Names {
        prefix: if opts.prefix.is_empty() {
            random_prefix()
        } else {
            opts.prefix.clone()
        },
        vhost: target.vhost.clone(),
    };
    let made = Arc::new(Mutex::new(Made::default()));
    let mut runner = Runner::new(scenario, target.clone(), opts, names, made.clone());
    // A run that does not end (a broker that stops answering) is cut off.
    let budget = budget(scenario, opts);
    let outcome = match tokio::time::timeout(budget, runner.run()).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the run did not finish within {} s",
            budget.as_secs()
        )),
    };
    let mut run = runner.finish().await;
    let made = std::mem::take(&mut *made.lock().unwrap_or_else(|p| p.into_inner()));
    run.notes.extend(cleanup(&target, &made).await);
    outcome.map(|_| run)
}

/// The scenario's own length (as the simulator runs it), scaled, plus a
/// generous margin for connecting, restarts and settling.
fn budget(scenario: &Scenario, opts: &RemoteOptions) -> Duration {
    let mut sim = warren_core::sim::Simulation::new(scenario.clone());
    sim.run();
    let last_step = scenario.script.iter().map(|s| s.at).max().unwrap_or(0);
    let virtual_ms = sim.now().max(last_step) as f64;
    Duration::from_secs_f64(virtual_ms * opts.time_scale / 1000.0) + Duration::from_secs(120)
}

/// Checks the scenario's expectations against a remote run. After a restart
/// that could not be done, only `queue` figures read before it are checked;
/// everything else is skipped, not failed.
pub fn check_remote(scenario: &Scenario, run: &RemoteRun) -> Verdict {
    let mut verdict = Verdict::default();
    for (i, e) in scenario.expect.iter().enumerate() {
        let before_cut = match (run.cut_at, e) {
            (None, _) => true,
            (Some(cut), Expectation::Queue { at: Some(t), .. }) => *t < cut,
            (Some(_), _) => false,
        };
        if !before_cut {
            verdict.skipped.push(Skipped {
                index: i,
                reason: "restart skipped: no --restart-cmd, and this depends on what follows it"
                    .into(),
            });
            continue;
        }
        match check_expectation(run, i, e) {
            Outcome::Held => {}
            Outcome::Failed(f) => verdict.failures.push(f),
            Outcome::Skipped(reason) => verdict.skipped.push(Skipped { index: i, reason }),
        }
    }
    verdict
        .failures
        .extend(unexpected_errors(scenario, &run.observations));
    verdict
}
