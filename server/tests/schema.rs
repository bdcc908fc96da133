//! `docs/scenario.schema.json` must be exactly the JSON Schema that warren-core
//! generates from its scenario types (feature `schema`), so the published schema
//! never drifts from what `warren scenario run` accepts.
//!
//! After changing the scenario types, regenerate the file with
//! `WARREN_BLESS=1 cargo test -p warren-server --test schema`.

use std::path::PathBuf;

/// The published schema, relative to the repository root.
const SCHEMA: &str = "docs/scenario.schema.json";

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(SCHEMA)
}

#[test]
fn published_schema_matches_the_scenario_types() {
    let path = schema_path();
    let generated = warren_core::scenario::json_schema_text();
    if std::env::var_os("WARREN_BLESS").is_some() {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    if published == generated {
        return;
    }
    let first_difference = published
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| published.lines().count().min(generated.lines().count()));
    let line = |text: &str| {
        text.lines()
            .nth(first_difference)
            .unwrap_or("(end of file)")
            .to_string()
    };
    panic!(
        "{SCHEMA} is out of date with the scenario types in core/src/scenario.\n\
         First difference at line {}:\n  published: {}\n  generated: {}\n\
         Regenerate it with: WARREN_BLESS=1 cargo test -p warren-server --test schema",
        first_difference + 1,
        line(&published),
        line(&generated),
    );
}
