//! The rule set: which fields are forbidden, which must be there and what the raw payload is,
//! per collection. Built in (`rules/builtin.yaml`) and extended by `--rules FILE`, so that a
//! schema change can be staged in CI before the binary learns it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// Schema identifier of rule files.
pub const SCHEMA: &str = "stellaops.aoc-rules/v1";

/// The built-in rule set, as YAML.
pub const BUILTIN: &str = include_str!("../rules/builtin.yaml");

/// A rule file that cannot be used.
#[derive(Debug, Error)]
pub enum RulesError {
    /// Unreadable or not YAML of the right shape.
    #[error("{file}: {message}")]
    Invalid {
        /// The rule file.
        file: String,
        /// What is wrong (serde_yaml's message carries the line).
        message: String,
    },
}

/// A rule file (the built-in one or an extension), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RulesFile {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// ERR_AOC_001 field names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden_fields: Vec<String>,
    /// ERR_AOC_002 field names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merge_fields: Vec<String>,
    /// ERR_AOC_006 key prefixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_prefixes: Vec<String>,
    /// Per-collection rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collections: BTreeMap<String, CollectionRules>,
}

/// The rules of one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CollectionRules {
    /// JSON Pointers of the raw upstream payload, which no rule looks inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw_payload: Vec<String>,
    /// The allowed top-level fields (ERR_AOC_007); absent means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_level: Option<Vec<String>>,
    /// Members that hold one upstream record; an array there is ERR_AOC_002.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub single_record: Vec<String>,
    /// Fields every document must carry (ERR_AOC_004).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<FieldRule>,
    /// Fields checked only when present (ERR_AOC_004).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional: Vec<FieldRule>,
    /// Which identity and checksum rules apply (ERR_AOC_003, ERR_AOC_005).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// One field's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// JSON Pointer of the field.
    pub path: String,
    /// What it must be.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// The allowed values, for `enum`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// What a field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// A non-empty string.
    String,
    /// A date: `{"$date": …}` or an RFC 3339 string.
    Date,
    /// `sha256:` and 64 lowercase hex digits.
    Sha256,
    /// `true` or `false`.
    Boolean,
    /// Anything but null or empty.
    Any,
    /// One of `values`.
    Enum,
    /// A string of at least 32 characters (vex_raw `digest`).
    Digest,
    /// A string or binary data (vex_raw `content`).
    Content,
    /// An object whose members are all strings.
    StringMap,
}

/// The identity and checksum rules of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Identity {
    /// advisory_raw: revision chains and `content_hash`/signature checks.
    Revisions,
    /// vex_raw: unique `_id`, `digest` of `content`, `_id` equal to `digest`.
    Digest,
    /// No identity rules.
    None,
}

/// The rule set in effect, ready for fast lookups.
#[derive(Debug, Clone)]
pub struct RuleSet {
    file: RulesFile,
    /// Sorted, for a binary search per member name (a handful of names: cheaper than
    /// hashing every name of every document).
    forbidden: Vec<String>,
    merge: Vec<String>,
}

impl RuleSet {
    /// The built-in rules, extended by each file of `extensions` in turn.
    pub fn load(extensions: &[&Path]) -> Result<Self, RulesError> {
        let mut file = parse(BUILTIN, "built-in rules")?;
        for path in extensions {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| RulesError::Invalid {
                file: name.clone(),
                message: e.to_string(),
            })?;
            file.extend(parse(&text, &name)?);
        }
        Ok(Self::new(file))
    }

    fn new(file: RulesFile) -> Self {
        let sorted = |names: &[String]| {
            let mut names = names.to_vec();
            names.sort_unstable();
            names
        };
        Self {
            forbidden: sorted(&file.forbidden_fields),
            merge: sorted(&file.merge_fields),
            file,
        }
    }

    /// The rule set as a rule file (what `aoc-verify rules` prints).
    pub fn as_file(&self) -> &RulesFile {
        &self.file
    }

    /// The rules of a collection, when it has any.
    pub fn collection(&self, name: &str) -> Option<&CollectionRules> {
        self.file.collections.get(name)
    }

    /// The collections the rules know.
    pub fn collection_names(&self) -> impl Iterator<Item = &str> {
        self.file.collections.keys().map(String::as_str)
    }

    /// Whether `key` is a forbidden derived field (ERR_AOC_001).
    pub fn is_forbidden(&self, key: &str) -> bool {
        self.forbidden
            .binary_search_by(|name| name.as_str().cmp(key))
            .is_ok()
    }

    /// Whether `key` records a merge (ERR_AOC_002).
    pub fn is_merge(&self, key: &str) -> bool {
        self.merge
            .binary_search_by(|name| name.as_str().cmp(key))
            .is_ok()
    }

    /// Whether `key` is a derived finding (ERR_AOC_006).
    pub fn is_derived(&self, key: &str) -> bool {
        self.file
            .derived_prefixes
            .iter()
            .any(|prefix| key.starts_with(prefix.as_str()))
    }
}

fn parse(text: &str, name: &str) -> Result<RulesFile, RulesError> {
    let invalid = |message: String| RulesError::Invalid {
        file: name.to_owned(),
        message,
    };
    let file: RulesFile = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if file.schema != SCHEMA {
        return Err(invalid(format!(
            "schema is `{}`, this aoc-verify reads `{SCHEMA}`",
            file.schema
        )));
    }
    for (collection, rules) in &file.collections {
        let pointers = rules.raw_payload.iter().chain(&rules.single_record).chain(
            rules
                .required
                .iter()
                .chain(&rules.optional)
                .map(|r| &r.path),
        );
        for pointer in pointers {
            if !pointer.starts_with('/') {
                return Err(invalid(format!(
                    "collections.{collection}: `{pointer}` is not a JSON Pointer (it must start with `/`)"
                )));
            }
        }
        for rule in rules.required.iter().chain(&rules.optional) {
            if (rule.kind == FieldType::Enum) == rule.values.is_empty() {
                return Err(invalid(format!(
                    "collections.{collection}: `{}`: `values` goes with `type: enum` and only with it",
                    rule.path
                )));
            }
        }
    }
    for (what, list) in [
        ("forbiddenFields", &file.forbidden_fields),
        ("mergeFields", &file.merge_fields),
        ("derivedPrefixes", &file.derived_prefixes),
    ] {
        if list.iter().any(String::is_empty) {
            return Err(invalid(format!(
                "{what}: an empty name matches nothing useful"
            )));
        }
    }
    Ok(file)
}

impl RulesFile {
    /// Adds an extension: names are added to every list, field rules replace the rule of the
    /// same path or are added, `identity` replaces, and new collections are added whole.
    fn extend(&mut self, extension: RulesFile) {
        union(&mut self.forbidden_fields, extension.forbidden_fields);
        union(&mut self.merge_fields, extension.merge_fields);
        union(&mut self.derived_prefixes, extension.derived_prefixes);
        for (name, more) in extension.collections {
            let rules = self.collections.entry(name).or_default();
            union(&mut rules.raw_payload, more.raw_payload);
            union(&mut rules.single_record, more.single_record);
            if let Some(top) = more.top_level {
                match &mut rules.top_level {
                    Some(existing) => union(existing, top),
                    None => rules.top_level = Some(top),
                }
            }
            for rule in more.required {
                rules.optional.retain(|r| r.path != rule.path);
                replace_or_push(&mut rules.required, rule);
            }
            for rule in more.optional {
                if !rules.required.iter().any(|r| r.path == rule.path) {
                    replace_or_push(&mut rules.optional, rule);
                }
            }
            if more.identity.is_some() {
                rules.identity = more.identity;
            }
        }
    }
}

fn union(list: &mut Vec<String>, more: Vec<String>) {
    for item in more {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

fn replace_or_push(rules: &mut Vec<FieldRule>, rule: FieldRule) {
    match rules.iter_mut().find(|r| r.path == rule.path) {
        Some(existing) => *existing = rule,
        None => rules.push(rule),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn extend(yaml: &str) -> Result<RuleSet, RulesError> {
        let mut file = parse(BUILTIN, "built-in")?;
        file.extend(parse(yaml, "ext.yaml")?);
        Ok(RuleSet::new(file))
    }

    #[test]
    fn builtin_rules_parse_and_know_both_collections() {
        let rules = RuleSet::load(&[]).unwrap();
        assert!(rules.is_forbidden("severity") && rules.is_forbidden("risk_score"));
        assert!(!rules.is_forbidden("severity_note"));
        assert!(rules.is_merge("merged_from"));
        assert!(rules.is_derived("effective_severity") && !rules.is_derived("effective"));
        let advisory = rules.collection("advisory_raw").unwrap();
        assert_eq!(advisory.identity, Some(Identity::Revisions));
        assert_eq!(advisory.required.len(), 8);
        assert!(rules.collection("vex_raw").unwrap().top_level.is_none());
        assert_eq!(
            rules.collection_names().collect::<Vec<_>>(),
            ["advisory_raw", "vex_raw"]
        );
    }

    #[test]
    fn an_extension_adds_fields_and_replaces_rules() {
        let rules = extend(
            "schema: stellaops.aoc-rules/v1\n\
             forbiddenFields: [kev_flag, severity]\n\
             collections:\n  advisory_raw:\n    topLevel: [ingest_run]\n    required:\n      - {path: /ingest_run, type: string}\n      - {path: /tenant, type: enum, values: [a, b]}\n",
        )
        .unwrap();
        assert!(rules.is_forbidden("kev_flag") && rules.is_forbidden("severity"));
        assert_eq!(
            rules
                .as_file()
                .forbidden_fields
                .iter()
                .filter(|f| *f == "severity")
                .count(),
            1
        );
        let advisory = rules.collection("advisory_raw").unwrap();
        assert!(advisory
            .top_level
            .as_ref()
            .unwrap()
            .contains(&"ingest_run".to_owned()));
        assert_eq!(advisory.required.len(), 9);
        let tenant = advisory
            .required
            .iter()
            .find(|r| r.path == "/tenant")
            .unwrap();
        assert_eq!(tenant.kind, FieldType::Enum);
    }

    #[test]
    fn bad_rule_files_are_refused_with_the_reason() {
        for (yaml, want) in [
            ("schema: stellaops.aoc-rules/v2\n", "reads `stellaops.aoc-rules/v1`"),
            ("schema: stellaops.aoc-rules/v1\nforbidden: [x]\n", "unknown field `forbidden`"),
            (
                "schema: stellaops.aoc-rules/v1\ncollections:\n  c:\n    rawPayload: [content]\n",
                "not a JSON Pointer",
            ),
            (
                "schema: stellaops.aoc-rules/v1\ncollections:\n  c:\n    required: [{path: /a, type: enum}]\n",
                "`values` goes with `type: enum`",
            ),
            (
                "schema: stellaops.aoc-rules/v1\ncollections:\n  c:\n    required: [{path: /a, type: number}]\n",
                "unknown variant `number`",
            ),
            ("schema: stellaops.aoc-rules/v1\nforbiddenFields: ['']\n", "empty name"),
        ] {
            let err = extend(yaml).unwrap_err().to_string();
            assert!(err.contains(want), "{yaml}: {err}");
            assert!(err.starts_with("ext.yaml: "), "{err}");
        }
    }
}
