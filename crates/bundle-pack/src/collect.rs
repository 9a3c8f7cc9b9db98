//! Walks the sources and plans the bundle: every file with its bundle path, size, mode and
//! media type, sorted by path bytes, with every refusal the design asks for.

use crate::config::Source;
use crate::error::PackError;
use crate::media_type;
use offline_formats::manifest::ENTRY_NAME;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// One file to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// `/`-separated path inside the bundle.
    pub bundle_path: String,
    /// Where the bytes are read from.
    pub source: PathBuf,
    /// Size seen when planning; packing fails if it changes.
    pub size: u64,
    /// `0o644` or `0o755`.
    pub mode: u32,
    /// Configured or inferred media type.
    pub media_type: String,
}

/// The files this run writes (archive, side files), identified by device and inode, so
/// that a bundle whose output lies inside an input folder never packs a previous run's
/// output.
#[derive(Debug, Default)]
pub struct OwnOutputs {
    ids: HashSet<(u64, u64)>,
}

impl OwnOutputs {
    /// Identifies those of `paths` that exist now.
    pub fn of(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ids = paths
            .into_iter()
            .filter_map(|p| fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()))
            .collect();
        Self { ids }
    }

    fn contains(&self, meta: &Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        !self.ids.is_empty() && self.ids.contains(&(meta.dev(), meta.ino()))
    }
}

/// Collects every file of every source, sorted by bundle path bytes. Returns the files and
/// the paths skipped because they are this run's own outputs.
pub fn collect(
    sources: &[Source],
    follow_symlinks: bool,
    own_outputs: &OwnOutputs,
) -> Result<(Vec<PlannedFile>, Vec<PathBuf>), PackError> {
    let mut walk = Walk {
        follow_symlinks,
        own_outputs,
        files: Vec::new(),
        skipped: Vec::new(),
    };
    for source in sources {
        walk.source(source)?;
    }
    let Walk {
        mut files, skipped, ..
    } = walk;
    files.sort_by(|a, b| a.bundle_path.as_bytes().cmp(b.bundle_path.as_bytes()));
    refuse_duplicates(&files)?;
    refuse_clashes(&files)?;
    infer_media_types(&mut files);
    Ok((files, skipped))
}

struct Walk<'a> {
    follow_symlinks: bool,
    own_outputs: &'a OwnOutputs,
    files: Vec<PlannedFile>,
    skipped: Vec<PathBuf>,
}

impl Walk<'_> {
    fn source(&mut self, source: &Source) -> Result<(), PackError> {
        collect_source(source, self)
    }

    fn push(
        &mut self,
        source: &Source,
        path: &Path,
        rel: &str,
        meta: &Metadata,
    ) -> Result<(), PackError> {
        if self.own_outputs.contains(meta) {
            self.skipped.push(path.to_owned());
            return Ok(());
        }
        push_file(source, path, rel, meta, &mut self.files)
    }
}

/// Checks that a bundle path is relative, `/`-separated, without `.`/`..`/empty segments,
/// and portable (no backslash or control characters).
pub fn validate_bundle_path(path: &str) -> Result<(), PackError> {
    let bad = |reason| {
        Err(PackError::BadBundlePath {
            path: path.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return bad("empty path");
    }
    if path.starts_with('/') {
        return bad("absolute paths are not allowed in a bundle");
    }
    if path.chars().any(char::is_control) {
        return bad("control characters are not allowed in bundle paths");
    }
    if path.contains('\\') {
        return bad("backslashes are not allowed in bundle paths");
    }
    for segment in path.split('/') {
        match segment {
            "" => return bad("empty path segment"),
            "." => return bad("`.` segments are not allowed in bundle paths"),
            ".." => return bad("`..` segments are not allowed in bundle paths"),
            _ => {}
        }
    }
    Ok(())
}

fn join_bundle_path(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_owned()
    } else {
        format!("{prefix}/{rel}")
    }
}

fn stat(path: &Path, follow_symlinks: bool) -> Result<Metadata, PackError> {
    let result = if follow_symlinks {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    result.map_err(|e| PackError::io(path, e))
}

fn collect_source(source: &Source, walk: &mut Walk<'_>) -> Result<(), PackError> {
    let follow_symlinks = walk.follow_symlinks;
    let meta = stat(&source.from, follow_symlinks)?;
    if meta.file_type().is_symlink() {
        return Err(PackError::Symlink {
            path: source.from.clone(),
        });
    }
    if meta.is_file() {
        let name = source
            .from
            .file_name()
            .ok_or_else(|| PackError::Usage(format!("`{}`: no file name", source.from.display())))?
            .to_str()
            .ok_or_else(|| PackError::NonUtf8 {
                path: source.from.clone(),
            })?;
        if source.exclude.is_match(name) {
            return Ok(());
        }
        return walk.push(source, &source.from, name, &meta);
    }
    if !meta.is_dir() {
        return Err(special(&source.from, &meta));
    }
    let walker = walkdir::WalkDir::new(&source.from)
        .follow_links(follow_symlinks)
        // Siblings' paths are their parent's path plus their name, so comparing whole paths
        // as bytes orders them by name, without taking each name apart on every comparison.
        .sort_by(|a, b| {
            a.path()
                .as_os_str()
                .as_bytes()
                .cmp(b.path().as_os_str().as_bytes())
        })
        .into_iter()
        .filter_entry(|entry| {
            if source.exclude.is_empty() {
                return true;
            }
            let Ok(rel) = entry.path().strip_prefix(&source.from) else {
                return true;
            };
            rel.as_os_str().is_empty() || !source.exclude.is_match(rel)
        });
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&source.from).to_owned();
            match e.into_io_error() {
                Some(io) => PackError::io(path, io),
                None => PackError::Usage(format!("`{}`: symbolic link loop", path.display())),
            }
        })?;
        if entry.depth() == 0 {
            continue;
        }
        let path = entry.path();
        let rel = relative_utf8(path, &source.from)?;
        let file_type = entry.file_type();
        if file_type.is_symlink() {
            return Err(PackError::Symlink {
                path: path.to_owned(),
            });
        }
        if file_type.is_dir() {
            continue;
        }
        let meta = entry.metadata().map_err(|e| {
            PackError::io(
                path,
                e.into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("unreadable metadata")),
            )
        })?;
        if !meta.is_file() {
            return Err(special(path, &meta));
        }
        walk.push(source, path, &rel, &meta)?;
    }
    Ok(())
}

fn push_file(
    source: &Source,
    path: &Path,
    rel: &str,
    meta: &Metadata,
    out: &mut Vec<PlannedFile>,
) -> Result<(), PackError> {
    let bundle_path = join_bundle_path(&source.to, rel);
    validate_bundle_path(&bundle_path)?;
    if bundle_path == ENTRY_NAME {
        return Err(PackError::BadBundlePath {
            path: bundle_path,
            reason: "reserved for the embedded manifest; pack it under another prefix",
        });
    }
    let mode = if meta.permissions().mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    };
    out.push(PlannedFile {
        bundle_path,
        source: path.to_owned(),
        size: meta.len(),
        mode,
        media_type: source.media_type.clone().unwrap_or_default(),
    });
    Ok(())
}

fn relative_utf8(path: &Path, root: &Path) -> Result<String, PackError> {
    // The walk builds every path as `root` joined with plain names: what follows `root`'s
    // bytes (and one `/`) is the relative path, without taking the path apart.
    if let Some(rel) = path
        .as_os_str()
        .as_bytes()
        .strip_prefix(root.as_os_str().as_bytes())
    {
        let rel = rel.strip_prefix(b"/").unwrap_or(rel);
        let plain = !rel.is_empty()
            && rel
                .split(|&b| b == b'/')
                .all(|name| !name.is_empty() && name != b"." && name != b"..");
        if plain {
            return std::str::from_utf8(rel)
                .map(str::to_owned)
                .map_err(|_| PackError::NonUtf8 {
                    path: path.to_owned(),
                });
        }
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(name) => {
                parts.push(name.to_str().ok_or_else(|| PackError::NonUtf8 {
                    path: path.to_owned(),
                })?)
            }
            _ => {
                return Err(PackError::BadBundlePath {
                    path: rel.to_string_lossy().into_owned(),
                    reason: "not a plain relative path",
                })
            }
        }
    }
    Ok(parts.join("/"))
}

fn special(path: &Path, meta: &Metadata) -> PackError {
    let ft = meta.file_type();
    let kind = if ft.is_socket() {
        "socket"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    };
    PackError::SpecialFile {
        path: path.to_owned(),
        kind,
    }
}

fn refuse_duplicates(sorted: &[PlannedFile]) -> Result<(), PackError> {
    for pair in sorted.windows(2) {
        if pair[0].bundle_path == pair[1].bundle_path {
            return Err(PackError::Duplicate {
                path: pair[0].bundle_path.clone(),
                first: pair[0].source.clone(),
                second: pair[1].source.clone(),
            });
        }
    }
    Ok(())
}

fn refuse_clashes(files: &[PlannedFile]) -> Result<(), PackError> {
    let paths: HashSet<&str> = files.iter().map(|f| f.bundle_path.as_str()).collect();
    for file in files {
        let path = file.bundle_path.as_str();
        for (i, _) in path.match_indices('/') {
            let folder = &path[..i];
            if paths.contains(folder) {
                return Err(PackError::FileFolderClash {
                    path: folder.to_owned(),
                    child: path.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// Fills in media types not configured: a file is inside an OCI layout when a folder on
/// its bundle path holds an `oci-layout` file.
fn infer_media_types(files: &mut [PlannedFile]) {
    let layouts: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.bundle_path.strip_suffix("oci-layout"))
        .filter(|prefix| prefix.is_empty() || prefix.ends_with('/'))
        .map(str::to_owned)
        .collect();
    let mut memo: HashMap<String, bool> = HashMap::new();
    for file in files.iter_mut().filter(|f| f.media_type.is_empty()) {
        let folder = file
            .bundle_path
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| format!("{dir}/"));
        let inside = *memo.entry(folder.clone()).or_insert_with(|| {
            layouts
                .iter()
                .any(|layout| folder.starts_with(layout.as_str()))
        });
        file.media_type = media_type::infer(&file.bundle_path, inside).to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_from_the_walk() {
        for (root, path, rel) in [
            ("in", "in/a.yaml", "a.yaml"),
            ("in/", "in/a/b.yaml", "a/b.yaml"),
            ("./in", "./in/a/b", "a/b"),
            (".", "./a/b", "a/b"),
            ("/abs/in", "/abs/in/x/y/z.bin", "x/y/z.bin"),
        ] {
            let got = relative_utf8(Path::new(path), Path::new(root)).unwrap();
            assert_eq!(got, rel, "{root} {path}");
        }
        let bad = std::ffi::OsStr::from_bytes(b"in/caf\xe9.yaml");
        match relative_utf8(Path::new(bad), Path::new("in")) {
            Err(PackError::NonUtf8 { path }) => assert_eq!(path, Path::new(bad)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bundle_paths_are_validated() {
        assert!(validate_bundle_path("charts/a.yaml").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a\\b",
            "a\nb",
            "..",
        ] {
            assert!(validate_bundle_path(bad).is_err(), "{bad:?}");
        }
    }
}
