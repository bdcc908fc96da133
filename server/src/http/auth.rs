//! HTTP basic auth against the broker's users, as RabbitMQ's management
//! plugin does it: a bad or missing login is 401, a user without a
//! management tag is 401 "Not management user", and guest may only log in
//! from localhost. Checked in the broker task on every request, so a
//! password change or a deleted user takes effect at once.

use super::error::ApiError;
use super::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::net::SocketAddr;
use warren_core::Broker;

/// Tags that let a user into the management API.
const MANAGEMENT_TAGS: [&str; 4] = ["administrator", "management", "monitoring", "policymaker"];

/// The authenticated user of a request.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub tags: Vec<String>,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.tags.iter().any(|t| t == "administrator")
    }

    /// Whether this user may see a vhost: administrators see all, others the
    /// vhosts they have permissions on.
    pub fn sees(&self, b: &Broker, vhost: &str) -> bool {
        self.is_admin()
            || b.permissions()
                .iter()
                .any(|p| p.user == self.name && p.vhost == vhost)
    }

    /// 403 unless an administrator or a monitoring user, for the node's figures.
    pub fn require_monitoring(&self) -> Result<(), ApiError> {
        if self
            .tags
            .iter()
            .any(|t| t == "administrator" || t == "monitoring")
        {
            Ok(())
        } else {
            Err(ApiError::forbidden("Not monitor user"))
        }
    }

    /// 403 unless an administrator, for users, vhosts, permissions and definitions.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("Not administrator user"))
        }
    }
}

/// Splits `Authorization: Basic base64(user:password)`.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let raw = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<User, ApiError> {
        let (name, password) = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_basic)
            .ok_or_else(|| ApiError::unauthorized("Login failed"))?;
        let loopback = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_none_or(|ConnectInfo(a)| a.ip().is_loopback());
        let user = state
            .broker
            .call(move |admin| {
                let b = admin.broker();
                b.authenticate("PLAIN", &name, &password, loopback).ok()?;
                let tags = b.user(&name)?.tags.clone();
                Some(User { name, tags })
            })
            .await?
            .ok_or_else(|| ApiError::unauthorized("Login failed"))?;
        if !user
            .tags
            .iter()
            .any(|t| MANAGEMENT_TAGS.contains(&t.as_str()))
        {
            return Err(ApiError::unauthorized("Not management user"));
        }
        Ok(user)
    }
}
