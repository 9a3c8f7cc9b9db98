//! Rollback protection (`--state DIR`): one small document per bundle id remembers the
//! generation last accepted and the digest of its manifest. A lower generation, or the same
//! generation with another manifest, is a `rollback` failure unless `--force --reason TEXT`,
//! and the override is recorded in the same document. The document is replaced atomically
//! and only after a verdict of ok.

use crate::error::VerifyError;
use crate::manifest_source::LoadedManifest;
use crate::report::Findings;
use offline_formats::schema::Document;
use offline_formats::verify_report::FailureKind;
use offline_formats::{jcs, timestamp};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Schema identifier written by this build.
pub const SCHEMA: &str = "stellaops.verify-state/v1";

/// What `--state DIR` remembers about one bundle id (`DIR/<bundleId>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyState {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The bundle id this state is for.
    pub bundle_id: String,
    /// The generation last accepted.
    pub mirror_generation: u64,
    /// `sha256:<hex>` of the accepted manifest's canonical JSON.
    pub manifest_digest: String,
    /// When it was accepted (`--now` or the clock).
    pub accepted_at: String,
    /// Every rollback accepted with `--force`, oldest first; never removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// A rollback accepted with `--force --reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Override {
    /// When it was accepted.
    pub at: String,
    /// The generation accepted before.
    pub from_generation: u64,
    /// The generation accepted by force.
    pub to_generation: u64,
    /// `sha256:<hex>` of the manifest accepted by force.
    pub manifest_digest: String,
    /// The operator's `--reason`.
    pub reason: String,
}

impl Document for VerifyState {
    const SCHEMA_NAME: &'static str = "stellaops.verify-state";
    const SCHEMA_MAJOR: u32 = 1;
    const LABEL: &'static str = "verify state";
}

/// `--state`, `--force` and `--reason` together.
#[derive(Debug, Clone)]
pub struct StateOptions {
    /// The folder holding one document per bundle id; it must exist.
    pub dir: PathBuf,
    /// `--reason` of `--force`: accept a rollback and record why.
    pub force_reason: Option<String>,
}

/// The state to write once the verdict is known to be ok.
#[derive(Debug, Clone)]
pub struct PendingState {
    path: PathBuf,
    next: VerifyState,
    /// The rollback being forced, for a message.
    pub forced: Option<Override>,
}

/// The state file for `bundle_id` in `dir`: `<bundleId>.json` when the id is a plain name,
/// else named by the id's SHA-256 so that a hostile id cannot name a path outside `dir`.
pub fn state_path(dir: &Path, bundle_id: &str) -> PathBuf {
    let plain = !bundle_id.is_empty()
        && bundle_id.len() <= 128
        && !bundle_id.starts_with('.')
        && bundle_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if plain {
        dir.join(format!("{bundle_id}.json"))
    } else {
        let digest = offline_formats::digest::sha256(bundle_id.as_bytes());
        dir.join(format!("sha256-{}.json", hex::encode(digest)))
    }
}

/// Compares the manifest with the state remembered for its bundle id; records a `rollback`
/// failure unless forced. Returns the state to write if the verdict is ok.
pub fn check(
    options: &StateOptions,
    loaded: &LoadedManifest,
    now: i64,
    findings: &mut Findings,
) -> Result<PendingState, VerifyError> {
    let dir = &options.dir;
    if !dir.is_dir() {
        return Err(VerifyError::document(
            dir,
            "--state folder does not exist (create it once, e.g. `mkdir -p` it; a missing folder is never taken as \"no history\")",
        ));
    }
    let manifest = &loaded.manifest;
    let path = state_path(dir, &manifest.bundle_id);
    let previous = read_state(&path)?;
    if let Some(previous) = &previous {
        if previous.bundle_id != manifest.bundle_id {
            return Err(VerifyError::document(
                &path,
                format!(
                    "holds the state of bundle `{}`, not `{}`",
                    previous.bundle_id, manifest.bundle_id
                ),
            ));
        }
    }
    let now_text = timestamp::format_unix(now).map_err(|e| VerifyError::Usage(e.to_string()))?;
    let mut next = VerifyState {
        schema: SCHEMA.to_owned(),
        bundle_id: manifest.bundle_id.clone(),
        mirror_generation: manifest.mirror_generation,
        manifest_digest: loaded.digest.clone(),
        accepted_at: now_text.clone(),
        overrides: previous
            .as_ref()
            .map(|p| p.overrides.clone())
            .unwrap_or_default(),
    };
    let mut forced = None;
    if let Some(previous) = &previous {
        let generation = manifest.mirror_generation;
        let same_bundle =
            generation == previous.mirror_generation && loaded.digest == previous.manifest_digest;
        if same_bundle {
            // The bundle already accepted, verified again (after transfer, or by `stage`):
            // not a rollback, and its acceptance time stays the first one.
            next.accepted_at.clone_from(&previous.accepted_at);
        } else if generation <= previous.mirror_generation {
            match &options.force_reason {
                Some(reason) => {
                    let record = Override {
                        at: now_text,
                        from_generation: previous.mirror_generation,
                        to_generation: generation,
                        manifest_digest: loaded.digest.clone(),
                        reason: reason.clone(),
                    };
                    next.overrides.push(record.clone());
                    forced = Some(record);
                }
                None => {
                    let actual = if generation == previous.mirror_generation {
                        format!(
                            "mirrorGeneration {generation} with another manifest ({}; accepted: {})",
                            loaded.digest, previous.manifest_digest
                        )
                    } else {
                        format!("mirrorGeneration {generation}")
                    };
                    findings.fail(
                        loaded.source.clone(),
                        FailureKind::Rollback,
                        Some(format!(
                            "mirrorGeneration above {} (accepted {})",
                            previous.mirror_generation, previous.accepted_at
                        )),
                        Some(actual),
                    );
                }
            }
        }
    }
    Ok(PendingState { path, next, forced })
}

fn read_state(path: &Path) -> Result<Option<VerifyState>, VerifyError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VerifyError::io(path, e)),
    };
    // A damaged state file must stop the run: taken as "no history", it would let any
    // rollback through.
    VerifyState::from_json_slice(&bytes)
        .map(Some)
        .map_err(|e| VerifyError::format(path, e))
}

impl PendingState {
    /// The document that [`PendingState::commit`] writes.
    pub fn state(&self) -> &VerifyState {
        &self.next
    }

    /// Where it is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the state: a temporary file in the same folder, synced, renamed over the old
    /// one, and the folder synced, so a crash leaves the old state or the new one.
    pub fn commit(&self) -> Result<(), VerifyError> {
        let bytes = jcs::to_pretty_vec(&self.next)
            .map_err(|e| VerifyError::Internal(format!("state document: {e}")))?;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp = tempfile::Builder::new()
            .prefix(".checksum-verify.")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| VerifyError::io(dir, e))?;
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| VerifyError::io(temp.path(), e))?;
        let _ = temp
            .as_file()
            .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        temp.persist(&self.path)
            .map_err(|e| VerifyError::io(&self.path, e.error))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| VerifyError::io(dir, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bundle_ids_cannot_leave_the_folder() {
        let dir = Path::new("/state");
        assert_eq!(
            state_path(dir, "stellaops-bootstrap"),
            dir.join("stellaops-bootstrap.json")
        );
        for hostile in ["../../etc/passwd", ".hidden", "a/b", "", "a\nb"] {
            let p = state_path(dir, hostile);
            assert_eq!(p.parent(), Some(dir), "{hostile:?}");
            assert!(p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sha256-"));
        }
    }
}
