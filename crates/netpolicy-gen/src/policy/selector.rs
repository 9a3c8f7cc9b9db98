//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), as NetworkPolicy and
//! Cilium use them: matching a pod's labels, and the two static questions lint asks.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The label Cilium gives every endpoint for its namespace.
pub const CILIUM_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";

/// A label selector. An empty one selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, deserialize_with = "null_as_default")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Vec<String>,
}

/// A `matchExpressions` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// `key: null` reads as the empty value, as the API server reads it.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Cilium writes label keys with a source prefix (`k8s:app`, `any:app`); pods carry the bare
/// key.
pub fn bare_key(key: &str) -> &str {
    for prefix in ["k8s:", "any:", "container:", "unspec:"] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return rest;
        }
    }
    key
}

impl Selector {
    /// True when the selector has no requirement: it selects every pod (of its namespace).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Every requirement as (bare key, operator, values), `matchLabels` first.
    fn requirements(&self) -> Vec<(&str, Operator, Vec<&str>)> {
        let mut out: Vec<(&str, Operator, Vec<&str>)> = self
            .match_labels
            .iter()
            .map(|(k, v)| (bare_key(k), Operator::In, vec![v.as_str()]))
            .collect();
        out.extend(self.match_expressions.iter().map(|r| {
            (
                bare_key(&r.key),
                r.operator,
                r.values.iter().map(String::as_str).collect(),
            )
        }));
        out
    }

    /// True when a pod with `labels` is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements().iter().all(|(key, op, values)| {
            let value = labels.get(*key).map(String::as_str);
            match op {
                Operator::In => value.is_some_and(|v| values.contains(&v)),
                Operator::NotIn => value.is_none_or(|v| !values.contains(&v)),
                Operator::Exists => value.is_some(),
                Operator::DoesNotExist => value.is_none(),
            }
        })
    }

    /// True when the selector selects every pod of `namespace` whatever its labels: every
    /// requirement is on Cilium's namespace label and `namespace` meets it.
    pub fn selects_whole_namespace(&self, namespace: &str) -> bool {
        let labels = BTreeMap::from([(CILIUM_NAMESPACE_LABEL.to_string(), namespace.to_string())]);
        self.requirements()
            .iter()
            .all(|(key, _, _)| *key == CILIUM_NAMESPACE_LABEL)
            && self.matches(&labels)
    }

    /// False only when no pod can be selected by both selectors (a label required with
    /// values the other excludes); true otherwise. Conservative: "may" overlap.
    pub fn may_overlap(&self, other: &Selector) -> bool {
        let a = self.requirements();
        let b = other.requirements();
        !a.iter()
            .any(|ra| b.iter().any(|rb| ra.0 == rb.0 && contradict(ra, rb)))
    }
}

/// True when no label value meets both requirements on the same key.
fn contradict(a: &(&str, Operator, Vec<&str>), b: &(&str, Operator, Vec<&str>)) -> bool {
    use Operator::*;
    let (_, oa, va) = a;
    let (_, ob, vb) = b;
    match (oa, ob) {
        (In, In) => !va.iter().any(|v| vb.contains(v)),
        (In, NotIn) => va.iter().all(|v| vb.contains(v)),
        (NotIn, In) => vb.iter().all(|v| va.contains(v)),
        (In | Exists, DoesNotExist) | (DoesNotExist, In | Exists) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(yaml: &str) -> Selector {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matching_follows_the_api_semantics() {
        let s = sel("matchLabels: {app: web}\nmatchExpressions:\n- {key: tier, operator: NotIn, values: [db]}\n- {key: track, operator: DoesNotExist}\n");
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("track", "canary")])));
        assert!(!s.matches(&labels(&[("app", "api")])));
        assert!(sel("{}").matches(&labels(&[])));
        assert!(sel("matchLabels: null").is_empty());
    }

    #[test]
    fn cilium_prefixes_are_stripped() {
        let s = sel("matchLabels: {'k8s:app': web}");
        assert!(s.matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn whole_namespace_selectors() {
        assert!(sel("{}").selects_whole_namespace("a"));
        let cw = sel("matchExpressions:\n- {key: 'k8s:io.kubernetes.pod.namespace', operator: Exists}\n- {key: 'k8s:io.kubernetes.pod.namespace', operator: NotIn, values: [kube-system]}\n");
        assert!(cw.selects_whole_namespace("stellaops"));
        assert!(!cw.selects_whole_namespace("kube-system"));
        assert!(!sel("matchLabels: {app: web}").selects_whole_namespace("a"));
    }

    #[test]
    fn overlap_is_refuted_only_by_contradictions() {
        let web = sel("matchLabels: {app: web}");
        let api = sel("matchLabels: {app: api}");
        let not_web = sel("matchExpressions: [{key: app, operator: NotIn, values: [web]}]");
        let no_app = sel("matchExpressions: [{key: app, operator: DoesNotExist}]");
        let tier = sel("matchLabels: {tier: db}");
        assert!(!web.may_overlap(&api));
        assert!(!web.may_overlap(&not_web));
        assert!(!not_web.may_overlap(&web));
        assert!(!web.may_overlap(&no_app));
        assert!(web.may_overlap(&tier));
        assert!(web.may_overlap(&sel("{}")));
        assert!(api.may_overlap(&not_web));
    }
}
