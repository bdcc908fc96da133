//! Endpoints that change the broker. Topology and message actions run as
//! AMQP commands on an internal connection opened as the authenticated user
//! ([`crate::admin::Session`]), so permissions, equivalence checks, store
//! writes and consumer cancellations are exactly a client's; users, vhosts
//! and permissions, which AMQP cannot change, use the core's direct APIs.

use super::auth::User;
use super::error::{ApiError, ApiResult};
use super::read::{check_vhost, exchange_name};
use super::views;
use super::AppState;
use crate::admin::{Admin, Session};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use warren_core::protocol::{Command, Output};
use warren_core::types::{BasicProperties, FieldTable};
use warren_core::ReplyCode;

/// Opens a session as `user` on `vhost`: 404 for an unknown vhost, 401 when
/// the user has no permissions there.
fn session<'s, 'a>(a: &'s mut Admin<'a>, user: &User, vhost: &str) -> ApiResult<Session<'s, 'a>> {
    check_vhost(a.broker(), user, vhost)?;
    a.session(&user.name, vhost).map_err(|e| match e.code {
        ReplyCode::NotAllowed => ApiError::forbidden("User not authorised to access virtual host"),
        _ => ApiError::from(e),
    })
}

fn created(was_new: bool) -> StatusCode {
    if was_new {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    }
}

/// Parses a JSON request body; an empty body is `{}` as for RabbitMQ.
fn body<T: for<'de> Deserialize<'de>>(raw: &Bytes) -> ApiResult<T> {
    let raw: &[u8] = if raw.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        raw
    };
    serde_json::from_slice(raw).map_err(|e| ApiError::bad_request(format!("bad JSON: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueBody {
    durable: bool,
    auto_delete: bool,
    arguments: FieldTable,
}

pub async fn put_queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<StatusCode> {
    let b: QueueBody = body(&raw)?;
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let existed = sess.broker().has_queue(&vhost, &name);
            sess.run(Command::QueueDeclare {
                queue: name,
                passive: false,
                durable: b.durable,
                exclusive: false,
                auto_delete: b.auto_delete,
                nowait: false,
                arguments: b.arguments,
            })?;
            Ok(created(!existed))
        })
        .await?
}

/// `if-unused` and `if-empty`, as RabbitMQ's DELETE takes them.
#[derive(Deserialize, Default)]
pub struct DeleteFlags {
    #[serde(rename = "if-unused", default)]
    if_unused: bool,
    #[serde(rename = "if-empty", default)]
    if_empty: bool,
}

pub async fn delete_queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    Query(flags): Query<DeleteFlags>,
) -> ApiResult<StatusCode> {
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            if !sess.broker().has_queue(&vhost, &name) {
                return Err(ApiError::not_found());
            }
            sess.run(Command::QueueDelete {
                queue: name,
                if_unused: flags.if_unused,
                if_empty: flags.if_empty,
                nowait: false,
            })?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await?
}

pub async fn purge_queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            if !sess.broker().has_queue(&vhost, &name) {
                return Err(ApiError::not_found());
            }
            sess.run(Command::QueuePurge {
                queue: name,
                nowait: false,
            })?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await?
}

#[derive(Deserialize)]
struct GetBody {
    count: u32,
    ackmode: String,
    #[serde(default = "auto")]
    encoding: String,
    #[serde(default)]
    truncate: Option<usize>,
}

fn auto() -> String {
    "auto".to_string()
}

/// A body as the API shows it: text when it is UTF-8 (and "auto" asked), base64 otherwise.
fn encode_payload(body: &[u8], encoding: &str, truncate: Option<usize>) -> (String, &'static str) {
    let body = &body[..truncate.map_or(body.len(), |t| t.min(body.len()))];
    match std::str::from_utf8(body) {
        Ok(text) if encoding == "auto" => (text.to_string(), "string"),
        _ => (STANDARD.encode(body), "base64"),
    }
}

/// `POST /api/queues/{vhost}/{name}/get`: basic.get up to `count` times
/// (holding each message so none is fetched twice), then settles them all
/// as `ackmode` says: ack, or reject with or without requeue.
pub async fn get_messages(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Json<Value>> {
    let b: GetBody = body(&raw)?;
    let requeue = match b.ackmode.as_str() {
        "ack_requeue_true" | "reject_requeue_true" => Some(true),
        "ack_requeue_false" => None,
        "reject_requeue_false" => Some(false),
        other => return Err(ApiError::bad_request(format!("unknown ackmode '{other}'"))),
    };
    if b.encoding != "auto" && b.encoding != "base64" {
        return Err(ApiError::bad_request(format!(
            "unknown encoding '{}'",
            b.encoding
        )));
    }
    let v = s
        .broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            if !sess.broker().has_queue(&vhost, &name) {
                return Err(ApiError::not_found());
            }
            let mut out = Vec::new();
            let mut last_tag = None;
            for _ in 0..b.count {
                let outs = sess.run(Command::BasicGet {
                    queue: name.clone(),
                    no_ack: false,
                })?;
                let Some(Output::GetOk {
                    delivery_tag,
                    redelivered,
                    message_count,
                    message,
                    ..
                }) = outs.into_iter().find(|o| matches!(o, Output::GetOk { .. }))
                else {
                    break;
                };
                last_tag = Some(delivery_tag);
                let (payload, enc) = encode_payload(message.body(), &b.encoding, b.truncate);
                out.push(json!({
                    "payload_bytes": message.body_size(),
                    "redelivered": redelivered,
                    "exchange": message.exchange(),
                    "routing_key": message.routing_key(),
                    "message_count": message_count,
                    "properties": message.properties(),
                    "payload": payload,
                    "payload_encoding": enc,
                }));
            }
            if let Some(tag) = last_tag {
                let cmd = match requeue {
                    None => Command::BasicAck {
                        delivery_tag: tag,
                        multiple: true,
                    },
                    Some(requeue) => Command::BasicNack {
                        delivery_tag: tag,
                        multiple: true,
                        requeue,
                    },
                };
                sess.run(cmd)?;
            }
            Ok(Value::Array(out))
        })
        .await??;
    Ok(Json(v))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExchangeBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    durable: bool,
    auto_delete: bool,
    internal: bool,
    arguments: FieldTable,
}

pub async fn put_exchange(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<StatusCode> {
    let b: ExchangeBody = body(&raw)?;
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let name = exchange_name(&name).to_string();
            let existed = sess
                .broker()
                .exchanges()
                .iter()
                .any(|x| x.vhost == vhost && x.name == name);
            sess.run(Command::ExchangeDeclare {
                exchange: name,
                kind: b.kind.unwrap_or_else(|| "direct".to_string()),
                passive: false,
                durable: b.durable,
                auto_delete: b.auto_delete,
                internal: b.internal,
                nowait: false,
                arguments: b.arguments,
            })?;
            Ok(created(!existed))
        })
        .await?
}

pub async fn delete_exchange(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    Query(flags): Query<DeleteFlags>,
) -> ApiResult<StatusCode> {
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let name = exchange_name(&name).to_string();
            let exists = sess
                .broker()
                .exchanges()
                .iter()
                .any(|x| x.vhost == vhost && x.name == name);
            if !exists {
                return Err(ApiError::not_found());
            }
            sess.run(Command::ExchangeDelete {
                exchange: name,
                if_unused: flags.if_unused,
                nowait: false,
            })?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await?
}

#[derive(Deserialize)]
struct PublishBody {
    #[serde(default)]
    properties: Value,
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    payload: String,
    #[serde(default = "string")]
    payload_encoding: String,
}

fn string() -> String {
    "string".to_string()
}

/// Message properties from the API's JSON. The web UI sends numbers as
/// strings ("delivery_mode": "2"), so numeric fields accept both.
fn properties(v: Value) -> ApiResult<BasicProperties> {
    let mut map = match v {
        Value::Object(m) => m,
        Value::Null => return Ok(BasicProperties::default()),
        _ => return Err(ApiError::bad_request("properties must be an object")),
    };
    for key in ["delivery_mode", "priority", "timestamp"] {
        if let Some(Value::String(text)) = map.get(key) {
            let n: u64 = text
                .parse()
                .map_err(|_| ApiError::bad_request(format!("bad {key} '{text}'")))?;
            map.insert(key.to_string(), json!(n));
        }
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("bad properties: {e}")))
}

pub async fn publish(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<Json<Value>> {
    let b: PublishBody = body(&raw)?;
    let props = properties(b.properties)?;
    let payload = match b.payload_encoding.as_str() {
        "string" => Bytes::from(b.payload.into_bytes()),
        "base64" => Bytes::from(
            STANDARD
                .decode(b.payload.as_bytes())
                .map_err(|_| ApiError::bad_request("payload is not base64"))?,
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown payload_encoding '{other}'"
            )))
        }
    };
    let routed = s
        .broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let exchange = exchange_name(&name).to_string();
            if !sess
                .broker()
                .exchanges()
                .iter()
                .any(|x| x.vhost == vhost && x.name == exchange)
            {
                return Err(ApiError::not_found());
            }
            let outs = sess.run(Command::BasicPublish {
                exchange,
                routing_key: b.routing_key,
                mandatory: true,
                immediate: false,
                properties: props,
                body: payload,
            })?;
            Ok(!outs.iter().any(|o| matches!(o, Output::Return { .. })))
        })
        .await??;
    Ok(Json(json!({ "routed": routed })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BindingBody {
    routing_key: String,
    arguments: FieldTable,
}

/// `POST /api/bindings/{vhost}/e/{source}/{q|e}/{destination}`: 201 with the
/// new binding's properties key as `Location`, as RabbitMQ answers.
async fn bind(
    s: AppState,
    user: User,
    vhost: String,
    source: String,
    destination: String,
    to_queue: bool,
    raw: Bytes,
) -> ApiResult<Response> {
    let b: BindingBody = body(&raw)?;
    let location = s
        .broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let source = exchange_name(&source).to_string();
            let info = warren_core::broker::BindingInfo {
                source: source.clone(),
                vhost: vhost.clone(),
                destination: destination.clone(),
                destination_type: if to_queue { "queue" } else { "exchange" }.to_string(),
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
            };
            let cmd = if to_queue {
                Command::QueueBind {
                    queue: destination.clone(),
                    exchange: source,
                    routing_key: b.routing_key,
                    nowait: false,
                    arguments: b.arguments,
                }
            } else {
                Command::ExchangeBind {
                    destination: destination.clone(),
                    source,
                    routing_key: b.routing_key,
                    nowait: false,
                    arguments: b.arguments,
                }
            };
            sess.run(cmd)?;
            Ok::<_, ApiError>(format!("{destination}/{}", views::properties_key(&info)))
        })
        .await??;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

pub async fn bind_queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, exchange, queue)): Path<(String, String, String)>,
    raw: Bytes,
) -> ApiResult<Response> {
    bind(s, user, vhost, exchange, queue, true, raw).await
}

pub async fn bind_exchange(
    State(s): State<AppState>,
    user: User,
    Path((vhost, source, dest)): Path<(String, String, String)>,
    raw: Bytes,
) -> ApiResult<Response> {
    bind(s, user, vhost, source, dest, false, raw).await
}

/// `DELETE /api/bindings/{vhost}/e/{source}/q/{queue}/{props}`.
pub async fn unbind_queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, exchange, queue, props)): Path<(String, String, String, String)>,
) -> ApiResult<StatusCode> {
    s.broker
        .call(move |a| {
            let mut sess = session(a, &user, &vhost)?;
            let source = exchange_name(&exchange).to_string();
            let found = sess.broker().bindings().into_iter().find(|b| {
                b.vhost == vhost
                    && b.source == source
                    && b.destination_type == "queue"
                    && b.destination == queue
                    && views::properties_key(b) == props
            });
            let Some(b) = found else {
                return Err(ApiError::not_found());
            };
            sess.run(Command::QueueUnbind {
                queue: b.destination,
                exchange: b.source,
                routing_key: b.routing_key,
                arguments: b.arguments,
            })?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await?
}

// ---- users, vhosts, permissions: administrators only, direct core APIs ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserBody {
    password: Option<String>,
    password_hash: Option<String>,
    /// "a,b" or ["a", "b"].
    tags: Value,
}

/// A random salt for a password hash, from the standard library's
/// per-process random hasher keys (no extra dependency for 4 bytes).
fn salt() -> [u8; 4] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::clock::wall_now());
    (h.finish() as u32).to_be_bytes()
}

fn tags(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

pub async fn put_user(
    State(s): State<AppState>,
    me: User,
    Path(name): Path<String>,
    raw: Bytes,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let b: UserBody = body(&raw)?;
    let tags = tags(&b.tags);
    let salt = salt();
    s.broker
        .call(move |a| {
            let existing = a.broker().user(&name).cloned();
            let password_hash = match (b.password, b.password_hash, &existing) {
                (Some(p), _, _) => warren_core::auth::hash_password(&p, salt),
                (None, Some(h), _) => h,
                (None, None, Some(u)) => u.password_hash.clone(),
                (None, None, None) => {
                    return Err(ApiError::bad_request("password or password_hash required"))
                }
            };
            let user = warren_core::definitions::UserDef {
                name,
                password_hash,
                hashing_algorithm: "rabbit_password_hashing_sha256".to_string(),
                tags,
            };
            a.with_core(|b, _| b.put_user(user));
            Ok(created(existing.is_none()))
        })
        .await?
}

pub async fn delete_user(
    State(s): State<AppState>,
    me: User,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let gone = s
        .broker
        .call(move |a| a.with_core(|b, _| b.delete_user(&name)))
        .await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

pub async fn put_vhost(
    State(s): State<AppState>,
    me: User,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let new = s
        .broker
        .call(move |a| {
            let new = !a.broker().vhost_names().contains(&name);
            a.with_core(|b, _| b.add_vhost(&name));
            new
        })
        .await?;
    Ok(created(new))
}

/// Deletes a vhost: its connections are closed (320) and its queues and
/// exchanges go with it, as in RabbitMQ; durable ones leave the store too.
pub async fn delete_vhost(
    State(s): State<AppState>,
    me: User,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let gone = s
        .broker
        .call(move |a| a.with_core(|b, now| b.drop_vhost(now, &name)))
        .await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(Deserialize)]
struct PermissionBody {
    configure: String,
    write: String,
    read: String,
}

pub async fn put_permission(
    State(s): State<AppState>,
    me: User,
    Path((vhost, user)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let b: PermissionBody = body(&raw)?;
    s.broker
        .call(move |a| {
            let br = a.broker();
            if br.user(&user).is_none() || !br.vhost_names().contains(&vhost) {
                return Err(ApiError::bad_request("vhost_or_user_not_found"));
            }
            let new = !br
                .permissions()
                .iter()
                .any(|p| p.user == user && p.vhost == vhost);
            a.with_core(|core, _| {
                core.set_permissions(warren_core::definitions::PermissionDef {
                    user,
                    vhost,
                    configure: b.configure,
                    write: b.write,
                    read: b.read,
                })
            });
            Ok(created(new))
        })
        .await?
}

pub async fn delete_permission(
    State(s): State<AppState>,
    me: User,
    Path((vhost, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    me.require_admin()?;
    let gone = s
        .broker
        .call(move |a| a.with_core(|b, _| b.clear_permissions(&user, &vhost)))
        .await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
