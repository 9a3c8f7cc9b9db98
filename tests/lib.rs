//! Helpers shared by the end-to-end tests: finding the published JSON Schemas and checking
//! documents against them.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// The folder holding the published JSON Schemas (`docs/schemas/` of the workspace).
pub fn schema_dir() -> PathBuf {
    workspace_root().join("docs").join("schemas")
}

/// The root of the Cargo workspace.
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    match here.parent() {
        Some(root) => root.to_path_buf(),
        None => panic!("{} has no parent folder", here.display()),
    }
}

/// Reads and parses a JSON file, panicking with the file name on any error.
pub fn read_json(path: &Path) -> Value {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// File names of every `*.json` schema in [`schema_dir`], sorted.
pub fn schema_files() -> Vec<String> {
    let dir = schema_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .map(|entry| match entry {
            Ok(entry) => entry.file_name().to_string_lossy().into_owned(),
            Err(e) => panic!("{}: {e}", dir.display()),
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Reads one schema of [`schema_dir`] by file name.
pub fn load_schema(schema_file: &str) -> Value {
    read_json(&schema_dir().join(schema_file))
}

/// Compiles a schema of [`schema_dir`] as draft 2020-12 with `format` assertions on.
///
/// Every schema of the folder is registered under its `$id`, so cross-file `$ref`s resolve
/// offline exactly as they would for a user holding the whole folder.
pub fn compile(schema_file: &str) -> Result<jsonschema::Validator, String> {
    let mut options = jsonschema::draft202012::options().should_validate_formats(true);
    for name in schema_files() {
        let schema = load_schema(&name);
        let Some(id) = schema.get("$id").and_then(Value::as_str).map(str::to_owned) else {
            return Err(format!("{name}: no `$id`"));
        };
        let resource =
            jsonschema::Resource::from_contents(schema).map_err(|e| format!("{name}: {e}"))?;
        options = options.with_resource(id, resource);
    }
    options
        .build(&load_schema(schema_file))
        .map_err(|e| format!("{schema_file}: {e} (at {})", e.schema_path))
}

/// Every error found validating `instance` against `schema_file`, each as
/// `<instance path>: <message>` (the root is written `/`).
pub fn validation_errors(schema_file: &str, instance: &Value) -> Vec<(String, String)> {
    let validator = match compile(schema_file) {
        Ok(validator) => validator,
        Err(e) => panic!("{e}"),
    };
    validator
        .iter_errors(instance)
        .map(|e| (e.instance_path.to_string(), e.to_string()))
        .collect()
}

/// Panics unless `instance` is valid against `schema_file`, listing every error with the
/// instance path it was found at.
pub fn assert_valid(schema_file: &str, instance: &Value) {
    let errors = validation_errors(schema_file, instance);
    if !errors.is_empty() {
        let listing: Vec<String> = errors
            .iter()
            .map(|(path, message)| format!("  {}: {message}", display_path(path)))
            .collect();
        panic!(
            "document is not valid against {schema_file} ({} errors):\n{}\ndocument: {}",
            errors.len(),
            listing.join("\n"),
            serde_json::to_string_pretty(instance).unwrap_or_default()
        );
    }
}

/// Panics unless `instance` is refused by `schema_file` with an error at `instance_path`
/// (a JSON Pointer, `""` for the root); returns every error found.
pub fn assert_invalid_at(
    schema_file: &str,
    instance: &Value,
    instance_path: &str,
) -> Vec<(String, String)> {
    let errors = validation_errors(schema_file, instance);
    if !errors.iter().any(|(path, _)| path == instance_path) {
        panic!(
            "expected {schema_file} to refuse the value at `{}`, got {:?}\ndocument: {}",
            display_path(instance_path),
            errors,
            serde_json::to_string_pretty(instance).unwrap_or_default()
        );
    }
    errors
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}
