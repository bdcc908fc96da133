//! `GET /api/nodes` and `/api/nodes/{name}`: the one node, as RabbitMQ 3.10
//! describes a node, with the figures Warren has: memory against the
//! watermark, file descriptors, disk space where the data lives, uptime,
//! sockets and churn. Erlang's own (processes, reductions, garbage
//! collection, mnesia, run queue) have no meaning here and are left out.

use super::auth::User;
use super::error::{ApiError, ApiResult};
use super::views::{exchange_types, NODE};
use super::AppState;
use crate::admin::{Admin, INTERNAL_CONN_BASE};
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

/// RabbitMQ's default `disk_free_limit` (50 MB). Warren has no disk alarm;
/// the figure is shown so tools that compare the two have both.
const DISK_FREE_LIMIT: u64 = 50_000_000;

/// What the node view needs from the server beyond the core.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub data_dir: PathBuf,
    pub config_file: Option<PathBuf>,
    pub started: Instant,
}

pub async fn nodes(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    user.require_monitoring()?;
    Ok(Json(Value::Array(vec![node_now(&s).await?])))
}

pub async fn node(
    State(s): State<AppState>,
    user: User,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    user.require_monitoring()?;
    if name != NODE {
        return Err(ApiError::not_found());
    }
    Ok(Json(node_now(&s).await?))
}

async fn node_now(s: &AppState) -> ApiResult<Value> {
    let (amqp, http) = (s.amqp_port, s.http_port);
    let info = s.node.clone();
    // Read outside the broker task: the file system may be slow.
    let os = OsFigures::read(&info.data_dir);
    let v = s
        .broker
        .call(move |a| view(a, &info, &os, amqp, http))
        .await?;
    Ok(v)
}

/// What the operating system says about this process and its data directory
/// (None where it cannot tell, as off Linux).
#[derive(Clone, Copy, Debug, Default)]
struct OsFigures {
    rss: Option<u64>,
    fd_used: Option<u64>,
    fd_total: Option<u64>,
    disk_free: Option<u64>,
}

impl OsFigures {
    fn read(data_dir: &FsPath) -> OsFigures {
        OsFigures {
            rss: status_kib("VmRSS:").map(|kib| kib * 1024),
            fd_used: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|d| d.count() as u64),
            fd_total: open_files_limit(),
            disk_free: disk_free(data_dir),
        }
    }
}

fn view(a: &Admin<'_>, info: &NodeInfo, os: &OsFigures, amqp: u16, http: u16) -> Value {
    let b = a.broker();
    let (watermark, alarm) = a.memory_alarm();
    let sockets = b
        .connections()
        .iter()
        .filter(|c| c.conn < INTERNAL_CONN_BASE)
        .count();
    let mut v = json!({
        "name": NODE,
        "type": "disc",
        "running": true,
        "os_pid": std::process::id().to_string(),
        "processors": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "uptime": info.started.elapsed().as_millis() as u64,
        "rates_mode": "basic",
        "mem_used": os.rss,
        "mem_limit": watermark,
        "mem_alarm": alarm,
        "mem_calculation_strategy": "rss",
        "disk_free": os.disk_free,
        "disk_free_limit": DISK_FREE_LIMIT,
        "disk_free_alarm": false,
        "fd_used": os.fd_used,
        "fd_total": os.fd_total,
        "sockets_used": sockets,
        "sockets_total": os.fd_total,
        "partitions": [],
        "cluster_links": [],
        "net_ticktime": 60,
        "db_dir": info.data_dir.display().to_string(),
        "config_files": info.config_file.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "log_files": ["<stdout>"],
        "enabled_plugins": ["rabbitmq_management"],
        "exchange_types": exchange_types(),
        "auth_mechanisms": [
            {"name": "PLAIN", "description": "SASL PLAIN authentication mechanism", "enabled": true},
            {"name": "AMQPLAIN", "description": "QPid AMQPLAIN mechanism", "enabled": true},
        ],
        "contexts": [{"description": "RabbitMQ Management", "path": "/", "port": http.to_string()}],
        "listeners": [
            {"node": NODE, "protocol": "amqp", "ip_address": "::", "port": amqp},
            {"node": NODE, "protocol": "http", "ip_address": "::", "port": http},
        ],
    });
    if let Value::Object(m) = &mut v {
        m.extend(a.rates().churn(&a.churn()));
    }
    v
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_kib_line(&text, key)
}

fn parse_kib_line(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The soft limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&text)
}

fn parse_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Bytes free for an unprivileged user on the file system holding `dir`.
#[cfg(unix)]
fn disk_free(dir: &FsPath) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string that outlives the call, and
    // `st` is only read after statvfs reported that it filled it in.
    let rc = unsafe { libc::statvfs(path.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    // The two fields' types differ between platforms (u64 on x86_64 Linux).
    #[allow(clippy::unnecessary_cast)]
    let (blocks, size) = (st.f_bavail as u64, st.f_frsize as u64);
    Some(blocks.saturating_mul(size))
}

#[cfg(not(unix))]
fn disk_free(_dir: &FsPath) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_figures() {
        let status = "Name:\twarren\nVmPeak:\t  2000 kB\nVmRSS:\t  1234 kB\n";
        assert_eq!(parse_kib_line(status, "VmRSS:"), Some(1234));
        assert_eq!(parse_kib_line(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 1048576              files\n";
        assert_eq!(parse_open_files(limits), Some(1024));
        assert_eq!(parse_open_files("Max open files unlimited"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_figures() {
        let os = OsFigures::read(&std::env::temp_dir());
        assert!(os.rss.is_some_and(|b| b > 0));
        assert!(os.fd_used.is_some_and(|n| n >= 3));
        assert!(os.fd_total.is_some_and(|n| n >= os.fd_used.unwrap_or(0)));
        assert!(os.disk_free.is_some());
    }
}
