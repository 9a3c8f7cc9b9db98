//! Just enough JSON to save bench figures: keys sorted, 2-space indent, trailing newline.

use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub enum Json {
    Bool(bool),
    Int(u64),
    /// Written with at most 6 decimals; non-finite values become `null`.
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Self {
        Json::Obj(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    pub fn str(s: impl Into<String>) -> Self {
        Json::Str(s.into())
    }

    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = |out: &mut String, depth: usize| out.extend(std::iter::repeat_n("  ", depth));
        match self {
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Num(x) if x.is_finite() => {
                let rounded = (x * 1e6).round() / 1e6;
                out.push_str(&rounded.to_string());
            }
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, depth + 1);
                    item.write(out, depth + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, depth);
                out.push(']');
            }
            Json::Obj(map) if map.is_empty() => out.push_str("{}"),
            Json::Obj(map) => {
                out.push_str("{\n");
                for (i, (key, value)) in map.iter().enumerate() {
                    pad(out, depth + 1);
                    write_str(out, key);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                    out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
                }
                pad(out, depth);
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_sorts_keys_and_escapes() {
        let doc = Json::obj([
            (
                "b",
                Json::Arr(vec![
                    Json::Int(1),
                    Json::Num(0.1234567),
                    Json::Num(f64::INFINITY),
                ]),
            ),
            ("a", Json::str("x\"y\u{1}")),
            ("c", Json::obj([])),
            ("d", Json::Num(f64::NAN)),
            ("e", Json::Bool(true)),
        ]);
        assert_eq!(
            doc.pretty(),
            "{\n  \"a\": \"x\\\"y\\u0001\",\n  \"b\": [\n    1,\n    0.123457,\n    null\n  ],\n  \
             \"c\": {},\n  \"d\": null,\n  \"e\": true\n}\n"
        );
    }
}
