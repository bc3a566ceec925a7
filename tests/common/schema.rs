//! The JSON Schema of packpush's `--output json` document (docs/report.schema.json), and
//! the check every run goes through: whatever a run prints on stdout that is a report (a
//! JSON object with a `schema_version`) must validate against it, so that every test of
//! every command checks the schema against what packpush really printed.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

/// The schema, as docs/ keeps it.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()))
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(schema())
            .unwrap_or_else(|e| panic!("docs/report.schema.json is not a valid schema: {e}"))
    })
}

/// Every way `document` breaks the schema (empty when it is valid).
pub fn violations(document: &Value) -> Vec<String> {
    validator()
        .iter_errors(document)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// Panics, naming every violation, when `stdout` is a report that breaks the schema.
/// Anything else on stdout (text, a script, a partial document) is not checked here.
#[track_caller]
pub fn check_stdout(stdout: &str) {
    let Ok(document) = serde_json::from_str::<Value>(stdout) else {
        return;
    };
    if document.get("schema_version").is_none() {
        return;
    }
    let found = violations(&document);
    assert!(
        found.is_empty(),
        "the report breaks docs/report.schema.json:\n  {}\n--- report ---\n{document:#}",
        found.join("\n  ")
    );
}
