//! The object store `stage` writes to, as the rest of the tool sees it: one synchronous
//! interface over the local file system and S3, where an upload becomes visible only when it
//! is committed.

use std::fmt;

/// What an object must be: its size and digest, as the manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
    /// Media type (an S3 `Content-Type`).
    pub media_type: String,
    /// Whether the file is executable (`0755`), kept as the file mode in a local store.
    pub executable: bool,
}

/// What a lookup found under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Nothing is stored under the key.
    Absent,
    /// An object with the expected size and digest is stored under the key.
    Present,
    /// Something else is stored under the key (it is replaced on upload).
    Different,
}

/// An object store `stage` writes to. One upload at a time: [`Store::begin`], any number of
/// [`Store::write`]s, then [`Store::commit`] (the object becomes visible) or
/// [`Store::abort`] (nothing becomes visible).
pub trait Store: Send {
    /// The object's URL, for messages and reports.
    fn url(&self, key: &str) -> String;

    /// Whether an object with `spec`'s size and digest is stored under `key`.
    fn lookup(&mut self, key: &str, spec: &ObjectSpec) -> Result<Lookup, StoreError>;

    /// Starts an upload to `key`; nothing is visible under `key` until [`Store::commit`].
    fn begin(&mut self, key: &str, spec: &ObjectSpec) -> Result<(), StoreError>;

    /// Appends bytes to the current upload.
    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError>;

    /// Makes the current upload visible under its key, durably.
    fn commit(&mut self) -> Result<(), StoreError>;

    /// Drops the current upload; nothing becomes visible. Without a current upload, nothing
    /// happens.
    fn abort(&mut self) -> Result<(), StoreError>;

    /// Makes every commit so far durable before anything that depends on it (the receipt) is
    /// written. A store whose commits are durable one by one does nothing.
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Removes the object under `key`, if any (and, locally, the folders it leaves empty).
    fn delete(&mut self, key: &str) -> Result<(), StoreError>;

    /// Reads a small document (a manifest, index or receipt), `None` when absent.
    fn read_document(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Writes a small document in one step: it is visible whole or not at all.
    fn write_document(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError>;
}

/// The largest document [`Store::read_document`] reads (a manifest of a bundle with many
/// small files is a few MiB).
pub const MAX_DOCUMENT: u64 = 256 * 1024 * 1024;

/// Why the store could not be used. Every variant names the store or the object concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A local file system operation failed.
    #[error("`{object}`: {action}: {source}")]
    Io {
        object: String,
        action: Action,
        #[source]
        source: std::io::Error,
    },
    /// An S3 request failed.
    #[error("`{object}`: {action}: {source}")]
    Remote {
        object: String,
        action: Action,
        #[source]
        source: Box<object_store::Error>,
    },
    /// Something other than a folder is in the way of an object's folder.
    #[error("`{object}`: not a folder (a file or symbolic link is in the way)")]
    NotAFolder { object: String },
    /// A document is too large to be one this tool wrote.
    #[error("`{object}`: {size} bytes is more than a stage document can be ({limit})")]
    DocumentTooLarge {
        object: String,
        size: u64,
        limit: u64,
    },
    /// A stage document in the store is not one this tool can read.
    #[error("`{object}`: {reason}")]
    BadDocument { object: String, reason: String },
    /// Another stage run holds the store's lock.
    #[error("`{store}`: another `checksum-verify stage` is writing to this store")]
    Busy { store: String },
    /// An upload call came out of order (a bug in the caller).
    #[error("`{store}`: {what} without an upload in progress")]
    NoUpload { store: String, what: &'static str },
    /// The S3 client could not be set up.
    #[error("`{store}`: {reason}")]
    Setup { store: String, reason: String },
}

/// What was being done when a store operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Creating the store or an object's folder.
    CreateFolder,
    /// Taking the store's lock.
    Lock,
    /// Looking up an existing object.
    Lookup,
    /// Reading an object.
    Read,
    /// Writing an object's bytes.
    Write,
    /// Making an object durable and visible.
    Commit,
    /// Making committed objects durable.
    Flush,
    /// Removing an unfinished upload.
    Abort,
    /// Removing leftovers of an interrupted run.
    Cleanup,
    /// Removing an object of a bundle that failed.
    Delete,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CreateFolder => "cannot create folder",
            Self::Lock => "cannot lock the store",
            Self::Lookup => "cannot look up",
            Self::Read => "cannot read",
            Self::Write => "cannot write",
            Self::Commit => "cannot commit",
            Self::Flush => "cannot sync",
            Self::Abort => "cannot abort the upload",
            Self::Cleanup => "cannot remove an interrupted upload",
            Self::Delete => "cannot remove",
        })
    }
}

impl<T: Store + ?Sized> Store for Box<T> {
    fn url(&self, key: &str) -> String {
        (**self).url(key)
    }

    fn lookup(&mut self, key: &str, spec: &ObjectSpec) -> Result<Lookup, StoreError> {
        (**self).lookup(key, spec)
    }

    fn begin(&mut self, key: &str, spec: &ObjectSpec) -> Result<(), StoreError> {
        (**self).begin(key, spec)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        (**self).write(bytes)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        (**self).commit()
    }

    fn abort(&mut self) -> Result<(), StoreError> {
        (**self).abort()
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        (**self).flush()
    }

    fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        (**self).delete(key)
    }

    fn read_document(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).read_document(key)
    }

    fn write_document(&mut self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        (**self).write_document(key, bytes)
    }
}
