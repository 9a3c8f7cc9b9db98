//! `bundle-pack inspect`: prints the manifest embedded in a bundle and checks that it is
//! the archive's first entry.

use crate::error::PackError;
use offline_formats::manifest::{BundleManifest, ENTRY_NAME};
use offline_formats::schema::Document;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Largest embedded manifest accepted (a bundle of a million files stays well below).
const MAX_MANIFEST: u64 = 512 << 20;

/// Reads the first entry of `archive`, which must be a regular-file `manifest.json`
/// holding a valid manifest without an `archive` member.
pub fn read_embedded_manifest(archive: &Path) -> Result<BundleManifest, PackError> {
    let file = File::open(archive).map_err(|e| PackError::io(archive, e))?;
    read_embedded_manifest_from(archive, file)
}

/// Like [`read_embedded_manifest`] for any reader (`-` reads stdin); `archive` names it
/// in messages.
pub fn read_embedded_manifest_from(
    archive: &Path,
    reader: impl Read,
) -> Result<BundleManifest, PackError> {
    let bad = |message: String| PackError::BadArchive {
        path: archive.to_owned(),
        message,
    };
    let failed = |message: String| PackError::CheckFailed {
        path: archive.to_owned(),
        message,
    };
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let magic = reader.fill_buf().map_err(|e| PackError::io(archive, e))?;
    if !magic.starts_with(&[0x1f, 0x8b]) {
        return Err(bad("not a gzip file (a bundle is a .tar.gz)".into()));
    }
    let gz = flate2::read::MultiGzDecoder::new(reader);
    let mut tar = tar::Archive::new(gz);
    let mut entries = tar
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?;
    let mut first = match entries.next() {
        Some(Ok(entry)) => entry,
        Some(Err(e)) => return Err(bad(format!("unreadable first entry: {e}"))),
        None => {
            return Err(failed(
                "archive is empty; expected `manifest.json` first".into(),
            ))
        }
    };
    let name = first
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != ENTRY_NAME {
        return Err(failed(format!(
            "first entry is `{name}`, expected `{ENTRY_NAME}`"
        )));
    }
    if first.header().entry_type() != tar::EntryType::Regular {
        return Err(failed(format!("`{ENTRY_NAME}` is not a regular file")));
    }
    if first.size() > MAX_MANIFEST {
        return Err(failed(format!(
            "`{ENTRY_NAME}` is {} bytes, more than the {MAX_MANIFEST} allowed",
            first.size()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(first.size()).unwrap_or(0));
    first
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("`{ENTRY_NAME}`: {e}")))?;
    let manifest = BundleManifest::from_json_slice(&bytes)
        .map_err(|e| failed(format!("`{ENTRY_NAME}`: {e}")))?;
    if manifest.archive.is_some() {
        return Err(failed(format!(
            "`{ENTRY_NAME}` carries an `archive` member; the embedded copy must not"
        )));
    }
    Ok(manifest)
}
