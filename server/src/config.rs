//! What `warren serve` is told on its command line, and the definitions file
//! it loads at start.
//!
//! Kept apart from `main.rs` so tests and other shells can start a server
//! in-process with the same options.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use warren_core::definitions::Definitions;

/// The default data directory, relative to the working directory: the same
/// place every time `warren serve` is started from the same directory, and
/// never a system path that needs privileges.
pub const DEFAULT_DATA_DIR: &str = "warren-data";

/// Options of `warren serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub bind: IpAddr,
    pub amqp_port: u16,
    /// The management API, event stream and playground (0: any free port).
    pub http_port: u16,
    /// The playground bundle to serve at `/`; default `dist/` if it exists.
    pub web_dir: Option<PathBuf>,
    /// The memcacheq front door's port; off when None.
    pub memcacheq_port: Option<u16>,
    /// The user memcacheq clients act as (on vhost `/`), as RabbitMQ's
    /// STOMP and MQTT plugins have a default user.
    pub memcacheq_user: String,
    pub data_dir: PathBuf,
    /// A RabbitMQ definitions file (users, vhosts, permissions, topology).
    pub config: Option<PathBuf>,
    /// Queued message bytes above which publishers are blocked
    /// (`connection.blocked`), as RabbitMQ's memory high watermark.
    pub memory_high_watermark: u64,
    /// How often the management API's message rates are sampled (RabbitMQ's
    /// `collect_statistics_interval`).
    pub stats_interval: std::time::Duration,
}

impl ServeConfig {
    /// Defaults matching RabbitMQ's ports, with the given data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            bind: IpAddr::from([0, 0, 0, 0]),
            amqp_port: 5672,
            http_port: 15672,
            web_dir: None,
            memcacheq_port: None,
            memcacheq_user: "guest".to_string(),
            data_dir: data_dir.into(),
            config: None,
            memory_high_watermark: default_memory_high_watermark(),
            stats_interval: crate::rates::DEFAULT_INTERVAL,
        }
    }
}

/// 40% of the machine's memory, RabbitMQ's default `vm_memory_high_watermark`;
/// 1 GiB when the total cannot be read.
pub fn default_memory_high_watermark() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    match total {
        Some(bytes) => bytes / 10 * 4,
        None => 1 << 30,
    }
}

/// Reads a RabbitMQ-format definitions file, with an error that names the
/// file and the problem.
pub fn load_definitions(path: &Path) -> Result<Definitions, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("bad config file {}: {e}", path.display()))
}
