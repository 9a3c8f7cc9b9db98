//! The manifest a user signs and an operator checks: its three copies agree, and every
//! member describes the real files and the real archive (DESIGN §3, issue 2 §3).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod common;

use common::*;
use offline_formats::manifest::{BundleManifest, FileEntry};
use offline_formats::schema::Document;
use offline_formats::{digest, jcs, merkle};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn paths(manifest: &BundleManifest) -> Vec<&str> {
    manifest.files.iter().map(|f| f.path.as_str()).collect()
}

fn entry<'a>(manifest: &'a BundleManifest, path: &str) -> &'a FileEntry {
    manifest
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("`{path}` is not in the manifest: {:?}", paths(manifest)))
}

/// A pack of `input` with the given extra arguments, under `SOURCE_DATE_EPOCH`.
fn pack_dir(input: &Path, out: &Path, extra: &[&str]) -> Run {
    run(bundle_pack()
        .arg("--input")
        .arg(input)
        .args(["--bundle-id", "manifest-test", "-q", "-o"])
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok()
}

#[test]
fn the_three_manifest_copies_agree_and_describe_the_real_files_and_archive() {
    let tmp = temp_dir();
    let files = standard_tree();
    let input = mkdir(&tmp.path().join("in"));
    write_tree(&input, &files);
    let out = mkdir(&tmp.path().join("out"));
    let archive = out.join("release.tar.gz");
    let manifest_file = out.join("release.manifest.json");
    let packed = run(bundle_pack()
        .arg("--input")
        .arg(&input)
        .args([
            "--bundle-id",
            "stellaops-mirror_2026.11",
            "--kind",
            "mirror",
        ])
        .args(["--generation", "42", "--producer", "release-ci", "-q"])
        .arg("-o")
        .arg(&archive)
        .arg("-m")
        .arg(&manifest_file)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    assert!(
        packed.stderr.is_empty(),
        "--quiet printed:\n{}",
        packed.describe()
    );
    let manifest = packed.manifest();

    // stdout is the on-disk JSON form (sorted keys, 2-space indent, trailing newline),
    // and the -m file holds the same bytes.
    assert_eq!(jcs::to_pretty_vec(&manifest).unwrap(), packed.stdout);
    assert!(packed.stdout.ends_with(b"}\n") && packed.stdout.starts_with(b"{\n  \"archive\": {"));
    assert_eq!(
        fs::read(&manifest_file).unwrap(),
        packed.stdout,
        "-m differs from stdout"
    );

    // The embedded copy: first entry, the same document without `archive`.
    let entries = read_archive(&archive);
    assert_eq!(entries[0].path, "manifest.json");
    let embedded_bytes = &entries[0].data;
    let embedded = BundleManifest::from_json_slice(embedded_bytes).unwrap();
    assert!(
        embedded.archive.is_none(),
        "the embedded manifest has an `archive` member"
    );
    assert!(!String::from_utf8_lossy(embedded_bytes).contains("\"archive\""));
    assert_eq!(embedded, manifest.without_archive());
    assert_eq!(embedded_bytes, &jcs::to_pretty_vec(&embedded).unwrap());

    // `inspect` prints the embedded copy.
    let inspected = run(bundle_pack().arg("inspect").arg(&archive)).ok();
    assert_eq!(&inspected.stdout, embedded_bytes);

    // Top-level members.
    assert_eq!(manifest.schema, "stellaops.bundle/v1");
    assert_eq!(manifest.bundle_id, "stellaops-mirror_2026.11");
    assert_eq!(manifest.kind, "mirror");
    assert_eq!(manifest.mirror_generation, 42);
    assert_eq!(manifest.producer, "release-ci");
    assert_eq!(manifest.created_at, "2023-11-14T22:13:20Z");

    // `archive` describes the file on disk.
    let archive_bytes = fs::read(&archive).unwrap();
    let info = manifest
        .archive
        .as_ref()
        .expect("stdout manifest has `archive`");
    assert_eq!(info.name, "release.tar.gz");
    assert_eq!(info.size, archive_bytes.len() as u64);
    assert_eq!(info.sha256, sha256_hex(&archive_bytes));
    assert_eq!(info.blake3, blake3_hex(&archive_bytes));
    assert_eq!(info.compression, "gzip");
    let sidecar = fs::read_to_string(out.join("release.tar.gz.sha256")).unwrap();
    assert_eq!(sidecar, format!("{}  release.tar.gz\n", info.sha256));

    // `files` describes every input, sorted by path bytes, and the archive entries agree.
    assert_eq!(paths(&manifest), sorted_paths(&files));
    for f in &files {
        let e = entry(&manifest, &f.path);
        assert_eq!(e.size, f.bytes.len() as u64, "{}", f.path);
        assert_eq!(e.sha256, sha256_hex(&f.bytes), "{}", f.path);
        assert_eq!(e.blake3, blake3_hex(&f.bytes), "{}", f.path);
        assert_eq!(e.mode, if f.exec { "0755" } else { "0644" }, "{}", f.path);
    }
    let by_path: BTreeMap<&str, &Entry> =
        entries[1..].iter().map(|e| (e.path.as_str(), e)).collect();
    assert_eq!(by_path.len(), manifest.files.len());
    for e in &manifest.files {
        let tar_entry = by_path[e.path.as_str()];
        assert_eq!(sha256_hex(&tar_entry.data), e.sha256, "{}", e.path);
        assert_eq!(format!("{:04o}", tar_entry.mode), e.mode, "{}", e.path);
    }

    // merkleRoot is the RFC 6962 root over the manifest leaves, in file order.
    let leaves: Vec<merkle::Hash> = manifest
        .files
        .iter()
        .map(|f| merkle::manifest_leaf(&f.path, &f.sha256, f.size))
        .collect();
    assert_eq!(
        manifest.merkle_root,
        digest::sha256_prefixed(&merkle::root(&leaves))
    );
    // …and not over any other order (the check can fail).
    let mut reversed = leaves.clone();
    reversed.reverse();
    assert_ne!(
        manifest.merkle_root,
        digest::sha256_prefixed(&merkle::root(&reversed))
    );
}

#[test]
fn defaults_when_only_an_id_is_given() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "a.txt", b"a\n", 0o644);
    let out = mkdir(&tmp.path().join("out"));
    let m = pack_dir(&input, &out.join("b.tar.gz"), &[]).manifest();
    assert_eq!(m.kind, "bootstrap");
    assert_eq!(m.mirror_generation, 1);
    assert_eq!(
        m.producer,
        format!("bundle-pack/{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn media_types_are_inferred_for_charts_compose_oci_layouts_and_packages() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    let cases: &[(&str, &str)] = &[
        (
            "charts/scanner/Chart.yaml",
            "application/vnd.cncf.helm.chart.meta.v1+yaml",
        ),
        ("charts/scanner/values.yaml", "application/yaml"),
        (
            "charts/scanner-1.2.0.tgz",
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        ),
        (
            "compose/docker-compose.yaml",
            "application/vnd.docker.compose+yaml",
        ),
        (
            "compose/compose.override.yml",
            "application/vnd.docker.compose+yaml",
        ),
        (
            "images/scanner/oci-layout",
            "application/vnd.oci.layout.header.v1+json",
        ),
        (
            "images/scanner/index.json",
            "application/vnd.oci.image.index.v1+json",
        ),
        (
            "images/scanner/blobs/sha256/0123abcd",
            "application/octet-stream",
        ),
        (
            "nuget/Foo.Bar.1.0.0.nupkg",
            "application/vnd.nuget.package+zip",
        ),
        ("npm/left-pad-1.3.0.tgz", "application/vnd.npm.package+gzip"),
        (
            "crates/serde-1.0.0.crate",
            "application/vnd.rust.crate+gzip",
        ),
        // Negative twins: the same names outside the context that gives them meaning.
        ("config/index.json", "application/json"),
        ("config/blobs/sha256/0123abcd", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ];
    for (path, _) in cases {
        write_file(&input, path, path.as_bytes(), 0o644);
    }
    let out = mkdir(&tmp.path().join("out"));
    let m = pack_dir(&input, &out.join("b.tar.gz"), &[]).manifest();
    for (path, media_type) in cases {
        assert_eq!(
            entry(&m, path).media_type,
            *media_type,
            "media type of `{path}`"
        );
    }
}

#[test]
fn exclude_flags_and_config_globs_drop_files() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    for path in [
        "keep.yaml",
        "keep.bak.yaml",
        "old.bak",
        "deep/er/old.bak",
        "tmp/scratch.yaml",
        "tmp/deeper/x.yaml",
        "tmpx/kept.yaml",
        "charts/a.yaml",
        "charts/a.orig",
    ] {
        write_file(&input, path, path.as_bytes(), 0o644);
    }
    let out = mkdir(&tmp.path().join("out"));

    // Flags.
    let archive = out.join("flags.tar.gz");
    let m = pack_dir(
        &input,
        &archive,
        &["--exclude", "**/*.bak", "--exclude", "tmp/**"],
    )
    .manifest();
    let kept = [
        "charts/a.orig",
        "charts/a.yaml",
        "keep.bak.yaml",
        "keep.yaml",
        "tmpx/kept.yaml",
    ];
    assert_eq!(paths(&m), kept);
    let in_archive: Vec<String> = read_archive(&archive)
        .into_iter()
        .skip(1)
        .map(|e| e.path)
        .collect();
    assert_eq!(in_archive, kept);

    // `*` does not cross folders: only the top-level .bak goes.
    let m = pack_dir(&input, &out.join("star.tar.gz"), &["--exclude", "*.bak"]).manifest();
    assert!(paths(&m).contains(&"deep/er/old.bak"));
    assert!(!paths(&m).contains(&"old.bak"));

    // Config: a global exclude and a per-source one.
    let config = tmp.path().join("pack.yaml");
    fs::write(
        &config,
        "bundleId: excl\nexclude: [\"**/*.bak\"]\nsources:\n  - from: in\n    exclude: [\"tmp/**\", \"charts/*.orig\"]\n",
    )
    .unwrap();
    let r = run(bundle_pack()
        .arg("--config")
        .arg(&config)
        .args(["-q", "-o"])
        .arg(out.join("config.tar.gz"))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    assert_eq!(
        paths(&r.manifest()),
        [
            "charts/a.yaml",
            "keep.bak.yaml",
            "keep.yaml",
            "tmpx/kept.yaml"
        ]
    );

    // Without excludes everything is there (the excludes above did the dropping).
    let all = pack_dir(&input, &out.join("all.tar.gz"), &[]).manifest();
    assert_eq!(all.files.len(), 9);
}

#[test]
fn config_sources_place_files_under_prefixes_with_configured_media_types() {
    let tmp = temp_dir();
    let src = mkdir(&tmp.path().join("src"));
    write_file(&src, "charts/scanner/Chart.yaml", b"name: scanner\n", 0o644);
    write_file(&src, "charts/scanner/values.yaml", b"replicas: 1\n", 0o644);
    write_file(
        &src,
        "compose/docker-compose.yaml",
        b"services: {}\n",
        0o644,
    );
    write_file(&src, "compose/other.yaml", b"not packed\n", 0o644);
    write_file(&src, "raw/feed-1.bin", b"feed one", 0o644);
    write_file(&src, "raw/sub/feed-2.bin", b"feed two", 0o755);
    let cfg_dir = mkdir(&tmp.path().join("cfg"));
    let config = cfg_dir.join("pack.yaml");
    fs::write(
        &config,
        r#"# from is relative to this file's folder
bundleId: from-config
kind: offline-kit
mirrorGeneration: 3
producer: release-ci
createdAt: "2026-01-31T14:00:00+02:00"
sources:
  - from: ../src/charts/
    to: charts
  - from: ../src/compose/docker-compose.yaml
    to: /deploy/compose/
  - from: ../src/raw
    to: feeds/raw
    mediaType: application/vnd.stellaops.feed+octet-stream
"#,
    )
    .unwrap();
    let out = mkdir(&tmp.path().join("out"));
    // Run from elsewhere: `from` must resolve against the configuration's folder.
    let r = run(bundle_pack()
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(out.join("kit.tar.gz"))
        .current_dir("/"))
    .ok();
    assert!(
        !r.stderr.contains("warning"),
        "createdAt was given:\n{}",
        r.describe()
    );
    let m = r.manifest();
    assert_eq!(
        paths(&m),
        [
            "charts/scanner/Chart.yaml",
            "charts/scanner/values.yaml",
            "deploy/compose/docker-compose.yaml",
            "feeds/raw/feed-1.bin",
            "feeds/raw/sub/feed-2.bin",
        ]
    );
    assert_eq!(m.bundle_id, "from-config");
    assert_eq!(m.kind, "offline-kit");
    assert_eq!(m.mirror_generation, 3);
    assert_eq!(m.producer, "release-ci");
    assert_eq!(m.created_at, "2026-01-31T12:00:00Z");
    let feed = "application/vnd.stellaops.feed+octet-stream";
    assert_eq!(entry(&m, "feeds/raw/feed-1.bin").media_type, feed);
    assert_eq!(entry(&m, "feeds/raw/sub/feed-2.bin").media_type, feed);
    assert_eq!(entry(&m, "feeds/raw/sub/feed-2.bin").mode, "0755");
    assert_eq!(
        entry(&m, "charts/scanner/Chart.yaml").media_type,
        "application/vnd.cncf.helm.chart.meta.v1+yaml"
    );
    assert_eq!(
        entry(&m, "deploy/compose/docker-compose.yaml").media_type,
        "application/vnd.docker.compose+yaml"
    );

    // Flags win over the file.
    let r = run(bundle_pack()
        .arg("--config")
        .arg(&config)
        .args([
            "--bundle-id",
            "from-flag",
            "--generation",
            "4",
            "--kind",
            "mirror",
            "-q",
        ])
        .args([
            "--created-at",
            "2027-01-01T00:00:00Z",
            "--producer",
            "flag-ci",
            "-o",
        ])
        .arg(out.join("flags.tar.gz")))
    .ok();
    let m = r.manifest();
    assert_eq!(
        (m.bundle_id.as_str(), m.mirror_generation, m.kind.as_str()),
        ("from-flag", 4, "mirror")
    );
    assert_eq!(
        (m.created_at.as_str(), m.producer.as_str()),
        ("2027-01-01T00:00:00Z", "flag-ci")
    );
}

#[test]
fn input_prefixes_place_each_folder() {
    let tmp = temp_dir();
    let a = mkdir(&tmp.path().join("a"));
    let b = mkdir(&tmp.path().join("b"));
    let c = mkdir(&tmp.path().join("c"));
    write_file(&a, "x.yaml", b"a", 0o644);
    write_file(&a, "sub/y.yaml", b"a/sub", 0o644);
    write_file(&b, "z.yaml", b"b", 0o644);
    write_file(&c, "w.yaml", b"c", 0o644);
    let out = mkdir(&tmp.path().join("out"));
    let r = run(bundle_pack()
        .arg("--input")
        .arg(format!("{}=vendor/a", a.display()))
        .arg("--input")
        .arg(&b)
        .arg("--input")
        .arg(format!("{}=/charts/", c.display()))
        .args(["--bundle-id", "prefixes", "-q", "-o"])
        .arg(out.join("p.tar.gz"))
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    .ok();
    let m = r.manifest();
    assert_eq!(
        paths(&m),
        [
            "charts/w.yaml",
            "vendor/a/sub/y.yaml",
            "vendor/a/x.yaml",
            "z.yaml"
        ]
    );
    assert_eq!(
        entry(&m, "vendor/a/sub/y.yaml").sha256,
        sha256_hex(b"a/sub")
    );
    let names: Vec<String> = read_archive(&out.join("p.tar.gz"))
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "charts/w.yaml",
            "vendor/a/sub/y.yaml",
            "vendor/a/x.yaml",
            "z.yaml"
        ]
    );
}

/// Every entry's mtime as `tar -tvzf --full-time` shows it in UTC, and as the tar crate reads it.
fn entry_times(archive: &Path) -> (Vec<String>, Vec<u64>) {
    let listing = run(command("tar")
        .args(["--full-time", "-tvzf"])
        .arg(archive)
        .env("TZ", "UTC"))
    .ok();
    let gnu = listing
        .stdout_text()
        .lines()
        .map(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let ours = read_archive(archive).iter().map(|e| e.mtime).collect();
    (gnu, ours)
}

#[test]
fn source_date_epoch_and_created_at_set_the_times_and_nothing_else_does() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "a.txt", b"a\n", 0o644);
    write_file(&input, "b/c.txt", b"c\n", 0o755);
    let out = mkdir(&tmp.path().join("out"));
    let pack = |name: &str, args: &[&str], epoch: Option<&str>| {
        let mut cmd = bundle_pack();
        cmd.arg("--input")
            .arg(&input)
            .args(["--bundle-id", "times", "-o"])
            .arg(out.join(name))
            .args(args);
        if let Some(epoch) = epoch {
            cmd.env("SOURCE_DATE_EPOCH", epoch);
        }
        run(&mut cmd).ok()
    };

    // SOURCE_DATE_EPOCH: createdAt and every entry's mtime, no warning.
    let r = pack("sde.tar.gz", &[], Some("1700000000"));
    assert_eq!(r.manifest().created_at, "2023-11-14T22:13:20Z");
    assert!(!r.stderr.contains("warning"), "{}", r.describe());
    let (gnu, ours) = entry_times(&out.join("sde.tar.gz"));
    assert_eq!(gnu, vec!["2023-11-14 22:13:20"; 3]);
    assert_eq!(ours, vec![EPOCH; 3]);

    // --created-at wins for createdAt and is normalised to UTC `Z`; mtimes still follow
    // SOURCE_DATE_EPOCH.
    let r = pack(
        "at.tar.gz",
        &["--created-at", "2026-01-31T14:00:00+02:00"],
        Some("1700000000"),
    );
    assert_eq!(r.manifest().created_at, "2026-01-31T12:00:00Z");
    assert_eq!(entry_times(&out.join("at.tar.gz")).1, vec![EPOCH; 3]);

    // --mtime sets entry times only.
    let r = pack("mtime.tar.gz", &["--mtime", "86400"], Some("1700000000"));
    assert_eq!(r.manifest().created_at, "2023-11-14T22:13:20Z");
    let (gnu, ours) = entry_times(&out.join("mtime.tar.gz"));
    assert_eq!(gnu, vec!["1970-01-02 00:00:00"; 3]);
    assert_eq!(ours, vec![86_400; 3]);

    // --created-at alone: no warning, mtimes 0.
    let r = pack(
        "alone.tar.gz",
        &["--created-at", "2026-05-01T08:30:00-04:00"],
        None,
    );
    assert_eq!(r.manifest().created_at, "2026-05-01T12:30:00Z");
    assert!(!r.stderr.contains("warning"), "{}", r.describe());
    assert_eq!(entry_times(&out.join("alone.tar.gz")).1, vec![0; 3]);

    // Neither: the epoch, never the wall clock, and a warning saying so.
    let r = pack("none.tar.gz", &[], None);
    assert_eq!(r.manifest().created_at, "1970-01-01T00:00:00Z");
    assert!(
        r.stderr.starts_with("bundle-pack: warning: ") && r.stderr.contains("createdAt"),
        "expected a warning about createdAt:\n{}",
        r.describe()
    );
    let (gnu, ours) = entry_times(&out.join("none.tar.gz"));
    assert_eq!(gnu, vec!["1970-01-01 00:00:00"; 3]);
    assert_eq!(ours, vec![0; 3]);
}

#[test]
fn every_level_round_trips_and_level_0_stores() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    let text = yaml_text(1_500_000);
    let blob = noise(1_200_000, 99);
    write_file(&input, "text.yaml", &text, 0o644);
    write_file(&input, "blob.bin", &blob, 0o644);
    for i in 0..20 {
        write_file(
            &input,
            &format!("small/{i}.yaml"),
            &yaml_text(i * 300),
            0o644,
        );
    }
    let out = mkdir(&tmp.path().join("out"));
    let levels = ["auto", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let mut results = Vec::new();
    for level in levels {
        let archive = out.join(format!("l{level}.tar.gz"));
        let r = pack_dir(&input, &archive, &["--level", level]);
        run(command("gzip").arg("-t").arg(&archive)).ok();
        let bytes = fs::read(&archive).unwrap();
        results.push((level, r.manifest(), bytes));
    }
    let (_, auto_manifest, auto_bytes) = &results[0];
    let reference_tar = gunzip(auto_bytes);
    for (level, manifest, bytes) in &results {
        // Only the compression differs: the same tar stream and the same file list.
        assert!(
            gunzip(bytes) == reference_tar,
            "--level {level}: another tar stream"
        );
        assert_eq!(manifest.files, auto_manifest.files, "--level {level}");
        assert_eq!(manifest.merkle_root, auto_manifest.merkle_root);
    }
    let size = |level: &str| results.iter().find(|r| r.0 == level).unwrap().2.len();
    // Level 0 stores: bigger than the tar stream it holds; auto and 9 compress the text.
    assert!(
        size("0") > reference_tar.len(),
        "level 0 compressed something"
    );
    assert!(
        size("auto") + text.len() / 2 < size("0"),
        "auto {} vs 0 {}",
        size("auto"),
        size("0")
    );
    assert!(size("9") + text.len() / 2 < size("0"));
    assert!(size("9") <= size("1"));

    // GNU tar extracts the stored archive to the same bytes.
    let x = mkdir(&tmp.path().join("x"));
    run(command("tar")
        .arg("-xzf")
        .arg(out.join("l0.tar.gz"))
        .arg("-C")
        .arg(&x))
    .ok();
    assert_eq!(fs::read(x.join("text.yaml")).unwrap(), text);
    assert_eq!(fs::read(x.join("blob.bin")).unwrap(), blob);
}

/// A reader that stops listening (`bundle-pack … | head -c 1`) is not an error: exit 0,
/// nothing on stderr, and the archive and its sidecar are complete.
#[test]
fn a_closed_stdout_is_not_an_error() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "a.yaml", &yaml_text(300_000), 0o644);
    let archive = tmp.path().join("b.tar.gz");
    let mut child = bundle_pack()
        .arg("--input")
        .arg(&input)
        .args(["--bundle-id", "pipe", "-q", "-o"])
        .arg(&archive)
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = fs::read(&archive).unwrap();
    let sidecar = fs::read_to_string(tmp.path().join("b.tar.gz.sha256")).unwrap();
    assert_eq!(sidecar, format!("{}  b.tar.gz\n", sha256_hex(&bytes)));
    assert_eq!(read_archive(&archive)[1].data, yaml_text(300_000));
}

/// Entry times past the ustar mtime field (11 octal digits: 2^33 - 1 seconds, year 2242)
/// are either carried exactly (a PAX `mtime` record, as GNU tar writes) or refused, never
/// silently changed.
#[test]
fn entry_times_beyond_the_ustar_field_are_kept_or_refused() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "a.txt", b"a\n", 0o644);
    let late: u64 = 10_000_000_000; // 2286-11-20T17:46:40Z
    for (label, args, epoch) in [
        (
            "--mtime",
            vec![
                "--mtime",
                "10000000000",
                "--created-at",
                "2026-01-01T00:00:00Z",
            ],
            None,
        ),
        ("SOURCE_DATE_EPOCH", vec![], Some(late.to_string())),
    ] {
        let archive = tmp.path().join("late.tar.gz");
        let mut cmd = bundle_pack();
        cmd.arg("--input")
            .arg(&input)
            .args(["--bundle-id", "late", "-q", "-o"])
            .arg(&archive)
            .args(&args);
        if let Some(epoch) = &epoch {
            cmd.env("SOURCE_DATE_EPOCH", epoch);
        }
        let r = run(&mut cmd);
        if r.code == Some(2) {
            assert!(
                r.stderr.starts_with("bundle-pack: error: ") && r.stderr.contains("10000000000"),
                "{label}: a refusal must name the time:\n{}",
                r.describe()
            );
            assert!(!archive.exists());
            continue;
        }
        let r = r.ok();
        if epoch.is_some() {
            assert_eq!(r.manifest().created_at, "2286-11-20T17:46:40Z");
        }
        // Python applies PAX records; it must see the time that was asked for.
        let py = run(command("python3")
            .arg("-c")
            .arg("import sys, tarfile; print([int(m.mtime) for m in tarfile.open(sys.argv[1])])")
            .arg(&archive))
        .ok();
        assert_eq!(
            py.stdout_text().trim(),
            format!("[{late}, {late}]"),
            "{label}: entry times were changed"
        );
    }
}

/// Packing a folder into an archive inside it, twice: the second bundle must not hold
/// the first one (or its sidecar) — re-running a pack gives the same bundle, or the
/// overlap is refused naming the archive.
#[test]
fn a_bundle_never_packs_its_own_outputs() {
    let tmp = temp_dir();
    let input = mkdir(&tmp.path().join("in"));
    write_file(&input, "a.yaml", b"a: 1\n", 0o644);
    let archive = input.join("self.tar.gz");
    let pack = || {
        run(bundle_pack()
            .arg("--input")
            .arg(&input)
            .args(["--bundle-id", "self", "-q", "-o"])
            .arg(&archive)
            .arg("--sums")
            .arg(input.join("SHA256SUMS"))
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string()))
    };
    let first = pack();
    if first.code == Some(2) {
        assert!(first.stderr.contains("self.tar.gz"), "{}", first.describe());
        return;
    }
    let first = first.ok();
    let first_bytes = fs::read(&archive).unwrap();
    let second = pack();
    if second.code == Some(2) {
        assert!(
            second.stderr.contains("self.tar.gz"),
            "{}",
            second.describe()
        );
        return;
    }
    let second = second.ok();
    assert_eq!(
        paths(&second.manifest()),
        ["a.yaml"],
        "the second pack took in the first one's outputs"
    );
    assert_eq!(first.stdout, second.stdout);
    assert!(fs::read(&archive).unwrap() == first_bytes);
}
