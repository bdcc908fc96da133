//! `GET` endpoints: listings and single objects, computed in the broker task
//! at request time (never cached), filtered to the vhosts the user may see.

use super::auth::User;
use super::error::{ApiError, ApiResult};
use super::views;
use super::AppState;
use crate::admin::Admin;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;
use warren_core::Broker;

/// 404 when a vhost does not exist, 401 when the user has no access to it.
pub fn check_vhost(b: &Broker, user: &User, vhost: &str) -> ApiResult<()> {
    if !b.vhost_names().iter().any(|v| v == vhost) {
        Err(ApiError::not_found())
    } else if !user.sees(b, vhost) {
        Err(ApiError::forbidden(
            "User not authorised to access virtual host",
        ))
    } else {
        Ok(())
    }
}

/// The management API names the default exchange "amq.default".
pub fn exchange_name(name: &str) -> &str {
    if name == "amq.default" {
        ""
    } else {
        name
    }
}

pub async fn overview(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    let (amqp, http) = (s.amqp_port, s.http_port);
    let v = s
        .broker
        .call(move |a| views::overview(a, &user, amqp, http))
        .await?;
    Ok(Json(v))
}

pub async fn whoami(user: User) -> Json<Value> {
    Json(serde_json::json!({"name": user.name, "tags": user.tags}))
}

pub async fn vhosts(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            let names = a.broker().vhost_names();
            names
                .iter()
                .filter(|n| user.sees(a.broker(), n))
                .map(|n| views::vhost(a, n))
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(Value::Array(v)))
}

pub async fn vhost(
    State(s): State<AppState>,
    user: User,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            check_vhost(a.broker(), &user, &vhost)?;
            Ok::<_, ApiError>(views::vhost(a, &vhost))
        })
        .await??;
    Ok(Json(v))
}

pub async fn users(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let v = s
        .broker
        .call(|a| {
            a.broker()
                .users()
                .iter()
                .map(views::user)
                .collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(Value::Array(v)))
}

pub async fn user(
    State(s): State<AppState>,
    me: User,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require_admin()?;
    let v = s
        .broker
        .call(move |a| a.broker().user(&name).map(views::user))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(v))
}

pub async fn permissions(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let v = s.broker.call(|a| a.broker().permissions()).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

pub async fn permission(
    State(s): State<AppState>,
    me: User,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    me.require_admin()?;
    let v = s
        .broker
        .call(move |a| {
            a.broker()
                .permissions()
                .into_iter()
                .find(|p| p.user == name && p.vhost == vhost)
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// A listing (`/api/exchanges`, `/api/queues`, with or without a vhost):
/// everything of that kind, in one vhost when given, that the user may see.
async fn listing<T: 'static>(
    s: AppState,
    user: User,
    vhost: Option<String>,
    all: fn(&Broker) -> Vec<T>,
    vhost_of: fn(&T) -> &str,
    view: fn(&Admin<'_>, &T) -> Value,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            let b = a.broker();
            if let Some(v) = &vhost {
                check_vhost(b, &user, v)?;
            }
            Ok::<_, ApiError>(
                all(b)
                    .iter()
                    .filter(|x| vhost.as_deref().is_none_or(|v| v == vhost_of(x)))
                    .filter(|x| user.sees(b, vhost_of(x)))
                    .map(|x| view(a, x))
                    .collect::<Vec<_>>(),
            )
        })
        .await??;
    Ok(Json(Value::Array(v)))
}

async fn exchanges_in(s: AppState, user: User, vhost: Option<String>) -> ApiResult<Json<Value>> {
    listing(
        s,
        user,
        vhost,
        Broker::exchanges,
        |x| &x.vhost,
        views::exchange,
    )
    .await
}

pub async fn exchanges(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    exchanges_in(s, user, None).await
}

pub async fn exchanges_vhost(
    State(s): State<AppState>,
    user: User,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    exchanges_in(s, user, Some(vhost)).await
}

pub async fn exchange(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            let b = a.broker();
            check_vhost(b, &user, &vhost)?;
            let name = exchange_name(&name);
            b.exchanges()
                .iter()
                .find(|x| x.vhost == vhost && x.name == name)
                .map(|x| views::exchange(a, x))
                .ok_or_else(ApiError::not_found)
        })
        .await??;
    Ok(Json(v))
}

async fn queues_in(s: AppState, user: User, vhost: Option<String>) -> ApiResult<Json<Value>> {
    listing(s, user, vhost, Broker::queues, |q| &q.vhost, views::queue).await
}

pub async fn queues(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    queues_in(s, user, None).await
}

pub async fn queues_vhost(
    State(s): State<AppState>,
    user: User,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    queues_in(s, user, Some(vhost)).await
}

pub async fn queue(
    State(s): State<AppState>,
    user: User,
    Path((vhost, name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            check_vhost(a.broker(), &user, &vhost)?;
            let q = a
                .broker()
                .queue_info(&vhost, &name)
                .ok_or_else(ApiError::not_found)?;
            Ok::<_, ApiError>(views::queue_detail(a, &q))
        })
        .await??;
    Ok(Json(v))
}

/// Bindings filtered by vhost and, optionally, by a predicate on each.
async fn bindings_where(
    s: AppState,
    user: User,
    vhost: Option<String>,
    keep: impl Fn(&warren_core::broker::BindingInfo) -> bool + Send + 'static,
    must_exist: Option<(&'static str, String)>,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            let b = a.broker();
            if let Some(v) = &vhost {
                check_vhost(b, &user, v)?;
                match &must_exist {
                    Some(("queue", q)) if !b.has_queue(v, q) => return Err(ApiError::not_found()),
                    Some(("exchange", x))
                        if !b
                            .exchanges()
                            .iter()
                            .any(|e| e.vhost == *v && e.name == exchange_name(x)) =>
                    {
                        return Err(ApiError::not_found())
                    }
                    _ => {}
                }
            }
            Ok(b.bindings()
                .iter()
                .filter(|x| vhost.as_ref().is_none_or(|v| *v == x.vhost))
                .filter(|x| user.sees(b, &x.vhost) && keep(x))
                .map(views::binding)
                .collect::<Vec<_>>())
        })
        .await??;
    Ok(Json(Value::Array(v)))
}

pub async fn bindings(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    bindings_where(s, user, None, |_| true, None).await
}

pub async fn bindings_vhost(
    State(s): State<AppState>,
    user: User,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    bindings_where(s, user, Some(vhost), |_| true, None).await
}

pub async fn queue_bindings(
    State(s): State<AppState>,
    user: User,
    Path((vhost, queue)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let q = queue.clone();
    bindings_where(
        s,
        user,
        Some(vhost),
        move |b| b.destination_type == "queue" && b.destination == q,
        Some(("queue", queue)),
    )
    .await
}

pub async fn exchange_queue_bindings(
    State(s): State<AppState>,
    user: User,
    Path((vhost, exchange, queue)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let x = exchange_name(&exchange).to_string();
    bindings_where(
        s,
        user,
        Some(vhost),
        move |b| b.source == x && b.destination_type == "queue" && b.destination == queue,
        Some(("exchange", exchange)),
    )
    .await
}

pub async fn connections(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    let v = s.broker.call(move |a| views::connections(a, &user)).await?;
    Ok(Json(Value::Array(v)))
}

pub async fn channels(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    let v = s.broker.call(move |a| views::channels(a, &user)).await?;
    Ok(Json(Value::Array(v)))
}

pub async fn consumers(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    let v = s.broker.call(move |a| views::consumers(a, &user)).await?;
    Ok(Json(Value::Array(v)))
}

pub async fn consumers_vhost(
    State(s): State<AppState>,
    user: User,
    Path(vhost): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = s
        .broker
        .call(move |a| {
            check_vhost(a.broker(), &user, &vhost)?;
            Ok::<_, ApiError>(
                views::consumers(a, &user)
                    .into_iter()
                    .filter(|c| c["queue"]["vhost"] == vhost.as_str())
                    .collect::<Vec<_>>(),
            )
        })
        .await??;
    Ok(Json(Value::Array(v)))
}
