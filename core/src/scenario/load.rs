//! Reading scenario files: every error names the JSON path and line:column and
//! says what was expected, so a hand-edited file is easy to fix.

use super::{Action, Expectation, Scenario, FORMAT_VERSION};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Where in the document, e.g. `script[2].do`; `.` for the whole document.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "at {} (line {}, column {}): {}",
                self.path, self.line, self.column, self.message
            )
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Parses and validates a scenario.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        ScenarioError {
            path: e.path().to_string(),
            line: inner.line(),
            column: inner.column(),
            message: inner
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        }
    })?;
    validate(&scenario)?;
    Ok(scenario)
}

fn invalid(path: String, message: String) -> ScenarioError {
    ScenarioError {
        path,
        line: 0,
        column: 0,
        message,
    }
}

/// Checks what the types cannot: the version, and that named clients exist.
fn validate(s: &Scenario) -> Result<(), ScenarioError> {
    if s.version != FORMAT_VERSION {
        return Err(invalid(
            "version".into(),
            format!(
                "unsupported version {}, expected {FORMAT_VERSION}",
                s.version
            ),
        ));
    }
    let known = |name: &str| s.clients.iter().any(|c| c.name == name);
    for (i, c) in s.clients.iter().enumerate() {
        if s.clients[..i].iter().any(|d| d.name == c.name) {
            return Err(invalid(
                format!("clients[{i}].name"),
                format!("duplicate client name '{}'", c.name),
            ));
        }
    }
    for (i, step) in s.script.iter().enumerate() {
        match (&step.action, &step.client) {
            (Action::Restart, _) => {}
            (_, None) => {
                return Err(invalid(
                    format!("script[{i}].client"),
                    "missing field `client`: every action but restart is done by a client".into(),
                ))
            }
            (_, Some(c)) if !known(c) => {
                return Err(invalid(
                    format!("script[{i}].client"),
                    format!("unknown client '{c}', expected one of the names under `clients`"),
                ))
            }
            _ => {}
        }
        if let Action::Publish { count: 0, .. } = step.action {
            return Err(invalid(
                format!("script[{i}].count"),
                "count must be at least 1".into(),
            ));
        }
    }
    for (i, e) in s.expect.iter().enumerate() {
        let client = match e {
            Expectation::Received { client, .. }
            | Expectation::Delivery { client, .. }
            | Expectation::Returned { client, .. }
            | Expectation::Confirms { client, .. }
            | Expectation::Error { client, .. }
            | Expectation::RpcReplies { client, .. }
            | Expectation::Declared { client, .. } => Some(client),
            Expectation::Queue { .. } => None,
        };
        if let Some(c) = client {
            if !known(c) {
                return Err(invalid(
                    format!("expect[{i}].client"),
                    format!("unknown client '{c}', expected one of the names under `clients`"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_path_and_position() {
        let e = parse("{\"version\": 1, \"name\": \"x\",\n \"script\": [{\"do\": \"fly\", \"client\": \"a\"}]}").unwrap_err();
        assert!(e.path.starts_with("script[0]"), "{e}");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("unknown variant `fly`"), "{e}");
    }

    #[test]
    fn wrong_types_are_reported() {
        let e = parse("{\"version\": 1, \"name\": 5}").unwrap_err();
        assert_eq!(e.path, "name");
        assert!(e.message.contains("expected a string"), "{e}");
    }

    #[test]
    fn unknown_clients_are_reported() {
        let e = parse(r#"{"version":1,"name":"x","script":[{"do":"close","client":"ghost"}]}"#)
            .unwrap_err();
        assert_eq!(e.path, "script[0].client");
        let e = parse(r#"{"version":2,"name":"x"}"#).unwrap_err();
        assert_eq!(e.path, "version");
    }

    #[test]
    fn not_json_is_reported() {
        let e = parse("{not json").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(!e.message.is_empty());
    }
}
