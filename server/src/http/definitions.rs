//! `GET/POST /api/definitions`: RabbitMQ's definitions.json, both ways.
//! Export is the core's view of everything durable plus users, vhosts and
//! permissions; import adds what is missing and stores what is durable
//! (`Broker::import_definitions`). Administrators only, as in RabbitMQ.

use super::auth::User;
use super::error::{ApiError, ApiResult};
use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};
use warren_core::definitions::Definitions;

pub async fn export(State(s): State<AppState>, user: User) -> ApiResult<Json<Value>> {
    user.require_admin()?;
    let defs = s.broker.call(|a| a.broker().export_definitions()).await?;
    let mut v = serde_json::to_value(defs).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        // Sections Warren has nothing for, present so RabbitMQ tools find them.
        for key in [
            "topic_permissions",
            "parameters",
            "global_parameters",
            "policies",
        ] {
            m.entry(key).or_insert_with(|| json!([]));
        }
    }
    Ok(Json(v))
}

pub async fn import(State(s): State<AppState>, user: User, raw: Bytes) -> ApiResult<StatusCode> {
    user.require_admin()?;
    let defs: Definitions = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::bad_request(format!("bad definitions: {e}")))?;
    s.broker
        .call(move |a| a.with_core(|b, now| b.import_definitions(now, &defs)))
        .await?
        .map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
