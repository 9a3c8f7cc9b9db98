//! `upstream.content_hash` recomputed: SHA-256 over the RFC 8785 canonical JSON of
//! `content.raw` when it is a JSON value, over its UTF-8 bytes when it is a string.
//!
//! The raw document went through MongoDB (or PostgreSQL) on its way here, so its numbers may
//! come back as Extended JSON wrappers (`{"$numberInt": "5"}` in canonical exports, BSON
//! int32/int64/double in dumps). They are read back as the JSON numbers they were, and then
//! spelled the way RFC 8785 spells every number: as the ECMAScript string of the IEEE 754
//! double it denotes.

use offline_formats::jcs::{compare_member_names, write_string};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// 2^53: integers up to this magnitude are exact doubles and are spelled with their digits.
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Why the hash of a raw payload cannot be recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCanonical(pub String);

/// `sha256:<hex>` of a raw payload, as the ingestion service computes `content_hash`.
pub fn content_hash(raw: &Value) -> Result<String, NotCanonical> {
    let digest = match raw {
        Value::String(text) => Sha256::digest(text.as_bytes()),
        value => {
            let mut canonical = Vec::with_capacity(4096);
            write_canonical(&mut canonical, value)?;
            Sha256::digest(&canonical)
        }
    };
    Ok(format!("sha256:{}", hex::encode(digest)))
}

/// RFC 8785 bytes of a JSON value whose numbers may be Extended JSON wrappers.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>, NotCanonical> {
    let mut out = Vec::new();
    write_canonical(&mut out, value)?;
    Ok(out)
}

fn write_canonical(out: &mut Vec<u8>, value: &Value) -> Result<(), NotCanonical> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if let Some(number) = wrapped_number(map)? {
                return write_f64(out, number);
            }
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| compare_member_names(a.0, b.0));
            out.push(b'{');
            for (i, (name, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, name);
                out.push(b':');
                write_canonical(out, member)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// The number behind `{"$numberInt"|"$numberLong"|"$numberDouble"|"$numberDecimal": "…"}`.
fn wrapped_number(map: &Map<String, Value>) -> Result<Option<f64>, NotCanonical> {
    if map.len() != 1 {
        return Ok(None);
    }
    let Some((key, Value::String(text))) = map.iter().next() else {
        return Ok(None);
    };
    if !matches!(
        key.as_str(),
        "$numberInt" | "$numberLong" | "$numberDouble" | "$numberDecimal"
    ) {
        return Ok(None);
    }
    let number: f64 = text
        .parse()
        .map_err(|_| NotCanonical(format!("`{key}` holds `{text}`, not a number")))?;
    if !number.is_finite() {
        return Err(NotCanonical(format!(
            "`{key}` holds `{text}`, which JSON cannot spell"
        )));
    }
    Ok(Some(number))
}

fn write_number(out: &mut Vec<u8>, number: &Number) -> Result<(), NotCanonical> {
    if let Some(n) = number.as_u64() {
        if n <= MAX_EXACT_INTEGER {
            out.extend_from_slice(n.to_string().as_bytes());
            return Ok(());
        }
    } else if let Some(n) = number.as_i64() {
        if n.unsigned_abs() <= MAX_EXACT_INTEGER {
            out.extend_from_slice(n.to_string().as_bytes());
            return Ok(());
        }
    }
    match number.as_f64() {
        Some(f) => write_f64(out, f),
        None => Err(NotCanonical(format!("number `{number}` is not a double"))),
    }
}

fn write_f64(out: &mut Vec<u8>, number: f64) -> Result<(), NotCanonical> {
    if !number.is_finite() {
        return Err(NotCanonical(format!("number `{number}` is not finite")));
    }
    out.extend_from_slice(ryu_js::Buffer::new().format_finite(number).as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_members_and_spells_numbers_as_ecmascript() {
        let value: Value = serde_json::from_str(
            r#"{"b": [1.0, 1e21, -0.0, 0.000001, 1e-7, 9007199254740993], "a": "é\u0001", "\u20ac": 1, "\ud83d\ude00": 2}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonical_bytes(&value).unwrap()).unwrap(),
            "{\"a\":\"é\\u0001\",\"b\":[1,1e+21,0,0.000001,1e-7,9007199254740992],\"€\":1,\"😀\":2}"
        );
    }

    #[test]
    fn extended_json_numbers_hash_like_the_plain_document() {
        let plain = json!({"id": "GHSA-1", "n": 5, "big": 1_234_567_890_123_i64, "f": 1.5});
        let canonical = json!({
            "id": "GHSA-1",
            "n": {"$numberInt": "5"},
            "big": {"$numberLong": "1234567890123"},
            "f": {"$numberDouble": "1.5"}
        });
        assert_eq!(
            content_hash(&plain).unwrap(),
            content_hash(&canonical).unwrap()
        );
        assert_eq!(
            content_hash(&json!({"$numberDouble": "Infinity"})).unwrap_err(),
            NotCanonical("`$numberDouble` holds `Infinity`, which JSON cannot spell".into())
        );
    }

    #[test]
    fn a_string_payload_hashes_its_utf8_bytes() {
        // sha256("abc")
        assert_eq!(
            content_hash(&json!("abc")).unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // A JSON value hashes its canonical text: {"a":1}.
        assert_eq!(
            content_hash(&json!({"a": 1})).unwrap(),
            format!("sha256:{}", hex::encode(Sha256::digest(b"{\"a\":1}")))
        );
    }
}
