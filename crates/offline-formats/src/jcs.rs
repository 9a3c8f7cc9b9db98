//! RFC 8785 JSON Canonicalization Scheme for every byte that is hashed or signed, and the
//! pretty on-disk form (same key order, 2-space indent, trailing newline).

use crate::FormatError;
use serde::Serialize;

/// RFC 8785 canonical bytes of any serializable value.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FormatError> {
    let _ = value;
    unimplemented!("helper fills this in")
}

/// The on-disk form: keys sorted as in JCS, 2-space indent, `": "`, trailing newline.
pub fn to_pretty_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FormatError> {
    let _ = value;
    unimplemented!("helper fills this in")
}
