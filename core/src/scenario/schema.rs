//! The JSON Schema of the scenario format (feature `schema`), written to
//! `docs/scenario.schema.json` for editors and other tools.
//!
//! Everything is derived from the types in this module's parent, except
//! [`Step`]: serde flattens the action into the step, which a derived schema
//! cannot say precisely, so every action variant gets `at` and `client` here.

use super::{Action, Scenario, Step};
use crate::protocol::Millis;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{RootSchema, Schema};
use schemars::JsonSchema;

/// The fields every step has besides its action.
// Only read for its schema.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct StepTiming {
    /// Virtual time in milliseconds. Steps at the same time run in file order.
    #[serde(default)]
    at: Millis,
    /// Which client acts; required by every action but `restart`.
    #[serde(default)]
    client: Option<String>,
}

impl JsonSchema for Step {
    fn schema_name() -> String {
        "Step".to_string()
    }

    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        let timing = StepTiming::json_schema(gen)
            .into_object()
            .object
            .map(|o| o.properties)
            .unwrap_or_default();
        let mut action = Action::json_schema(gen).into_object();
        let variants = action
            .subschemas
            .as_mut()
            .and_then(|s| s.one_of.as_mut())
            .into_iter()
            .flatten();
        for variant in variants {
            let Schema::Object(variant) = variant else {
                continue;
            };
            let is_restart = variant
                .object
                .as_ref()
                .and_then(|o| o.properties.get("do"))
                .and_then(|d| match d {
                    Schema::Object(d) => d.enum_values.as_ref(),
                    Schema::Bool(_) => None,
                })
                .is_some_and(|e| e.iter().any(|v| v == "restart"));
            let object = variant.object();
            let mut properties = timing.clone();
            properties.extend(std::mem::take(&mut object.properties));
            object.properties = properties;
            if !is_restart {
                object.required.insert("client".to_string());
            }
        }
        action.metadata().description = Some(
            "One timed action of the script: `at`, `client`, and `do` naming the action \
             with its own fields."
                .to_string(),
        );
        action.into()
    }
}

/// The JSON Schema (draft 7) of a scenario file.
pub fn json_schema() -> RootSchema {
    let mut root = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Scenario>();
    root.schema.metadata().title = Some("Warren scenario".to_string());
    root
}

/// [`json_schema`] as pretty JSON with a final newline: the text of
/// `docs/scenario.schema.json`.
pub fn json_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&json_schema()).expect("a schema always serializes to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn step_variants() -> Vec<Value> {
        let schema: Value = serde_json::to_value(json_schema()).unwrap();
        schema["definitions"]["Step"]["oneOf"]
            .as_array()
            .expect("steps are one of the actions")
            .clone()
    }

    #[test]
    fn every_action_takes_at_and_client() {
        let variants = step_variants();
        assert!(variants.len() > 20, "{variants:?}");
        for v in variants {
            let props = v["properties"].as_object().unwrap();
            assert!(
                props.contains_key("at") && props.contains_key("client"),
                "{v}"
            );
            assert_eq!(v["additionalProperties"], Value::Bool(false), "{v}");
            let required: Vec<&str> = v["required"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let restart = v["properties"]["do"]["enum"][0] == "restart";
            assert_eq!(required.contains(&"client"), !restart, "{v}");
        }
    }

    #[test]
    fn text_ends_with_a_newline() {
        assert!(json_schema_text().ends_with("}\n"));
    }
}
