//! Verifying a folder (an extracted or staged bundle) against its manifest: the tree is
//! walked once without following links, then every listed file is hashed on several threads,
//! each read once front to back.

use crate::error::VerifyError;
use crate::hashing::{compare, hash_files, Algos, FileJob};
use crate::paths;
use crate::report::Findings;
use offline_formats::manifest::{self, BundleManifest};
use offline_formats::schema::Document as _;
use offline_formats::verify_report::FailureKind;
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// What the walk found at one relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub size: u64,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
}

/// Every regular file below a folder, and what else was met there.
#[derive(Debug, Default)]
pub struct Tree {
    /// Regular files by `/`-separated relative path.
    pub files: BTreeMap<String, Found>,
    /// Entries that are not regular files or folders, or whose names are unsafe, with why.
    pub unsafe_entries: Vec<(String, String)>,
}

/// Walks `root` without following symbolic links. Links, devices, FIFOs, sockets and names
/// that are not safe paths are collected as unsafe (and not descended into); errors reading a
/// folder stop the walk. `bundle` applies the bundle rule to names ([`paths::check`]: no
/// backslash or control character), else only [`paths::check_relative`].
pub fn walk(root: &Path, bundle: bool) -> Result<Tree, VerifyError> {
    let mut tree = Tree::default();
    let mut stack: Vec<(PathBuf, String)> = vec![(root.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| VerifyError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| VerifyError::io(&dir, e))?;
            let name = entry.file_name();
            let raw = name.as_encoded_bytes();
            let rel_raw = [prefix.as_bytes(), raw].concat();
            let shown = paths::lossy(&rel_raw);
            let file_type = entry
                .file_type()
                .map_err(|e| VerifyError::io(entry.path(), e))?;
            let checked = if bundle {
                paths::check(&rel_raw)
            } else {
                paths::check_relative(&rel_raw)
            };
            let rel = match checked {
                Ok(rel) => rel.to_owned(),
                Err(why) => {
                    tree.unsafe_entries.push((shown, why.to_owned()));
                    continue;
                }
            };
            if file_type.is_dir() {
                stack.push((entry.path(), format!("{rel}/")));
            } else if file_type.is_file() {
                let meta = entry
                    .metadata()
                    .map_err(|e| VerifyError::io(entry.path(), e))?;
                tree.files.insert(
                    rel,
                    Found {
                        size: meta.len(),
                        mode: meta.mode() & 0o7777,
                    },
                );
            } else {
                let what = if file_type.is_symlink() {
                    match fs::read_link(entry.path()) {
                        Ok(target) => format!(
                            "symbolic link to `{}` (not followed)",
                            paths::lossy(target.as_os_str().as_encoded_bytes())
                        ),
                        Err(_) => "symbolic link (not followed)".to_owned(),
                    }
                } else if file_type.is_block_device() {
                    "block device".to_owned()
                } else if file_type.is_char_device() {
                    "character device".to_owned()
                } else if file_type.is_fifo() {
                    "FIFO".to_owned()
                } else if file_type.is_socket() {
                    "socket".to_owned()
                } else {
                    "not a regular file".to_owned()
                };
                tree.unsafe_entries.push((rel, what));
            }
        }
    }
    tree.unsafe_entries.sort();
    Ok(tree)
}

/// Names at a folder's root that are not listed files but belong there: the embedded
/// manifest of an extracted bundle, the outer manifest and receipt of a staged generation.
const ROOT_DOCUMENTS: [&str; 2] = [manifest::ENTRY_NAME, "receipt.json"];

/// How a folder is checked.
#[derive(Debug, Clone, Copy)]
pub struct FolderOptions {
    pub algos: Algos,
    pub allow_unlisted: bool,
    pub jobs: usize,
}

/// Verifies the folder `root`, whose walk is `tree`, against `manifest`: unsafe entries,
/// then every listed file (missing, size, mode, digests) in manifest order, then files not
/// listed, then the root `manifest.json` if there is one. `checkable[i]` says whether file
/// `i` has a safe path.
pub fn verify_folder(
    root: &Path,
    tree: &Tree,
    manifest: &BundleManifest,
    checkable: &[bool],
    options: &FolderOptions,
    findings: &mut Findings,
) -> Result<(), VerifyError> {
    for (path, why) in &tree.unsafe_entries {
        findings.fail_because(path.clone(), FailureKind::UnsafeEntry, why);
    }

    // Which listed files can be hashed; the rest are decided by their metadata.
    let mut jobs = Vec::new();
    let mut job_of: Vec<Option<usize>> = vec![None; manifest.files.len()];
    for (i, file) in manifest.files.iter().enumerate() {
        let Some(found) = tree.files.get(&file.path).filter(|_| checkable[i]) else {
            continue;
        };
        if found.size == file.size {
            job_of[i] = Some(jobs.len());
            jobs.push(FileJob {
                path: root.join(&file.path),
                size_hint: file.size,
            });
        }
    }
    let results = hash_files(&jobs, options.algos, options.jobs);

    for (i, file) in manifest.files.iter().enumerate() {
        if !checkable[i] {
            continue;
        }
        let Some(found) = tree.files.get(&file.path) else {
            findings.fail(file.path.clone(), FailureKind::Missing, None, None);
            continue;
        };
        let mode = format!("{:04o}", found.mode);
        if mode != file.mode {
            findings.fail(
                file.path.clone(),
                FailureKind::Mode,
                Some(file.mode.clone()),
                Some(mode),
            );
        }
        let Some(job) = job_of[i] else {
            findings.fail(
                file.path.clone(),
                FailureKind::Size,
                Some(file.size.to_string()),
                Some(found.size.to_string()),
            );
            continue;
        };
        let digests = match &results[job] {
            Ok(digests) => digests,
            Err(e) => {
                return Err(VerifyError::io(
                    root.join(&file.path),
                    std::io::Error::new(e.kind(), e.to_string()),
                ))
            }
        };
        findings.checked(&file.path, digests.size);
        if digests.size != file.size {
            // It changed between the walk and the read.
            findings.fail(
                file.path.clone(),
                FailureKind::Size,
                Some(file.size.to_string()),
                Some(digests.size.to_string()),
            );
        } else if let Some(m) = compare(digests, |algo| crate::archive::expected_digest(file, algo))
        {
            findings.fail(
                file.path.clone(),
                FailureKind::Mismatch,
                Some(m.expected),
                Some(m.actual),
            );
        }
    }

    if !options.allow_unlisted {
        let listed: std::collections::HashSet<&str> =
            manifest.files.iter().map(|f| f.path.as_str()).collect();
        for path in tree.files.keys() {
            if !listed.contains(path.as_str()) && !ROOT_DOCUMENTS.contains(&path.as_str()) {
                findings.fail(path.clone(), FailureKind::Unexpected, None, None);
            }
        }
    }
    if tree.files.contains_key(manifest::ENTRY_NAME)
        && !manifest
            .files
            .iter()
            .any(|f| f.path == manifest::ENTRY_NAME)
    {
        check_root_manifest(&root.join(manifest::ENTRY_NAME), manifest, findings)?;
    }
    Ok(())
}

/// A `manifest.json` at the root must be the manifest verified against: the embedded copy
/// (without `archive`) of an extracted bundle, or the outer one of a staged generation.
fn check_root_manifest(
    path: &Path,
    manifest: &BundleManifest,
    findings: &mut Findings,
) -> Result<(), VerifyError> {
    let bytes = fs::read(path).map_err(|e| VerifyError::io(path, e))?;
    let expected = manifest.without_archive();
    let found = match BundleManifest::from_json_slice(&bytes) {
        Ok(found) if found == *manifest || found == expected => return Ok(()),
        Ok(found) => found
            .to_canonical_json()
            .map(|json| {
                offline_formats::digest::sha256_prefixed(&offline_formats::digest::sha256(&json))
            })
            .unwrap_or_else(|e| e.to_string()),
        Err(e) => format!("not a bundle manifest: {e}"),
    };
    let want = expected
        .to_canonical_json()
        .map(|json| {
            offline_formats::digest::sha256_prefixed(&offline_formats::digest::sha256(&json))
        })
        .unwrap_or_else(|e| e.to_string());
    findings.fail(
        manifest::ENTRY_NAME,
        FailureKind::Mismatch,
        Some(want),
        Some(found),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn walk_finds_files_and_refuses_links_without_following() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join("a/b/c.txt"), b"hi").unwrap();
        fs::write(root.join("top"), b"").unwrap();
        symlink("/etc", root.join("a/etc")).unwrap();
        let tree = walk(root, true).unwrap();
        assert_eq!(tree.files.keys().collect::<Vec<_>>(), ["a/b/c.txt", "top"]);
        assert_eq!(tree.files["a/b/c.txt"].size, 2);
        assert_eq!(tree.unsafe_entries.len(), 1);
        assert_eq!(tree.unsafe_entries[0].0, "a/etc");
        assert!(tree.unsafe_entries[0].1.contains("symbolic link to `/etc`"));
    }
}
