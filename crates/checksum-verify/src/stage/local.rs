//! A `file://` store: objects are files under a root folder, each written to a temporary name
//! in the store's `.staging/` folder, fsynced, and renamed into place only when committed, so
//! that no half-written object is ever visible under its name.
//!
//! A run holds an exclusive lock on `.staging/lock` for its whole life; the kernel releases it
//! when the process dies, even by `kill -9`, and the next run then removes the temporary files
//! the dead one left.

use super::store::{Action, Lookup, ObjectSpec, Store, StoreError, MAX_DOCUMENT};
use offline_formats::digest::{ct_eq, sha256_reader};
use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// The store's own folder under its root: the lock and the temporary files.
pub const STAGING_DIR: &str = ".staging";
/// The lock file in [`STAGING_DIR`].
const LOCK_FILE: &str = "lock";
/// Prefix of every temporary file in [`STAGING_DIR`].
const TEMP_PREFIX: &str = "tmp-";

/// A store rooted at a local folder.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    staging: PathBuf,
    /// Held (locked) for the life of the store.
    _lock: File,
    current: Option<Upload>,
    /// Numbers temporary files within this process.
    counter: u64,
    /// Temporary files of interrupted runs this run removed.
    cleaned: u64,
    /// Folders that gained an object since the last [`Store::flush`]: their entries are
    /// synced in one go before the receipt (one folder sync per folder, not per file).
    unsynced: BTreeSet<PathBuf>,
}

#[derive(Debug)]
struct Upload {
    key: String,
    temp: PathBuf,
    file: File,
    mode: u32,
}

impl LocalStore {
    /// Opens (creating it if needed) the store at `root`, an absolute path; takes its lock and
    /// removes the temporary files an interrupted run left.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let root_url = file_url(root, "");
        fs::create_dir_all(root).map_err(|source| StoreError::Io {
            object: root_url.clone(),
            action: Action::CreateFolder,
            source,
        })?;
        let staging = root.join(STAGING_DIR);
        match fs::symlink_metadata(&staging) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(StoreError::NotAFolder {
                    object: file_url(root, STAGING_DIR),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_dir_durably(&staging).map_err(|source| StoreError::Io {
                    object: file_url(root, STAGING_DIR),
                    action: Action::CreateFolder,
                    source,
                })?;
            }
            Err(source) => {
                return Err(StoreError::Io {
                    object: file_url(root, STAGING_DIR),
                    action: Action::CreateFolder,
                    source,
                })
            }
        }
        let lock_url = file_url(root, &format!("{STAGING_DIR}/{LOCK_FILE}"));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o644)
            .open(staging.join(LOCK_FILE))
            .map_err(|source| StoreError::Io {
                object: lock_url.clone(),
                action: Action::Lock,
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Busy { store: root_url }),
            Err(fs::TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    object: lock_url,
                    action: Action::Lock,
                    source,
                })
            }
        }
        let mut store = Self {
            root: root.to_path_buf(),
            staging,
            _lock: lock,
            current: None,
            counter: 0,
            cleaned: 0,
            unsynced: BTreeSet::new(),
        };
        store.remove_leftovers()?;
        Ok(store)
    }

    /// How many temporary files of interrupted runs [`LocalStore::open`] removed.
    pub fn cleaned(&self) -> u64 {
        self.cleaned
    }

    /// Removes every temporary file: with the lock held, none belongs to a live run.
    fn remove_leftovers(&mut self) -> Result<(), StoreError> {
        let cleanup_error = |source| StoreError::Io {
            object: file_url(&self.root, STAGING_DIR),
            action: Action::Cleanup,
            source,
        };
        let entries = fs::read_dir(&self.staging).map_err(cleanup_error)?;
        for entry in entries {
            let entry = entry.map_err(cleanup_error)?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                fs::remove_file(entry.path()).map_err(|source| StoreError::Io {
                    object: file_url(
                        &self.root,
                        &format!("{STAGING_DIR}/{}", name.to_string_lossy()),
                    ),
                    action: Action::Cleanup,
                    source,
                })?;
                self.cleaned += 1;
            }
        }
        Ok(())
    }

    fn path(&self, key: &str) -> PathBuf {
        let mut path = self.root.clone();
        path.extend(key.split('/'));
        path
    }

    fn start(&mut self, key: &str, mode: u32) -> Result<(), StoreError> {
        self.abort()?;
        self.counter += 1;
        let temp = self.staging.join(format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            self.counter
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|source| StoreError::Io {
                object: self.url(key),
                action: Action::Write,
                source,
            })?;
        self.current = Some(Upload {
            key: key.to_owned(),
            temp,
            file,
            mode,
        });
        Ok(())
    }

    /// Creates the folders of `key` below the root, refusing to follow anything but real
    /// folders, and syncs each new one into its parent.
    fn create_parents(&self, key: &str) -> Result<PathBuf, StoreError> {
        let mut dir = self.root.clone();
        let mut so_far = String::new();
        let parts: Vec<&str> = key.split('/').collect();
        let Some((_, folders)) = parts.split_last() else {
            return Ok(dir);
        };
        for part in folders {
            dir.push(part);
            if !so_far.is_empty() {
                so_far.push('/');
            }
            so_far.push_str(part);
            match fs::symlink_metadata(&dir) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(StoreError::NotAFolder {
                        object: self.url(&so_far),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    create_dir_durably(&dir).map_err(|source| StoreError::Io {
                        object: self.url(&so_far),
                        action: Action::CreateFolder,
                        source,
                    })?;
                }
                Err(source) => {
                    return Err(StoreError::Io {
                        object: self.url(&so_far),
                        action: Action::CreateFolder,
                        source,
                    })
                }
            }
        }
        Ok(dir)
    }

    fn finish(&mut self, upload: &Upload) -> Result<(), StoreError> {
        let commit_error = |source| StoreError::Io {
            object: self.url(&upload.key),
            action: Action::Commit,
            source,
        };
        upload
            .file
            .set_permissions(fs::Permissions::from_mode(upload.mode))
            .map_err(commit_error)?;
        upload.file.sync_all().map_err(commit_error)?;
        let parent = self.create_parents(&upload.key)?;
        fs::rename(&upload.temp, self.path(&upload.key)).map_err(commit_error)?;
        // The content is durable before the name points at it; the name itself becomes
        // durable at the next flush, before any receipt. Lost in a crash, it is uploaded again.
        self.unsynced.insert(parent);
        Ok(())
    }
}

impl Store for LocalStore {
    fn url(&self, key: &str) -> String {
        file_url(&self.root, key)
    }

    fn lookup(&mut self, key: &str, spec: &ObjectSpec) -> Result<Lookup, StoreError> {
        let path = self.path(key);
        let lookup_error = |source| StoreError::Io {
            object: self.url(key),
            action: Action::Lookup,
            source,
        };
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Absent),
            // A file where a folder of the key should be: the upload will say so.
            Err(e) if e.raw_os_error() == Some(20) => return Ok(Lookup::Different),
            Err(source) => return Err(lookup_error(source)),
        };
        if !meta.is_file()
            || meta.len() != spec.size
            || meta.permissions().mode() & 0o7777 != mode_of(spec)
        {
            return Ok(Lookup::Different);
        }
        let file = File::open(&path).map_err(lookup_error)?;
        let (digest, size) = sha256_reader(file).map_err(lookup_error)?;
        if size == spec.size && ct_eq(&digest, &spec.sha256) {
            Ok(Lookup::Present)
        } else {
            Ok(Lookup::Different)
        }
    }

    fn begin(&mut self, key: &str, spec: &ObjectSpec) -> Result<(), StoreError> {
        self.start(key, mode_of(spec))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let Some(upload) = self.current.as_mut() else {
            return Err(StoreError::NoUpload {
                store: self.url(""),
                what: "write",
            });
        };
        if let Err(source) = upload.file.write_all(bytes) {
            let key = upload.key.clone();
            let object = self.url(&key);
            // The write error is the one to report; removing the temporary file is best effort.
            let _ = self.abort();
            return Err(StoreError::Io {
                object,
                action: Action::Write,
                source,
            });
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        let Some(upload) = self.current.take() else {
            return Err(StoreError::NoUpload {
                store: self.url(""),
                what: "commit",
            });
        };
        let result = self.finish(&upload);
        if result.is_err() {
            // Best effort: the error being returned matters more than this one.
            let _ = fs::remove_file(&upload.temp);
        }
        result
    }

    fn abort(&mut self) -> Result<(), StoreError> {
        let Some(upload) = self.current.take() else {
            return Ok(());
        };
        let Upload {
            key, temp, file, ..
        } = upload;
        drop(file);
        fs::remove_file(&temp).map_err(|source| StoreError::Io {
            object: self.url(&key),
            action: Action::Abort,
            source,
        })
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        while let Some(dir) = self.unsynced.pop_first() {
            if let Err(source) = sync_dir(&dir) {
                let relative = dir
                    .strip_prefix(&self.root)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Err(StoreError::Io {
                    object: self.url(&relative),
                    action: Action::Flush,
                    source,
                });
            }
        }
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        let delete_error = |source| StoreError::Io {
            object: self.url(key),
            action: Action::Delete,
            source,
        };
        let path = self.path(key);
        match fs::symlink_metadata(&path) {
            Ok(meta) if !meta.is_dir() => {}
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(delete_error(source)),
        }
        fs::remove_file(&path).map_err(delete_error)?;
        // Folders the object leaves empty go too; a folder still in use stops the walk.
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(current) = dir {
            if current == self.root || !current.starts_with(&self.root) {
                break;
            }
            if fs::remove_dir(&current).is_err() {
                break;
            }
            dir = current.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    fn read_document(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let read_error = |source| StoreError::Io {
            object: self.url(key),
            action: Action::Read,
            source,
        };
        let mut file = match File::open(self.path(key)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(read_error(source)),
        };
        let size = file.metadata().map_err(read_error)?.len();
        if size > MAX_DOCUMENT {
            return Err(StoreError::DocumentTooLarge {
                object: self.url(key),
                size,
                limit: MAX_DOCUMENT,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut bytes).map_err(read_error)?;
        Ok(Some(bytes))
    }

    fn write_document(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        // Everything before a document is durable first; the document is durable when written.
        self.flush()?;
        self.start(key, 0o644)?;
        self.write(bytes)?;
        self.commit()?;
        self.flush()
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        if let Some(upload) = self.current.take() {
            let _ = fs::remove_file(&upload.temp);
        }
    }
}

/// `file://` URL of `key` under `root`.
pub fn file_url(root: &Path, key: &str) -> String {
    let root = root.display().to_string();
    let root = root.trim_end_matches('/');
    if key.is_empty() {
        format!("file://{root}/")
    } else {
        format!("file://{root}/{key}")
    }
}

fn mode_of(spec: &ObjectSpec) -> u32 {
    if spec.executable {
        0o755
    } else {
        0o644
    }
}

/// Creates one folder and syncs its parent, so that the new entry survives a crash.
fn create_dir_durably(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Another writer made it between our look and our mkdir: fine if it is a folder.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(e),
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use offline_formats::digest::sha256;

    fn spec(content: &[u8]) -> ObjectSpec {
        ObjectSpec {
            size: content.len() as u64,
            sha256: sha256(content),
            media_type: "text/plain".to_owned(),
            executable: false,
        }
    }

    fn staging_files(root: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(root.join(STAGING_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != LOCK_FILE)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_object_is_visible_only_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        let content = b"replicas: 2\n";
        let key = "b/7/charts/app/values.yaml";
        assert_eq!(store.lookup(key, &spec(content)).unwrap(), Lookup::Absent);
        store.begin(key, &spec(content)).unwrap();
        store.write(&content[..5]).unwrap();
        store.write(&content[5..]).unwrap();
        assert!(!dir.path().join(key).exists(), "visible before commit");
        assert_eq!(staging_files(dir.path()).len(), 1);
        store.commit().unwrap();
        assert_eq!(fs::read(dir.path().join(key)).unwrap(), content);
        assert_eq!(store.lookup(key, &spec(content)).unwrap(), Lookup::Present);
        assert_eq!(
            store.lookup(key, &spec(b"replicas: 3\n")).unwrap(),
            Lookup::Different
        );
        assert!(staging_files(dir.path()).is_empty());
        assert_eq!(
            fs::metadata(dir.path().join(key))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o644
        );
    }

    #[test]
    fn abort_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        store.begin("x/y", &spec(b"abc")).unwrap();
        store.write(b"ab").unwrap();
        store.abort().unwrap();
        assert!(!dir.path().join("x").exists());
        assert!(staging_files(dir.path()).is_empty());
    }

    #[test]
    fn executable_mode_is_kept_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        let mut exec = spec(b"#!/bin/sh\n");
        exec.executable = true;
        store.begin("verify.sh", &exec).unwrap();
        store.write(b"#!/bin/sh\n").unwrap();
        store.commit().unwrap();
        let mode = fs::metadata(dir.path().join("verify.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(store.lookup("verify.sh", &exec).unwrap(), Lookup::Present);
        exec.executable = false;
        assert_eq!(store.lookup("verify.sh", &exec).unwrap(), Lookup::Different);
    }

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalStore::open(dir.path()).unwrap();
        match LocalStore::open(dir.path()) {
            Err(StoreError::Busy { store }) => assert_eq!(store, file_url(dir.path(), "")),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        LocalStore::open(dir.path()).unwrap();
    }

    #[test]
    fn leftovers_of_a_dead_run_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(LocalStore::open(dir.path()).unwrap());
        fs::write(dir.path().join(STAGING_DIR).join("tmp-999-1"), b"half").unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(store.cleaned(), 1);
        assert!(staging_files(dir.path()).is_empty());
    }

    #[test]
    fn a_file_in_the_way_of_a_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        fs::write(dir.path().join("charts"), b"not a folder").unwrap();
        assert_eq!(
            store.lookup("charts/a.yaml", &spec(b"a")).unwrap(),
            Lookup::Different
        );
        store.begin("charts/a.yaml", &spec(b"a")).unwrap();
        store.write(b"a").unwrap();
        let err = store.commit().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}`: not a folder (a file or symbolic link is in the way)",
                file_url(dir.path(), "charts")
            )
        );
        assert!(staging_files(dir.path()).is_empty());
    }

    #[test]
    fn a_symlinked_folder_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("charts")).unwrap();
        store.begin("charts/a.yaml", &spec(b"a")).unwrap();
        store.write(b"a").unwrap();
        assert!(matches!(store.commit(), Err(StoreError::NotAFolder { .. })));
        assert!(!outside.path().join("a.yaml").exists());
    }

    #[test]
    fn documents_round_trip_and_absent_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(store.read_document("b/1/receipt.json").unwrap(), None);
        store.write_document("b/1/receipt.json", b"{}\n").unwrap();
        assert_eq!(
            store.read_document("b/1/receipt.json").unwrap().as_deref(),
            Some(&b"{}\n"[..])
        );
    }
}
