//! `upstream.content_hash` recomputed: SHA-256 over the RFC 8785 canonical JSON of
//! `content.raw` when it is a JSON value, over its UTF-8 bytes when it is a string.
//!
//! The raw document went through MongoDB (or PostgreSQL) on its way here, so its numbers may
//! come back as Extended JSON wrappers (`{"$numberInt": "5"}` in canonical exports, BSON
//! int32/int64/double in dumps). They are read back as the JSON numbers they were, and then
//! spelled the way RFC 8785 spells every number: as the ECMAScript string of the IEEE 754
//! double it denotes.

use crate::doc::{Node, Number};
use offline_formats::jcs::{compare_member_names, write_string};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cmp::Ordering;

/// 2^53: integers up to this magnitude are exact doubles and are spelled with their digits.
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Why the hash of a raw payload cannot be recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCanonical(pub String);

/// `sha256:<hex>` of a raw payload, as the ingestion service computes `content_hash`.
pub fn content_hash(raw: &Node<'_>) -> Result<String, NotCanonical> {
    let digest = match raw {
        Node::String(text) => Sha256::digest(text.as_bytes()),
        value => {
            let mut canonical = Vec::with_capacity(8192);
            write_canonical(&mut canonical, value)?;
            Sha256::digest(&canonical)
        }
    };
    Ok(format!("sha256:{}", hex::encode(digest)))
}

/// RFC 8785 bytes of a JSON value whose numbers may be Extended JSON wrappers.
pub fn canonical_bytes(value: &Node<'_>) -> Result<Vec<u8>, NotCanonical> {
    let mut out = Vec::new();
    write_canonical(&mut out, value)?;
    Ok(out)
}

fn write_canonical(out: &mut Vec<u8>, value: &Node<'_>) -> Result<(), NotCanonical> {
    match value {
        Node::Null => out.extend_from_slice(b"null"),
        Node::Bool(true) => out.extend_from_slice(b"true"),
        Node::Bool(false) => out.extend_from_slice(b"false"),
        Node::Number(number) => write_number(out, *number)?,
        Node::String(s) => write_text(out, s),
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(out, item)?;
            }
            out.push(b']');
        }
        Node::Object(members) => {
            if let Some(number) = wrapped_number(members)? {
                return write_f64(out, number);
            }
            let mut sorted: Vec<&(Cow<'_, str>, Node<'_>)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| member_order(&a.0, &b.0));
            if let Some(pair) = sorted.windows(2).find(|pair| pair[0].0 == pair[1].0) {
                return Err(NotCanonical(format!(
                    "has the member `{}` twice in one object",
                    pair[0].0
                )));
            }
            out.push(b'{');
            for (i, (name, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_text(out, name);
                out.push(b':');
                write_canonical(out, member)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// RFC 8785 member order (UTF-16 code units). Byte order is the same unless a character
/// at or above U+E000 (lead byte 0xEE or more) is involved, so that is the only case that
/// pays for the UTF-16 comparison.
fn member_order(a: &str, b: &str) -> Ordering {
    if a.bytes().chain(b.bytes()).any(|byte| byte >= 0xee) {
        compare_member_names(a, b)
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

/// A JSON string as RFC 8785 writes it. A string borrowed from the input had no escape
/// there, and JSON text cannot hold `"`, `\` or a control character unescaped, so it has
/// nothing to escape: it is copied whole. Only strings that were unescaped on reading (or
/// came from BSON) go through the escaping writer.
#[allow(
    clippy::ptr_arg,
    reason = "whether the string is borrowed from the input is exactly what is asked"
)]
fn write_text(out: &mut Vec<u8>, text: &Cow<'_, str>) {
    match text {
        Cow::Borrowed(plain) => {
            out.reserve(plain.len() + 2);
            out.push(b'"');
            out.extend_from_slice(plain.as_bytes());
            out.push(b'"');
        }
        Cow::Owned(text) => write_string(out, text),
    }
}

/// The number behind `{"$numberInt"|"$numberLong"|"$numberDouble"|"$numberDecimal": "…"}`.
fn wrapped_number(members: &[(Cow<'_, str>, Node<'_>)]) -> Result<Option<f64>, NotCanonical> {
    let [(key, Node::String(text))] = members else {
        return Ok(None);
    };
    if !matches!(
        key.as_ref(),
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

fn write_number(out: &mut Vec<u8>, number: Number) -> Result<(), NotCanonical> {
    match number {
        Number::Unsigned(n) if n <= MAX_EXACT_INTEGER => {
            out.extend_from_slice(n.to_string().as_bytes());
            Ok(())
        }
        Number::Signed(n) if n.unsigned_abs() <= MAX_EXACT_INTEGER => {
            out.extend_from_slice(n.to_string().as_bytes());
            Ok(())
        }
        // Beyond 2^53 an integer is the double it rounds to, as ECMAScript reads it.
        Number::Unsigned(n) => write_f64(out, n as f64),
        Number::Signed(n) => write_f64(out, n as f64),
        Number::Float(f) => write_f64(out, f),
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

    fn n(value: serde_json::Value) -> Node<'static> {
        Node::from(&value)
    }

    #[test]
    fn canonical_form_sorts_members_and_spells_numbers_as_ecmascript() {
        let text = r#"{"b": [1.0, 1e21, -0.0, 0.000001, 1e-7, 9007199254740993], "a": "é\u0001", "\u20ac": 1, "\ud83d\ude00": 2}"#;
        let value = Node::parse(text.as_bytes()).unwrap();
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
            content_hash(&n(plain)).unwrap(),
            content_hash(&n(canonical)).unwrap()
        );
        assert_eq!(
            content_hash(&n(json!({"$numberDouble": "Infinity"}))).unwrap_err(),
            NotCanonical("`$numberDouble` holds `Infinity`, which JSON cannot spell".into())
        );
    }

    #[test]
    fn repeated_member_names_cannot_be_canonicalized() {
        let value = Node::parse(br#"{"a": {"x": 1, "x": 2}}"#).unwrap();
        assert_eq!(
            canonical_bytes(&value).unwrap_err(),
            NotCanonical("has the member `x` twice in one object".into())
        );
    }

    #[test]
    fn a_string_payload_hashes_its_utf8_bytes() {
        // sha256("abc")
        assert_eq!(
            content_hash(&n(json!("abc"))).unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // A JSON value hashes its canonical text: {"a":1}.
        assert_eq!(
            content_hash(&n(json!({"a": 1}))).unwrap(),
            format!("sha256:{}", hex::encode(Sha256::digest(b"{\"a\":1}")))
        );
    }
}
