//! The object-store sink: every listed entry of the archive streams into the store while
//! the verifier checks it; the sink hashes the bytes itself too and makes the object visible
//! only when both agree with the manifest.

use super::layout::Placement;
use super::store::{Lookup, ObjectSpec, Store, StoreError};
use crate::sink::EntrySink;
use offline_formats::digest::{ct_eq, parse_hex32};
use offline_formats::manifest::FileEntry;
use offline_formats::stage::ObjectCounts;
use offline_formats::verify_report::{Failure, FailureKind};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashSet};

/// Streams verified entries into a [`Store`].
pub struct StoreSink<S: Store> {
    store: S,
    placement: Placement,
    current: Option<Current>,
    /// Every file now stored with the manifest's content, by path, with its key.
    stored: BTreeMap<String, String>,
    /// Keys stored by this run or found present (the `cas` layout shares them).
    known: HashSet<String>,
    /// Keys this run committed, in order.
    written: Vec<String>,
    uploaded: ObjectCounts,
    present: ObjectCounts,
    failures: Vec<Failure>,
}

impl<S: Store> std::fmt::Debug for StoreSink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink")
            .field("placement", &self.placement)
            .field("uploaded", &self.uploaded)
            .field("present", &self.present)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Current {
    path: String,
    key: String,
    spec: ObjectSpec,
    mode: Mode,
    hasher: Sha256,
    received: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Bytes go to the store.
    Uploading,
    /// Already stored with the right digest: bytes are not delivered.
    Present,
    /// More bytes came than the manifest lists: the upload was dropped.
    Dropped,
}

/// What the sink did, once the archive has streamed.
#[derive(Debug)]
pub struct SinkOutcome {
    /// Every file stored with the manifest's content, by path, with its key.
    pub stored: BTreeMap<String, String>,
    /// Keys this run committed, in order (removed again if the bundle fails).
    pub written: Vec<String>,
    /// Objects written by this run.
    pub uploaded: ObjectCounts,
    /// Objects found already stored with the right digest.
    pub present: ObjectCounts,
    /// Files the sink refused or found inconsistent, beside the verifier's own findings.
    pub failures: Vec<Failure>,
}

impl<S: Store> StoreSink<S> {
    /// A sink writing `placement`'s objects into `store`.
    pub fn new(store: S, placement: Placement) -> Self {
        Self {
            store,
            placement,
            current: None,
            stored: BTreeMap::new(),
            known: HashSet::new(),
            written: Vec::new(),
            uploaded: ObjectCounts::default(),
            present: ObjectCounts::default(),
            failures: Vec::new(),
        }
    }

    /// Ends the sink: the store back (for activation) and what was done.
    pub fn finish_sink(mut self) -> Result<(S, SinkOutcome), StoreError> {
        if self.current.take().is_some() {
            self.store.abort()?;
        }
        let outcome = SinkOutcome {
            stored: std::mem::take(&mut self.stored),
            written: std::mem::take(&mut self.written),
            uploaded: self.uploaded,
            present: self.present,
            failures: std::mem::take(&mut self.failures),
        };
        Ok((self.store, outcome))
    }

    fn refuse(&mut self, path: &str, kind: FailureKind, why: String) {
        self.failures.push(Failure {
            path: path.to_owned(),
            kind,
            expected: None,
            actual: Some(why),
        });
    }
}

fn count(counts: &mut ObjectCounts, bytes: u64) {
    counts.objects += 1;
    counts.bytes += bytes;
}

impl<S: Store> EntrySink for StoreSink<S> {
    type Error = StoreError;

    fn begin(&mut self, entry: &FileEntry) -> Result<bool, StoreError> {
        if self.current.take().is_some() {
            // The verifier never begins an entry before finishing the last; if it did, the
            // unfinished upload must not survive.
            self.store.abort()?;
        }
        let key = match self.placement.object_key(entry) {
            Ok(key) => key,
            Err(e) => {
                self.refuse(&entry.path, FailureKind::UnsafeEntry, format!("stage: {e}"));
                return Ok(false);
            }
        };
        let Ok(sha256) = parse_hex32(&entry.sha256) else {
            self.refuse(
                &entry.path,
                FailureKind::Mismatch,
                "stage: the manifest's sha256 is not 64 lowercase hex digits".to_owned(),
            );
            return Ok(false);
        };
        let spec = ObjectSpec {
            size: entry.size,
            sha256,
            media_type: entry.media_type.clone(),
            executable: u32::from_str_radix(&entry.mode, 8).is_ok_and(|m| m & 0o111 != 0),
        };
        let present =
            self.known.contains(&key) || self.store.lookup(&key, &spec)? == Lookup::Present;
        if !present {
            self.store.begin(&key, &spec)?;
        }
        self.current = Some(Current {
            path: entry.path.clone(),
            key,
            spec,
            mode: if present {
                Mode::Present
            } else {
                Mode::Uploading
            },
            hasher: Sha256::new(),
            received: 0,
        });
        Ok(!present)
    }

    fn data(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let Some(current) = self.current.as_mut() else {
            return Ok(());
        };
        if current.mode != Mode::Uploading {
            return Ok(());
        }
        current.received += bytes.len() as u64;
        if current.received > current.spec.size {
            // Longer than the manifest says: never stored, and no need to buffer any more.
            current.mode = Mode::Dropped;
            return self.store.abort();
        }
        current.hasher.update(bytes);
        self.store.write(bytes)
    }

    fn finish(&mut self, verified: bool) -> Result<(), StoreError> {
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        let Current {
            path,
            key,
            spec,
            mode,
            hasher,
            received,
        } = current;
        match mode {
            Mode::Present => {
                if verified {
                    count(&mut self.present, spec.size);
                    self.known.insert(key.clone());
                    self.stored.insert(path, key);
                }
                Ok(())
            }
            Mode::Dropped => {
                if verified {
                    self.failures.push(Failure {
                        path,
                        kind: FailureKind::Size,
                        expected: Some(spec.size.to_string()),
                        actual: Some(format!("stage: more than {} bytes", spec.size)),
                    });
                }
                Ok(())
            }
            Mode::Uploading => {
                let digest: [u8; 32] = hasher.finalize().into();
                let ours = received == spec.size && ct_eq(&digest, &spec.sha256);
                if verified && ours {
                    self.store.commit()?;
                    count(&mut self.uploaded, spec.size);
                    self.written.push(key.clone());
                    self.known.insert(key.clone());
                    self.stored.insert(path, key);
                    return Ok(());
                }
                self.store.abort()?;
                if verified {
                    // The verifier passed bytes our own hash disagrees with: refuse them.
                    self.failures.push(Failure {
                        path,
                        kind: FailureKind::Mismatch,
                        expected: Some(hex::encode(spec.sha256)),
                        actual: Some(format!("stage: {} ({received} bytes)", hex::encode(digest))),
                    });
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::memory::MemoryStore;
    use offline_formats::digest::sha256;
    use offline_formats::manifest::{BundleManifest, SCHEMA};
    use offline_formats::stage::Layout;

    fn entry(path: &str, content: &[u8]) -> FileEntry {
        FileEntry {
            path: path.to_owned(),
            size: content.len() as u64,
            sha256: hex::encode(sha256(content)),
            blake3: hex::encode(blake3::hash(content).as_bytes()),
            mode: "0644".to_owned(),
            media_type: "text/plain".to_owned(),
        }
    }

    fn placement(layout: Layout) -> Placement {
        let manifest = BundleManifest {
            schema: SCHEMA.to_owned(),
            bundle_id: "b".to_owned(),
            kind: "bootstrap".to_owned(),
            mirror_generation: 3,
            created_at: "2026-11-01T00:00:00Z".to_owned(),
            producer: "test".to_owned(),
            files: Vec::new(),
            merkle_root: format!("sha256:{}", "00".repeat(32)),
            archive: None,
        };
        Placement::new(layout, &manifest).unwrap()
    }

    /// Streams `content` for `entry` the way the verifier does, in small pieces.
    fn stream<S: Store>(
        sink: &mut StoreSink<S>,
        entry: &FileEntry,
        content: &[u8],
        verified: bool,
    ) -> bool {
        let deliver = sink.begin(entry).unwrap();
        if deliver {
            for piece in content.chunks(3) {
                sink.data(piece).unwrap();
            }
        }
        sink.finish(verified).unwrap();
        deliver
    }

    #[test]
    fn verified_entries_become_visible_and_a_rerun_uploads_nothing() {
        let files = [("a.txt", &b"alpha\n"[..]), ("d/b.txt", &b"bravo\n"[..])];
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Generation));
        for (path, content) in files {
            assert!(stream(&mut sink, &entry(path, content), content, true));
        }
        let (store, outcome) = sink.finish_sink().unwrap();
        assert_eq!(store.objects["b/3/a.txt"], b"alpha\n");
        assert_eq!(store.objects["b/3/d/b.txt"], b"bravo\n");
        assert_eq!(
            outcome.uploaded,
            ObjectCounts {
                objects: 2,
                bytes: 12
            }
        );
        assert_eq!(outcome.present, ObjectCounts::default());
        assert_eq!(outcome.written, ["b/3/a.txt", "b/3/d/b.txt"]);
        assert!(outcome.failures.is_empty());

        let mut sink = StoreSink::new(store, placement(Layout::Generation));
        for (path, content) in files {
            assert!(
                !stream(&mut sink, &entry(path, content), content, true),
                "{path} redelivered"
            );
        }
        let (_, outcome) = sink.finish_sink().unwrap();
        assert_eq!(outcome.uploaded, ObjectCounts::default());
        assert_eq!(
            outcome.present,
            ObjectCounts {
                objects: 2,
                bytes: 12
            }
        );
        assert_eq!(outcome.stored.len(), 2);
    }

    #[test]
    fn an_entry_the_verifier_fails_is_never_visible() {
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Generation));
        let listed = entry("a.txt", b"alpha\n");
        stream(&mut sink, &listed, b"alphA\n", false);
        let (store, outcome) = sink.finish_sink().unwrap();
        assert!(store.objects.is_empty());
        assert!(outcome.stored.is_empty() && outcome.failures.is_empty());
    }

    #[test]
    fn bytes_our_own_hash_disagrees_with_are_refused_even_if_the_verifier_passed_them() {
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Generation));
        let listed = entry("a.txt", b"alpha\n");
        stream(&mut sink, &listed, b"alphA\n", true);
        let (store, outcome) = sink.finish_sink().unwrap();
        assert!(store.objects.is_empty());
        assert_eq!(outcome.failures.len(), 1);
        assert_eq!(outcome.failures[0].kind, FailureKind::Mismatch);
        assert!(outcome.stored.is_empty());
    }

    #[test]
    fn an_entry_longer_than_listed_is_dropped() {
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Generation));
        let listed = entry("a.txt", b"alpha\n");
        stream(&mut sink, &listed, b"alpha\nand more", true);
        let (store, outcome) = sink.finish_sink().unwrap();
        assert!(store.objects.is_empty());
        assert_eq!(outcome.failures[0].kind, FailureKind::Size);
    }

    #[test]
    fn a_different_object_under_the_key_is_replaced() {
        let mut store = MemoryStore::default();
        store
            .objects
            .insert("b/3/a.txt".to_owned(), b"stale".to_vec());
        let mut sink = StoreSink::new(store, placement(Layout::Generation));
        assert!(stream(
            &mut sink,
            &entry("a.txt", b"alpha\n"),
            b"alpha\n",
            true
        ));
        let (store, outcome) = sink.finish_sink().unwrap();
        assert_eq!(store.objects["b/3/a.txt"], b"alpha\n");
        assert_eq!(outcome.uploaded.objects, 1);
    }

    #[test]
    fn cas_stores_equal_content_once() {
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Cas));
        assert!(stream(
            &mut sink,
            &entry("a.txt", b"same\n"),
            b"same\n",
            true
        ));
        assert!(!stream(
            &mut sink,
            &entry("copy/a.txt", b"same\n"),
            b"same\n",
            true
        ));
        let (store, outcome) = sink.finish_sink().unwrap();
        let key = format!("sha256/{}", hex::encode(sha256(b"same\n")));
        assert_eq!(store.objects.keys().collect::<Vec<_>>(), [&key]);
        assert_eq!(outcome.uploaded.objects, 1);
        assert_eq!(outcome.present.objects, 1);
        assert_eq!(outcome.stored["copy/a.txt"], key);
    }

    #[test]
    fn unsafe_and_reserved_names_are_refused_not_stored() {
        let mut sink = StoreSink::new(MemoryStore::default(), placement(Layout::Generation));
        for path in ["../escape", "receipt.json"] {
            assert!(!stream(&mut sink, &entry(path, b"x"), b"x", true));
        }
        let (store, outcome) = sink.finish_sink().unwrap();
        assert!(store.objects.is_empty());
        let kinds: Vec<FailureKind> = outcome.failures.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [FailureKind::UnsafeEntry, FailureKind::UnsafeEntry]);
    }

    #[test]
    fn a_store_error_names_the_object() {
        let mut store = MemoryStore::default();
        store.full_at = Some("b/3/a.txt".to_owned());
        let mut sink = StoreSink::new(store, placement(Layout::Generation));
        let listed = entry("a.txt", b"alpha\n");
        assert!(sink.begin(&listed).unwrap());
        sink.data(b"alpha\n").unwrap();
        let err = sink.finish(true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`mem:///b/3/a.txt`: cannot commit"),
            "{err}"
        );
    }
}
