//! The pack configuration: the YAML file, the short-form flags, and the settings both
//! resolve to.

use crate::error::PackError;
use crate::gzip::Level;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The YAML configuration file as written by users.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    /// Stable bundle name.
    pub bundle_id: Option<String>,
    /// `bootstrap`, `mirror`, `offline-kit`, …
    pub kind: Option<String>,
    /// Generation that must rise with every release of the same bundle.
    pub mirror_generation: Option<u64>,
    /// Who made the bundle.
    pub producer: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: Option<String>,
    /// Globs excluded from every source.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// What to pack.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
}

/// One `sources` item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceSpec {
    /// Folder or file, relative to the configuration file's folder.
    pub from: PathBuf,
    /// Prefix inside the bundle (empty: the bundle root).
    #[serde(default)]
    pub to: String,
    /// Media type for every file of this source, instead of inferring one.
    pub media_type: Option<String>,
    /// Globs (relative to `from`) left out.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// A source ready to walk.
#[derive(Debug)]
pub struct Source {
    /// Folder or file on disk.
    pub from: PathBuf,
    /// Normalised bundle prefix without leading or trailing `/` (empty: root).
    pub to: String,
    /// Configured media type, if any.
    pub media_type: Option<String>,
    /// Compiled exclude globs, matched against the path relative to `from`.
    pub exclude: GlobSet,
}

/// Everything a pack needs, resolved from the configuration file, flags and environment.
#[derive(Debug)]
pub struct Settings {
    pub bundle_id: String,
    pub kind: String,
    pub generation: u64,
    pub producer: String,
    pub created_at: String,
    pub mtime: u64,
    pub sources: Vec<Source>,
    pub output: PathBuf,
    pub manifest_out: Option<PathBuf>,
    pub sums: Option<PathBuf>,
    pub b3sums: Option<PathBuf>,
    pub level: Level,
    pub jobs: usize,
    pub follow_symlinks: bool,
    pub quiet: bool,
    /// Warnings for people, printed on stderr.
    pub warnings: Vec<String>,
}

/// Reads and parses a configuration file.
pub fn read_config(path: &Path) -> Result<ConfigFile, PackError> {
    let text = std::fs::read_to_string(path).map_err(|e| PackError::io(path, e))?;
    serde_yaml::from_str(&text).map_err(|e| PackError::Config {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Parses `DIR[=PREFIX]`.
pub fn parse_input(spec: &str) -> (PathBuf, String) {
    match spec.split_once('=') {
        Some((dir, prefix)) => (PathBuf::from(dir), prefix.to_owned()),
        None => (PathBuf::from(spec), String::new()),
    }
}

/// Compiles exclude globs; `**` crosses folders, `*` does not.
pub fn compile_globs(patterns: &[String]) -> Result<GlobSet, PackError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| PackError::Usage(format!("exclude glob `{pattern}`: {e}")))?;
        builder.add(glob);
        // `dir/**` should also drop the folder itself, so walking can skip it whole.
        if let Some(dir) = pattern.strip_suffix("/**") {
            if let Ok(glob) = Glob::new(dir) {
                builder.add(glob);
            }
        }
    }
    builder
        .build()
        .map_err(|e| PackError::Usage(format!("exclude globs: {e}")))
}

/// Normalises a bundle prefix: strips `/` at both ends, refuses `..`, `.`, empty segments
/// and anything else a bundle path may not hold.
pub fn normalize_prefix(prefix: &str) -> Result<String, PackError> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    crate::collect::validate_bundle_path(trimmed)?;
    Ok(trimmed.to_owned())
}

/// Checks a bundle id: it becomes a folder name at staging time.
pub fn validate_bundle_id(id: &str) -> Result<(), PackError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(PackError::Usage(format!(
            "bundle id `{id}`: use 1-128 letters, digits, `.`, `_` or `-`, not starting with `.`"
        )))
    }
}

/// Checks a bundle kind (`bootstrap`, `mirror`, `offline-kit`, …).
pub fn validate_kind(kind: &str) -> Result<(), PackError> {
    let ok = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(PackError::Usage(format!(
            "kind `{kind}`: use lowercase letters, digits and `-` (e.g. bootstrap, mirror, offline-kit)"
        )))
    }
}

/// Parses `--level`.
pub fn parse_level(text: &str) -> Result<Level, String> {
    match text {
        "auto" => Ok(Level::Auto),
        "0" => Ok(Level::Store),
        _ => match text.parse::<u8>() {
            Ok(n @ 1..=9) => Ok(Level::Fixed(n)),
            _ => Err(format!("`{text}`: expected 0-9 or auto")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_normalise_or_are_refused() {
        assert_eq!(normalize_prefix("/charts/").unwrap(), "charts");
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert!(normalize_prefix("a/../b").is_err());
        assert!(normalize_prefix("a//b").is_err());
        assert!(normalize_prefix("./a").is_err());
    }

    #[test]
    fn levels_parse() {
        assert_eq!(parse_level("auto").unwrap(), Level::Auto);
        assert_eq!(parse_level("0").unwrap(), Level::Store);
        assert_eq!(parse_level("9").unwrap(), Level::Fixed(9));
        assert!(parse_level("10").is_err());
        assert!(parse_level("fast").is_err());
    }

    #[test]
    fn ids_and_kinds() {
        assert!(validate_bundle_id("stellaops-bootstrap_2026.11").is_ok());
        assert!(validate_bundle_id("../x").is_err());
        assert!(validate_bundle_id("").is_err());
        assert!(validate_kind("offline-kit").is_ok());
        assert!(validate_kind("Bootstrap").is_err());
    }

    #[test]
    fn unknown_config_keys_are_refused() {
        let err = serde_yaml::from_str::<ConfigFile>("bundleId: x\nbundleID: y\n").unwrap_err();
        assert!(err.to_string().contains("bundleID"), "{err}");
    }

    #[test]
    fn exclude_globs() {
        let set = compile_globs(&["**/*.bak".into(), "tmp/**".into()]).unwrap();
        assert!(set.is_match("a.bak"));
        assert!(set.is_match("x/y/a.bak"));
        assert!(set.is_match("tmp"));
        assert!(set.is_match("tmp/a/b"));
        assert!(!set.is_match("a.yaml"));
    }
}
