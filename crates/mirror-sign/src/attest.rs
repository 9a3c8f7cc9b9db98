//! Bundle provenance: an in-toto Statement v1 about the archive, wrapped in a signed DSSE envelope.
//!
//! The statement's subject is the archive (name and SHA-256, hashed while streaming it); the
//! predicate ties it to the manifest that describes it (manifest digest, bundle id, generation,
//! producer, creation time, kind, file count and Merkle root). The payload is the statement's
//! RFC 8785 bytes and the signature is over DSSE's PAE, so any DSSE implementation (in-toto,
//! securesystemslib, sigstore) can check it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey};
use offline_formats::digest::{ct_eq, sha256, sha256_prefixed};
use offline_formats::envelope::{pae, Envelope, Signature};
use offline_formats::jcs::to_canonical_vec;
use offline_formats::manifest::BundleManifest;
use offline_formats::FormatError;
use serde_json::{json, Value};
use std::io::{self, Read};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of our bundle provenance predicate.
pub const PREDICATE_TYPE: &str = "https://stellaops.invalid/bundle-provenance/v1";
/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why an attestation could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestError {
    /// The statement or manifest cannot be written as RFC 8785 canonical JSON.
    #[error("cannot canonicalize the {document}: {source}")]
    Canonical {
        document: &'static str,
        #[source]
        source: FormatError,
    },
    /// The value to sign is not an in-toto Statement v1.
    #[error("not an in-toto Statement v1: {reason}")]
    NotAStatement { reason: &'static str },
    /// DSSE consumers (securesystemslib, in-toto) match signatures to keys by keyid.
    #[error("the keyid of an attestation signature must not be empty")]
    EmptyKeyid,
    /// The archive given is not the one the manifest describes.
    #[error("archive {field} is `{actual}` but the manifest says `{manifest}`")]
    ArchiveMismatch {
        field: &'static str,
        manifest: String,
        actual: String,
    },
}

/// The in-toto Statement v1 saying that `archive_name` (with this SHA-256) is the bundle that
/// the manifest with digest `manifest_digest` (`sha256:<hex>`, see [`manifest_digest`])
/// describes.
pub fn statement(
    manifest: &BundleManifest,
    manifest_digest: &str,
    archive_name: &str,
    archive_sha256_hex: &str,
) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{
            "name": archive_name,
            "digest": { "sha256": archive_sha256_hex },
        }],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "manifestDigest": manifest_digest,
            "bundleId": manifest.bundle_id,
            "mirrorGeneration": manifest.mirror_generation,
            "producer": manifest.producer,
            "createdAt": manifest.created_at,
            "kind": manifest.kind,
            "files": manifest.files.len(),
            "merkleRoot": manifest.merkle_root,
        },
    })
}

/// `sha256:<hex>` of the manifest's RFC 8785 bytes: the digest of the payload that
/// `mirror-sign sign` puts in the manifest's envelope, so the attestation and the approvals
/// name the same bytes.
pub fn manifest_digest(manifest: &BundleManifest) -> Result<String, AttestError> {
    let bytes = manifest
        .to_canonical_json()
        .map_err(|source| AttestError::Canonical {
            document: "manifest",
            source,
        })?;
    Ok(sha256_prefixed(&sha256(&bytes)))
}

/// Lowercase hex SHA-256 and size of a stream, read once in fixed-size pieces so memory does
/// not grow with the archive.
pub fn archive_sha256<R: Read>(reader: R) -> io::Result<(String, u64)> {
    let (digest, size) = offline_formats::digest::sha256_reader(reader)?;
    Ok((hex::encode(digest), size))
}

/// Checks that an archive (its file name, SHA-256 and size) is the one the manifest names.
/// A manifest without an `archive` member (the copy inside the archive) names none, so any
/// archive passes; the caller decides whether that is acceptable.
pub fn check_archive(
    manifest: &BundleManifest,
    name: &str,
    sha256_hex: &str,
    size: u64,
) -> Result<(), AttestError> {
    let Some(expected) = &manifest.archive else {
        return Ok(());
    };
    if expected.name != name {
        return Err(AttestError::ArchiveMismatch {
            field: "name",
            manifest: expected.name.clone(),
            actual: name.to_owned(),
        });
    }
    if expected.size != size {
        return Err(AttestError::ArchiveMismatch {
            field: "size",
            manifest: expected.size.to_string(),
            actual: size.to_string(),
        });
    }
    if !ct_eq(expected.sha256.as_bytes(), sha256_hex.as_bytes()) {
        return Err(AttestError::ArchiveMismatch {
            field: "sha256",
            manifest: expected.sha256.clone(),
            actual: sha256_hex.to_owned(),
        });
    }
    Ok(())
}

/// Signs a statement: a DSSE envelope with payloadType [`PAYLOAD_TYPE`], the statement's
/// RFC 8785 bytes as payload and one Ed25519 signature over PAE labelled `keyid`.
pub fn attest(key: &SigningKey, keyid: &str, statement: &Value) -> Result<Envelope, AttestError> {
    if keyid.is_empty() {
        return Err(AttestError::EmptyKeyid);
    }
    check_statement(statement)?;
    let payload = to_canonical_vec(statement).map_err(|source| AttestError::Canonical {
        document: "statement",
        source,
    })?;
    let signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let mut envelope = Envelope::new(PAYLOAD_TYPE, &payload);
    envelope.signatures.push(Signature {
        keyid: keyid.to_owned(),
        sig: STANDARD.encode(signature.to_bytes()),
    });
    Ok(envelope)
}

fn check_statement(statement: &Value) -> Result<(), AttestError> {
    let reason = if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        "`_type` is not https://in-toto.io/Statement/v1"
    } else if statement
        .get("subject")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        "`subject` is not a non-empty array"
    } else if statement
        .get("predicateType")
        .and_then(Value::as_str)
        .is_none()
    {
        "`predicateType` is missing"
    } else {
        return Ok(());
    };
    Err(AttestError::NotAStatement { reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signature as DalekSignature;
    use offline_formats::manifest::{ArchiveInfo, FileEntry, SCHEMA};

    fn manifest() -> BundleManifest {
        BundleManifest {
            schema: SCHEMA.to_owned(),
            bundle_id: "stellaops-bootstrap".to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: 42,
            created_at: "2026-11-01T00:00:00Z".to_owned(),
            producer: "bundle-pack/0.1.0".to_owned(),
            files: vec![FileEntry {
                path: "charts/a.yaml".to_owned(),
                size: 3,
                sha256: "a".repeat(64),
                blake3: "b".repeat(64),
                mode: "0644".to_owned(),
                media_type: "application/yaml".to_owned(),
            }],
            merkle_root: format!("sha256:{}", "e".repeat(64)),
            archive: Some(ArchiveInfo {
                name: "bootstrap.tar.gz".to_owned(),
                size: 3,
                sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
                    .to_owned(),
                blake3: "f".repeat(64),
                compression: "gzip".to_owned(),
            }),
        }
    }

    #[test]
    fn statement_names_the_archive_and_the_manifest() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let s = statement(&m, &digest, "bootstrap.tar.gz", &"1".repeat(64));
        let expected = format!(
            concat!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","predicate":{{"bundleId":"stellaops-bootstrap","#,
                r#""createdAt":"2026-11-01T00:00:00Z","files":1,"kind":"bootstrap","manifestDigest":"{}","#,
                r#""merkleRoot":"sha256:{}","mirrorGeneration":42,"producer":"bundle-pack/0.1.0"}},"#,
                r#""predicateType":"https://stellaops.invalid/bundle-provenance/v1","#,
                r#""subject":[{{"digest":{{"sha256":"{}"}},"name":"bootstrap.tar.gz"}}]}}"#
            ),
            digest,
            "e".repeat(64),
            "1".repeat(64)
        );
        assert_eq!(
            String::from_utf8(to_canonical_vec(&s).unwrap()).unwrap(),
            expected
        );
    }

    #[test]
    fn manifest_digest_is_the_sha256_of_its_canonical_bytes() {
        let m = manifest();
        let bytes = to_canonical_vec(&m).unwrap();
        assert_eq!(
            manifest_digest(&m).unwrap(),
            format!("sha256:{}", hex::encode(sha256(&bytes)))
        );
        let mut other = m.clone();
        other.mirror_generation += 1;
        assert_ne!(
            manifest_digest(&m).unwrap(),
            manifest_digest(&other).unwrap()
        );
    }

    #[test]
    fn archive_sha256_streams_known_vectors() {
        let (hex, size) = archive_sha256(&b"abc"[..]).unwrap();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);
        let (hex, size) = archive_sha256(io::empty()).unwrap();
        assert_eq!(
            hex,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(size, 0);
        // More than one buffer, with a length that is not a multiple of it.
        let len = 3 * 256 * 1024 + 17;
        let (hex, size) = archive_sha256(io::repeat(7).take(len)).unwrap();
        let whole = vec![7u8; len as usize];
        assert_eq!(hex, hex::encode(sha256(&whole)));
        assert_eq!(size, len);
    }

    #[test]
    fn check_archive_compares_name_size_and_digest() {
        let m = manifest();
        let sha = m.archive.as_ref().unwrap().sha256.clone();
        check_archive(&m, "bootstrap.tar.gz", &sha, 3).unwrap();
        for (name, sha, size, field) in [
            ("other.tar.gz", sha.as_str(), 3, "name"),
            ("bootstrap.tar.gz", sha.as_str(), 4, "size"),
            ("bootstrap.tar.gz", &"0".repeat(64), 3, "sha256"),
        ] {
            match check_archive(&m, name, sha, size) {
                Err(AttestError::ArchiveMismatch { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        check_archive(&m.without_archive(), "x", "y", 0).unwrap();
    }

    #[test]
    fn envelope_signs_pae_of_the_canonical_statement() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let m = manifest();
        let s = statement(
            &m,
            &manifest_digest(&m).unwrap(),
            "bootstrap.tar.gz",
            &"1".repeat(64),
        );
        let env = attest(&key, "release-1", &s).unwrap();
        assert_eq!(env.payload_type, PAYLOAD_TYPE);
        assert_eq!(env.payload_bytes().unwrap(), to_canonical_vec(&s).unwrap());
        assert_eq!(env.signatures.len(), 1);
        assert_eq!(env.signatures[0].keyid, "release-1");
        let sig: [u8; 64] = STANDARD
            .decode(&env.signatures[0].sig)
            .unwrap()
            .try_into()
            .unwrap();
        let vk = key.verifying_key();
        vk.verify_strict(
            &env.signed_bytes().unwrap(),
            &DalekSignature::from_bytes(&sig),
        )
        .unwrap();
        // Deterministic: Ed25519 signatures are, and so is the payload.
        assert_eq!(attest(&key, "release-1", &s).unwrap(), env);
        // A changed payload no longer verifies.
        let mut changed = env.clone();
        let mut other = s.clone();
        other["predicate"]["mirrorGeneration"] = json!(43);
        changed.payload = STANDARD.encode(to_canonical_vec(&other).unwrap());
        assert!(vk
            .verify_strict(
                &changed.signed_bytes().unwrap(),
                &DalekSignature::from_bytes(&sig)
            )
            .is_err());
    }

    #[test]
    fn refuses_empty_keyids_and_non_statements() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let m = manifest();
        let s = statement(&m, "sha256:00", "a", "b");
        assert!(matches!(attest(&key, "", &s), Err(AttestError::EmptyKeyid)));
        for bad in [
            json!({"subject": [{}], "predicateType": "x"}),
            json!({"_type": STATEMENT_TYPE, "subject": [], "predicateType": "x"}),
            json!({"_type": STATEMENT_TYPE, "subject": [{}]}),
            json!([1]),
        ] {
            assert!(
                matches!(
                    attest(&key, "k", &bad),
                    Err(AttestError::NotAStatement { .. })
                ),
                "{bad}"
            );
        }
        let mut huge = s.clone();
        huge["predicate"]["mirrorGeneration"] = json!(u64::MAX);
        assert!(matches!(
            attest(&key, "k", &huge),
            Err(AttestError::Canonical { .. })
        ));
    }
}
