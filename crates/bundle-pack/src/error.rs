//! Everything that can stop a pack, each mapped to an exit code in one place.

use std::path::PathBuf;

/// Why packing or inspecting failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// The configuration file cannot be read or parsed.
    #[error("`{path}`: {message}")]
    Config { path: PathBuf, message: String },
    /// A setting is missing or has an impossible value.
    #[error("{0}")]
    Usage(String),
    /// A source named in the configuration does not exist or cannot be read.
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link was found and `--follow-symlinks` was not given.
    #[error("`{path}`: is a symbolic link (bundles never contain links; pass --follow-symlinks to pack its target)")]
    Symlink { path: PathBuf },
    /// A socket, device or FIFO was found.
    #[error("`{path}`: is a {kind}, not a regular file")]
    SpecialFile { path: PathBuf, kind: &'static str },
    /// A file name is not valid UTF-8.
    #[error("`{path}`: file name is not valid UTF-8")]
    NonUtf8 { path: PathBuf },
    /// A bundle path is unsafe or not portable.
    #[error("`{path}`: {reason}")]
    BadBundlePath { path: String, reason: &'static str },
    /// Two sources map to the same bundle path.
    #[error("`{path}`: packed twice, from `{first}` and from `{second}`")]
    Duplicate {
        path: String,
        first: PathBuf,
        second: PathBuf,
    },
    /// A bundle path is a file and also the folder of another file.
    #[error("`{path}`: is a file and also the folder of `{child}`")]
    FileFolderClash { path: String, child: String },
    /// A file changed size while it was being packed.
    #[error("`{path}`: changed while being packed (expected {expected} bytes)")]
    Changed { path: PathBuf, expected: u64 },
    /// An archive given to `inspect` is not a readable bundle.
    #[error("`{path}`: {message}")]
    BadArchive { path: PathBuf, message: String },
    /// The embedded manifest is not where or what it must be.
    #[error("`{path}`: {message}")]
    CheckFailed { path: PathBuf, message: String },
    /// A shared-format error (canonical JSON, timestamps).
    #[error(transparent)]
    Format(#[from] offline_formats::FormatError),
    /// A bug: an invariant of the packer did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl PackError {
    /// Exit code for this error (DESIGN §4): 1 for a failed check, 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            PackError::CheckFailed { .. } => 1,
            _ => 2,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PackError::Io {
            path: path.into(),
            source,
        }
    }
}
