//! Errors raised while reading or writing the shared documents.

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes are not JSON, or do not have the document's shape.
    #[error("{document}: {source}")]
    Json {
        document: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The document carries no `schema` member.
    #[error("{document}: missing `schema` member")]
    MissingSchema { document: &'static str },
    /// The `schema` member names another kind of document.
    #[error("{document}: schema `{found}` is not `{expected}/v<N>`")]
    WrongSchema {
        document: &'static str,
        expected: &'static str,
        found: String,
    },
    /// The document is of a major version this build does not understand.
    #[error("{document}: unsupported schema version `{found}` (this build reads `{expected}/v{supported}`)")]
    UnsupportedVersion {
        document: &'static str,
        expected: &'static str,
        supported: u32,
        found: String,
    },
    /// A value cannot be represented in RFC 8785 canonical JSON (I-JSON).
    #[error("not canonicalizable JSON: {reason}")]
    NotCanonical { reason: String },
    /// A digest string is not `<algorithm>:<64 lowercase hex>`.
    #[error("invalid digest `{value}`: {reason}")]
    InvalidDigest { value: String, reason: &'static str },
    /// A timestamp is not RFC 3339.
    #[error("invalid timestamp `{value}`: expected RFC 3339, e.g. 2026-01-31T12:00:00Z")]
    InvalidTimestamp { value: String },
    /// Base64 in an envelope does not decode.
    #[error("{field}: invalid base64")]
    InvalidBase64 { field: &'static str },
    /// A public key is not a usable Ed25519 key.
    #[error("public key: {reason}")]
    InvalidPublicKey { reason: String },
    /// A trust root breaks a rule its schema cannot express.
    #[error("trust root: {reason}")]
    InvalidTrustRoot { reason: String },
    /// An envelope carries more signatures than a verifier will try.
    #[error("DSSE envelope: {count} signatures (at most {max} are read)")]
    TooManySignatures { count: usize, max: usize },
}
