//! Where each object of a bundle goes in the store: the generation layout
//! (`<bundleId>/<mirrorGeneration>/<path>`) or the content-addressed one (`sha256/<hex>`), and
//! the generation folder that holds the manifest, index and receipt in both.

use super::target::valid_key_segment;
use offline_formats::manifest::{BundleManifest, FileEntry};
use offline_formats::stage::{Layout, INDEX_NAME, MANIFEST_NAME, RECEIPT_NAME};

/// Folder of the content-addressed objects under the store prefix.
pub const CAS_DIR: &str = "sha256";

/// One generation of one bundle, placed in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    layout: Layout,
    /// `<bundleId>/<mirrorGeneration>`.
    generation_dir: String,
}

/// Why a bundle or one of its files has no place in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// The manifest's `bundleId` cannot be one folder name.
    #[error("bundleId `{bundle_id}` cannot be a folder name in the store (empty, `.`, `..`, `/`, `\\` or a control character)")]
    BundleId { bundle_id: String },
    /// A file's path cannot be an object key.
    #[error("not a safe object name: {reason}")]
    Path { path: String, reason: &'static str },
}

impl Placement {
    /// Where `manifest`'s generation goes with `layout`.
    pub fn new(layout: Layout, manifest: &BundleManifest) -> Result<Self, PlacementError> {
        if !valid_key_segment(&manifest.bundle_id) {
            return Err(PlacementError::BundleId {
                bundle_id: manifest.bundle_id.clone(),
            });
        }
        Ok(Self {
            layout,
            generation_dir: format!("{}/{}", manifest.bundle_id, manifest.mirror_generation),
        })
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// `<bundleId>/<mirrorGeneration>`: the folder of the generation's documents (and, in the
    /// generation layout, of its files).
    pub fn generation_dir(&self) -> &str {
        &self.generation_dir
    }

    /// The key of the generation's receipt.
    pub fn receipt_key(&self) -> String {
        self.document_key(RECEIPT_NAME)
    }

    /// The key of the generation's outer manifest.
    pub fn manifest_key(&self) -> String {
        self.document_key(MANIFEST_NAME)
    }

    /// The key of the generation's object index (`cas` layout).
    pub fn index_key(&self) -> String {
        self.document_key(INDEX_NAME)
    }

    fn document_key(&self, name: &str) -> String {
        format!("{}/{name}", self.generation_dir)
    }

    /// The key `entry`'s content is stored under.
    pub fn object_key(&self, entry: &FileEntry) -> Result<String, PlacementError> {
        let bad = |reason| PlacementError::Path {
            path: entry.path.clone(),
            reason,
        };
        match self.layout {
            Layout::Cas => {
                if offline_formats::digest::parse_hex32(&entry.sha256).is_err() {
                    return Err(bad("its sha256 is not 64 lowercase hex digits"));
                }
                Ok(cas_key(&entry.sha256))
            }
            Layout::Generation => {
                if !entry.path.split('/').all(valid_key_segment) {
                    return Err(bad(
                        "an empty, `.` or `..` segment, a backslash or a control character",
                    ));
                }
                if [MANIFEST_NAME, RECEIPT_NAME, INDEX_NAME].contains(&entry.path.as_str()) {
                    return Err(bad(
                        "the name of a stage document in the generation folder (manifest.json, index.json, receipt.json)",
                    ));
                }
                Ok(format!("{}/{}", self.generation_dir, entry.path))
            }
        }
    }
}

/// `sha256/<hex>`: the key of content with this digest in the `cas` layout.
pub fn cas_key(sha256_hex: &str) -> String {
    format!("{CAS_DIR}/{sha256_hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use offline_formats::manifest::SCHEMA;

    fn manifest(bundle_id: &str) -> BundleManifest {
        BundleManifest {
            schema: SCHEMA.to_owned(),
            bundle_id: bundle_id.to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: 7,
            created_at: "2026-11-01T00:00:00Z".to_owned(),
            producer: "test".to_owned(),
            files: Vec::new(),
            merkle_root: format!("sha256:{}", "00".repeat(32)),
            archive: None,
        }
    }

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            size: 1,
            sha256: "ab".repeat(32),
            blake3: "cd".repeat(32),
            mode: "0644".to_owned(),
            media_type: "text/plain".to_owned(),
        }
    }

    #[test]
    fn generation_layout_keys() {
        let p = Placement::new(Layout::Generation, &manifest("stellaops-bootstrap")).unwrap();
        assert_eq!(p.generation_dir(), "stellaops-bootstrap/7");
        assert_eq!(p.receipt_key(), "stellaops-bootstrap/7/receipt.json");
        assert_eq!(
            p.object_key(&entry("charts/app/values.yaml")).unwrap(),
            "stellaops-bootstrap/7/charts/app/values.yaml"
        );
        for path in [
            "../x",
            "a//b",
            "/abs",
            "a/./b",
            "a\\b",
            "receipt.json",
            "index.json",
        ] {
            assert!(p.object_key(&entry(path)).is_err(), "{path}");
        }
        // Only the generation folder's own names are reserved.
        p.object_key(&entry("docs/receipt.json")).unwrap();
    }

    #[test]
    fn cas_layout_keys_by_digest() {
        let p = Placement::new(Layout::Cas, &manifest("b")).unwrap();
        let key = p.object_key(&entry("../anything")).unwrap();
        assert_eq!(key, format!("sha256/{}", "ab".repeat(32)));
        let mut bad = entry("x");
        bad.sha256 = "AB".repeat(32);
        assert!(p.object_key(&bad).is_err());
        assert_eq!(p.index_key(), "b/7/index.json");
    }

    #[test]
    fn bundle_ids_must_be_one_folder_name() {
        for id in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
            assert!(
                Placement::new(Layout::Generation, &manifest(id)).is_err(),
                "{id:?}"
            );
        }
    }
}
