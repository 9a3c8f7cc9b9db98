//! RFC 6962 Merkle tree hash, inclusion and consistency proofs.

/// SHA-256 digest size.
pub type Hash = [u8; 32];

/// Leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let _ = data;
    unimplemented!("helper fills this in")
}

/// Merkle tree hash of already computed leaf hashes (RFC 6962 §2.1).
pub fn root(leaves: &[Hash]) -> Hash {
    let _ = leaves;
    unimplemented!("helper fills this in")
}

/// Leaf hash of one manifest file entry: leaf data = JCS(`{path, sha256, size}`).
pub fn manifest_leaf(path: &str, sha256_hex: &str, size: u64) -> Hash {
    let _ = (path, sha256_hex, size);
    unimplemented!("helper fills this in")
}
