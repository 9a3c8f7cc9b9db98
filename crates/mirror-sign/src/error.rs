//! Everything that can stop `mirror-sign`, each mapped to an exit code in one place.
//!
//! A verdict (threshold met or not) is not an error: `verify` and `status` return it as a
//! report and exit 0 or 1. Every error here means the job could not be done: exit 2.

use std::path::PathBuf;

/// Why a command could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A flag or value is missing or impossible.
    #[error("{0}")]
    Usage(String),
    /// A file cannot be read or written.
    #[error("`{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `keygen` would overwrite a file.
    #[error("`{path}`: already exists; keygen never overwrites a key (nothing was written)")]
    Exists { path: PathBuf },
    /// A private key file can be read or written by group or others.
    #[error("`{path}`: private key is accessible by group or others (mode {mode:04o}); run `chmod 600 {path}`")]
    KeyPermissions { path: PathBuf, mode: u32 },
    /// A key file is not an Ed25519 key this tool reads.
    #[error("`{path}`: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    /// The key is encrypted and no passphrase was given.
    #[error("`{path}`: the private key is encrypted; give --passphrase-file FILE, --passphrase-env VAR or set MIRROR_SIGN_PASSPHRASE")]
    PassphraseNeeded { path: PathBuf },
    /// Decryption failed.
    #[error("`{path}`: wrong passphrase, or the encrypted key is damaged")]
    WrongPassphrase { path: PathBuf },
    /// A passphrase source is unusable.
    #[error("{0}")]
    Passphrase(String),
    /// An input document cannot be used.
    #[error("`{path}`: {reason}")]
    Document { path: PathBuf, reason: String },
    /// A shared-format error (canonical JSON, envelope, trust root) in an input document.
    #[error("`{path}`: {source}")]
    Format {
        path: PathBuf,
        #[source]
        source: offline_formats::FormatError,
    },
    /// A signify file could not be written.
    #[error(transparent)]
    Signify(#[from] crate::signify::SignifyError),
    /// The audit log cannot be appended to or read.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// A provenance statement cannot be made.
    #[error(transparent)]
    Attest(#[from] crate::attest::AttestError),
    /// The system random number generator failed.
    #[error("system random number generator: {0}")]
    Random(String),
    /// A bug: an invariant did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl SignError {
    /// Exit code for this error (DESIGN §4): every error is "could not do the job".
    pub fn exit_code(&self) -> u8 {
        2
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SignError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn document(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        SignError::Document {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, source: offline_formats::FormatError) -> Self {
        SignError::Format {
            path: path.into(),
            source,
        }
    }
}
