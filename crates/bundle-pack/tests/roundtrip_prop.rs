//! Property: any small tree packs into a bundle that an independent reader (flate2's
//! multi-member decoder and the `tar` crate) reads back as `manifest.json` then every file
//! sorted by path bytes, with the same bytes and modes, and a manifest that describes them
//! and survives a JCS round-trip.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use offline_formats::manifest::BundleManifest;
use offline_formats::schema::Document;
use offline_formats::{digest, jcs, merkle};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// One generated file: folders, name, size, whether its bytes compress, exec bit.
#[derive(Debug, Clone)]
struct Spec {
    folders: Vec<String>,
    name: String,
    size: usize,
    text: bool,
    exec: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec("[a-z0-9][a-zA-Z0-9_.-]{0,7}", 0..4),
        "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,11}",
        0usize..=70 * 1024,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(folders, name, size, text, exec)| Spec {
            folders,
            name,
            size,
            text,
            exec,
        })
}

/// Turns specs into a tree without duplicate paths or file/folder clashes (later specs
/// that would clash are dropped; the first always stays).
fn tree(specs: &[Spec]) -> Vec<InputFile> {
    let mut kept: BTreeMap<String, InputFile> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        let mut parts = s.folders.clone();
        parts.push(s.name.clone());
        let path = parts.join("/");
        if path == "manifest.json" {
            continue;
        }
        let clashes = kept.keys().any(|k| {
            k == &path || k.starts_with(&format!("{path}/")) || path.starts_with(&format!("{k}/"))
        });
        if clashes {
            continue;
        }
        let bytes = if s.text {
            yaml_text(s.size)
        } else {
            noise(s.size, i as u64 + 1)
        };
        kept.insert(path.clone(), InputFile::new(path, bytes, s.exec));
    }
    kept.into_values().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip(
        specs in prop::collection::vec(spec(), 1..=20),
        jobs in 1u32..=3,
        level in prop::sample::select(vec!["auto", "0", "1", "6", "9"]),
    ) {
        let files = tree(&specs);
        prop_assert!(!files.is_empty());
        let tmp = temp_dir();
        let input = mkdir(&tmp.path().join("in"));
        write_tree(&input, &files);
        let archive = tmp.path().join("b.tar.gz");
        let r = run(bundle_pack()
            .arg("--input")
            .arg(&input)
            .args(["--bundle-id", "prop", "-q", "--jobs", &jobs.to_string(), "--level", level])
            .arg("-o")
            .arg(&archive)
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
        .ok();
        let manifest = r.manifest();

        // The archive, read by independent code.
        let entries = read_archive(&archive);
        let names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        let mut expected = vec!["manifest.json".to_owned()];
        expected.extend(sorted_paths(&files));
        prop_assert_eq!(names, expected);
        let by_path: BTreeMap<&str, &InputFile> =
            files.iter().map(|f| (f.path.as_str(), f)).collect();
        for e in &entries[1..] {
            let f = by_path[e.path.as_str()];
            prop_assert!(e.data == f.bytes, "`{}`: other bytes", e.path);
            prop_assert_eq!(e.mode, if f.exec { 0o755 } else { 0o644 });
            prop_assert_eq!((e.uid, e.gid, e.mtime, e.kind), (0, 0, EPOCH, b'0'));
        }

        // The embedded manifest is the stdout one without `archive`, and describes the files.
        let embedded = BundleManifest::from_json_slice(&entries[0].data).unwrap();
        prop_assert_eq!(&embedded, &manifest.without_archive());
        prop_assert_eq!(manifest.files.len(), files.len());
        for (entry, tar_entry) in manifest.files.iter().zip(&entries[1..]) {
            prop_assert_eq!(&entry.path, &tar_entry.path);
            prop_assert_eq!(&entry.sha256, &sha256_hex(&tar_entry.data));
            prop_assert_eq!(&entry.blake3, &blake3_hex(&tar_entry.data));
            prop_assert_eq!(entry.size, tar_entry.data.len() as u64);
        }
        let leaves: Vec<merkle::Hash> = manifest
            .files
            .iter()
            .map(|f| merkle::manifest_leaf(&f.path, &f.sha256, f.size))
            .collect();
        prop_assert_eq!(&manifest.merkle_root, &digest::sha256_prefixed(&merkle::root(&leaves)));
        // Every file has an inclusion proof against the published root; a leaf of another
        // file at the same index does not verify.
        let root = digest::parse_sha256_prefixed(&manifest.merkle_root).unwrap();
        let size = leaves.len() as u64;
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = merkle::inclusion_proof(&leaves, i).unwrap();
            prop_assert!(merkle::verify_inclusion(leaf, i as u64, size, &proof, &root));
            let other = merkle::manifest_leaf("not/in/the/bundle", &manifest.files[i].sha256, 1);
            prop_assert!(!merkle::verify_inclusion(&other, i as u64, size, &proof, &root));
        }

        // JCS round-trip: canonical bytes parse back to the same manifest, and are a fixed
        // point of canonicalisation.
        for m in [&manifest, &embedded] {
            let canonical = jcs::to_canonical_vec(m).unwrap();
            let back = BundleManifest::from_json_slice(&canonical).unwrap();
            prop_assert_eq!(&back, m);
            prop_assert_eq!(jcs::to_canonical_vec(&back).unwrap(), canonical);
        }
    }
}

/// Files that end exactly at, just before and just after the 1 MiB slice boundaries
/// between gzip members, empty files between them, and sizes around the 512-byte tar
/// block: every byte and digest lands on the right file, for any thread count.
#[test]
fn files_across_gzip_member_boundaries_round_trip() {
    const MIB: usize = 1 << 20;
    let files = vec![
        // The tar stream after the manifest member starts with this file's header, so its
        // content ends exactly at the first slice boundary.
        InputFile::new("a1", noise(MIB - 512, 1), false),
        InputFile::new("a2-empty", Vec::new(), false),
        InputFile::new("a3", yaml_text(MIB), true),
        InputFile::new("a4", noise(MIB + 1, 4), false),
        InputFile::new("a5-empty", Vec::new(), true),
        InputFile::new("a6", noise(511, 6), false),
        InputFile::new("a7", noise(512, 7), false),
        InputFile::new("a8", noise(513, 8), false),
        InputFile::new("a9", noise(MIB - 1536, 9), false),
    ];
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_tree(&input, &files);
    let mut archives = Vec::new();
    for jobs in ["1", "3"] {
        let archive = tmp.path().join(format!("j{jobs}.tar.gz"));
        let r = run(bundle_pack()
            .arg("--input")
            .arg(&input)
            .args(["--bundle-id", "edges", "-q", "--jobs", jobs, "-o"])
            .arg(&archive)
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
        .ok();
        let manifest = r.manifest();
        let entries = read_archive(&archive);
        assert_eq!(entries.len(), files.len() + 1);
        for ((f, e), m) in files.iter().zip(&entries[1..]).zip(&manifest.files) {
            assert_eq!(e.path, f.path);
            assert!(
                e.data == f.bytes,
                "`{}`: other bytes in the archive",
                f.path
            );
            assert_eq!(m.sha256, sha256_hex(&f.bytes), "`{}`: sha256", f.path);
            assert_eq!(m.blake3, blake3_hex(&f.bytes), "`{}`: blake3", f.path);
            assert_eq!(m.size, f.bytes.len() as u64);
        }
        archives.push(std::fs::read(&archive).unwrap());
    }
    assert!(archives[0] == archives[1], "--jobs 1 and --jobs 3 differ");
    assert!(gzip_members(&archives[0]) >= 5);
}
