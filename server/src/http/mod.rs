//! The HTTP side of `warren serve`: RabbitMQ's management API (same paths,
//! field names, basic auth and JSON errors, so `rabbitmqadmin`-style scripts
//! and `warren ctl` work), the event stream for the live playground, and
//! the playground bundle itself.
//!
//! Every handler asks the broker task through [`crate::admin::BrokerHandle`];
//! nothing is cached here. Modules: [`auth`] (basic auth, tags), [`error`]
//! (RabbitMQ's error bodies), [`views`] (JSON shapes), [`read`] (GETs), [`node`],
//! [`actions`] (changes), [`definitions`], [`events`] (WebSocket), [`web`].

pub mod actions;
pub mod auth;
pub mod definitions;
pub mod error;
pub mod events;
pub mod node;
pub mod read;
pub mod views;
pub mod web;

use crate::admin::BrokerHandle;
use axum::routing::{get, post};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    pub broker: BrokerHandle,
    pub amqp_port: u16,
    pub http_port: u16,
    pub memcacheq_port: Option<u16>,
    /// The playground bundle, if there is one.
    pub web_dir: Option<PathBuf>,
    /// The data directory, config file and start time, for `/api/nodes`.
    pub node: node::NodeInfo,
}

/// The routes, as RabbitMQ's management plugin lays them out.
pub fn router(state: AppState) -> Router {
    use actions as a;
    use read as r;
    Router::new()
        .route("/api/overview", get(r::overview))
        .route("/api/whoami", get(r::whoami))
        .route("/api/nodes", get(node::nodes))
        .route("/api/nodes/{name}", get(node::node))
        .route("/api/warren", get(web::warren))
        .route("/api/events", get(events::events))
        .route("/api/vhosts", get(r::vhosts))
        .route(
            "/api/vhosts/{vhost}",
            get(r::vhost).put(a::put_vhost).delete(a::delete_vhost),
        )
        .route("/api/users", get(r::users))
        .route(
            "/api/users/{name}",
            get(r::user).put(a::put_user).delete(a::delete_user),
        )
        .route("/api/permissions", get(r::permissions))
        .route(
            "/api/permissions/{vhost}/{user}",
            get(r::permission)
                .put(a::put_permission)
                .delete(a::delete_permission),
        )
        .route("/api/exchanges", get(r::exchanges))
        .route("/api/exchanges/{vhost}", get(r::exchanges_vhost))
        .route(
            "/api/exchanges/{vhost}/{name}",
            get(r::exchange)
                .put(a::put_exchange)
                .delete(a::delete_exchange),
        )
        .route("/api/exchanges/{vhost}/{name}/publish", post(a::publish))
        .route("/api/queues", get(r::queues))
        .route("/api/queues/{vhost}", get(r::queues_vhost))
        .route(
            "/api/queues/{vhost}/{name}",
            get(r::queue).put(a::put_queue).delete(a::delete_queue),
        )
        .route(
            "/api/queues/{vhost}/{name}/contents",
            axum::routing::delete(a::purge_queue),
        )
        .route("/api/queues/{vhost}/{name}/get", post(a::get_messages))
        .route(
            "/api/queues/{vhost}/{name}/bindings",
            get(r::queue_bindings),
        )
        .route("/api/bindings", get(r::bindings))
        .route("/api/bindings/{vhost}", get(r::bindings_vhost))
        .route(
            "/api/bindings/{vhost}/e/{exchange}/q/{queue}",
            get(r::exchange_queue_bindings).post(a::bind_queue),
        )
        .route(
            "/api/bindings/{vhost}/e/{exchange}/q/{queue}/{props}",
            axum::routing::delete(a::unbind_queue),
        )
        .route(
            "/api/bindings/{vhost}/e/{source}/e/{destination}",
            post(a::bind_exchange),
        )
        .route("/api/connections", get(r::connections))
        .route("/api/channels", get(r::channels))
        .route("/api/consumers", get(r::consumers))
        .route("/api/consumers/{vhost}", get(r::consumers_vhost))
        .route(
            "/api/definitions",
            get(definitions::export).post(definitions::import),
        )
        .route("/", get(web::index))
        .route("/{*path}", get(web::asset))
        .fallback(|| async { error::ApiError::not_found() })
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("warren: HTTP server failed: {e}");
    }
}

/// The playground bundle directory: `--web-dir`, else `dist/` in the working
/// directory; None when it holds no `index.html`.
pub fn resolve_web_dir(given: Option<PathBuf>) -> Option<PathBuf> {
    let dir = given.unwrap_or_else(|| PathBuf::from("dist"));
    dir.join("index.html").is_file().then_some(dir)
}
