//! Writing generated files atomically and describing them on stdout
//! (`stellaops.netpolicy-files/v1`, with the `policyHash`).

use super::{GeneratedFile, Target};
use crate::error::NetpolicyError;
use crate::spec::Mode;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The `schema` of the document `generate` prints.
pub const GENERATE_SCHEMA: &str = "stellaops.netpolicy-files/v1";

/// One written file, as listed on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Relative to `--out`, `/`-separated.
    pub path: String,
    /// Lowercase hex SHA-256 of the contents.
    pub sha256: String,
    pub bytes: u64,
}

/// What `generate` prints on stdout.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateReport {
    pub schema: &'static str,
    pub mode: &'static str,
    pub target: &'static str,
    /// Sorted by path bytes.
    pub files: Vec<FileEntry>,
    /// See [`policy_hash`].
    pub policy_hash: String,
}

impl GenerateReport {
    /// The report for `files` (sorted here).
    pub fn new(mode: Mode, target: Target, mut files: Vec<FileEntry>) -> Self {
        files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        let policy_hash = policy_hash(&files);
        GenerateReport {
            schema: GENERATE_SCHEMA,
            mode: mode.as_str(),
            target: target.as_str(),
            files,
            policy_hash,
        }
    }
}

/// `sha256:<hex>` of the `SHA256SUMS` text of `files`: for each file in path-byte order, the
/// line `<sha256 hex>␠␠<path>\n` (what `sha256sum` prints for it run from `--out`). So
/// `cd OUT && sha256sum $(find . -type f | sed 's|^\./||' | LC_ALL=C sort) | sha256sum`
/// recomputes it for a folder holding exactly these files.
pub fn policy_hash(files: &[FileEntry]) -> String {
    let mut sorted: Vec<&FileEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut hasher = Sha256::new();
    for f in sorted {
        hasher.update(offline_formats::sums::gnu_line(&f.sha256, &f.path).as_bytes());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Writes `files` under `out`, each to a temporary name in its final folder, synced, then
/// renamed into place: a reader never sees a half-written file. Modes are set explicitly
/// (0644, scripts 0755) so the umask does not change the result.
pub fn write_files(out: &Path, files: &[GeneratedFile]) -> Result<Vec<FileEntry>, NetpolicyError> {
    fs::create_dir_all(out).map_err(|e| NetpolicyError::io(out, e))?;
    let mut entries = Vec::with_capacity(files.len());
    let mut dirs = BTreeSet::new();
    for file in files {
        let dest = out.join(&file.path);
        let dir = dest
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| NetpolicyError::Internal(format!("no folder for {}", file.path)))?;
        make_real_dir(out, &dir)?;
        if let Ok(meta) = fs::symlink_metadata(&dest) {
            if meta.is_dir() {
                return Err(NetpolicyError::io(
                    &dest,
                    std::io::Error::other("is a folder; a generated file goes there"),
                ));
            }
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".netpolicy-gen.")
            .tempfile_in(&dir)
            .map_err(|e| NetpolicyError::io(&dir, e))?;
        let mode = if file.executable { 0o755 } else { 0o644 };
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .and_then(|()| tmp.write_all(&file.contents))
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| NetpolicyError::io(&dest, e))?;
        tmp.persist(&dest)
            .map_err(|e| NetpolicyError::io(&dest, e.error))?;
        dirs.insert(dir);
        entries.push(FileEntry {
            path: file.path.clone(),
            sha256: hex::encode(Sha256::digest(&file.contents)),
            bytes: file.contents.len() as u64,
        });
    }
    for dir in dirs {
        // The renames are durable once their folders are synced.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(entries)
}

/// Creates `dir` (inside `out`) refusing a symbolic link on the way, so a planted link cannot
/// send generated files outside `--out`.
fn make_real_dir(out: &Path, dir: &Path) -> Result<(), NetpolicyError> {
    let rel = dir.strip_prefix(out).unwrap_or(Path::new(""));
    let mut at = out.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(NetpolicyError::io(
                    &at,
                    std::io::Error::other("is a symbolic link; refusing to write through it"),
                ))
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(NetpolicyError::io(
                    &at,
                    std::io::Error::other("is not a folder"),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(&at).map_err(|e| NetpolicyError::io(&at, e))?;
            }
            Err(e) => return Err(NetpolicyError::io(&at, e)),
        }
    }
    Ok(())
}

/// Regular files in the folders this run wrote to that it did not write (a namespace dropped
/// from the spec leaves its old policy behind): named so nobody applies them by accident.
pub fn stale_files(out: &Path, files: &[GeneratedFile]) -> Vec<String> {
    let written: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let dirs: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| f.path.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let mut stale = Vec::new();
    for dir in dirs {
        let Ok(read) = fs::read_dir(out.join(dir)) else {
            continue;
        };
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{dir}/{name}");
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if is_file && !name.starts_with(".netpolicy-gen.") && !written.contains(rel.as_str()) {
                stale.push(rel);
            }
        }
    }
    stale.sort();
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_hash_is_the_sha256_of_the_sums_text_in_path_order() {
        let b = FileEntry {
            path: "b/x.yaml".into(),
            sha256: "11".repeat(32),
            bytes: 1,
        };
        let a = FileEntry {
            path: "a.nft".into(),
            sha256: "22".repeat(32),
            bytes: 2,
        };
        let text = format!(
            "{}  a.nft\n{}  b/x.yaml\n",
            "22".repeat(32),
            "11".repeat(32)
        );
        let expected = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(policy_hash(&[b.clone(), a.clone()]), expected);
        assert_eq!(policy_hash(&[a, b]), expected);
    }
}
