//! A small blocking client of the management API for `warren ctl`.
//! Blocking is right here: one request at a time from a command-line tool,
//! no runtime needed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;
use std::time::Duration;

/// Everything but unreserved characters is escaped, so "/" becomes "%2F".
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Escapes one path segment (a vhost, a queue name).
pub fn seg(s: &str) -> String {
    utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

/// Why a request failed, with the exit code rabbitmqctl would use.
#[derive(Debug)]
pub struct CtlError {
    pub message: String,
    pub code: u8,
}

/// rabbitmqctl's exit codes (from sysexits): unavailable, no user, usage, software.
pub const EX_UNAVAILABLE: u8 = 69;
pub const EX_NOUSER: u8 = 67;
pub const EX_USAGE: u8 = 64;
pub const EX_SOFTWARE: u8 = 70;
pub const EX_NOPERM: u8 = 77;

pub struct Client {
    base: String,
    auth: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(host: &str, port: u16, user: &str, password: &str) -> Client {
        Client {
            base: format!("http://{host}:{port}"),
            auth: format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    /// Sends a request; JSON answers are parsed, empty ones are `Null`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CtlError> {
        let url = format!("{}{path}", self.base);
        let req = self
            .agent
            .request(method, &url)
            .set("Authorization", &self.auth);
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match resp {
            Ok(r) => {
                let text = r.into_string().unwrap_or_default();
                if text.trim().is_empty() {
                    Ok(Value::Null)
                } else {
                    serde_json::from_str(&text).map_err(|e| CtlError {
                        message: format!("bad answer from {url}: {e}"),
                        code: EX_SOFTWARE,
                    })
                }
            }
            Err(ureq::Error::Status(status, r)) => {
                let text = r.into_string().unwrap_or_default();
                let reason = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v.get("reason").and_then(Value::as_str).map(String::from))
                    .unwrap_or(text);
                let code = match status {
                    401 | 403 => EX_NOPERM,
                    404 => EX_UNAVAILABLE,
                    400 => EX_USAGE,
                    _ => EX_SOFTWARE,
                };
                Err(CtlError {
                    message: format!("{reason} (HTTP {status})"),
                    code,
                })
            }
            Err(ureq::Error::Transport(t)) => Err(CtlError {
                message: format!(
                    "cannot reach a warren server at {} (is `warren serve` running with --http-port {}?): {t}",
                    self.base,
                    self.base.rsplit(':').next().unwrap_or("")
                ),
                code: EX_UNAVAILABLE,
            }),
        }
    }

    pub fn get(&self, path: &str) -> Result<Value, CtlError> {
        self.request("GET", path, None)
    }
}
