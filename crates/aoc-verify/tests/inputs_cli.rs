//! `aoc-verify` on every input kind through the real binary, each holding the same documents
//! and so giving the same verdict: `.bson` and `.bson.gz` files, a dump folder and
//! `mongodump --archive` files written by pymongo (an independent BSON implementation), and
//! PostgreSQL `jsonb` tables on a real server started for the test.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test binary: a failed expectation is a failed test"
)]

#[path = "support/docs.rs"]
mod docs;
#[path = "support/postgres.rs"]
mod postgres_support;
#[path = "support/run.rs"]
mod run_support;

use docs::{advisory, clean, ndjson, set, vex};
use postgres_support::Postgres;
use run_support::{run, Run, BIN};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn aoc(args: &[&str]) -> Run {
    run(args)
}

fn python(args: &[&str], stdin: &[u8]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/export_bson.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run python3 ({e}): install python3, then `python3 -m pip install pymongo`"
            )
        });
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "export_bson.py {args:?} failed; it needs python3 with pymongo (`python3 -m pip install pymongo`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Advisories: one clean, one with `severity`, one revision without `supersedes`; an
/// ObjectId `_id`, canonical Extended JSON numbers and dates, as mongoexport writes them.
fn advisories() -> Vec<Value> {
    let mut with_severity = advisory("adv-sev", "tenant-a", "osv", "GHSA-2", 1);
    set(&mut with_severity, "/severity", json!("HIGH"));
    let mut oid = advisory("x", "tenant-a", "osv", "GHSA-3", 1);
    set(
        &mut oid,
        "/_id",
        json!({"$oid": "6543210fedcba98765432100"}),
    );
    set(
        &mut oid,
        "/upstream/retrieved_at",
        json!({"$date": {"$numberLong": "1795860000000"}}),
    );
    vec![
        clean(),
        with_severity,
        oid,
        advisory("adv-rev2", "tenant-a", "osv", "GHSA-aaaa-bbbb-cccc", 2),
    ]
}

fn vexes() -> Vec<Value> {
    let mut bad = vex("{\"b\": 2}");
    set(&mut bad, "/_id", json!("vex-renamed"));
    vec![vex("{\"a\": 1}"), bad]
}

/// What every input kind must report for [`advisories`] and [`vexes`].
fn expected() -> Vec<(String, String, String, String)> {
    [
        ("advisory_raw", "ERR_AOC_001", "adv-sev", "/severity"),
        ("advisory_raw", "ERR_AOC_003", "adv-rev2", "/supersedes"),
        ("vex_raw", "ERR_AOC_005", "vex-renamed", "/_id"),
    ]
    .iter()
    .map(|(a, b, c, d)| ((*a).into(), (*b).into(), (*c).into(), (*d).into()))
    .collect()
}

fn sorted(
    mut list: Vec<(String, String, String, String)>,
) -> Vec<(String, String, String, String)> {
    list.sort();
    list
}

fn write_ndjson(dir: &Path, name: &str, documents: &[Value]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, ndjson(documents)).unwrap();
    path
}

#[test]
fn ndjson_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_ndjson(dir.path(), "advisory_raw.ndjson", &advisories());
    let v = write_ndjson(dir.path(), "vex_raw.ndjson", &vexes());
    let run = aoc(&[a.to_str().unwrap(), v.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(sorted(run.violations_in()), expected());
}

#[test]
fn bson_files_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("advisory_raw.bson");
    let v = dir.path().join("vex_raw.bson.gz");
    python(&["bson", a.to_str().unwrap()], &ndjson(&advisories()));
    python(&["bson", v.to_str().unwrap()], &ndjson(&vexes()));
    let run = aoc(&[a.to_str().unwrap(), v.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(sorted(run.violations_in()), expected());
    assert_eq!(
        run.report()["collections"],
        json!({"advisory_raw": 4, "vex_raw": 2})
    );

    // Truncated: exit 2 naming the file and offset.
    let bytes = std::fs::read(&a).unwrap();
    let cut = dir.path().join("cut").join("advisory_raw.bson");
    std::fs::create_dir(cut.parent().unwrap()).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let run = aoc(&[cut.to_str().unwrap()]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("advisory_raw.bson at offset"),
        "{}",
        run.stderr
    );
}

#[test]
fn dump_folder_and_archives() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dump/aocdb");
    std::fs::create_dir_all(&db).unwrap();
    python(
        &["bson", db.join("advisory_raw.bson").to_str().unwrap()],
        &ndjson(&advisories()),
    );
    python(
        &["bson", db.join("vex_raw.bson.gz").to_str().unwrap()],
        &ndjson(&vexes()),
    );
    python(
        &["bson", db.join("users.bson").to_str().unwrap()],
        b"{\"name\": \"x\"}\n",
    );
    std::fs::write(db.join("advisory_raw.metadata.json"), b"{\"indexes\": []}").unwrap();

    for folder in [dir.path().join("dump"), db.clone()] {
        let run = aoc(&[folder.to_str().unwrap()]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert_eq!(
            sorted(run.violations_in()),
            expected(),
            "{}",
            folder.display()
        );
        assert!(
            run.stderr.contains("skipped 1 document of `users`"),
            "{}",
            run.stderr
        );
        assert_eq!(run.report()["skipped"], json!({"users": 1}));
    }
    // --collection picks one collection of the folder.
    let run = aoc(&["--collection", "vex_raw", db.to_str().unwrap()]);
    assert_eq!(run.report()["collections"], json!({"vex_raw": 2}));

    let a = write_ndjson(dir.path(), "a.ndjson", &advisories());
    let v = write_ndjson(dir.path(), "v.ndjson", &vexes());
    for name in ["dump.archive", "dump.archive.gz"] {
        let archive = dir.path().join(name);
        python(
            &[
                "archive",
                archive.to_str().unwrap(),
                &format!("aocdb.advisory_raw={}", a.display()),
                &format!("aocdb.vex_raw={}", v.display()),
            ],
            b"",
        );
        let run = aoc(&[archive.to_str().unwrap()]);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        assert_eq!(sorted(run.violations_in()), expected(), "{name}");
        // --collection picks one namespace of an archive too.
        let run = aoc(&["--collection", "advisory_raw", archive.to_str().unwrap()]);
        let report = run.report();
        assert_eq!(report["collections"], json!({"advisory_raw": 4}), "{name}");
        assert_eq!(report["skipped"], json!({"vex_raw": 2}), "{name}");
        // Also from stdin, sniffed without a name.
        let out = Command::new(BIN)
            .arg("-")
            .stdin(std::fs::File::open(&archive).unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name} on stdin");
    }
}

#[test]
fn postgres_tables_with_a_server_side_cursor() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    pg.insert_values("advisory_raw", "document", &advisories());
    pg.create_jsonb_table("vex_raw", "document");
    pg.insert_values("vex_raw", "document", &vexes());
    let url = pg.url();

    // Default tables: advisory_raw and vex_raw, column `document`.
    let run = aoc(&["--postgres", &url]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(sorted(run.violations_in()), expected());

    // A table of another name, another column, and a JSON array in a row: jsonb stores
    // numbers and keys its own way, and the content hash (RFC 8785) still matches.
    pg.execute("CREATE SCHEMA ingest");
    pg.create_table("ingest.adv_v2", "body", "jsonb");
    pg.insert_values("ingest.adv_v2", "body", &[clean()]);
    let run = aoc(&[
        "--postgres",
        &url,
        "--table",
        "ingest.adv_v2",
        "--column",
        "body",
        "--collection",
        "advisory_raw",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.report()["documentsScanned"], 1);

    // The collection from the table's name; a table that is not there: exit 2.
    let run = aoc(&["--postgres", &url, "--table", "public.advisory_raw"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let run = aoc(&[
        "--postgres",
        &url,
        "--table",
        "nope",
        "--collection",
        "vex_raw",
    ]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("`nope` does not exist"),
        "{}",
        run.stderr
    );
    let run = aoc(&["--postgres", &url, "--table", "ingest.adv_v2"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("pass --collection"), "{}", run.stderr);

    // A NULL row and a non-object row: exit 2 naming the row, or counted with --keep-going.
    pg.create_jsonb_table("vex_bad", "document");
    pg.insert_texts("vex_bad", "document", [None, Some("[1]")]);
    let args = [
        "--postgres",
        url.as_str(),
        "--table",
        "vex_bad",
        "--collection",
        "vex_raw",
    ];
    let run = aoc(&args);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr
            .contains("postgres:vex_bad: row 1: not a document: null"),
        "{}",
        run.stderr
    );
    let mut keep = args.to_vec();
    keep.push("--keep-going");
    let run = aoc(&keep);
    assert_eq!(
        run.report()["counts"]["byCode"],
        json!({"ERR_AOC_PARSE": 2})
    );

    // Nothing listening: exit 2, the password not shown.
    let port = postgres_support::free_port();
    let run = aoc(&[
        "--postgres",
        &format!("postgresql://aoc:s3cret@127.0.0.1:{port}/postgres"),
    ]);
    assert_eq!(run.code, Some(2));
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    assert!(run.stderr.contains("cannot connect"), "{}", run.stderr);
}
