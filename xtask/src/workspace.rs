//! Where things are: the workspace root, the target folder, the built tools, `../shared`.

use crate::cmd;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The tools `cargo xtask demo` and the benches build. Later tools are added here.
pub const TOOLS: &[&str] = &[
    "bundle-pack",
    "mirror-sign",
    "checksum-verify",
    "netpolicy-gen",
    "aoc-verify",
];

/// The workspace root (the folder above `xtask/`).
pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Cargo's target folder, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// The project's `shared` folder (design brief, bench corpus generator): a sibling of the
/// repository unless `OFFLINE_OPS_SHARED` says otherwise.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("OFFLINE_OPS_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let sibling = root().join("..").join("shared");
            sibling.canonicalize().unwrap_or(sibling)
        }
    }
}

/// Path of a release-built tool.
pub fn release_binary(tool: &str) -> PathBuf {
    target_dir().join("release").join(tool)
}

/// `cargo build --release -p <tool>…`, then checks each binary is where we will run it from.
pub fn build_release(tools: &[&str]) -> Result<()> {
    let mut build = cmd::cargo();
    build.current_dir(root()).args(["build", "--release"]);
    for tool in tools {
        build.args(["-p", tool]);
    }
    cmd::run(&mut build)?;
    for tool in tools {
        let bin = release_binary(tool);
        bin.metadata()
            .with_context(|| format!("`{tool}` was built but {} is missing", bin.display()))?;
    }
    Ok(())
}

/// `path` relative to the workspace root when it is inside it, for shorter messages.
pub fn short(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}
