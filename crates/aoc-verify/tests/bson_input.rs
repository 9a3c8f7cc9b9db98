//! BSON inputs against fixtures written by an independent implementation (pymongo's `bson`,
//! through `tests/fixtures/make_bson.py`): `.bson` streams, dump folders, mongodump archives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aoc_verify::input::bson::{
    decode_document, dump_folder_files, ArchiveSource, BsonStreamSource, DumpFile,
};
use aoc_verify::input::{
    Batch, BatchSource, Encoding, InputError, PositionKind, BATCH_BYTES, MAX_DOCUMENT_BYTES,
};
use flate2::read::MultiGzDecoder;
use serde_json::{json, Value};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Fixtures written by `make_bson.py` into a folder removed at the end of the test.
struct Fixtures {
    dir: tempfile::TempDir,
    manifest: Value,
}

impl Fixtures {
    fn path(&self, relative: &Value) -> PathBuf {
        self.dir.path().join(relative.as_str().unwrap())
    }

    fn bytes(&self, relative: &Value) -> Vec<u8> {
        std::fs::read(self.path(relative)).unwrap()
    }
}

/// Runs `make_bson.py` for the named fixtures. Fails, never skips, without python3 and pymongo.
fn fixtures(names: &[&str]) -> Fixtures {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_bson.py");
    let output = match Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .args(names)
        .output()
    {
        Ok(output) => output,
        Err(error) => panic!(
            "cannot run python3 ({error}): the BSON fixtures are written by python3 with pymongo; \
             install python3, then `python3 -m pip install pymongo`"
        ),
    };
    assert!(
        output.status.success(),
        "{} failed ({}); it needs python3 with pymongo (`python3 -m pip install pymongo`):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let manifest = serde_json::from_slice(&manifest).unwrap();
    Fixtures { dir, manifest }
}

fn u64_of(value: &Value) -> u64 {
    value.as_u64().unwrap()
}

fn usize_of(value: &Value) -> usize {
    usize::try_from(u64_of(value)).unwrap()
}

/// Every batch, then the error that ended the input, if any. An input that failed stays
/// finished.
fn drain(source: &mut dyn BatchSource) -> (Vec<Batch>, Option<InputError>) {
    let mut batches = Vec::new();
    loop {
        match source.next_batch() {
            Ok(Some(batch)) => {
                assert!(!batch.frames.is_empty(), "a batch without documents");
                batches.push(batch);
            }
            Ok(None) => return (batches, None),
            Err(error) => {
                assert!(
                    matches!(source.next_batch(), Ok(None)),
                    "the input goes on after {error}"
                );
                return (batches, Some(error));
            }
        }
    }
}

fn drain_ok(source: &mut dyn BatchSource) -> Vec<Batch> {
    let (batches, error) = drain(source);
    assert!(error.is_none(), "unexpected error: {}", error.unwrap());
    batches
}

fn stream(bytes: Vec<u8>, source: &str) -> BsonStreamSource {
    BsonStreamSource::new(
        Box::new(std::io::Cursor::new(bytes)),
        Arc::from(source),
        Arc::from("advisory_raw"),
    )
}

fn archive(bytes: Vec<u8>) -> ArchiveSource {
    ArchiveSource::new(
        Box::new(std::io::Cursor::new(bytes)),
        Arc::from("dump.archive"),
    )
}

/// `(position, bytes)` of every frame of the batches, in order.
fn frames(batches: &[Batch]) -> Vec<(u64, &[u8])> {
    batches
        .iter()
        .flat_map(|batch| {
            batch
                .frames
                .iter()
                .map(|frame| (frame.position, &batch.data[frame.range.clone()]))
        })
        .collect()
}

/// `(offset, length)` of the manifest's frames.
fn manifest_frames(frames: &Value) -> Vec<(u64, usize)> {
    frames
        .as_array()
        .unwrap()
        .iter()
        .map(|frame| (u64_of(&frame["offset"]), usize_of(&frame["length"])))
        .collect()
}

/// Asserts the error is `Malformed`, names `source` and `offset`, and says `says`.
fn assert_malformed(error: &InputError, source: &str, offset: u64, says: &str) {
    assert!(
        matches!(error, InputError::Malformed { .. }),
        "not Malformed: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{source} at offset {offset}: ")),
        "`{message}` does not name {source} at offset {offset}"
    );
    assert!(message.contains(says), "`{message}` does not say `{says}`");
}

/// Checks a `.bson` stream read back against the manifest's frames and expected values.
fn assert_stream_matches(batches: &[Batch], file: &[u8], manifest: &Value, source: &str) {
    let expected_frames = manifest_frames(&manifest["frames"]);
    let got = frames(batches);
    assert_eq!(got.len(), expected_frames.len());
    for ((position, bytes), (offset, length)) in got.iter().zip(&expected_frames) {
        assert_eq!(*position, *offset);
        assert_eq!(bytes.len(), *length);
        let start = usize::try_from(*offset).unwrap();
        assert_eq!(*bytes, &file[start..start + length]);
    }
    for batch in batches {
        assert_eq!(&*batch.source, source);
        assert_eq!(batch.encoding, Encoding::Bson);
        assert_eq!(batch.position_kind, PositionKind::Offset);
    }
    if let Some(expected) = manifest.get("expected") {
        let decoded: Vec<Value> = got
            .iter()
            .map(|(_, bytes)| decode_document(bytes).unwrap())
            .collect();
        assert_eq!(&Value::Array(decoded), expected);
    }
}

#[test]
fn stream_frames_and_decodes_like_pymongo() {
    let fx = fixtures(&["types"]);
    let types = &fx.manifest["types"];
    let file = fx.bytes(&types["path"]);
    assert_eq!(file.len(), usize_of(&types["size"]));
    let batches = drain_ok(&mut BsonStreamSource::new(
        Box::new(File::open(fx.path(&types["path"])).unwrap()),
        Arc::from("types.bson"),
        Arc::from("advisory_raw"),
    ));
    assert_eq!(batches.len(), 1);
    assert_eq!(&*batches[0].collection, "advisory_raw");
    assert_stream_matches(&batches, &file, types, "types.bson");

    // The values users rely on, spelled out rather than only compared with pymongo's.
    let docs: Vec<Value> = frames(&batches)
        .iter()
        .map(|(_, bytes)| decode_document(bytes).unwrap())
        .collect();
    let first = &docs[0];
    assert_eq!(first["_id"], json!({"$oid": "65a1b2c3d4e5f6a7b8c9d0e1"}));
    assert_eq!(
        first["fetchedAt"],
        json!({"$date": "2024-01-02T03:04:05.678Z"})
    );
    assert_eq!(
        first["wholeSecond"],
        json!({"$date": "2024-06-30T12:00:00Z"})
    );
    assert_eq!(first["int32"], json!(42));
    assert_eq!(first["int64"], json!(1_099_511_627_776_i64));
    assert_eq!(first["double"], json!(1.5));
    assert_eq!(first["wholeDouble"], json!(3.0));
    assert_eq!(first["decimal"], json!({"$numberDecimal": "1234.5678"}));
    assert_eq!(
        first["binary"],
        json!({"$binary": {"base64": "AAH+/w==", "subType": "00"}})
    );
    assert_eq!(first["uuid"]["$binary"]["subType"], json!("04"));
    assert_eq!(
        first["nested"],
        json!({"a": [1, "two", {"three": 3.5}], "empty": {}})
    );
    assert_eq!(first["null"], Value::Null);
    let second = &docs[1];
    assert_eq!(second["_id"], json!("vex:example/1"));
    assert_eq!(second["epoch"], json!({"$date": "1970-01-01T00:00:00Z"}));
    assert_eq!(
        second["beforeEpoch"],
        json!({"$date": {"$numberLong": "-315619200000"}})
    );
    assert_eq!(
        second["farFuture"],
        json!({"$date": {"$numberLong": "9223372036854775807"}})
    );
    assert_eq!(second["int64Min"], json!(i64::MIN));
    assert_eq!(second["nan"], json!({"$numberDouble": "NaN"}));
    assert_eq!(
        second["timestamp"],
        json!({"$timestamp": {"t": 1_700_000_000_u32, "i": 7}})
    );
    let third = &docs[2];
    assert_eq!(third["content"]["raw"], json!("unicode é ✓ 🙂"));
    assert_eq!(
        third["decimals"],
        json!([
            {"$numberDecimal": "0.1"},
            {"$numberDecimal": "-0"},
            {"$numberDecimal": "1E+3"},
            {"$numberDecimal": "NaN"}
        ])
    );
    // Key order is the document's.
    let keys: Vec<&String> = first.as_object().unwrap().keys().take(3).collect();
    assert_eq!(keys, ["_id", "advisoryId", "fetchedAt"]);
}

#[test]
fn gzip_stream_reads_like_the_plain_one() {
    let fx = fixtures(&["types"]);
    let types = &fx.manifest["types"];
    let file = fx.bytes(&types["path"]);
    let gz = File::open(fx.path(&types["gz_path"])).unwrap();
    let batches = drain_ok(&mut BsonStreamSource::new(
        Box::new(MultiGzDecoder::new(gz)),
        Arc::from("types.bson.gz"),
        Arc::from("advisory_raw"),
    ));
    assert_stream_matches(&batches, &file, types, "types.bson.gz");
}

#[test]
fn empty_stream_has_no_documents() {
    let batches = drain_ok(&mut stream(Vec::new(), "empty.bson"));
    assert!(batches.is_empty());
}

#[test]
fn big_stream_is_split_into_batches_of_about_batch_bytes() {
    let fx = fixtures(&["big"]);
    let big = &fx.manifest["big"];
    let file = fx.bytes(&big["path"]);
    assert!(file.len() > 2 * BATCH_BYTES, "fixture too small to split");
    let batches = drain_ok(&mut BsonStreamSource::new(
        Box::new(File::open(fx.path(&big["path"])).unwrap()),
        Arc::from("big.bson"),
        Arc::from("advisory_raw"),
    ));
    assert!(batches.len() >= 3, "{} batches", batches.len());
    let largest = manifest_frames(&big["frames"])
        .iter()
        .map(|(_, length)| *length)
        .max()
        .unwrap();
    for (index, batch) in batches.iter().enumerate() {
        assert!(batch.data.len() < BATCH_BYTES + largest);
        if index + 1 < batches.len() {
            assert!(batch.data.len() >= BATCH_BYTES);
        }
        // Frames tile the batch's data in order.
        let mut end = 0;
        for frame in &batch.frames {
            assert_eq!(frame.range.start, end);
            end = frame.range.end;
        }
        assert_eq!(end, batch.data.len());
    }
    let joined: Vec<u8> = batches.iter().flat_map(|b| b.data.clone()).collect();
    assert!(joined == file, "the batches do not add up to the file");
    assert_stream_matches(&batches, &file, big, "big.bson");
}

/// The `types` fixture and its frames.
fn types_file() -> (Vec<u8>, Vec<(u64, usize)>) {
    let fx = fixtures(&["types"]);
    let types = &fx.manifest["types"];
    (fx.bytes(&types["path"]), manifest_frames(&types["frames"]))
}

#[test]
fn stream_errors_name_source_and_offset_after_the_good_documents() {
    let (file, frames_) = types_file();
    let (second, second_len) = frames_[1];
    let second_at = usize::try_from(second).unwrap();
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        (
            "a length below 5",
            [&file[..second_at], &4_i32.to_le_bytes()[..], &[0; 8]].concat(),
            "document length 4 is below the bson minimum of 5 bytes".to_string(),
        ),
        (
            "a negative length",
            [&file[..second_at], &[0xff; 4][..], &[0; 8]].concat(),
            "document length -1 is below the bson minimum of 5 bytes".to_string(),
        ),
        (
            "a length above the limit",
            [
                &file[..second_at],
                &i32::try_from(MAX_DOCUMENT_BYTES + 1).unwrap().to_le_bytes()[..],
                &[0; 8],
            ]
            .concat(),
            format!("exceeds the limit of {MAX_DOCUMENT_BYTES} bytes"),
        ),
        (
            "a truncated document",
            file[..second_at + second_len - 1].to_vec(),
            format!(
                "truncated document: its length says {second_len} bytes but the input ends after {}",
                second_len - 1
            ),
        ),
        (
            "a truncated length",
            file[..second_at + 2].to_vec(),
            "truncated document: the input ends 2 bytes into its 4-byte length".to_string(),
        ),
        (
            "a last byte that is not 0x00",
            {
                let mut damaged = file.clone();
                damaged[second_at + second_len - 1] = 0x41;
                damaged
            },
            format!("document of {second_len} bytes does not end with a 0x00 byte (found 0x41)"),
        ),
    ];
    for (name, bytes, says) in cases {
        let (batches, error) = drain(&mut stream(bytes, "types.bson"));
        let error = error.unwrap_or_else(|| panic!("{name}: no error"));
        assert_malformed(&error, "types.bson", second, &says);
        // The document before the damage is still handed out, alone.
        let got = frames(&batches);
        assert_eq!(got.len(), 1, "{name}");
        assert_eq!(got[0].0, 0, "{name}");
    }
    // Damage in the very first document: no batch at all.
    let (batches, error) = drain(&mut stream(vec![3, 0, 0, 0, 0], "x.bson"));
    assert!(batches.is_empty());
    assert_malformed(&error.unwrap(), "x.bson", 0, "below the bson minimum");
}

#[test]
fn decode_document_rejects_frames_it_does_not_cover_exactly() {
    let (file, frames_) = types_file();
    let (_, first_len) = frames_[0];
    let first = &file[..first_len];
    assert!(decode_document(first).is_ok());
    let longer = [first, &[0][..]].concat();
    assert!(decode_document(&longer)
        .unwrap_err()
        .contains("length prefix says"));
    assert!(decode_document(&first[..first_len - 1])
        .unwrap_err()
        .contains("length prefix says"));
    assert!(decode_document(&[5, 0, 0]).unwrap_err().contains("too few"));
    assert_eq!(decode_document(&[5, 0, 0, 0, 0]).unwrap(), json!({}));
    // The elements end (0x00) one byte before the length does.
    assert!(decode_document(&[6, 0, 0, 0, 0, 0]).is_err());
    // An unknown element type.
    assert!(decode_document(&[8, 0, 0, 0, 0x77, b'a', 0, 0]).is_err());
    // A string whose own length runs past the document.
    let bad_string = [
        &15_i32.to_le_bytes()[..],
        &[0x02, b's', 0],
        &100_i32.to_le_bytes(),
        &[b'x', b'y', 0, 0],
    ]
    .concat();
    assert_eq!(bad_string.len(), 15);
    assert!(decode_document(&bad_string).is_err());
}

/// A small deterministic generator for the damage loop (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(bound).unwrap()).unwrap()
    }
}

#[test]
fn damaged_documents_never_panic() {
    let (file, frames_) = types_file();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rejected = 0;
    for (offset, length) in frames_ {
        let start = usize::try_from(offset).unwrap();
        let original = &file[start..start + length];
        for round in 0..3000 {
            let mut damaged = original.to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(damaged.len());
                damaged[at] = u8::try_from(rng.next() & 0xff).unwrap();
            }
            if round % 3 == 0 {
                // Keep the framing right so that the decoder itself meets the damage.
                let keep = 5 + rng.below(damaged.len() - 4);
                damaged.truncate(keep);
                let last = damaged.len() - 1;
                damaged[last] = 0;
                let len = i32::try_from(damaged.len()).unwrap();
                damaged[..4].copy_from_slice(&len.to_le_bytes());
            }
            if decode_document(&damaged).is_err() {
                rejected += 1;
            }
        }
    }
    assert!(
        rejected > 1000,
        "only {rejected} damaged documents rejected"
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let length = i32::try_from(body.len() + 5).unwrap();
        let framed = [&length.to_le_bytes()[..], &body, &[0]].concat();
        let _ = decode_document(&framed);
        let _ = decode_document(&body);
    }

    #[test]
    fn arbitrary_streams_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = drain(&mut stream(bytes.clone(), "any.bson"));
        let _ = drain(&mut archive(bytes));
    }
}

fn dump_file(fx: &Fixtures, entry: &Value) -> DumpFile {
    DumpFile {
        path: fx.path(&entry["path"]),
        collection: entry["collection"].as_str().unwrap().to_string(),
        gzip: entry["gzip"].as_bool().unwrap(),
    }
}

#[test]
fn dump_root_lists_every_database_folder_in_order() {
    let fx = fixtures(&["dump"]);
    let dump = &fx.manifest["dump"];
    let files = dump_folder_files(&fx.path(&dump["root"])).unwrap();
    let expected: Vec<DumpFile> = dump["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| dump_file(&fx, entry))
        .collect();
    assert_eq!(files, expected);
    let names: Vec<&str> = files.iter().map(|f| f.collection.as_str()).collect();
    assert_eq!(
        names,
        ["advisory_raw", "vex_raw", "a/b", "empty", "system.js"]
    );
    // Every listed file reads back as pymongo wrote it.
    for (file, entry) in files.iter().zip(dump["files"].as_array().unwrap()) {
        let reader: Box<dyn Read + Send> = if file.gzip {
            Box::new(MultiGzDecoder::new(File::open(&file.path).unwrap()))
        } else {
            Box::new(File::open(&file.path).unwrap())
        };
        let source = file.path.display().to_string();
        let batches = drain_ok(&mut BsonStreamSource::new(
            reader,
            Arc::from(source.as_str()),
            Arc::from(file.collection.as_str()),
        ));
        let mut plain = Vec::new();
        if file.gzip {
            MultiGzDecoder::new(File::open(&file.path).unwrap())
                .read_to_end(&mut plain)
                .unwrap();
        } else {
            plain = std::fs::read(&file.path).unwrap();
        }
        assert_stream_matches(&batches, &plain, entry, &source);
        for batch in &batches {
            assert_eq!(&*batch.collection, file.collection);
        }
    }
}

#[test]
fn dump_database_folder_lists_its_collections() {
    let fx = fixtures(&["dump"]);
    let dump = &fx.manifest["dump"];
    let files = dump_folder_files(&fx.path(&dump["db_folder"])).unwrap();
    let aocdb = fx.path(&dump["db_folder"]);
    assert_eq!(
        files,
        [
            DumpFile {
                path: aocdb.join("advisory_raw.bson"),
                collection: "advisory_raw".into(),
                gzip: false,
            },
            DumpFile {
                path: aocdb.join("vex_raw.bson.gz"),
                collection: "vex_raw".into(),
                gzip: true,
            },
        ]
    );
}

fn touch(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

fn dump_error(dir: &Path) -> String {
    match dump_folder_files(dir) {
        Ok(files) => panic!("no error, found {files:?}"),
        Err(error @ InputError::Malformed { .. }) => error.to_string(),
        Err(error) => panic!("not Malformed: {error:?}"),
    }
}

#[test]
fn dump_folder_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    // Nothing to read: empty, or metadata only.
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(dump_error(&empty).contains("no `.bson` or `.bson.gz` collection file"));
    let metadata_only = root.join("metadata_only");
    touch(&metadata_only.join("db/x.metadata.json"));
    touch(&metadata_only.join("prelude.json"));
    let message = dump_error(&metadata_only);
    assert!(message.starts_with(&metadata_only.display().to_string()));
    assert!(message.contains("no `.bson`"));

    // Deeper folders are not searched.
    let deep = root.join("deep");
    touch(&deep.join("db/sub/x.bson"));
    assert!(dump_error(&deep).contains("no `.bson`"));

    // The same collection twice.
    let twice = root.join("twice");
    touch(&twice.join("db/vex_raw.bson"));
    touch(&twice.join("db/vex_raw.bson.gz"));
    let message = dump_error(&twice);
    assert!(
        message.contains("collection `vex_raw` is also in"),
        "{message}"
    );

    // A broken escape.
    let escape = root.join("escape");
    touch(&escape.join("a%zz.bson"));
    assert!(dump_error(&escape).contains("broken `%XX` escape"));

    // Non-existent folder: an I/O error naming it.
    let missing = root.join("missing");
    match dump_folder_files(&missing) {
        Err(InputError::Io { source_name, .. }) => {
            assert_eq!(source_name, missing.display().to_string());
        }
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn dump_folder_refuses_symbolic_links() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    touch(&outside.join("secret.bson"));
    for (name, link, target) in [
        ("file", "dump/db/advisory_raw.bson", "outside/secret.bson"),
        ("database folder", "dump/db", "outside"),
    ] {
        let dump = dir.path().join(format!("case-{}", name.replace(' ', "-")));
        touch(&dump.join("dump/real/vex_raw.bson"));
        let link_path = dump.join(link);
        std::fs::create_dir_all(link_path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(dir.path().join(target), &link_path).unwrap();
        let message = dump_error(&dump.join("dump"));
        assert!(
            message.starts_with(&link_path.display().to_string()),
            "{name}: {message}"
        );
        assert!(message.contains("symbolic link"), "{name}: {message}");
    }
    // The folder given may itself be a link.
    let real = dir.path().join("real_dump");
    touch(&real.join("db/advisory_raw.bson"));
    let link = dir.path().join("dump_link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let files = dump_folder_files(&link).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].collection, "advisory_raw");
}

/// The archive's blocks from the manifest.
fn blocks(manifest: &Value) -> &Vec<Value> {
    manifest["blocks"].as_array().unwrap()
}

/// Checks the batches of an archive against the manifest: one batch per segment (segments
/// are small), each of one namespace, with the documents' offsets and expected values.
fn assert_archive_matches(batches: &[Batch], file: &[u8], manifest: &Value, source: &str) {
    let segments: Vec<&Value> = blocks(manifest)
        .iter()
        .filter(|block| block["kind"] == "segment")
        .collect();
    assert_eq!(batches.len(), segments.len());
    for (batch, segment) in batches.iter().zip(&segments) {
        let db = segment["db"].as_str().unwrap();
        let collection = segment["collection"].as_str().unwrap();
        assert_eq!(&*batch.source, format!("{source}#{db}.{collection}"));
        assert_eq!(&*batch.collection, collection);
        assert_eq!(batch.encoding, Encoding::Bson);
        assert_eq!(batch.position_kind, PositionKind::Offset);
        let got = frames(std::slice::from_ref(batch));
        let expected = manifest_frames(&segment["frames"]);
        assert_eq!(got.len(), expected.len());
        for ((position, bytes), (offset, length)) in got.iter().zip(&expected) {
            assert_eq!(*position, *offset);
            let start = usize::try_from(*offset).unwrap();
            assert_eq!(*bytes, &file[start..start + length]);
        }
    }
    let documents = manifest["documents"].as_array().unwrap();
    let got = frames(batches);
    assert_eq!(got.len(), documents.len());
    for ((position, bytes), document) in got.iter().zip(documents) {
        assert_eq!(*position, u64_of(&document["offset"]));
        if let Some(expected) = document.get("expected") {
            assert_eq!(&decode_document(bytes).unwrap(), expected);
        }
    }
}

#[test]
fn archive_segments_become_batches_of_one_namespace() {
    let fx = fixtures(&["archive"]);
    let manifest = &fx.manifest["archive"];
    let file = fx.bytes(&manifest["path"]);
    let batches = drain_ok(&mut ArchiveSource::new(
        Box::new(File::open(fx.path(&manifest["path"])).unwrap()),
        Arc::from("dump.archive"),
    ));
    assert_archive_matches(&batches, &file, manifest, "dump.archive");
    let namespaces: Vec<&str> = batches.iter().map(|b| &*b.collection).collect();
    assert_eq!(
        namespaces,
        [
            "advisory_raw",
            "vex_raw",
            "advisory_raw",
            "vex_raw",
            "advisory_raw",
            "vex_raw"
        ]
    );
    let first = decode_document(&batches[0].data[batches[0].frames[0].range.clone()]).unwrap();
    assert_eq!(first["_id"], json!({"$oid": "000000000000000000000000"}));
    assert_eq!(
        first["upstream"]["fetchedAt"],
        json!({"$date": "2024-03-01T00:00:00Z"})
    );
    assert_eq!(first["severity"], json!({"$numberDecimal": "0.5"}));
}

#[test]
fn gzip_archive_reads_like_the_plain_one() {
    let fx = fixtures(&["archive"]);
    let manifest = &fx.manifest["archive"];
    let file = fx.bytes(&manifest["path"]);
    let gz = File::open(fx.path(&manifest["gz_path"])).unwrap();
    let batches = drain_ok(&mut ArchiveSource::new(
        Box::new(MultiGzDecoder::new(gz)),
        Arc::from("dump.archive.gz"),
    ));
    assert_archive_matches(&batches, &file, manifest, "dump.archive.gz");
}

#[test]
fn big_archive_segments_are_split_without_mixing_namespaces() {
    let fx = fixtures(&["big"]);
    let manifest = &fx.manifest["big"]["archive"];
    let file = fx.bytes(&manifest["path"]);
    let batches = drain_ok(&mut ArchiveSource::new(
        Box::new(File::open(fx.path(&manifest["path"])).unwrap()),
        Arc::from("big.archive"),
    ));
    let segments = blocks(manifest)
        .iter()
        .filter(|block| block["kind"] == "segment")
        .count();
    assert!(batches.len() > segments, "no segment was split");
    let largest = manifest["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|document| usize_of(&document["length"]))
        .max()
        .unwrap();
    // Frames keep archive order, and each batch holds the documents of one namespace only.
    let documents = manifest["documents"].as_array().unwrap();
    let mut next = 0;
    for batch in &batches {
        assert!(batch.data.len() < BATCH_BYTES + largest);
        for frame in &batch.frames {
            let document = &documents[next];
            next += 1;
            assert_eq!(frame.position, u64_of(&document["offset"]));
            assert_eq!(&*batch.collection, document["collection"].as_str().unwrap());
            assert_eq!(
                &*batch.source,
                format!(
                    "big.archive#bigdb.{}",
                    document["collection"].as_str().unwrap()
                )
            );
            let start = usize_of(&document["offset"]);
            assert!(
                batch.data[frame.range.clone()]
                    == file[start..start + usize_of(&document["length"])]
            );
        }
    }
    assert_eq!(next, documents.len());
}

/// The `archive` fixture, its manifest, and the offset of the block at `index`.
fn archive_file() -> (Vec<u8>, Value) {
    let fx = fixtures(&["archive"]);
    let manifest = fx.manifest["archive"].clone();
    (fx.bytes(&manifest["path"]), manifest)
}

fn block_offset(manifest: &Value, index: usize, field: &str) -> usize {
    usize_of(&blocks(manifest)[index][field])
}

/// Drains a damaged archive; returns the documents handed out and the error.
fn archive_error(bytes: Vec<u8>) -> (Vec<u64>, InputError) {
    let (batches, error) = drain(&mut archive(bytes));
    let positions = frames(&batches).iter().map(|(p, _)| *p).collect();
    (positions, error.expect("no error"))
}

#[test]
fn archive_magic_and_prelude_errors() {
    let (file, manifest) = archive_file();
    let prelude_end = usize_of(&manifest["prelude_end"]);

    let (_, error) = archive_error(Vec::new());
    assert_malformed(
        &error,
        "dump.archive",
        0,
        "not a mongodump archive: 0 bytes",
    );

    let mut bad_magic = file.clone();
    bad_magic[0] ^= 0xff;
    let (docs, error) = archive_error(bad_magic);
    assert!(docs.is_empty());
    assert_malformed(
        &error,
        "dump.archive",
        0,
        "not a mongodump archive: magic number 0x8199e292 instead of 0x8199e26d",
    );

    // A plain `.bson` stream is not an archive.
    let (types, _) = types_file();
    let (_, error) = archive_error(types);
    assert_malformed(
        &error,
        "dump.archive",
        0,
        "not a mongodump archive: magic number",
    );

    let (_, error) = archive_error(file[..4].to_vec());
    assert_malformed(&error, "dump.archive", 4, "before its header");

    let (_, error) = archive_error(file[..30].to_vec());
    assert_malformed(&error, "dump.archive", 4, "truncated archive header");

    let (_, error) = archive_error(file[..prelude_end - 4].to_vec());
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(prelude_end - 4).unwrap(),
        "truncated archive: it ends inside its prelude",
    );

    let (_, error) = archive_error(file[..prelude_end - 10].to_vec());
    assert!(
        error.to_string().contains("truncated collection metadata"),
        "{error}"
    );

    // A prelude without any namespace and an empty body is a valid, empty archive.
    let header_len = usize::try_from(i32::from_le_bytes(file[4..8].try_into().unwrap())).unwrap();
    let bare = [&file[..4 + header_len], &[0xff; 4][..]].concat();
    assert!(drain_ok(&mut archive(bare)).is_empty());
}

#[test]
fn archive_segment_errors() {
    let (file, manifest) = archive_file();
    let first_segment = &blocks(&manifest)[0];
    let frames_ = manifest_frames(&first_segment["frames"]);
    let (second, second_len) = frames_[1];
    let second_at = usize::try_from(second).unwrap();

    // Truncated inside the second document: the first is handed out, then the error.
    let (docs, error) = archive_error(file[..second_at + 10].to_vec());
    assert_eq!(docs, [frames_[0].0]);
    assert_malformed(
        &error,
        "dump.archive",
        second,
        "truncated document: its length says",
    );

    // Truncated where the segment's terminator should be.
    let terminator = block_offset(&manifest, 0, "terminator");
    let (docs, error) = archive_error(file[..terminator].to_vec());
    assert_eq!(docs.len(), 3);
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(terminator).unwrap(),
        "truncated archive: it ends inside a segment of `aocdb.advisory_raw`",
    );

    // Truncated between blocks while namespaces are open.
    let end = block_offset(&manifest, 1, "end");
    let (docs, error) = archive_error(file[..end].to_vec());
    assert_eq!(docs.len(), 5);
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(end).unwrap(),
        "ends while namespace `aocdb.advisory_raw` has no end-of-namespace header",
    );

    // Document lengths out of range.
    for (length, says) in [
        (
            4_i32,
            "document length 4 is below the bson minimum".to_string(),
        ),
        (
            i32::try_from(MAX_DOCUMENT_BYTES + 1).unwrap(),
            format!("exceeds the limit of {MAX_DOCUMENT_BYTES} bytes"),
        ),
    ] {
        let mut damaged = file.clone();
        damaged[second_at..second_at + 4].copy_from_slice(&length.to_le_bytes());
        let (docs, error) = archive_error(damaged);
        assert_eq!(docs, [frames_[0].0]);
        assert_malformed(&error, "dump.archive", second, &says);
    }

    // A document not ending in 0x00.
    let mut damaged = file.clone();
    damaged[second_at + second_len - 1] = 7;
    let (_, error) = archive_error(damaged);
    assert_malformed(
        &error,
        "dump.archive",
        second,
        "does not end with a 0x00 byte",
    );

    // A namespace header that is not one.
    let start = block_offset(&manifest, 0, "start");
    let mut damaged = file.clone();
    let header = &mut damaged[start..usize::try_from(frames_[0].0).unwrap()];
    let at = header.windows(10).position(|w| w == b"collection").unwrap();
    header[at..at + 10].copy_from_slice(b"kollection");
    let (docs, error) = archive_error(damaged);
    assert!(docs.is_empty());
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(start).unwrap(),
        "namespace header: no `collection` field",
    );
}

#[test]
fn archive_crc_is_verified() {
    let (file, manifest) = archive_file();
    // One byte of an advisory's content changes; the framing stays valid.
    let at = file.windows(9).position(|w| w == b"GHSA-0001").unwrap();
    let mut damaged = file.clone();
    damaged[at + 8] = b'X';
    let eof = blocks(&manifest)
        .iter()
        .find(|block| block["kind"] == "eof" && block["collection"] == "advisory_raw")
        .unwrap();
    let (docs, error) = archive_error(damaged);
    // Every advisory was handed out before the mismatch could be known.
    let advisories = manifest["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|document| document["collection"] == "advisory_raw")
        .count();
    assert!(docs.len() >= advisories);
    let expected_crc = i64::from_ne_bytes(eof["crc"].as_u64().unwrap().to_ne_bytes());
    assert_malformed(
        &error,
        "dump.archive",
        u64_of(&eof["start"]),
        "CRC mismatch for namespace `aocdb.advisory_raw`: its documents give",
    );
    assert!(error
        .to_string()
        .ends_with(&format!("the end-of-namespace header says {expected_crc}")));
}

#[test]
fn archive_namespace_order_errors() {
    let (file, manifest) = archive_file();
    let size = file.len();
    let block = |index: usize| {
        let start = block_offset(&manifest, index, "start");
        let end = block_offset(&manifest, index, "end");
        file[start..end].to_vec()
    };

    // A segment of a namespace after its end-of-namespace header.
    let reopened = [&file[..], &block(0)].concat();
    let (_, error) = archive_error(reopened);
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(size).unwrap(),
        "namespace header for `aocdb.advisory_raw` after its end-of-namespace header",
    );

    // Its end-of-namespace header twice.
    let eof_index = blocks(&manifest)
        .iter()
        .position(|block| block["kind"] == "eof" && block["collection"] == "vex_raw")
        .unwrap();
    let (_, error) = archive_error([&file[..], &block(eof_index)].concat());
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(size).unwrap(),
        "namespace header for `aocdb.vex_raw` after its end-of-namespace header",
    );

    // A namespace the prelude lists never appears.
    let empty_index = blocks(&manifest)
        .iter()
        .position(|block| block["collection"] == "empty_coll")
        .unwrap();
    let start = block_offset(&manifest, empty_index, "start");
    let end = block_offset(&manifest, empty_index, "end");
    let without = [&file[..start], &file[end..]].concat();
    let (docs, error) = archive_error(without);
    assert_eq!(docs.len(), manifest["documents"].as_array().unwrap().len());
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(size - (end - start)).unwrap(),
        "ends before namespace `aocdb.empty_coll` listed in its prelude",
    );

    // Two terminators in a row.
    let end0 = block_offset(&manifest, 0, "end");
    let doubled = [&file[..end0], &[0xff; 4][..], &file[end0..]].concat();
    let (docs, error) = archive_error(doubled);
    assert_eq!(docs.len(), 3);
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(end0).unwrap(),
        "a terminator where a namespace header was expected",
    );

    // A document right after an end-of-namespace header.
    let eof_terminator = block_offset(&manifest, empty_index, "terminator");
    let first_doc = &blocks(&manifest)[0]["frames"][0];
    let doc_start = usize_of(&first_doc["offset"]);
    let doc = &file[doc_start..doc_start + usize_of(&first_doc["length"])];
    let smuggled = [&file[..eof_terminator], doc, &file[eof_terminator..]].concat();
    let (_, error) = archive_error(smuggled);
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(eof_terminator).unwrap(),
        "document after the end-of-namespace header of `aocdb.empty_coll`",
    );

    // Truncated between an end-of-namespace header and its terminator.
    let (_, error) = archive_error(file[..eof_terminator].to_vec());
    assert_malformed(
        &error,
        "dump.archive",
        u64::try_from(eof_terminator).unwrap(),
        "ends after the end-of-namespace header of `aocdb.empty_coll`, before its terminator",
    );
}

/// `$date` strings are RFC 3339 with the fraction's trailing zeros dropped (the `bson` crate
/// formats with `time`'s `Rfc3339`); pymongo writes `.500Z` instead. Both are valid relaxed
/// Extended JSON; pinned so that a change of the crate's choice shows.
#[test]
fn dates_drop_trailing_zeros_of_the_fraction() {
    let date = |millis: i64| {
        let bytes = [
            &16_i32.to_le_bytes()[..],
            &[0x09, b'd', 0],
            &millis.to_le_bytes(),
            &[0],
        ]
        .concat();
        decode_document(&bytes).unwrap()["d"].clone()
    };
    assert_eq!(
        date(1_704_164_645_500),
        json!({"$date": "2024-01-02T03:04:05.5Z"})
    );
    assert_eq!(
        date(1_704_164_645_050),
        json!({"$date": "2024-01-02T03:04:05.05Z"})
    );
    assert_eq!(
        date(1_704_164_645_000),
        json!({"$date": "2024-01-02T03:04:05Z"})
    );
    assert_eq!(date(-1), json!({"$date": {"$numberLong": "-1"}}));
    assert_eq!(
        date(253_402_300_800_000),
        json!({"$date": {"$numberLong": "253402300800000"}}),
        "year 10000"
    );
}
