//! Outputs written atomically: each goes to a temporary name in its own folder, is flushed
//! to disk, and is renamed into place only once every output of the run is ready, so a
//! failed run leaves the previous bundle and its side files as they were.

use crate::error::PackError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;

/// Temporary files not yet renamed into place, removed if the run is interrupted.
static PARTIAL_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// On Ctrl-C or SIGTERM, removes this run's temporary files and exits with 130, so an
/// interrupted pack leaves nothing behind.
pub fn remove_partial_files_on_interrupt() {
    // Failing to install the handler only means an interrupted run may leave a hidden
    // `.partial` file; it is not a reason to refuse to pack.
    let _ = ctrlc::set_handler(|| {
        if let Ok(paths) = PARTIAL_FILES.lock() {
            for path in paths.iter() {
                let _ = std::fs::remove_file(path);
            }
        }
        std::process::exit(130);
    });
}

fn register_partial(path: &Path) {
    if let Ok(mut paths) = PARTIAL_FILES.lock() {
        paths.push(path.to_owned());
    }
}

fn forget_partial(path: &Path) {
    if let Ok(mut paths) = PARTIAL_FILES.lock() {
        paths.retain(|p| p != path);
    }
}

/// An output fully written under a temporary name, waiting to be renamed into place.
#[derive(Debug)]
pub struct Staged {
    temp: NamedTempFile,
    target: PathBuf,
}

/// The folder a path lives in (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temporary file beside `target`, named so that it is clearly unfinished.
pub fn temp_beside(target: &Path) -> Result<NamedTempFile, PackError> {
    let folder = folder_of(target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(folder)
        // tempfile's message ends with the random temporary path, which means nothing to
        // the user; keep the system's reason and name the folder instead.
        .map_err(|e| {
            let text = e.to_string();
            let reason = text.split(" at path ").next().unwrap_or(&text).to_owned();
            PackError::io(folder, std::io::Error::new(e.kind(), reason))
        })?;
    register_partial(temp.path());
    Ok(temp)
}

/// Checks, before any work, that `target` can be written: its folder exists and it is not
/// itself a folder.
pub fn check_writable_target(target: &Path) -> Result<(), PackError> {
    let folder = folder_of(target);
    if !folder.is_dir() {
        return Err(PackError::Usage(format!(
            "`{}`: folder does not exist (needed for `{}`)",
            folder.display(),
            target.display()
        )));
    }
    if target.is_dir() {
        return Err(PackError::Usage(format!(
            "`{}`: is a folder, expected a file name",
            target.display()
        )));
    }
    Ok(())
}

/// Writes `bytes` under a temporary name beside `target` and flushes them to disk.
pub fn stage(target: &Path, bytes: &[u8]) -> Result<Staged, PackError> {
    let mut temp = temp_beside(target)?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| PackError::io(target, e))?;
    Ok(Staged {
        temp,
        target: target.to_owned(),
    })
}

impl Staged {
    /// Wraps an already written and flushed temporary file.
    pub fn from_temp(temp: NamedTempFile, target: &Path) -> Self {
        Self {
            temp,
            target: target.to_owned(),
        }
    }

    /// Gives the file mode 0644 (temporary files are 0600) and renames it into place.
    pub fn commit(self) -> Result<(), PackError> {
        use std::os::unix::fs::PermissionsExt;
        let target = self.target;
        self.temp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| PackError::io(&target, e))?;
        let temp_path = self.temp.path().to_owned();
        self.temp
            .persist(&target)
            .map_err(|e| PackError::io(&target, e.error))?;
        forget_partial(&temp_path);
        // Make the rename itself durable: flush the folder's entry.
        if let Ok(folder) = std::fs::File::open(folder_of(&target)) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}
