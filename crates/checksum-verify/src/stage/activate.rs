//! Activating a staged generation: the object index (`cas` layout), then `manifest.json`, then
//! `receipt.json` — last, because readers take a generation without a receipt as absent.
//! Also what a run finds before it starts: whether the generation is already active, and
//! with which manifest.

use super::layout::Placement;
use super::store::{Store, StoreError};
use offline_formats::digest::{sha256, sha256_prefixed};
use offline_formats::jcs;
use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document as _;
use offline_formats::stage::{
    Decision, IndexEntry, Layout, ObjectCounts, StageIndex, StageReceipt, INDEX_SCHEMA,
    RECEIPT_SCHEMA,
};
use std::collections::BTreeMap;

/// What the store holds for a generation before a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// No receipt: the generation is absent (possibly half-staged by an interrupted run).
    Absent,
    /// Activated for the same manifest: a rerun has nothing to activate.
    Active(StageReceipt),
    /// Activated for another manifest: this bundle must not touch it.
    Conflict(StageReceipt),
}

/// Who activates, why and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// `--operator`.
    pub operator: String,
    /// Accepted, or forced past the rollback check.
    pub decision: Decision,
    /// The written reason of a forced decision.
    pub reason: Option<String>,
    /// RFC 3339 UTC.
    pub staged_at: String,
}

/// `sha256:<hex>` of the manifest's RFC 8785 canonical JSON: what the receipt binds.
pub fn manifest_digest(manifest: &BundleManifest) -> Result<String, offline_formats::FormatError> {
    Ok(sha256_prefixed(&sha256(&manifest.to_canonical_json()?)))
}

/// Reads the generation's receipt, if any, and tells whether it is this manifest's.
pub fn existing(
    store: &mut dyn Store,
    placement: &Placement,
    manifest: &BundleManifest,
    digest: &str,
) -> Result<Existing, StoreError> {
    let key = placement.receipt_key();
    let Some(bytes) = store.read_document(&key)? else {
        return Ok(Existing::Absent);
    };
    let receipt = StageReceipt::from_json_slice(&bytes).map_err(|e| StoreError::BadDocument {
        object: store.url(&key),
        reason: e.to_string(),
    })?;
    if receipt.bundle_id != manifest.bundle_id
        || receipt.mirror_generation != manifest.mirror_generation
    {
        return Err(StoreError::BadDocument {
            object: store.url(&key),
            reason: format!(
                "names {} generation {}, not the folder it is in",
                receipt.bundle_id, receipt.mirror_generation
            ),
        });
    }
    if receipt.manifest_digest == digest {
        Ok(Existing::Active(receipt))
    } else {
        Ok(Existing::Conflict(receipt))
    }
}

/// The object index of a `cas` generation: every file with the key it is stored under.
pub fn index(
    manifest: &BundleManifest,
    digest: &str,
    stored: &BTreeMap<String, String>,
) -> StageIndex {
    StageIndex {
        schema: INDEX_SCHEMA.to_owned(),
        bundle_id: manifest.bundle_id.clone(),
        mirror_generation: manifest.mirror_generation,
        manifest_digest: digest.to_owned(),
        objects: manifest
            .files
            .iter()
            .map(|file| IndexEntry {
                path: file.path.clone(),
                key: stored
                    .get(&file.path)
                    .cloned()
                    .unwrap_or_else(|| super::layout::cas_key(&file.sha256)),
                size: file.size,
                sha256: file.sha256.clone(),
            })
            .collect(),
    }
}

/// Writes a document unless the store already holds exactly these bytes; counts a write.
fn put_document(
    store: &mut dyn Store,
    key: &str,
    bytes: &[u8],
    written: &mut ObjectCounts,
) -> Result<(), StoreError> {
    if store.read_document(key)?.as_deref() == Some(bytes) {
        return Ok(());
    }
    store.write_document(key, bytes)?;
    written.objects += 1;
    written.bytes += bytes.len() as u64;
    Ok(())
}

fn pretty<T: serde::Serialize>(
    store: &dyn Store,
    key: &str,
    document: &T,
) -> Result<Vec<u8>, StoreError> {
    jcs::to_pretty_vec(document).map_err(|e| StoreError::BadDocument {
        object: store.url(key),
        reason: e.to_string(),
    })
}

/// Makes sure the generation's index (`cas`) and manifest are stored as they should be, and
/// writes the receipt when `activation` is given (none: the generation is already active and
/// its receipt stays as it is). Returns the documents written.
pub fn activate(
    store: &mut dyn Store,
    placement: &Placement,
    manifest: &BundleManifest,
    digest: &str,
    stored: &BTreeMap<String, String>,
    activation: Option<&Activation>,
) -> Result<(Option<StageReceipt>, ObjectCounts), StoreError> {
    // Every object must be durable before a document that names it.
    store.flush()?;
    let mut written = ObjectCounts::default();
    let mut index_digest = None;
    if placement.layout() == Layout::Cas {
        let key = placement.index_key();
        let index = index(manifest, digest, stored);
        let canonical = jcs::to_canonical_vec(&index).map_err(|e| StoreError::BadDocument {
            object: store.url(&key),
            reason: e.to_string(),
        })?;
        index_digest = Some(sha256_prefixed(&sha256(&canonical)));
        let bytes = pretty(store, &key, &index)?;
        put_document(store, &key, &bytes, &mut written)?;
    }
    put_document(
        store,
        &placement.manifest_key(),
        &manifest.to_pretty_json(),
        &mut written,
    )?;
    let Some(activation) = activation else {
        return Ok((None, written));
    };
    let receipt = StageReceipt {
        schema: RECEIPT_SCHEMA.to_owned(),
        bundle_id: manifest.bundle_id.clone(),
        mirror_generation: manifest.mirror_generation,
        manifest_digest: digest.to_owned(),
        layout: placement.layout(),
        index_digest,
        operator: activation.operator.clone(),
        decision: activation.decision,
        reason: activation.reason.clone(),
        staged_at: activation.staged_at.clone(),
        tool: concat!("checksum-verify/", env!("CARGO_PKG_VERSION")).to_owned(),
    };
    let key = placement.receipt_key();
    let bytes = pretty(store, &key, &receipt)?;
    store.write_document(&key, &bytes)?;
    written.objects += 1;
    written.bytes += bytes.len() as u64;
    Ok((Some(receipt), written))
}

/// Removes what a run of a failed bundle made visible in its own generation folder
/// (`generation` layout only: `cas` objects are shared by content and stay). Best effort:
/// returns the first error after trying every key.
pub fn roll_back(
    store: &mut dyn Store,
    placement: &Placement,
    written: &[String],
) -> Result<(), StoreError> {
    if placement.layout() != Layout::Generation {
        return Ok(());
    }
    let mut first_error = None;
    for key in written.iter().rev() {
        if let Err(e) = store.delete(key) {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::memory::MemoryStore;
    use offline_formats::manifest::{ArchiveInfo, FileEntry, SCHEMA};

    fn manifest() -> BundleManifest {
        BundleManifest {
            schema: SCHEMA.to_owned(),
            bundle_id: "b".to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: 3,
            created_at: "2026-11-01T00:00:00Z".to_owned(),
            producer: "test".to_owned(),
            files: vec![FileEntry {
                path: "a.txt".to_owned(),
                size: 6,
                sha256: "ab".repeat(32),
                blake3: "cd".repeat(32),
                mode: "0644".to_owned(),
                media_type: "text/plain".to_owned(),
            }],
            merkle_root: format!("sha256:{}", "00".repeat(32)),
            archive: Some(ArchiveInfo {
                name: "b.tar.gz".to_owned(),
                size: 100,
                sha256: "ef".repeat(32),
                blake3: "01".repeat(32),
                compression: "gzip".to_owned(),
            }),
        }
    }

    fn activation() -> Activation {
        Activation {
            operator: "alice".to_owned(),
            decision: Decision::Accepted,
            reason: None,
            staged_at: "2026-11-02T00:00:00Z".to_owned(),
        }
    }

    fn stored(layout: Layout) -> BTreeMap<String, String> {
        let key = match layout {
            Layout::Cas => format!("sha256/{}", "ab".repeat(32)),
            Layout::Generation => "b/3/a.txt".to_owned(),
        };
        BTreeMap::from([("a.txt".to_owned(), key)])
    }

    #[test]
    fn receipt_is_written_last_and_binds_the_manifest_and_index() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let placement = Placement::new(Layout::Cas, &m).unwrap();
        let mut store = MemoryStore::default();
        let (receipt, written) = activate(
            &mut store,
            &placement,
            &m,
            &digest,
            &stored(Layout::Cas),
            Some(&activation()),
        )
        .unwrap();
        assert_eq!(
            store.log,
            ["b/3/index.json", "b/3/manifest.json", "b/3/receipt.json"]
        );
        assert_eq!(written.objects, 3);
        let receipt = receipt.unwrap();
        assert_eq!(store.objects["b/3/manifest.json"], m.to_pretty_json());
        assert_eq!(
            receipt.manifest_digest,
            sha256_prefixed(&sha256(&m.to_canonical_json().unwrap()))
        );
        let index = StageIndex::from_json_slice(&store.objects["b/3/index.json"]).unwrap();
        assert_eq!(index.objects[0].key, format!("sha256/{}", "ab".repeat(32)));
        let canonical = jcs::to_canonical_vec(&index).unwrap();
        assert_eq!(
            receipt.index_digest,
            Some(sha256_prefixed(&sha256(&canonical)))
        );
        let on_disk = StageReceipt::from_json_slice(&store.objects["b/3/receipt.json"]).unwrap();
        assert_eq!(on_disk, receipt);
        assert_eq!(
            existing(&mut store, &placement, &m, &digest).unwrap(),
            Existing::Active(receipt)
        );
    }

    #[test]
    fn an_active_generation_keeps_its_receipt_and_gets_missing_documents_back() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let placement = Placement::new(Layout::Generation, &m).unwrap();
        let mut store = MemoryStore::default();
        let stored = stored(Layout::Generation);
        activate(
            &mut store,
            &placement,
            &m,
            &digest,
            &stored,
            Some(&activation()),
        )
        .unwrap();
        let receipt = store.objects["b/3/receipt.json"].clone();
        store.objects.remove("b/3/manifest.json");
        store.log.clear();
        let (none, written) = activate(&mut store, &placement, &m, &digest, &stored, None).unwrap();
        assert!(none.is_none());
        assert_eq!(store.log, ["b/3/manifest.json"]);
        assert_eq!(written.objects, 1);
        assert_eq!(store.objects["b/3/receipt.json"], receipt);
        store.log.clear();
        activate(&mut store, &placement, &m, &digest, &stored, None).unwrap();
        assert!(store.log.is_empty(), "nothing rewritten: {:?}", store.log);
    }

    #[test]
    fn another_manifest_of_the_same_generation_is_a_conflict() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let placement = Placement::new(Layout::Generation, &m).unwrap();
        let mut store = MemoryStore::default();
        activate(
            &mut store,
            &placement,
            &m,
            &digest,
            &stored(Layout::Generation),
            Some(&activation()),
        )
        .unwrap();
        let mut other = manifest();
        other.producer = "someone else".to_owned();
        let other_digest = manifest_digest(&other).unwrap();
        assert!(matches!(
            existing(&mut store, &placement, &other, &other_digest).unwrap(),
            Existing::Conflict(r) if r.manifest_digest == digest
        ));
    }

    #[test]
    fn a_failing_receipt_write_leaves_the_generation_inactive() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let placement = Placement::new(Layout::Generation, &m).unwrap();
        let mut store = MemoryStore::default();
        store.full_at = Some("b/3/receipt.json".to_owned());
        let err = activate(
            &mut store,
            &placement,
            &m,
            &digest,
            &stored(Layout::Generation),
            Some(&activation()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("mem:///b/3/receipt.json"), "{err}");
        assert_eq!(
            existing(&mut store, &placement, &m, &digest).unwrap(),
            Existing::Absent
        );
    }

    #[test]
    fn a_foreign_or_broken_receipt_is_an_error_naming_it() {
        let m = manifest();
        let digest = manifest_digest(&m).unwrap();
        let placement = Placement::new(Layout::Generation, &m).unwrap();
        let mut store = MemoryStore::default();
        store
            .objects
            .insert("b/3/receipt.json".to_owned(), b"{\"schema\": 1}".to_vec());
        let err = existing(&mut store, &placement, &m, &digest).unwrap_err();
        assert!(
            err.to_string().starts_with("`mem:///b/3/receipt.json`: "),
            "{err}"
        );
    }

    #[test]
    fn roll_back_removes_a_failed_generation_s_objects_but_not_shared_cas_ones() {
        let m = manifest();
        let mut store = MemoryStore::default();
        store.objects.insert("b/3/a.txt".to_owned(), b"x".to_vec());
        let placement = Placement::new(Layout::Generation, &m).unwrap();
        roll_back(&mut store, &placement, &["b/3/a.txt".to_owned()]).unwrap();
        assert!(store.objects.is_empty());
        let key = format!("sha256/{}", "ab".repeat(32));
        store.objects.insert(key.clone(), b"x".to_vec());
        let placement = Placement::new(Layout::Cas, &m).unwrap();
        roll_back(&mut store, &placement, &[key]).unwrap();
        assert_eq!(store.objects.len(), 1);
    }
}
