//! The `warren` binary: `warren serve` runs the broker; `warren ctl` manages
//! a running one (as rabbitmqctl, over the HTTP API); `warren scenario`
//! runs and checks scenario files with the simulator. Each subcommand's
//! arguments are their own struct, so more can be added side by side.

use clap::{Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use warren_server::config::{self, ServeConfig};

#[derive(Parser)]
#[command(
    name = "warren",
    version,
    about = "An AMQP 0-9-1 broker that behaves like RabbitMQ 3.10"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the broker.
    Serve(ServeArgs),
    /// Manages a running server over its HTTP API, as rabbitmqctl does.
    Ctl(warren_server::ctl::CtlArgs),
    /// Runs or checks scenario files.
    Scenario {
        #[command(subcommand)]
        action: ScenarioAction,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// AMQP port.
    #[arg(long, default_value_t = 5672)]
    amqp_port: u16,
    /// HTTP port: management API, event stream, playground (0: any free port).
    #[arg(long, default_value_t = 15672)]
    http_port: u16,
    /// The playground bundle to serve at / (default: ./dist if built).
    #[arg(long)]
    web_dir: Option<PathBuf>,
    /// Serve the memcacheq protocol on this port (off by default).
    #[arg(long)]
    memcacheq_port: Option<u16>,
    /// The user memcacheq clients act as, on vhost "/".
    #[arg(long, default_value = "guest")]
    memcacheq_user: String,
    /// Where durable state is kept.
    #[arg(long, default_value = config::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// A RabbitMQ definitions file (JSON) with users, vhosts and permissions.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    bind: IpAddr,
    /// Queued message bytes above which publishers are blocked
    /// (default: 40% of the machine's memory).
    #[arg(long)]
    memory_high_watermark: Option<u64>,
    /// How often message rates are sampled, in milliseconds (RabbitMQ's
    /// `collect_statistics_interval`).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..))]
    collect_statistics_interval: u64,
}

#[derive(Subcommand)]
enum ScenarioAction {
    /// Runs a scenario and prints its trace.
    Run { file: PathBuf },
    /// Prints the scenario as a standalone Python program (pika) that replays
    /// it against a real broker and checks its expectations.
    Pika { file: PathBuf },
    /// Checks scenarios' expectations: in the simulator, or with --broker
    /// against a real broker (Warren's server, RabbitMQ, a cluster).
    Check {
        #[command(flatten)]
        broker: BrokerArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Runs scenarios in the simulator and against a broker and shows the
    /// first observation where they differ.
    Diff {
        #[command(flatten)]
        broker: BrokerArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Where and how to run a scenario for real.
#[derive(clap::Args)]
struct BrokerArgs {
    /// The broker, e.g. amqp://user:pass@host:5672/vhost (vhost URL-encoded: %2F for /).
    #[arg(long)]
    broker: Option<String>,
    /// A shell command that restarts the broker, for scenarios with a restart step.
    #[arg(long)]
    restart_cmd: Option<String>,
    /// Real milliseconds per virtual millisecond.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let mut cfg = ServeConfig::new(args.data_dir);
            cfg.bind = args.bind;
            cfg.amqp_port = args.amqp_port;
            cfg.http_port = args.http_port;
            cfg.web_dir = args.web_dir;
            cfg.memcacheq_port = args.memcacheq_port;
            cfg.memcacheq_user = args.memcacheq_user;
            cfg.config = args.config;
            cfg.stats_interval = std::time::Duration::from_millis(args.collect_statistics_interval);
            if let Some(w) = args.memory_high_watermark {
                cfg.memory_high_watermark = w;
            }
            match warren_server::serve::run(cfg) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("warren: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Ctl(args) => warren_server::ctl::run(args),
        Command::Scenario { action } => match action {
            ScenarioAction::Run { file } => warren_server::scenario_cli::run(&file),
            ScenarioAction::Pika { file } => warren_server::scenario_cli::pika(&file),
            ScenarioAction::Check { broker, files } => match broker.broker {
                None => warren_server::scenario_cli::check(&files),
                Some(url) => warren_remote::check_cli(
                    &files,
                    &url,
                    broker.restart_cmd.as_deref(),
                    broker.time_scale,
                ),
            },
            ScenarioAction::Diff { broker, files } => match broker.broker {
                None => {
                    eprintln!("warren: scenario diff needs --broker URL");
                    ExitCode::from(2)
                }
                Some(url) => warren_remote::diff_cli(
                    &files,
                    &url,
                    broker.restart_cmd.as_deref(),
                    broker.time_scale,
                ),
            },
        },
    }
}
