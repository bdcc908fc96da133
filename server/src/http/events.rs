//! `GET /api/events`: a WebSocket that sends a snapshot of the topology,
//! then every core event as it happens (serde JSON of `warren_core::Event`,
//! the same objects the wasm playground animates).
//!
//! Subscribing turns the core's event recording on, in the broker task and
//! in the same call that takes the snapshot, so the stream starts exactly
//! where the snapshot ends. With no subscriber left the broker task turns
//! recording off again, so an unwatched broker pays nothing for events.
//! Administrators only (events are not split by vhost). Authentication is
//! HTTP basic as elsewhere; browsers, which cannot set
//! headers on a WebSocket, may pass `?auth=base64(user:password)` instead.

use super::auth::User;
use super::views;
use super::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio::sync::broadcast::error::RecvError;

/// The snapshot a subscriber gets first: `{"snapshot": {...}}`. Events are
/// told apart from it by their `"event"` field.
fn snapshot(a: &crate::admin::Admin<'_>) -> Value {
    let b = a.broker();
    json!({
        "snapshot": {
            "exchanges": b.exchanges().iter().map(|x| views::exchange(a, x)).collect::<Vec<_>>(),
            "queues": b.queues().iter().map(|q| views::queue(a, q)).collect::<Vec<_>>(),
            "bindings": b.bindings().iter().map(views::binding).collect::<Vec<_>>(),
            "consumers": b.consumers(),
            "connections": b.connections(),
        }
    })
}

pub async fn events(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
    mut parts: Parts,
) -> Response {
    // `?auth=` stands in for the Authorization header.
    if let Some(auth) = q.get("auth") {
        if let Ok(v) = format!("Basic {auth}").parse() {
            parts.headers.insert(axum::http::header::AUTHORIZATION, v);
        }
    }
    let user = match User::from_request_parts(&mut parts, &s).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    // Events are not split by vhost: the stream is for administrators.
    if let Err(e) = user.require_admin() {
        return e.into_response();
    }
    ws.on_upgrade(move |socket| stream(socket, s))
}

async fn stream(mut socket: WebSocket, s: AppState) {
    let sub = s
        .broker
        .call(move |a| {
            let rx = a.subscribe_events();
            (rx, snapshot(a))
        })
        .await;
    let Ok((mut rx, snap)) = sub else {
        return;
    };
    if socket
        .send(Message::Text(snap.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            got = rx.recv() => {
                let text = match got {
                    Ok(e) => serde_json::to_string(&*e).unwrap_or_default(),
                    Err(RecvError::Lagged(n)) => json!({"lagged": n}).to_string(),
                    Err(RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}
