//! From the command line's inputs to batch sources: what each input is (sniffed, not trusted
//! from its name), which collection it holds, and opening it only when its turn comes (a dump
//! folder of many files never holds them all open).

use super::bson::{dump_folder_files, ArchiveSource, BsonStreamSource};
use super::postgres::PostgresSource;
use super::{json, BatchSource, InputError};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first bytes of a `mongodump --archive` file (0x8199e26d, little-endian).
const ARCHIVE_MAGIC: [u8; 4] = [0x6d, 0xe2, 0x99, 0x81];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input, planned but not opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    /// A file or `-`: NDJSON, JSON array, `.bson` or `mongodump --archive`, maybe gzip.
    File {
        /// The path (`-` for stdin).
        path: PathBuf,
        /// The collection, when the name or `--collection` tells it (archives name their own).
        collection: Option<String>,
        /// The file is known to be BSON (a dump folder's `.bson` file).
        bson: bool,
    },
    /// A PostgreSQL table.
    Postgres {
        /// Connection URL.
        url: String,
        /// Table (`schema.table` allowed).
        table: String,
        /// `jsonb` column.
        column: String,
        /// The collection its documents belong to.
        collection: String,
    },
}

/// Plans the inputs named on the command line: a dump folder becomes its `.bson` files.
/// `known` are the collections the rules know, used to read a collection off a file name.
pub fn plan(
    paths: &[PathBuf],
    collection: Option<&str>,
    known: &[&str],
) -> Result<Vec<Pending>, InputError> {
    let mut pending = Vec::new();
    for path in paths {
        if path.as_os_str() != "-" && path.is_dir() {
            for file in dump_folder_files(path)? {
                if collection.is_some_and(|c| c != file.collection) {
                    continue;
                }
                pending.push(Pending::File {
                    path: file.path,
                    collection: Some(file.collection),
                    bson: true,
                });
            }
            continue;
        }
        let from_name = if path.as_os_str() == "-" {
            None
        } else {
            collection_from_name(path, known)
        };
        pending.push(Pending::File {
            path: path.clone(),
            collection: collection.map(str::to_owned).or(from_name),
            bson: false,
        });
    }
    Ok(pending)
}

/// The collection a file name tells: `advisory_raw.ndjson.gz`, `dump/db/vex_raw.bson`,
/// `prod.advisory_raw.json` (db-prefixed) → the known collection.
pub fn collection_from_name(path: &Path, known: &[&str]) -> Option<String> {
    let mut name = path.file_name()?.to_str()?;
    for suffix in [".gz", ".gzip"] {
        name = name.strip_suffix(suffix).unwrap_or(name);
    }
    for suffix in [".ndjson", ".jsonl", ".json", ".bson", ".archive"] {
        name = name.strip_suffix(suffix).unwrap_or(name);
    }
    known
        .iter()
        .find(|k| {
            name == **k
                || name
                    .strip_suffix(**k)
                    .is_some_and(|prefix| prefix.ends_with('.') || prefix.ends_with('-'))
        })
        .map(|k| (*k).to_owned())
}

/// Opens a planned input.
pub fn open(pending: &Pending) -> Result<Box<dyn BatchSource>, InputError> {
    match pending {
        Pending::Postgres {
            url,
            table,
            column,
            collection,
        } => Ok(Box::new(PostgresSource::connect(
            url,
            table,
            column,
            Arc::from(collection.as_str()),
        )?)),
        Pending::File {
            path,
            collection,
            bson,
        } => {
            let name = tool_cli::display_name(path).display().to_string();
            let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(File::open(path).map_err(|error| InputError::Io {
                    source_name: name.clone(),
                    error,
                })?)
            };
            let mut reader = BufReader::with_capacity(1 << 20, raw);
            let gzip = peek(&mut reader, 2, &name)?.starts_with(&GZIP_MAGIC);
            let mut reader: BufReader<Box<dyn Read + Send>> = if gzip {
                BufReader::with_capacity(1 << 20, Box::new(MultiGzDecoder::new(reader)))
            } else {
                BufReader::with_capacity(1 << 20, Box::new(reader))
            };
            let head = peek(&mut reader, 5, &name)?;
            let source: Arc<str> = Arc::from(name.as_str());
            if head.starts_with(&ARCHIVE_MAGIC) {
                return Ok(Box::new(ArchiveSource::new(Box::new(reader), source)));
            }
            let Some(collection) = collection else {
                return Err(InputError::Usage(format!(
                    "{name}: cannot tell which collection it holds from its name; pass --collection advisory_raw or --collection vex_raw"
                )));
            };
            let collection: Arc<str> = Arc::from(collection.as_str());
            if *bson || looks_like_bson(&head) {
                Ok(Box::new(BsonStreamSource::new(
                    Box::new(reader),
                    source,
                    collection,
                )))
            } else {
                json::open(Box::new(reader), source, collection)
            }
        }
    }
}

/// A BSON document starts with its little-endian length (below 16 MiB in MongoDB: the
/// fourth byte is 0) and a type byte; JSON text starts with printable bytes.
fn looks_like_bson(head: &[u8]) -> bool {
    head.len() == 5 && head[3] == 0 && matches!(head[4], 0x01..=0x13 | 0x7f | 0xff)
        || head.len() == 5 && head[..4] == [5, 0, 0, 0] && head[4] == 0
}

/// Up to `n` first bytes, without consuming them (one read: enough for files and for the
/// first block of a pipe or a gzip stream).
fn peek<R: Read>(reader: &mut BufReader<R>, n: usize, name: &str) -> Result<Vec<u8>, InputError> {
    let available = reader.fill_buf().map_err(|error| InputError::Io {
        source_name: name.to_owned(),
        error,
    })?;
    Ok(available[..available.len().min(n)].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_from_file_names() {
        let known = ["advisory_raw", "vex_raw"];
        for (name, want) in [
            ("advisory_raw.ndjson", Some("advisory_raw")),
            ("advisory_raw.ndjson.gz", Some("advisory_raw")),
            ("dump/db/vex_raw.bson.gz", Some("vex_raw")),
            ("exports/prod.advisory_raw.json", Some("advisory_raw")),
            ("2026-11-28-vex_raw.jsonl", Some("vex_raw")),
            ("advisories.json", None),
            ("my_advisory_raw.json", None),
            ("-", None),
        ] {
            assert_eq!(
                collection_from_name(Path::new(name), &known).as_deref(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn bson_is_told_from_json_by_its_first_bytes() {
        assert!(looks_like_bson(&[0x16, 0, 0, 0, 0x02]));
        assert!(looks_like_bson(&[5, 0, 0, 0, 0]));
        assert!(!looks_like_bson(b"{\"a\":"));
        assert!(!looks_like_bson(b"[{}]"));
        assert!(!looks_like_bson(b""));
    }
}
