//! Everything that stops `checksum-verify` before it can give a verdict, each mapped to an
//! exit code in one place.
//!
//! A verdict, good or bad, is not an error: a tampered file, a hostile archive entry or a
//! missing signature is a failure in the verify report (exit 1). Every error here means the
//! check could not run at all: exit 2.

use std::path::PathBuf;

/// Why a verification (or a stage) could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A flag or value is missing, impossible or combined with one it excludes.
    #[error("{0}")]
    Usage(String),
    /// A file or folder cannot be read or written.
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An input document (manifest, envelope, trust root, state file) cannot be used.
    #[error("`{path}`: {reason}")]
    Document { path: PathBuf, reason: String },
    /// A shared-format error (unknown schema version, bad trust root, bad base64) in an input.
    #[error("`{path}`: {source}")]
    Format {
        path: PathBuf,
        #[source]
        source: offline_formats::FormatError,
    },
    /// The sink entries were streamed into failed (an object store error during `stage`).
    #[error("{0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bug: an invariant did not hold (a worker thread panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

impl VerifyError {
    /// Exit code for this error (DESIGN §4): every error is "the check could not run".
    pub fn exit_code(&self) -> u8 {
        tool_cli::EXIT_UNUSABLE
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VerifyError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn document(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        VerifyError::Document {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, source: offline_formats::FormatError) -> Self {
        VerifyError::Format {
            path: path.into(),
            source,
        }
    }
}
