//! RFC 6962 Merkle tree hash, inclusion and consistency proofs.
//!
//! Proof generation follows RFC 6962 §2.1.1–2.1.2 and verification RFC 9162 §2.1.3.2 and
//! §2.1.4.2, so proofs interoperate with Certificate Transparency and Trillian tooling. Nothing
//! here recurses: bundles routinely hold tens of thousands of files.

use crate::digest::ct_eq;
use crate::jcs;
use sha2::{Digest as _, Sha256};

/// SHA-256 digest size.
pub type Hash = [u8; 32];

/// Domain separation so a leaf can never be passed off as an interior node (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Merkle tree hash of already computed leaf hashes (RFC 6962 §2.1).
///
/// One pass over the leaves with a stack of at most log2(n) + 1 complete subtrees: each leaf is
/// merged with equal-sized subtrees to its left, and the remaining subtrees (strictly shrinking
/// left to right, like the binary digits of n) are folded right to left. That fold is exactly
/// RFC 6962's split at the largest power of two below n.
pub fn root(leaves: &[Hash]) -> Hash {
    let mut stack: Vec<(Hash, usize)> = Vec::with_capacity(usize::BITS as usize + 1);
    for leaf in leaves {
        let (mut hash, mut size) = (*leaf, 1usize);
        while let Some(&(left, left_size)) = stack.last() {
            if left_size != size {
                break;
            }
            stack.pop();
            hash = node_hash(&left, &hash);
            size *= 2;
        }
        stack.push((hash, size));
    }
    let mut folded: Option<Hash> = None;
    for (left, _) in stack.iter().rev() {
        folded = Some(match folded {
            None => *left,
            Some(right) => node_hash(left, &right),
        });
    }
    folded.unwrap_or_else(empty_root)
}

/// Leaf hash of one manifest file entry: leaf data = JCS(`{path, sha256, size}`).
pub fn manifest_leaf(path: &str, sha256_hex: &str, size: u64) -> Hash {
    leaf_hash(&manifest_leaf_data(path, sha256_hex, size))
}

/// JCS bytes of `{"path": …, "sha256": …, "size": …}`, built directly because it cannot fail:
/// the names are already in JCS order and the strings use the JCS escaper. A size above 2^53
/// (8 PiB) has no I-JSON form, so a manifest holding one is refused when it is canonicalized for
/// signing; here its exact digits are written, which keeps distinct sizes distinct.
fn manifest_leaf_data(path: &str, sha256_hex: &str, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + path.len() + sha256_hex.len());
    out.extend_from_slice(b"{\"path\":");
    jcs::write_string(&mut out, path);
    out.extend_from_slice(b",\"sha256\":");
    jcs::write_string(&mut out, sha256_hex);
    out.extend_from_slice(b",\"size\":");
    out.extend_from_slice(size.to_string().as_bytes());
    out.push(b'}');
    out
}

/// Largest power of two strictly below `n` (RFC 6962's split point); `n` must be at least 2.
fn split_point(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Audit path for leaf `index` (RFC 6962 §2.1.1), ordered from the leaf's sibling upwards;
/// `None` when `index` is not in the tree.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    // Walk down from the root, taking the subtree holding the leaf and recording the other
    // one; each level hashes disjoint leaves, so the whole proof costs O(n).
    let (mut low, mut high) = (0, leaves.len());
    let mut siblings = Vec::new();
    while high - low > 1 {
        let middle = low + split_point(high - low);
        if index < middle {
            siblings.push(root(&leaves[middle..high]));
            high = middle;
        } else {
            siblings.push(root(&leaves[low..middle]));
            low = middle;
        }
    }
    siblings.reverse();
    Some(siblings)
}

/// Checks an audit path (RFC 9162 §2.1.3.2): `leaf` is leaf `index` of the tree of
/// `tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= tree_size {
        return false;
    }
    let (mut node, mut last) = (index, tree_size - 1);
    let mut hash = *leaf;
    for sibling in proof {
        if last == 0 {
            return false;
        }
        if node & 1 == 1 || node == last {
            hash = node_hash(sibling, &hash);
            // A right-edge node with no sibling at these levels is promoted unchanged.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        node >>= 1;
        last >>= 1;
    }
    last == 0 && ct_eq(&hash, root)
}

/// Consistency proof that the first `old_size` leaves form a prefix of the tree
/// (RFC 6962 §2.1.2); `None` when `old_size` exceeds the tree. The proof between a tree and
/// itself, or from the empty tree, is empty.
pub fn consistency_proof(leaves: &[Hash], old_size: usize) -> Option<Vec<Hash>> {
    if old_size > leaves.len() {
        return None;
    }
    if old_size == 0 || old_size == leaves.len() {
        return Some(Vec::new());
    }
    // SUBPROOF(m, D[low..high], whole) unrolled: descend towards the old tree's right edge,
    // recording the subtree not taken at each level.
    let (mut low, mut high, mut m) = (0, leaves.len(), old_size);
    let mut whole = true;
    let mut nodes = Vec::new();
    while m != high - low {
        let k = split_point(high - low);
        if m <= k {
            nodes.push(root(&leaves[low + k..high]));
            high = low + k;
        } else {
            nodes.push(root(&leaves[low..low + k]));
            low += k;
            m -= k;
            whole = false;
        }
    }
    // When the old tree is a complete subtree on the left edge the verifier already has its
    // hash (the old root), so RFC 6962 leaves it out.
    if !whole {
        nodes.push(root(&leaves[low..high]));
    }
    nodes.reverse();
    Some(nodes)
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2): the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && ct_eq(old_root, new_root);
    }
    if old_size == 0 {
        // Every tree extends the empty one, but only if the claimed old root is the empty root.
        return proof.is_empty() && ct_eq(old_root, &empty_root());
    }
    if proof.is_empty() {
        return false;
    }
    // A complete old tree is itself the first node of the path; the proof omits it.
    let prefix = old_size.is_power_of_two().then_some(old_root);
    let mut path = prefix.into_iter().chain(proof);
    let (mut node, mut last) = (old_size - 1, new_size - 1);
    while node & 1 == 1 {
        node >>= 1;
        last >>= 1;
    }
    let Some(first) = path.next() else {
        return false;
    };
    let (mut old_hash, mut new_hash) = (*first, *first);
    for hash in path {
        if last == 0 {
            return false;
        }
        if node & 1 == 1 || node == last {
            old_hash = node_hash(hash, &old_hash);
            new_hash = node_hash(hash, &new_hash);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last >>= 1;
            }
        } else {
            new_hash = node_hash(&new_hash, hash);
        }
        node >>= 1;
        last >>= 1;
    }
    // Non-short-circuiting `&` keeps both comparisons running whatever the first says.
    (last == 0) & ct_eq(&old_hash, old_root) & ct_eq(&new_hash, new_root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(hex_digest: &str) -> Hash {
        crate::digest::parse_hex32(hex_digest).unwrap()
    }

    fn hashes(hex_digests: &[&str]) -> Vec<Hash> {
        hex_digests.iter().map(|d| h(d)).collect()
    }

    // Test data of transparency-dev/merkle (formerly google/trillian `merkle/rfc6962`):
    // `testonly/constants.go` (LeafInputs, NodeHashes, RootHashes) and `proof/verify_test.go`
    // (inclusionProofs, consistencyProofs), which carry the certificate-transparency
    // `merkle_tree_test.cc` vectors.

    const LEAF_INPUTS: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// NodeHashes()[level][index]: the complete subtrees of the 8-leaf tree.
    const NODE_HASHES: [&[&str]; 4] = [
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        &[
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        &[
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ];

    /// RootHashes(): roots of the first 0..=8 leaves.
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// verify_test.go `sha256SomeHash`: a hash that is nowhere in the tree.
    const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

    /// (leaf index (0-based), tree size, audit path) from verify_test.go `inclusionProofs`,
    /// which numbers leaves from 1.
    fn inclusion_vectors() -> Vec<(usize, usize, Vec<Hash>)> {
        vec![
            (0, 1, vec![]),
            (
                0,
                8,
                hashes(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                5,
                8,
                hashes(&[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                3,
                hashes(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            ),
            (
                1,
                5,
                hashes(&[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
        ]
    }

    /// (old size, new size, proof) from verify_test.go `consistencyProofs`.
    fn consistency_vectors() -> Vec<(usize, usize, Vec<Hash>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                hashes(&[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ]),
            ),
            (
                6,
                8,
                hashes(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
            (
                2,
                5,
                hashes(&[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ]),
            ),
            (
                6,
                7,
                hashes(&[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ]),
            ),
        ]
    }

    fn vector_leaves() -> Vec<Hash> {
        LEAF_INPUTS
            .iter()
            .map(|input| leaf_hash(&hex::decode(input).unwrap()))
            .collect()
    }

    fn vector_root(size: usize) -> Hash {
        h(ROOTS[size])
    }

    /// Complete subtree `index` at `level` of the 8-leaf vector tree.
    fn nh(level: usize, index: usize) -> Hash {
        h(NODE_HASHES[level][index])
    }

    /// RFC 6962 §2.1 MTH written as the RFC defines it, to check the iterative [`root`].
    fn reference_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n);
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn leaf_and_node_hashes_match_vectors() {
        let leaves = vector_leaves();
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(*leaf, nh(0, i), "leaf {i}");
        }
        for (level, row) in NODE_HASHES.iter().enumerate().skip(1) {
            for (i, expected) in row.iter().enumerate() {
                let got = node_hash(&nh(level - 1, 2 * i), &nh(level - 1, 2 * i + 1));
                assert_eq!(got, h(expected), "level {level} node {i}");
            }
        }
    }

    #[test]
    fn roots_of_every_prefix_match_vectors() {
        let leaves = vector_leaves();
        assert_eq!(empty_root(), vector_root(0));
        for size in 0..=8 {
            assert_eq!(root(&leaves[..size]), vector_root(size), "size {size}");
        }
    }

    #[test]
    fn inclusion_proofs_match_vectors() {
        let leaves = vector_leaves();
        for (index, size, expected) in inclusion_vectors() {
            let proof = inclusion_proof(&leaves[..size], index).unwrap();
            assert_eq!(proof, expected, "index {index} size {size}");
            assert!(verify_inclusion(
                &leaves[index],
                index as u64,
                size as u64,
                &proof,
                &vector_root(size)
            ));
        }
    }

    #[test]
    fn consistency_proofs_match_vectors() {
        let leaves = vector_leaves();
        for (old, new, expected) in consistency_vectors() {
            let proof = consistency_proof(&leaves[..new], old).unwrap();
            assert_eq!(proof, expected, "{old} -> {new}");
            assert!(verify_consistency(
                old as u64,
                new as u64,
                &vector_root(old),
                &vector_root(new),
                &proof
            ));
        }
    }

    /// Proof shapes from transparency-dev/merkle `proof/proof_test.go` (TestInclusion and
    /// TestConsistency), restricted to trees of at most 8 leaves and resolved to hashes with
    /// NodeHashes. Its "rehash" entries stand for the single node hash(i, j) = l of the
    /// 7-leaf tree, whose right subtree is incomplete.
    #[test]
    fn proof_shapes_match_reference_implementation() {
        let leaves = vector_leaves();
        let l7 = node_hash(&nh(1, 2), &nh(0, 6));
        let inclusion: Vec<(usize, usize, Vec<Hash>)> = vec![
            (1, 0, vec![]),
            (2, 0, vec![nh(0, 1)]),
            (2, 1, vec![nh(0, 0)]),
            (3, 1, vec![nh(0, 0), nh(0, 2)]),
            (7, 0, vec![nh(0, 1), nh(1, 1), l7]),
            (7, 1, vec![nh(0, 0), nh(1, 1), l7]),
            (7, 2, vec![nh(0, 3), nh(1, 0), l7]),
            (7, 3, vec![nh(0, 2), nh(1, 0), l7]),
            (7, 4, vec![nh(0, 5), nh(0, 6), nh(2, 0)]),
            (7, 5, vec![nh(0, 4), nh(0, 6), nh(2, 0)]),
            (7, 6, vec![nh(1, 2), nh(2, 0)]),
            (4, 2, vec![nh(0, 3), nh(1, 0)]),
            (5, 3, vec![nh(0, 2), nh(1, 0), nh(0, 4)]),
            (6, 3, vec![nh(0, 2), nh(1, 0), nh(1, 2)]),
            (6, 4, vec![nh(0, 5), nh(2, 0)]),
        ];
        for (size, index, expected) in inclusion {
            assert_eq!(
                inclusion_proof(&leaves[..size], index).unwrap(),
                expected,
                "inclusion of {index} in {size}"
            );
        }
        let consistency: Vec<(usize, usize, Vec<Hash>)> = vec![
            (1, 2, vec![nh(0, 1)]),
            (1, 4, vec![nh(0, 1), nh(1, 1)]),
            (1, 6, vec![nh(0, 1), nh(1, 1), nh(1, 2)]),
            (2, 3, vec![nh(0, 2)]),
            (2, 8, vec![nh(1, 1), nh(2, 1)]),
            (3, 7, vec![nh(0, 2), nh(0, 3), nh(1, 0), l7]),
            (4, 7, vec![l7]),
            (5, 7, vec![nh(0, 4), nh(0, 5), nh(0, 6), nh(2, 0)]),
            (6, 7, vec![nh(1, 2), nh(0, 6), nh(2, 0)]),
            (7, 8, vec![nh(0, 6), nh(0, 7), nh(1, 2), nh(2, 0)]),
            (2, 4, vec![nh(1, 1)]),
            (3, 5, vec![nh(0, 2), nh(0, 3), nh(1, 0), nh(0, 4)]),
            (3, 6, vec![nh(0, 2), nh(0, 3), nh(1, 0), nh(1, 2)]),
            (4, 6, vec![nh(1, 2)]),
            (1, 7, vec![nh(0, 1), nh(1, 1), l7]),
        ];
        for (old, new, expected) in consistency {
            assert_eq!(
                consistency_proof(&leaves[..new], old).unwrap(),
                expected,
                "{old} -> {new}"
            );
        }
        for size in 1..=8 {
            assert_eq!(
                consistency_proof(&leaves[..size], size).unwrap(),
                Vec::<Hash>::new()
            );
        }
    }

    #[test]
    fn out_of_range_requests_have_no_proof() {
        let leaves = vector_leaves();
        assert_eq!(inclusion_proof(&[], 0), None);
        assert_eq!(inclusion_proof(&leaves[..1], 2), None);
        assert_eq!(inclusion_proof(&leaves[..7], 7), None);
        assert_eq!(consistency_proof(&leaves[..8], 9), None);
        assert_eq!(consistency_proof(&[], 5), None);
        assert_eq!(consistency_proof(&leaves[..5], 0), Some(vec![]));
    }

    /// Every way of corrupting a valid inclusion proof that verify_test.go
    /// `corruptInclusionProof` tries, minus those our fixed-size hashes cannot express.
    fn corrupted_inclusions(
        index: u64,
        size: u64,
        proof: &[Hash],
        root: &Hash,
        leaf: &Hash,
    ) -> Vec<(u64, u64, Vec<Hash>, Hash, Hash, String)> {
        let some = h(SOME_HASH);
        let mut probes = vec![
            (
                index.wrapping_sub(1),
                size,
                proof.to_vec(),
                *root,
                *leaf,
                "index - 1".into(),
            ),
            (
                index + 1,
                size,
                proof.to_vec(),
                *root,
                *leaf,
                "index + 1".into(),
            ),
            (
                index ^ 2,
                size,
                proof.to_vec(),
                *root,
                *leaf,
                "index ^ 2".into(),
            ),
            (
                index,
                size * 2,
                proof.to_vec(),
                *root,
                *leaf,
                "size * 2".into(),
            ),
            (
                index,
                size / 2,
                proof.to_vec(),
                *root,
                *leaf,
                "size / 2".into(),
            ),
            (
                index,
                size,
                proof.to_vec(),
                *root,
                leaf_hash(b"WrongLeaf"),
                "wrong leaf".into(),
            ),
            (
                index,
                size,
                proof.to_vec(),
                empty_root(),
                *leaf,
                "empty root".into(),
            ),
            (
                index,
                size,
                proof.to_vec(),
                some,
                *leaf,
                "random root".into(),
            ),
            (
                index,
                size,
                [proof, &[*root]].concat(),
                *root,
                *leaf,
                "trailing root".into(),
            ),
            (
                index,
                size,
                [&[*root], proof].concat(),
                *root,
                *leaf,
                "preceding root".into(),
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.to_vec();
            wrong[i][0] ^= 8;
            probes.push((
                index,
                size,
                wrong,
                *root,
                *leaf,
                format!("flipped proof[{i}]"),
            ));
        }
        if let Some((_, head)) = proof.split_last() {
            probes.push((index, size, head.to_vec(), *root, *leaf, "truncated".into()));
        }
        if proof.len() > 1 {
            let inserted = [&[proof[0], some], &proof[1..]].concat();
            probes.push((
                index,
                size,
                inserted,
                *root,
                *leaf,
                "inserted component".into(),
            ));
        }
        probes
    }

    #[test]
    fn corrupted_inclusion_proofs_fail() {
        let leaves = vector_leaves();
        for (index, size, proof) in inclusion_vectors() {
            let root = vector_root(size);
            for (i, s, p, r, l, what) in
                corrupted_inclusions(index as u64, size as u64, &proof, &root, &leaves[index])
            {
                assert!(
                    !verify_inclusion(&l, i, s, &p, &r),
                    "{what}: index {index} size {size}"
                );
            }
        }
    }

    #[test]
    fn inclusion_edge_cases() {
        let leaf = leaf_hash(b"data");
        // A one-leaf tree's root is the leaf and its proof is empty.
        assert!(verify_inclusion(&leaf, 0, 1, &[], &leaf));
        assert!(!verify_inclusion(&leaf, 0, 1, &[], &empty_root()));
        let some = h(SOME_HASH);
        for (index, size) in [(0, 0), (1, 0), (2, 1)] {
            assert!(!verify_inclusion(&some, index, size, &[], &empty_root()));
            assert!(!verify_inclusion(&some, index, size, &[], &some));
        }
        // Huge sizes must not overflow anything.
        assert!(!verify_inclusion(
            &leaf,
            u64::MAX - 1,
            u64::MAX,
            &[some; 64],
            &some
        ));
    }

    /// Corruptions from verify_test.go `corruptConsistencyProof`.
    #[test]
    fn corrupted_consistency_proofs_fail() {
        let some = h(SOME_HASH);
        for (old, new, proof) in consistency_vectors() {
            if proof.is_empty() {
                continue;
            }
            let (old, new) = (old as u64, new as u64);
            let (r1, r2) = (vector_root(old as usize), vector_root(new as usize));
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
                (old - 1, new, r1, r2, proof.clone(), "old - 1".into()),
                (old + 1, new, r1, r2, proof.clone(), "old + 1".into()),
                (old ^ 2, new, r1, r2, proof.clone(), "old ^ 2".into()),
                (old, new * 2, r1, r2, proof.clone(), "new * 2".into()),
                (old, new / 2, r1, r2, proof.clone(), "new / 2".into()),
                (old, new, some, r2, proof.clone(), "wrong old root".into()),
                (old, new, r1, some, proof.clone(), "wrong new root".into()),
                (old, new, r2, r1, proof.clone(), "swapped roots".into()),
                (old, new, r1, r2, vec![], "empty proof".into()),
                (
                    old,
                    new,
                    r1,
                    r2,
                    [&proof[..], &[r1]].concat(),
                    "trailing old root".into(),
                ),
                (
                    old,
                    new,
                    r1,
                    r2,
                    [&proof[..], &[r2]].concat(),
                    "trailing new root".into(),
                ),
                (
                    old,
                    new,
                    r1,
                    r2,
                    [&[r1], &proof[..]].concat(),
                    "preceding old root".into(),
                ),
                (
                    old,
                    new,
                    r1,
                    r2,
                    [&[r2], &proof[..]].concat(),
                    "preceding new root".into(),
                ),
                (
                    old,
                    new,
                    r1,
                    r2,
                    [&proof[..1], &proof[..]].concat(),
                    "repeated proof[0]".into(),
                ),
                (
                    old,
                    new,
                    r1,
                    r2,
                    proof[..proof.len() - 1].to_vec(),
                    "truncated".into(),
                ),
            ];
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i][0] ^= 16;
                probes.push((old, new, r1, r2, wrong, format!("flipped proof[{i}]")));
            }
            for (o, n, a, b, p, what) in probes {
                assert!(
                    !verify_consistency(o, n, &a, &b, &p),
                    "{what}: {old} -> {new}"
                );
            }
        }
    }

    /// TestVerifyConsistency's fixed cases from verify_test.go.
    #[test]
    fn consistency_edge_cases() {
        let root1 = leaf_hash(b"don't care 1");
        let root2 = leaf_hash(b"don't care 2");
        let empty = empty_root();
        let cases: [(u64, u64, Hash, Hash, Vec<Hash>, bool); 12] = [
            (0, 0, root1, root2, vec![], false),
            (1, 1, root1, root2, vec![], false),
            (0, 0, root1, root1, vec![], true),
            (1, 1, root2, root2, vec![], true),
            (1, 0, root1, root2, vec![], false),
            (2, 1, root1, root2, vec![], false),
            (1, 2, root1, root2, vec![], false),
            (0, 0, empty, root2, vec![], false),
            (1, 1, empty, root2, vec![], false),
            (0, 0, empty, empty, vec![empty], false),
            (0, 1, empty, empty, vec![empty], false),
            (1, 1, empty, empty, vec![empty], false),
        ];
        for (old, new, r1, r2, proof, ok) in cases {
            assert_eq!(
                verify_consistency(old, new, &r1, &r2, &proof),
                ok,
                "{old} -> {new}"
            );
        }
        // From the empty tree: any new tree, but the old root must be the empty root (the Go
        // library accepts any old root here; the empty tree has only one).
        assert!(verify_consistency(0, 1, &empty, &root2, &[]));
        assert!(!verify_consistency(0, 1, &root1, &root2, &[]));
        assert!(!verify_consistency(
            1,
            u64::MAX,
            &root1,
            &root2,
            &[root1; 64]
        ));
    }

    #[test]
    fn large_tree_matches_reference_and_proves() {
        // Well past the 20,000-file bundles the tools handle, and not a power of two.
        let leaves: Vec<Hash> = (0u32..70_001)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        let expected = reference_root(&leaves);
        assert_eq!(root(&leaves), expected);
        for index in [0, 1, 12_345, 65_535, 65_536, 70_000] {
            let proof = inclusion_proof(&leaves, index).unwrap();
            assert!(proof.len() <= 17);
            assert!(verify_inclusion(
                &leaves[index],
                index as u64,
                70_001,
                &proof,
                &expected
            ));
        }
        for old in [1, 20_000, 65_536, 70_000] {
            let proof = consistency_proof(&leaves, old).unwrap();
            let old_root = root(&leaves[..old]);
            assert!(verify_consistency(
                old as u64, 70_001, &old_root, &expected, &proof
            ));
        }
    }

    #[test]
    fn manifest_leaf_is_leaf_hash_of_jcs_entry() {
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(
            manifest_leaf("charts/a.yaml", sha, 3),
            leaf_hash(
                format!(r#"{{"path":"charts/a.yaml","sha256":"{sha}","size":3}}"#).as_bytes()
            )
        );
        for (path, size) in [
            ("a", 0u64),
            ("dir/\u{e9}t\u{e9} \"quoted\"\\\n\u{1f600}.txt", 1 << 53),
            ("x", 1_000_000_000_000_000_000),
            ("", 42),
        ] {
            let entry = serde_json::json!({"size": size, "sha256": sha, "path": path});
            assert_eq!(
                manifest_leaf_data(path, sha, size),
                jcs::to_canonical_vec(&entry).unwrap(),
                "{path:?}"
            );
            assert_eq!(
                manifest_leaf(path, sha, size),
                leaf_hash(&jcs::to_canonical_vec(&entry).unwrap())
            );
        }
        assert_ne!(manifest_leaf("a", sha, 1), manifest_leaf("a", sha, 2));
        assert_ne!(manifest_leaf("a", sha, 1), manifest_leaf("b", sha, 1));
    }

    fn tree(size: usize, seed: u64) -> Vec<Hash> {
        (0..size)
            .map(|i| leaf_hash(&[seed.to_le_bytes(), (i as u64).to_le_bytes()].concat()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn every_inclusion_proof_verifies_and_tampering_fails(
            size in 1usize..300,
            seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            byte in 0usize..32,
        ) {
            let leaves = tree(size, seed);
            let tree_root = root(&leaves);
            prop_assert_eq!(tree_root, reference_root(&leaves));
            for (index, leaf) in leaves.iter().enumerate() {
                let proof = inclusion_proof(&leaves, index).unwrap();
                prop_assert!(verify_inclusion(leaf, index as u64, size as u64, &proof, &tree_root));
                prop_assert!(!verify_inclusion(leaf, index as u64 + 1, size as u64, &proof, &tree_root));
                let mut tampered = proof.clone();
                if tampered.is_empty() {
                    // The one-leaf tree has nothing to tamper with but the leaf.
                    let mut other = *leaf;
                    other[byte] ^= 1;
                    prop_assert!(!verify_inclusion(&other, 0, 1, &proof, &tree_root));
                } else {
                    tampered[pick.index(proof.len())][byte] ^= 1;
                    prop_assert!(!verify_inclusion(leaf, index as u64, size as u64, &tampered, &tree_root));
                    prop_assert!(!verify_inclusion(leaf, index as u64, size as u64, &proof[1..], &tree_root));
                }
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_tampering_fails(
            size in 1usize..300,
            seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
            byte in 0usize..32,
        ) {
            let leaves = tree(size, seed);
            let new_root = root(&leaves);
            for old in 0..=size {
                let old_root = root(&leaves[..old]);
                let proof = consistency_proof(&leaves, old).unwrap();
                prop_assert!(verify_consistency(old as u64, size as u64, &old_root, &new_root, &proof));
                if !proof.is_empty() {
                    let mut tampered = proof.clone();
                    tampered[pick.index(proof.len())][byte] ^= 1;
                    prop_assert!(!verify_consistency(old as u64, size as u64, &old_root, &new_root, &tampered));
                    prop_assert!(!verify_consistency(old as u64, size as u64, &old_root, &new_root, &proof[..proof.len() - 1]));
                }
                if old > 0 && old < size {
                    // A tree that is not a prefix: same size, different last old leaf.
                    let mut forked = leaves.clone();
                    forked[old - 1][byte] ^= 1;
                    prop_assert!(!verify_consistency(old as u64, size as u64, &root(&forked[..old]), &new_root, &proof));
                }
            }
        }
    }
}
