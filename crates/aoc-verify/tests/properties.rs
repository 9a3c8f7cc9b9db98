//! Properties of the framing and the checks on arbitrary input: a JSON array is cut into
//! exactly the elements serde_json finds in it; the checks never panic and always name a
//! valid JSON Pointer; a document passes or fails the same whatever its member order.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

use aoc_verify::check::check_document;
use aoc_verify::doc::Node;
use aoc_verify::input::json;
use aoc_verify::rules::RuleSet;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::Arc;

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z\"\\\\\\[\\]{},: \u{e9}\u{1F600}]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,10}",
                    Just("severity".to_owned()),
                    Just("merged_from".to_owned()),
                    Just("effective_x".to_owned()),
                    Just("content".to_owned()),
                    Just("source".to_owned()),
                    Just("upstream".to_owned()),
                    Just("raw".to_owned()),
                    Just("$date".to_owned()),
                    Just("$oid".to_owned()),
                    Just("$numberLong".to_owned()),
                    Just("a/b~c".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn frames_of(text: &str) -> Vec<Value> {
    let mut source = json::open(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        Arc::from("p.json"),
        Arc::from("advisory_raw"),
    )
    .unwrap();
    let mut out = Vec::new();
    while let Some(batch) = source.next_batch().unwrap() {
        for frame in &batch.frames {
            out.push(serde_json::from_slice(&batch.data[frame.range.clone()]).unwrap());
        }
    }
    out
}

fn is_pointer(path: &str) -> bool {
    path.is_empty()
        || (path.starts_with('/')
            && !path.split('/').skip(1).any(|token| {
                token.contains('~') && token.replace("~0", "").replace("~1", "").contains('~')
            }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn json_arrays_are_cut_into_exactly_their_elements(items in prop::collection::vec(arbitrary_json(), 0..8), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&items).unwrap()
        } else {
            serde_json::to_string(&items).unwrap()
        };
        // Compared with serde_json's own reading of the whole array (its float parsing is
        // not an exact round trip of `items`, and is not what is tested here).
        let whole: Vec<Value> = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(frames_of(&text), whole);
    }

    #[test]
    fn checks_never_panic_and_name_valid_pointers(document in arbitrary_json()) {
        let rules = RuleSet::load(&[]).unwrap();
        for collection in ["advisory_raw", "vex_raw"] {
            let checked = check_document(&rules, rules.collection(collection).unwrap(), &Node::from(&document));
            for finding in &checked.findings {
                prop_assert!(is_pointer(&finding.path), "{}", finding.path);
                prop_assert!(!finding.message.is_empty());
            }
        }
    }

    #[test]
    fn member_order_does_not_change_the_verdict(document in arbitrary_json()) {
        let rules = RuleSet::load(&[]).unwrap();
        let rules_for = rules.collection("advisory_raw").unwrap();
        let mut reversed = document.clone();
        if let Value::Object(map) = &mut reversed {
            let members: Vec<(String, Value)> = std::mem::take(map).into_iter().rev().collect();
            map.extend(members);
        }
        let sort = |mut findings: Vec<aoc_verify::check::Finding>| {
            findings.sort_by(|a, b| (a.code, &a.path).cmp(&(b.code, &b.path)));
            findings
        };
        prop_assert_eq!(
            sort(check_document(&rules, rules_for, &Node::from(&document)).findings),
            sort(check_document(&rules, rules_for, &Node::from(&reversed)).findings)
        );
    }
}
