//! Everything that stops `netpolicy-gen` before it can finish a job, each mapped to an exit
//! code in one place.
//!
//! A finding (a lint hit, a leak, a denied probe) is not an error: the command reports it and
//! exits 1. Every error here means the job could not be done: exit 2.

use std::path::PathBuf;

/// Why a command could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetpolicyError {
    /// A flag or value is missing, impossible or combined with one it excludes.
    #[error("{0}")]
    Usage(String),
    /// An input file (spec, policy YAML, configuration) cannot be used; `line` is 1-based.
    #[error("`{}`{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A file or folder cannot be read or written.
    #[error("`{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bug: an invariant did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl NetpolicyError {
    /// Exit code for this error (DESIGN §4): every error is "the job could not be done".
    pub fn exit_code(&self) -> u8 {
        tool_cli::EXIT_UNUSABLE
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NetpolicyError::Io {
            path: path.into(),
            source,
        }
    }

    /// An unusable input at `path`, line `line` (1-based) when known.
    pub fn input(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        NetpolicyError::Input {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_name_file_and_line() {
        let e = NetpolicyError::input("spec.yaml", Some(7), "endPort 80 is below port 443");
        assert_eq!(e.to_string(), "`spec.yaml`:7: endPort 80 is below port 443");
        assert_eq!(e.exit_code(), 2);
        let e = NetpolicyError::input("spec.yaml", None, "empty");
        assert_eq!(e.to_string(), "`spec.yaml`: empty");
    }
}
