//! `warren serve`: opens the store, recovers durable state into a fresh
//! broker core, starts the broker task and the store thread, accepts AMQP
//! connections, and shuts everything down in order on SIGINT/SIGTERM.

use crate::admin::BrokerHandle;
use crate::broker_task::{BrokerTask, Settings, ToBroker};
use crate::clock::Clock;
use crate::config::{load_definitions, ServeConfig};
use crate::connection::{self, Shared};
use crate::store::{recover_into, Store};
use crate::{http, memcacheq};
use std::future::Future;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use warren_core::{Broker, BrokerConfig};

/// Runs the server until SIGINT or SIGTERM. Errors (a busy port, an unusable
/// data dir, a bad config file) are one line, for `main` to print.
pub fn run(cfg: ServeConfig) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(serve(cfg, shutdown_signal()))
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A seed for server-generated names, different on every start so names
/// (`amq.gen-…`) never repeat across restarts.
fn seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

/// Serves until `shutdown` resolves, then closes every connection with
/// 320 CONNECTION_FORCED and flushes the store.
pub async fn serve(cfg: ServeConfig, shutdown: impl Future<Output = ()>) -> Result<(), String> {
    let defs = cfg.config.as_deref().map(load_definitions).transpose()?;
    let store = Store::open(&cfg.data_dir)?;
    let addr = SocketAddr::new(cfg.bind, cfg.amqp_port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let http_addr = SocketAddr::new(cfg.bind, cfg.http_port);
    let http_listener = TcpListener::bind(http_addr)
        .await
        .map_err(|e| format!("cannot listen on {http_addr}: {e}"))?;
    let mcq_listener = match cfg.memcacheq_port {
        Some(port) => {
            let a = SocketAddr::new(cfg.bind, port);
            Some(
                TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen on {a}: {e}"))?,
            )
        }
        None => None,
    };

    // As RabbitMQ: guest/guest and vhost "/" exist unless definitions are
    // loaded at boot, which then say who exists.
    let mut core = Broker::new(BrokerConfig {
        seed: seed(),
        events: false,
        default_user: defs.is_none(),
    });
    // Recovery and boot definitions happen at the clock's start.
    let clock = Clock::starting_now();
    core.set_clock(clock.now());
    if let Some(d) = &defs {
        core.load_definitions(d).map_err(|e| {
            format!(
                "bad config file {}: {}",
                cfg.config
                    .as_deref()
                    .unwrap_or_else(|| "".as_ref())
                    .display(),
                e.text
            )
        })?;
    }
    let started = std::time::Instant::now();
    let (queues, messages) = recover_into(store.index(), &mut core);
    while core.poll_output().is_some() {}

    let (synced_tx, synced_rx) = mpsc::unbounded_channel();
    let (store_tx, store_thread) = store.spawn(synced_tx);
    let (alarm_tx, alarm_rx) = watch::channel(false);
    let (broker_tx, broker_rx) = mpsc::channel(1024);
    let task = BrokerTask::new(
        core,
        clock,
        store_tx,
        alarm_tx,
        Settings {
            memory_high_watermark: cfg.memory_high_watermark,
            stats_interval: cfg.stats_interval,
        },
    );
    let broker = tokio::spawn(task.run(broker_rx, synced_rx));
    let local = listener.local_addr().unwrap_or(addr);
    let http_local = http_listener.local_addr().unwrap_or(http_addr);
    let mcq_local = mcq_listener.as_ref().and_then(|l| l.local_addr().ok());

    // The HTTP API and memcacheq stop accepting when the server stops.
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let handle = BrokerHandle::new(broker_tx.clone());
    let state = http::AppState {
        broker: handle.clone(),
        amqp_port: local.port(),
        http_port: http_local.port(),
        memcacheq_port: mcq_local.map(|a| a.port()),
        web_dir: http::resolve_web_dir(cfg.web_dir.clone()),
        node: http::node::NodeInfo {
            data_dir: std::fs::canonicalize(&cfg.data_dir).unwrap_or_else(|_| cfg.data_dir.clone()),
            config_file: cfg.config.clone(),
            started,
        },
    };
    let http_task = tokio::spawn(http::serve(http_listener, state, stopped(stop_rx.clone())));
    let mcq_task = mcq_listener.map(|l| {
        tokio::spawn(memcacheq::serve(
            l,
            handle.clone(),
            cfg.memcacheq_user.clone(),
            stopped(stop_rx.clone()),
        ))
    });
    let mcq_note = mcq_local
        .map(|a| format!(", memcacheq on {a}"))
        .unwrap_or_default();
    println!(
        "warren {}: AMQP on {local}, HTTP on {http_local}{mcq_note}, data in {} ({queues} durable queues, {messages} messages recovered in {} ms)",
        env!("CARGO_PKG_VERSION"),
        cfg.data_dir.display(),
        started.elapsed().as_millis()
    );

    let shared = Shared {
        broker: broker_tx.clone(),
        alarm: alarm_rx,
    };
    let mut next_id = 1u64;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let id = next_id;
                    next_id += 1;
                    tokio::spawn(connection::serve(stream, id, shared.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    eprintln!("warren: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let (done_tx, done_rx) = oneshot::channel();
    if broker_tx
        .send(ToBroker::Shutdown { done: done_tx })
        .await
        .is_ok()
    {
        let _ = done_rx.await;
    }
    drop(broker_tx);
    drop(shared);
    drop(handle);
    // Open WebSockets and idle keep-alive connections would hold the HTTP
    // server's graceful shutdown: the broker is done, so stop them.
    http_task.abort();
    if let Some(t) = mcq_task {
        t.abort();
    }
    let _ = broker.await;
    let _ = tokio::task::spawn_blocking(move || store_thread.join()).await;
    Ok(())
}
