//! The `schema` member every document carries (`"<name>/v<major>"`) and the version check
//! readers run before trusting the rest of the document.

use crate::FormatError;
use serde::de::DeserializeOwned;

/// A document kind known to this crate, with the one major version it reads and writes.
pub trait Document: DeserializeOwned {
    /// Schema name without the version, e.g. `stellaops.bundle`.
    const SCHEMA_NAME: &'static str;
    /// The major version this build reads and writes.
    const SCHEMA_MAJOR: u32;
    /// Human label used in error messages.
    const LABEL: &'static str;

    /// The full schema identifier written into documents, e.g. `stellaops.bundle/v1`.
    fn schema_id() -> String {
        format!("{}/v{}", Self::SCHEMA_NAME, Self::SCHEMA_MAJOR)
    }

    /// Parses a document, first checking its `schema` member so that an unknown major
    /// version is reported as such rather than as a confusing field error.
    fn from_json_slice(bytes: &[u8]) -> Result<Self, FormatError> {
        // Only the `schema` member is kept on the first pass: going through a whole
        // `serde_json::Value` costs a map per object, and a manifest has one per file.
        #[derive(serde::Deserialize)]
        struct Probe {
            schema: Option<serde_json::Value>,
        }
        let json = |source| FormatError::Json {
            document: Self::LABEL,
            source,
        };
        let Ok(probe) = serde_json::from_slice::<Probe>(bytes) else {
            // Not JSON, or not an object: the slow path names the error exactly as before.
            let value: serde_json::Value = serde_json::from_slice(bytes).map_err(json)?;
            return Self::from_json_value(value);
        };
        let found = probe
            .schema
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .ok_or(FormatError::MissingSchema {
                document: Self::LABEL,
            })?;
        check_schema::<Self>(found)?;
        serde_json::from_slice(bytes).map_err(json)
    }

    /// Like [`Document::from_json_slice`] for an already parsed value.
    fn from_json_value(value: serde_json::Value) -> Result<Self, FormatError> {
        let found = value
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .ok_or(FormatError::MissingSchema {
                document: Self::LABEL,
            })?;
        check_schema::<Self>(found)?;
        serde_json::from_value(value).map_err(|source| FormatError::Json {
            document: Self::LABEL,
            source,
        })
    }
}

/// Checks that `found` is `<D::SCHEMA_NAME>/v<D::SCHEMA_MAJOR>`.
pub fn check_schema<D: Document>(found: &str) -> Result<(), FormatError> {
    let Some((name, version)) = found.rsplit_once('/') else {
        return Err(FormatError::WrongSchema {
            document: D::LABEL,
            expected: D::SCHEMA_NAME,
            found: found.to_owned(),
        });
    };
    if name != D::SCHEMA_NAME {
        return Err(FormatError::WrongSchema {
            document: D::LABEL,
            expected: D::SCHEMA_NAME,
            found: found.to_owned(),
        });
    }
    let major = version
        .strip_prefix('v')
        .and_then(|m| m.split('.').next())
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m == D::SCHEMA_MAJOR => Ok(()),
        _ => Err(FormatError::UnsupportedVersion {
            document: D::LABEL,
            expected: D::SCHEMA_NAME,
            supported: D::SCHEMA_MAJOR,
            found: found.to_owned(),
        }),
    }
}
