//! An in-memory [`Store`] for the sink's and activation's unit tests, which can be told to
//! fail on one key the way a full or read-only store would.

use super::store::{Action, Lookup, ObjectSpec, Store, StoreError};
use offline_formats::digest::sha256;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Visible objects.
    pub objects: BTreeMap<String, Vec<u8>>,
    /// Keys whose commit fails with "no space left".
    pub full_at: Option<String>,
    /// Every commit and document write, in order.
    pub log: Vec<String>,
    current: Option<(String, Vec<u8>)>,
}

impl MemoryStore {
    fn full(&self, key: &str) -> Option<StoreError> {
        (self.full_at.as_deref() == Some(key)).then(|| StoreError::Io {
            object: self.url(key),
            action: Action::Commit,
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        })
    }
}

impl Store for MemoryStore {
    fn url(&self, key: &str) -> String {
        format!("mem:///{key}")
    }

    fn lookup(&mut self, key: &str, spec: &ObjectSpec) -> Result<Lookup, StoreError> {
        Ok(match self.objects.get(key) {
            None => Lookup::Absent,
            Some(bytes) if bytes.len() as u64 == spec.size && sha256(bytes) == spec.sha256 => {
                Lookup::Present
            }
            Some(_) => Lookup::Different,
        })
    }

    fn begin(&mut self, key: &str, _spec: &ObjectSpec) -> Result<(), StoreError> {
        self.current = Some((key.to_owned(), Vec::new()));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        match self.current.as_mut() {
            Some((_, buffer)) => {
                buffer.extend_from_slice(bytes);
                Ok(())
            }
            None => Err(StoreError::NoUpload {
                store: "mem".to_owned(),
                what: "write",
            }),
        }
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let Some((key, bytes)) = self.current.take() else {
            return Err(StoreError::NoUpload {
                store: "mem".to_owned(),
                what: "commit",
            });
        };
        if let Some(e) = self.full(&key) {
            return Err(e);
        }
        self.log.push(key.clone());
        self.objects.insert(key, bytes);
        Ok(())
    }

    fn abort(&mut self) -> Result<(), StoreError> {
        self.current = None;
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        self.objects.remove(key);
        Ok(())
    }

    fn read_document(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.objects.get(key).cloned())
    }

    fn write_document(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if let Some(e) = self.full(key) {
            return Err(e);
        }
        self.log.push(key.to_owned());
        self.objects.insert(key.to_owned(), bytes.to_vec());
        Ok(())
    }
}
