//! Small side files (manifest copy, sums, `.sha256`) written atomically: a temporary name
//! in the same folder, fsync, then rename, so no reader ever sees half a file.

use crate::error::PackError;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically with mode 0644.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PackError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".bundle-pack.")
        .suffix(".partial")
        .tempfile_in(folder)
        .map_err(|e| PackError::io(folder, e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| PackError::io(path, e))?;
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| PackError::io(path, e))?;
    }
    temp.persist(path).map_err(|e| PackError::io(path, e.error))?;
    Ok(())
}
