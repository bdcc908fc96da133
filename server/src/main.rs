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
}

#[derive(Subcommand)]
enum ScenarioAction {
    /// Runs a scenario and prints its trace.
    Run { file: PathBuf },
    /// Checks scenarios' expectations.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
            ScenarioAction::Check { files } => warren_server::scenario_cli::check(&files),
        },
    }
}
