//! The playground bundle at `/`, and `GET /api/warren`, which tells a page
//! it is talking to a live server (the static playground, opened from a
//! file or another host, gets no answer there and stays a simulation).
//!
//! `index.html` is also served with a `<meta name="warren-live">` tag, so
//! the page knows before any request. Without a bundle (`--web-dir`,
//! default `dist/` in the working directory), `/` explains how to build one.

use super::error::ApiError;
use super::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::path::{Component, PathBuf};

/// The tag put in the served `index.html`; its content is where to ask.
pub const LIVE_META: &str = r#"<meta name="warren-live" content="/api/warren">"#;

pub async fn warren(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "live": true,
        "product": "warren",
        "version": env!("CARGO_PKG_VERSION"),
        "rabbitmq_version": warren_core::RABBITMQ_VERSION,
        "amqp_port": s.amqp_port,
        "http_port": s.http_port,
        "events": "/api/events",
        "memcacheq_port": s.memcacheq_port,
    }))
}

const NO_BUNDLE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="warren-live" content="/api/warren">
<title>Warren</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Warren is running</h1>
<p>The playground is not built, so there is nothing to show here yet.
Build it with</p>
<pre>cargo xtask web</pre>
<p>and start <code>warren serve</code> from the directory holding <code>dist/</code>
(or pass <code>--web-dir DIR</code>).</p>
<p>The management API is at <a href="/api/overview">/api/overview</a>.</p>
</body></html>
"#;

pub async fn index(State(s): State<AppState>) -> Response {
    file(s, "index.html".to_string()).await
}

pub async fn asset(State(s): State<AppState>, Path(path): Path<String>) -> Response {
    file(s, path).await
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn file(s: AppState, path: String) -> Response {
    let Some(dir) = s.web_dir.as_ref() else {
        return if path == "index.html" {
            Html(NO_BUNDLE).into_response()
        } else {
            ApiError::not_found().into_response()
        };
    };
    // Only plain relative paths: no "..", no absolute paths.
    let rel = PathBuf::from(&path);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return ApiError::not_found().into_response();
    }
    let Ok(bytes) = tokio::fs::read(dir.join(&rel)).await else {
        return ApiError::not_found().into_response();
    };
    let body = if path == "index.html" {
        let text = String::from_utf8_lossy(&bytes);
        match text.find("<head>") {
            Some(i) => format!("{}{LIVE_META}{}", &text[..i + 6], &text[i + 6..]).into_bytes(),
            None => format!("{LIVE_META}{text}").into_bytes(),
        }
    } else {
        bytes
    };
    ([(header::CONTENT_TYPE, content_type(&path))], body).into_response()
}
