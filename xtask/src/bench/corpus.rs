//! The reference corpus from `<shared>/bench/make-corpus`, made once per scale and cached.

use crate::{cmd, workspace};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `make-corpus` is deterministic for a seed; the bars are stated for its default.
const SEED: &str = "1";

/// A corpus ready to be read.
#[derive(Debug)]
pub struct Corpus {
    pub dir: PathBuf,
    pub scale: f64,
    pub files: u64,
    pub bytes: u64,
}

/// The corpus for `scale` under `target/bench-corpus/scale-<F>/corpus/`, made unless a
/// previous run completed it with the same generator.
pub fn ensure(scale: f64) -> Result<Corpus> {
    let generator = workspace::shared_dir().join("bench").join("make-corpus");
    let script = fs::read(&generator).with_context(|| {
        format!(
            "cannot read the corpus generator {} (set OFFLINE_OPS_SHARED to the folder that \
             holds bench/make-corpus)",
            generator.display()
        )
    })?;

    let cache = workspace::target_dir()
        .join("bench-corpus")
        .join(format!("scale-{scale}"));
    let dir = cache.join("corpus");
    // The marker is written only after make-corpus succeeded, and names the generator's
    // content, so an interrupted run or a changed generator makes the corpus anew.
    let marker = cache.join("complete");
    let stamp = format!(
        "make-corpus --scale {scale} --seed {SEED}\ngenerator-fnv1a64 {:016x}\n",
        fnv1a64(&script)
    );

    if fs::read_to_string(&marker).ok().as_deref() == Some(stamp.as_str()) {
        println!("reusing the corpus in {}", workspace::short(&dir));
    } else {
        if cache.exists() {
            fs::remove_dir_all(&cache)
                .with_context(|| format!("cannot remove {}", cache.display()))?;
        }
        fs::create_dir_all(&cache).with_context(|| format!("cannot create {}", cache.display()))?;
        println!(
            "making the corpus (scale {scale}) in {}",
            workspace::short(&dir)
        );
        // Run through python3 so a copy of shared/ without exec bits works too.
        cmd::run(Command::new("python3").arg(&generator).arg(&dir).args([
            "--scale",
            &scale.to_string(),
            "--seed",
            SEED,
        ]))?;
        fs::write(&marker, &stamp).with_context(|| format!("cannot write {}", marker.display()))?;
    }

    let (files, bytes) = tally(&dir)?;
    if files == 0 {
        bail!("the corpus in {} is empty", dir.display());
    }
    Ok(Corpus {
        dir,
        scale,
        files,
        bytes,
    })
}

fn tally(dir: &Path) -> Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (f, b) = tally(&entry.path())?;
            files += f;
            bytes += b;
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}

/// FNV-1a, 64 bits: enough to notice a changed generator, with no hashing crate.
fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
