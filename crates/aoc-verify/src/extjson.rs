//! Reading MongoDB Extended JSON v2 values (relaxed and canonical) as the rules need them:
//! dates, ObjectIds, numbers behind `$numberInt`/`$numberLong`/`$numberDouble`, and the
//! plain JSON the same fields take when the documents come from PostgreSQL or a JSON file.

use crate::doc::Node;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The single member of an Extended JSON wrapper object (`{"$date": …}`), when `value` is one.
fn wrapper<'v, 'a>(value: &'v Node<'a>, key: &str) -> Option<&'v Node<'a>> {
    match value {
        Node::Object(members) if members.len() == 1 && members[0].0 == key => Some(&members[0].1),
        _ => None,
    }
}

/// The 24 lowercase hex digits of an ObjectId (`{"$oid": "…"}`).
pub fn object_id(value: &Node<'_>) -> Option<String> {
    let hex = wrapper(value, "$oid")?.as_str()?;
    (hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The time an ObjectId was made (its first four bytes, seconds since the epoch), in
/// milliseconds.
pub fn object_id_time(value: &Node<'_>) -> Option<i64> {
    let hex = object_id(value)?;
    let seconds = u32::from_str_radix(&hex[..8], 16).ok()?;
    Some(i64::from(seconds) * 1000)
}

/// An `_id` (or a `supersedes` that names one) as a string key: a string as it is, an
/// ObjectId as its hex digits, so that a string `supersedes` can name an ObjectId `_id`. Other
/// types (numbers, documents) have no key.
pub fn id_key(value: &Node<'_>) -> Option<String> {
    match value {
        Node::String(s) => Some(s.to_string()),
        _ => object_id(value),
    }
}

/// A date in milliseconds since the epoch: `{"$date": "RFC 3339"}` (relaxed),
/// `{"$date": {"$numberLong": "…"}}` (canonical), `{"$date": <integer>}` (legacy), or a plain
/// RFC 3339 string (JSON and PostgreSQL exports).
pub fn date_millis(value: &Node<'_>) -> Option<i64> {
    match value {
        Node::String(s) => parse_rfc3339_millis(s),
        _ => match wrapper(value, "$date")? {
            Node::String(s) => parse_rfc3339_millis(s),
            number @ Node::Number(_) => number.as_i64(),
            inner => wrapper(inner, "$numberLong")?.as_str()?.parse().ok(),
        },
    }
}

/// Milliseconds since the epoch of an RFC 3339 date-time.
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// RFC 3339 UTC text (seconds precision, `Z`) of a time in milliseconds.
pub fn format_millis(millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| millis.to_string())
}

/// Bytes of `{"$binary": {"base64": "…", "subType": "…"}}` (v2) or the legacy
/// `{"$binary": "…", "$type": "…"}`.
pub fn binary(value: &Node<'_>) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let members = value.as_object()?;
    let inner = value.get("$binary")?;
    let text = match inner {
        Node::Object(_) => inner.get("base64")?.as_str()?,
        Node::String(legacy) if members.len() == 2 && value.get("$type").is_some() => legacy,
        _ => return None,
    };
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Whether a value counts as "empty" for a required field: null, `""`, `[]` or `{}`.
pub fn is_empty(value: &Node<'_>) -> bool {
    match value {
        Node::Null => true,
        Node::String(s) => s.is_empty(),
        Node::Array(items) => items.is_empty(),
        Node::Object(members) => members.is_empty(),
        Node::Bool(_) | Node::Number(_) => false,
    }
}

/// A JSON Pointer token (RFC 6901 §4: `~` → `~0`, `/` → `~1`) appended to `pointer`.
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    if token.contains(['~', '/']) {
        for c in token.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
    } else {
        pointer.push_str(token);
    }
}

/// A short, one-line description of a value's type, for messages.
pub fn type_name(value: &Node<'_>) -> &'static str {
    match value {
        Node::Null => "null",
        Node::Bool(_) => "a boolean",
        Node::Number(_) => "a number",
        Node::String(_) => "a string",
        Node::Array(_) => "an array",
        Node::Object(members) => match members.first().map(|(k, _)| k.as_ref()) {
            Some("$date") if members.len() == 1 => "a date",
            Some("$oid") if members.len() == 1 => "an ObjectId",
            Some("$numberInt" | "$numberLong" | "$numberDouble" | "$numberDecimal")
                if members.len() == 1 =>
            {
                "a number"
            }
            Some("$binary") => "binary data",
            _ => "an object",
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn n(value: serde_json::Value) -> Node<'static> {
        Node::from(&value)
    }

    #[test]
    fn dates_in_every_form() {
        let want = Some(1_714_521_600_000);
        assert_eq!(
            date_millis(&n(serde_json::json!({"$date": "2024-05-01T00:00:00Z"}))),
            want
        );
        assert_eq!(
            date_millis(&n(
                serde_json::json!({"$date": "2024-05-01T02:00:00.000+02:00"})
            )),
            want
        );
        assert_eq!(
            date_millis(&n(
                serde_json::json!({"$date": {"$numberLong": "1714521600000"}})
            )),
            want
        );
        assert_eq!(
            date_millis(&n(serde_json::json!({"$date": 1_714_521_600_000_i64}))),
            want
        );
        assert_eq!(
            date_millis(&n(serde_json::json!("2024-05-01T00:00:00Z"))),
            want
        );
        assert_eq!(date_millis(&n(serde_json::json!("yesterday"))), None);
        assert_eq!(
            date_millis(&n(serde_json::json!({"$date": "2024-05-01"}))),
            None
        );
        assert_eq!(
            date_millis(&n(
                serde_json::json!({"$date": "2024-05-01T00:00:00Z", "x": 1})
            )),
            None
        );
        assert_eq!(
            date_millis(&n(serde_json::json!(1_714_521_600_000_i64))),
            None
        );
        assert_eq!(format_millis(1_714_521_600_123), "2024-05-01T00:00:00Z");
    }

    #[test]
    fn ids_and_object_id_time() {
        let oid = n(serde_json::json!({"$oid": "6631A2800000000000000000"}));
        assert_eq!(id_key(&oid).unwrap(), "6631a2800000000000000000");
        assert_eq!(object_id_time(&oid), Some(0x6631_a280_i64 * 1000));
        assert_eq!(id_key(&n(serde_json::json!("adv-1"))).unwrap(), "adv-1");
        assert_eq!(id_key(&n(serde_json::json!({"$oid": "xyz"}))), None);
        assert_eq!(id_key(&n(serde_json::json!(5))), None);
    }

    #[test]
    fn binary_both_forms() {
        let v2 = n(serde_json::json!({"$binary": {"base64": "aGk=", "subType": "00"}}));
        let legacy = n(serde_json::json!({"$binary": "aGk=", "$type": "00"}));
        assert_eq!(binary(&v2).unwrap(), b"hi");
        assert_eq!(binary(&legacy).unwrap(), b"hi");
        assert_eq!(binary(&n(serde_json::json!("aGk="))), None);
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        push_token(&mut p, "plain");
        assert_eq!(p, "/a~1b~0c/plain");
    }
}
