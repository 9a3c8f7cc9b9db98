//! The hostile-archive corpus (issue 4 §2): archives written byte by byte — what the `tar`
//! crate refuses to write — each of which must be an `unsafe-entry` failure naming the entry,
//! exit 1, with the manifest's own checks all passing so that nothing else explains the
//! verdict. Then tar hygiene, and random damage that must never pass or panic.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use checksum_verify::archive::{verify_archive, ArchiveOptions};
use checksum_verify::hashing::Algos;
use checksum_verify::report::Findings;
use checksum_verify::sink::Discard;
use offline_formats::verify_report::FailureKind;
use proptest::prelude::*;
use support::*;

/// Writes `entries` (after the good embedded manifest and files), verifies, and returns the
/// run; the manifest lists only the good files.
fn hostile(extra: Vec<RawEntry>) -> Run {
    let (mut entries, manifest) = good_files();
    entries.extend(extra);
    let archive = gzip(&tar_bytes(&entries, true));
    RawBundle::new(&manifest, &archive).verify(&[])
}

/// Panics unless the run exits 1 with an `unsafe-entry` failure at `path` whose reason
/// contains `why`.
fn assert_unsafe(run: &Run, path: &str, why: &str) {
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let failure = run.has(FailureKind::UnsafeEntry, path);
    let actual = failure.actual.unwrap_or_default();
    assert!(
        actual.contains(why),
        "reason {actual:?} lacks {why:?}\n{}",
        run.describe()
    );
    assert!(!run.report().ok);
}

#[test]
fn the_good_raw_bundle_passes() {
    let (entries, manifest) = good_files();
    let archive = gzip(&tar_bytes(&entries, true));
    let run = RawBundle::new(&manifest, &archive).verify(&[]).ok();
    assert_eq!(run.report().counts.files, 2);
}

#[test]
fn dot_dot_and_absolute_paths() {
    assert_unsafe(
        &hostile(vec![RawEntry::file("../evil.sh", b"x")]),
        "../evil.sh",
        "escapes",
    );
    assert_unsafe(
        &hostile(vec![RawEntry::file("dir/../../evil", b"x")]),
        "dir/../../evil",
        "escapes",
    );
    assert_unsafe(
        &hostile(vec![RawEntry::file("/etc/cron.d/evil", b"x")]),
        "/etc/cron.d/evil",
        "absolute",
    );
}

#[test]
fn pax_path_records_that_smuggle_dot_dot_or_absolute_paths() {
    let mut dotdot = RawEntry::file("innocent.txt", b"x");
    dotdot.pax = vec![("path".into(), b"../../etc/cron.d/evil".to_vec())];
    assert_unsafe(
        &hostile(vec![dotdot]),
        "../../etc/cron.d/evil",
        "from a PAX `path` record",
    );
    let mut absolute = RawEntry::file("innocent.txt", b"x");
    absolute.pax = vec![("path".into(), b"/root/.ssh/authorized_keys".to_vec())];
    assert_unsafe(
        &hostile(vec![absolute]),
        "/root/.ssh/authorized_keys",
        "absolute",
    );
}

#[test]
fn gnu_long_names_that_smuggle_dot_dot_or_absolute_paths() {
    let long = format!("{}/../../../evil", "d".repeat(120));
    let mut dotdot = RawEntry::file("innocent.txt", b"x");
    dotdot.gnu_long_name = Some(long.clone().into_bytes());
    assert_unsafe(&hostile(vec![dotdot]), &long, "from a GNU long-name record");
    let mut absolute = RawEntry::file("innocent.txt", b"x");
    absolute.gnu_long_name = Some(b"/etc/passwd".to_vec());
    assert_unsafe(&hostile(vec![absolute]), "/etc/passwd", "absolute");
}

#[test]
fn links_devices_fifos_and_sockets() {
    let cases = [
        (
            RawEntry::special("link", b'2', "/etc"),
            "symbolic link to `/etc`",
        ),
        (
            RawEntry::special("hard", b'1', "a.txt"),
            "hard link to `a.txt`",
        ),
        (RawEntry::special("tty", b'3', ""), "character device"),
        (RawEntry::special("disk", b'4', ""), "block device"),
        (RawEntry::special("pipe", b'6', ""), "FIFO"),
        (
            RawEntry {
                mode: 0o140_644,
                ..RawEntry::file("sock", b"")
            },
            "socket",
        ),
        (
            RawEntry::special("label", b'V', ""),
            "unsupported entry type `V`",
        ),
        (RawEntry::special("sparse", b'S', ""), "GNU sparse"),
    ];
    for (entry, why) in cases {
        let name = String::from_utf8(entry.name.clone()).unwrap();
        assert_unsafe(&hostile(vec![entry]), &name, why);
    }
}

#[test]
fn a_listed_file_behind_a_symlinked_folder_is_unsafe_and_not_verified() {
    // `dir` a link, then `dir/b.txt`: an extractor would write through the link.
    let (entries, manifest) = good_files();
    let mut reordered = vec![entries[0].clone(), entries[1].clone()];
    reordered.push(RawEntry::special("dir", b'2', "/tmp"));
    reordered.push(entries[2].clone());
    let archive = gzip(&tar_bytes(&reordered, true));
    let run = RawBundle::new(&manifest, &archive).verify(&[]);
    assert_unsafe(&run, "dir", "symbolic link to `/tmp`");
}

#[test]
fn duplicate_entries() {
    let run = hostile(vec![RawEntry::file("a.txt", b"second copy")]);
    assert_unsafe(&run, "a.txt", "duplicate");
    // Only the duplicate is a failure: the first copy verified.
    assert_eq!(run.failures().len(), 1, "{}", run.describe());
}

#[test]
fn a_header_size_past_the_end_of_the_archive() {
    let (mut entries, manifest) = good_files();
    let mut liar = RawEntry::file("dir/b.txt", b"short");
    liar.size_field = Some(1 << 30);
    entries[2] = liar;
    // The gzip stream itself is complete: only the tar inside runs out.
    let archive = gzip(&tar_bytes(&entries, false));
    let run = RawBundle::new(&manifest, &archive).verify(&[]);
    assert_unsafe(&run, "dir/b.txt", "truncated archive");
}

#[test]
fn truncated_gzip_and_truncated_tar() {
    let (entries, manifest) = good_files();
    let whole = gzip(&tar_bytes(&entries, true));
    for cut in [whole.len() - 1, whole.len() - 9, whole.len() / 2, 12] {
        let run = RawBundle::new(&manifest, &whole[..cut]).verify(&[]);
        let failure = run
            .failures()
            .into_iter()
            .find(|f| f.kind == FailureKind::UnsafeEntry)
            .unwrap_or_else(|| panic!("cut {cut}: {}", run.describe()));
        assert!(
            failure.actual.unwrap_or_default().contains("truncated"),
            "cut {cut}: {}",
            run.describe()
        );
        assert_eq!(run.code, Some(1));
    }
    // A complete gzip of a tar with no end-of-archive marker.
    let no_end = gzip(&tar_bytes(&entries, false));
    let run = RawBundle::new(&manifest, &no_end).verify(&[]);
    assert_unsafe(&run, "raw.tar.gz", "no end-of-archive marker");
}

#[test]
fn garbage_after_the_last_gzip_member() {
    let (entries, manifest) = good_files();
    let mut archive = gzip(&tar_bytes(&entries, true));
    archive.extend_from_slice(b"#!/bin/sh\nrm -rf /\n");
    let run = RawBundle::new(&manifest, &archive).verify(&[]);
    assert_unsafe(&run, "raw.tar.gz", "garbage after the last gzip member");
}

#[test]
fn an_entry_hidden_after_the_end_of_archive_marker() {
    let (entries, manifest) = good_files();
    let mut tar = tar_bytes(&entries, true);
    tar.extend(tar_bytes(&[RawEntry::file("hidden.sh", b"evil")], true));
    let run = RawBundle::new(&manifest, &gzip(&tar)).verify(&[]);
    assert_unsafe(&run, "raw.tar.gz", "data after the end-of-archive marker");
}

#[test]
fn decompression_bombs() {
    // 64 MiB of zeros, not listed: past what the manifest accounts for.
    let bomb = RawEntry::file("zeros.img", &vec![0u8; 64 << 20]);
    let run = hostile(vec![bomb.clone()]);
    assert_unsafe(&run, "zeros.img", "decompression bomb");

    // With unlisted files allowed the manifest bound is off; the ratio still stops it.
    let (mut entries, manifest) = good_files();
    entries.push(bomb);
    let archive = gzip(&tar_bytes(&entries, true));
    let raw = RawBundle::new(&manifest, &archive);
    let run = raw.verify(&["--allow-unlisted", "--max-expand", "100"]);
    assert_unsafe(&run, "zeros.img", "more than --max-expand 100");
    // And an absolute --max-size.
    let run = raw.verify(&[
        "--allow-unlisted",
        "--max-expand",
        "100000",
        "--max-size",
        "8M",
    ]);
    assert_unsafe(&run, "zeros.img", "expands past 8388608 bytes");
}

#[test]
fn a_bad_header_checksum() {
    let (entries, manifest) = good_files();
    let mut tar = tar_bytes(&entries, true);
    // Change the first listed file's name in its header without fixing the checksum.
    let header = (0..tar.len())
        .step_by(512)
        .find(|&p| tar[p..].starts_with(b"a.txt\0"))
        .expect("a.txt header");
    tar[header] = b'A';
    let run = RawBundle::new(&manifest, &gzip(&tar)).verify(&[]);
    assert_unsafe(&run, "raw.tar.gz", "bad header checksum");
    run.has(FailureKind::Missing, "a.txt");
}

#[test]
fn oversized_extended_headers_and_refused_pax_keys() {
    let mut huge = RawEntry::file("x", b"");
    huge.pax = vec![("comment".into(), vec![b'a'; 2 << 20])];
    let run = hostile(vec![huge]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.failures()
            .iter()
            .any(|f| f.kind == FailureKind::UnsafeEntry
                && f.actual.as_deref().unwrap_or("").contains("oversized PAX")),
        "{}",
        run.describe()
    );

    let mut xattr = RawEntry::file("x.bin", b"x");
    xattr.pax = vec![(
        "SCHILY.xattr.security.capability".into(),
        b"\x01\x00\x00\x02".to_vec(),
    )];
    assert_unsafe(
        &hostile(vec![xattr]),
        "x.bin",
        "SCHILY.xattr.security.capability",
    );
}

#[test]
fn non_canonical_spellings_of_a_path() {
    assert_unsafe(
        &hostile(vec![RawEntry::file("./a.txt", b"x")]),
        "./a.txt",
        "`.`",
    );
    assert_unsafe(
        &hostile(vec![RawEntry::file("dir//b.txt", b"x")]),
        "dir//b.txt",
        "empty",
    );
    assert_unsafe(
        &hostile(vec![RawEntry::file("dir\\..\\x", b"x")]),
        "dir\\..\\x",
        "backslash",
    );
}

#[test]
fn not_gzip_at_all() {
    let (entries, manifest) = good_files();
    let plain_tar = tar_bytes(&entries, true);
    let run = RawBundle::new(&manifest, &plain_tar).verify(&[]);
    assert_unsafe(&run, "raw.tar.gz", "not a gzip stream");
}

// ---------------------------------------------------------------------------------------
// Tar hygiene: not dangerous, but not a bundle as bundle-pack writes one.

#[test]
fn owners_other_than_root_and_entries_out_of_order() {
    let (mut entries, manifest) = good_files();
    entries[1].uid = 1000;
    entries[1].gid = 100;
    entries.swap(1, 2);
    let archive = gzip(&tar_bytes(&entries, true));
    let run = RawBundle::new(&manifest, &archive).verify(&[]).code(1);
    let owner = run.has(FailureKind::Hygiene, "a.txt");
    assert_eq!(owner.actual.as_deref(), Some("owner 1000:100"));
    let order = run
        .failures()
        .into_iter()
        .find(|f| f.kind == FailureKind::Hygiene && f.expected.as_deref() == Some("manifest order"))
        .unwrap_or_else(|| panic!("{}", run.describe()));
    assert_eq!(order.path, "a.txt");
    assert_eq!(order.actual.as_deref(), Some("after `dir/b.txt`"));
    // Content still verified: only hygiene failed.
    assert!(run
        .failures()
        .iter()
        .all(|f| f.kind == FailureKind::Hygiene));
}

#[test]
fn the_embedded_manifest_must_come_first_and_agree() {
    let (entries, manifest) = good_files();
    let later = vec![entries[1].clone(), entries[0].clone(), entries[2].clone()];
    let run = RawBundle::new(&manifest, &gzip(&tar_bytes(&later, true)))
        .verify(&[])
        .code(1);
    assert!(run
        .failures()
        .iter()
        .any(|f| f.kind == FailureKind::Hygiene && f.path == "manifest.json"));

    let absent = vec![entries[1].clone(), entries[2].clone()];
    let run = RawBundle::new(&manifest, &gzip(&tar_bytes(&absent, true)))
        .verify(&[])
        .code(1);
    run.has(FailureKind::Missing, "manifest.json");

    let mut other = manifest.clone();
    other.mirror_generation = 99;
    let disagreeing = vec![
        embedded_entry(&other),
        entries[1].clone(),
        entries[2].clone(),
    ];
    let run = RawBundle::new(&manifest, &gzip(&tar_bytes(&disagreeing, true)))
        .verify(&[])
        .code(1);
    let failure = run.has(FailureKind::Mismatch, "manifest.json");
    assert!(failure.expected.unwrap().starts_with("sha256:"));
}

#[test]
fn modes_and_sizes_of_listed_entries() {
    let (mut entries, manifest) = good_files();
    entries[1].mode = 0o4755;
    let run = RawBundle::new(&manifest, &gzip(&tar_bytes(&entries, true)))
        .verify(&[])
        .code(1);
    let mode = run.has(FailureKind::Mode, "a.txt");
    assert_eq!(
        (mode.expected.as_deref(), mode.actual.as_deref()),
        (Some("0644"), Some("4755"))
    );
}

// ---------------------------------------------------------------------------------------
// Random damage: never a pass, never a panic.

fn good_archive() -> (Vec<u8>, offline_formats::manifest::BundleManifest) {
    let (entries, manifest) = good_files();
    let archive = gzip(&tar_bytes(&entries, true));
    let full = with_archive(&manifest, &archive);
    (archive, full)
}

/// Verifies in-process: `Some(ok)` for a verdict, `None` for an error (exit 2).
fn verdict_of(
    archive: &[u8],
    manifest: &offline_formats::manifest::BundleManifest,
) -> Option<bool> {
    let options = ArchiveOptions {
        algos: Algos::BOTH,
        allow_unlisted: false,
        max_expand: 1000.0,
        max_size: None,
    };
    let mut findings = Findings::new();
    verify_archive(
        archive,
        "fuzz.tar.gz",
        manifest,
        &options,
        &mut Discard,
        &mut findings,
    )
    .ok()
    .map(|()| findings.ok())
}

#[test]
fn the_undamaged_archive_passes_in_process() {
    let (archive, manifest) = good_archive();
    assert_eq!(verdict_of(&archive, &manifest), Some(true));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn flipped_bytes_never_pass_or_panic(flips in proptest::collection::vec((any::<usize>(), 1u8..), 1..4)) {
        let (mut archive, manifest) = good_archive();
        for (at, xor) in flips {
            let n = archive.len();
            archive[at % n] ^= xor;
        }
        prop_assert_ne!(verdict_of(&archive, &manifest), Some(true));
    }

    #[test]
    fn truncations_and_appendages_never_pass_or_panic(cut in any::<usize>(), tail in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (archive, manifest) = good_archive();
        let mut damaged = archive[..cut % archive.len()].to_vec();
        damaged.extend_from_slice(&tail);
        prop_assert_ne!(verdict_of(&damaged, &manifest), Some(true));
    }

    #[test]
    fn damaged_tar_inside_a_valid_gzip_never_passes(at in any::<usize>(), xor in 1u8.., cut in any::<usize>()) {
        // The archive digest in the manifest matches the damaged archive: only the tar and
        // content checks stand between the damage and a pass.
        let (entries, manifest) = good_files();
        let mut tar = tar_bytes(&entries, true);
        let n = tar.len();
        tar[at % n] ^= xor;
        tar.truncate(n - cut % 2048);
        let archive = gzip(&tar);
        let full = with_archive(&manifest, &archive);
        let verdict = verdict_of(&archive, &full);
        // Damage in padding or in the zero tail after the end marker changes nothing a
        // reader sees: the only damage allowed to pass.
        if verdict == Some(true) {
            let clean = tar_bytes(&entries, true);
            let meaningful = clean
                .iter()
                .zip(&tar)
                .position(|(a, b)| a != b);
            prop_assert!(meaningful.is_none_or(|p| clean[p] == 0), "damage at {:?} passed", meaningful);
        }
    }
}

#[test]
fn random_damage_through_the_binary_exits_1_or_2() {
    let (archive, manifest) = good_archive();
    let raw = RawBundle::new(&manifest, &archive);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..24 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut damaged = archive.clone();
        if round % 3 == 0 {
            damaged.truncate((x as usize) % archive.len());
        } else {
            let at = (x as usize) % damaged.len();
            damaged[at] ^= ((x >> 32) as u8) | 1;
        }
        std::fs::write(&raw.archive, &damaged).unwrap();
        let run = raw.verify(&[]);
        assert!(
            matches!(run.code, Some(1 | 2)),
            "round {round}: {}",
            run.describe()
        );
        if run.code == Some(1) {
            assert!(!run.report().ok);
        }
    }
}
