//! Documents for the aoc-verify tests: clean advisory_raw and vex_raw documents whose
//! hashes are computed with offline-formats' RFC 8785 implementation (tested against the
//! RFC's own vectors), not with the tool's own `raw_hash`, and small editing helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn content_hash(raw: &Value) -> String {
    match raw {
        Value::String(s) => sha256_hex(s.as_bytes()),
        other => sha256_hex(&offline_formats::jcs::canonicalize_value(other).unwrap()),
    }
}

pub fn osv(upstream_id: &str, revision: u32) -> Value {
    json!({
        "schema_version": "1.6.0",
        "id": upstream_id,
        "modified": format!("2026-11-{:02}T00:00:00Z", revision + 1),
        "summary": format!("Prototype pollution in pkg, revision {revision} — “quoted” ünïcode"),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "npm", "name": "pkg"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}]}],
        "database_specific": {"cwe_ids": ["CWE-1321"], "github_reviewed": true, "score": 9.8, "count": 12}
    })
}

/// A clean advisory_raw document: `_id`, tenant, vendor, upstream id, revision.
pub fn advisory(id: &str, tenant: &str, vendor: &str, upstream_id: &str, revision: u32) -> Value {
    let raw = osv(upstream_id, revision);
    json!({
        "_id": id,
        "tenant": tenant,
        "source": {"vendor": vendor, "connector": "osv-api", "version": "1.4.2"},
        "upstream": {
            "upstream_id": upstream_id,
            "document_version": revision.to_string(),
            "retrieved_at": {"$date": format!("2026-11-{:02}T10:00:00Z", revision + 1)},
            "content_hash": content_hash(&raw),
            "signature": {"present": false}
        },
        "content": {"format": "OSV", "spec_version": "1.6.0", "raw": raw},
        "identifiers": {"cve": ["CVE-2026-1234"], "ghsa": [upstream_id], "aliases": []},
        "linkset": {"purls": ["pkg:npm/pkg@1.2.2"], "cpes": [], "references": [], "reconciled_from": []},
        "supersedes": null,
        "ingested_at": {"$date": format!("2026-11-{:02}T10:00:01Z", revision + 1)},
        "created_at": {"$date": format!("2026-11-{:02}T10:00:01Z", revision + 1)}
    })
}

pub fn clean() -> Value {
    advisory("adv-1", "tenant-a", "osv", "GHSA-aaaa-bbbb-cccc", 1)
}

pub fn vex(content: &str) -> Value {
    let digest = sha256_hex(content.as_bytes());
    json!({
        "_id": digest,
        "providerId": "redhat",
        "format": "csaf",
        "sourceUri": "https://access.redhat.com/security/data/csaf/v2/vex/2026/cve-2026-1234.json",
        "retrievedAt": {"$date": "2026-11-20T08:00:00Z"},
        "digest": digest,
        "content": content,
        "metadata": {"etag": "\"abc\"", "severity": "moderate"},
        "tenant": "tenant-a",
        "extra_vendor_field": 1
    })
}

pub fn ndjson(documents: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for d in documents {
        out.extend_from_slice(serde_json::to_string(d).unwrap().as_bytes());
        out.push(b'\n');
    }
    out
}

pub fn set(document: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        document
    } else {
        document.pointer_mut(parent).unwrap()
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
}

pub fn remove(document: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        document
    } else {
        document.pointer_mut(parent).unwrap()
    };
    target.as_object_mut().unwrap().remove(key);
}
