//! A blocking HTTP client for the management API tests: status and JSON.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

pub struct Api {
    pub base: String,
    auth: String,
}

impl Api {
    pub fn new(port: u16) -> Api {
        Api::as_user(port, "guest", "guest")
    }

    pub fn as_user(port: u16, user: &str, password: &str) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            auth: format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
        }
    }

    /// Sends a request; returns the status and the JSON body (Null when empty).
    pub fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let req =
            ureq::request(method, &format!("{}{path}", self.base)).set("Authorization", &self.auth);
        let resp = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let r = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = r.status();
        let text = r.into_string().unwrap_or_default();
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// GET that must succeed.
    pub fn get(&self, path: &str) -> Value {
        let (status, v) = self.send("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }
}
