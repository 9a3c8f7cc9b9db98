//! `cargo xtask demo`: the main job on the bundled example inputs, checked by the system's tools.

use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const HELP: &str = "\
cargo xtask demo: pack the example Bootstrap Pack and check it with the system's tools

usage: cargo xtask demo

Removes out/, builds the tools in release mode, packs examples/bootstrap.yaml into
out/bootstrap.tar.gz (with out/bootstrap.manifest.json, out/SHA256SUMS, out/B3SUMS) with a
fixed SOURCE_DATE_EPOCH, then checks the bundle with gzip -t, tar -tvzf, sha256sum -c,
tar -xzf into out/extracted/, sha256sum -c and b3sum --check on the extracted files, the
bundle's own scripts/verify.sh, `bundle-pack inspect`, and a second pack that must give the
same bytes. Prints OK/FAILED per step; exits 1 if any step failed.
";

/// 2026-11-01T00:00:00Z, the `createdAt` of examples/bootstrap.yaml: a fixed clock is what
/// makes the bundle reproducible.
const SOURCE_DATE_EPOCH: &str = "1793491200";

const CONFIG: &str = "examples/bootstrap.yaml";
const ARCHIVE: &str = "bootstrap.tar.gz";
/// In examples/bootstrap/ but excluded by the config's `**/*.bak` rule.
const EXCLUDED: &str = "charts/scanner/values.yaml.bak";

pub fn run(mut args: Args) -> Result<ExitCode> {
    if args.help() {
        print!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    }
    args.finish()?;

    let root = workspace::root();
    let out = root.join("out");
    println!("==> removing out/");
    if out.exists() {
        fs::remove_dir_all(&out).with_context(|| format!("cannot remove {}", out.display()))?;
    }
    println!("\n==> building the tools: {}", workspace::TOOLS.join(", "));
    workspace::build_release(workspace::TOOLS)?;
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let mut steps = Steps::default();

    println!("\n==> packing {CONFIG} (SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH})");
    let manifest = match pack(&root, "out", true) {
        Ok(manifest) => {
            steps.record(
                "bundle-pack packed examples/bootstrap.yaml into out/",
                Ok(()),
            );
            manifest
        }
        Err(err) => {
            steps.record(
                "bundle-pack packed examples/bootstrap.yaml into out/",
                Err(err),
            );
            return Ok(steps.summary(&out));
        }
    };
    steps.record(
        "the manifest on stdout is the one written to -m",
        same_manifest(&manifest, &out.join("bootstrap.manifest.json")),
    );

    println!("\n==> checking the archive with the system's gzip and tar");
    steps.record(
        "gzip -t: the archive is valid gzip",
        cmd::run(Command::new("gzip").current_dir(&out).args(["-t", ARCHIVE])),
    );
    steps.record(
        "tar -tvzf: manifest.json first, owners 0/0, long path intact, *.bak left out",
        listing(&out),
    );
    steps.record(
        "sha256sum -c bootstrap.tar.gz.sha256",
        cmd::run(
            Command::new("sha256sum")
                .current_dir(&out)
                .args(["-c", "bootstrap.tar.gz.sha256"]),
        ),
    );

    println!("\n==> extracting into out/extracted/ and checking the files");
    let extracted = out.join("extracted");
    let extract = fs::create_dir_all(&extracted)
        .with_context(|| format!("cannot create {}", extracted.display()))
        .and_then(|()| {
            cmd::run(
                Command::new("tar")
                    .current_dir(&extracted)
                    .args(["-xzf", "../bootstrap.tar.gz"]),
            )
        });
    if steps.record("tar -xzf into out/extracted/", extract) {
        steps.record(
            "sha256sum -c ../SHA256SUMS (in out/extracted/)",
            cmd::run(
                Command::new("sha256sum")
                    .current_dir(&extracted)
                    .args(["-c", "../SHA256SUMS"]),
            ),
        );
        match cmd::which("b3sum") {
            Some(_) => {
                steps.record(
                    "b3sum --check ../B3SUMS (in out/extracted/)",
                    cmd::run(
                        Command::new("b3sum")
                            .current_dir(&extracted)
                            .args(["--check", "../B3SUMS"]),
                    ),
                );
            }
            None => steps.skip(
                "b3sum --check ../B3SUMS",
                "b3sum is not installed (Debian: apt-get install b3sum)",
            ),
        }
        steps.record(
            "out/extracted/ holds exactly the files of SHA256SUMS plus manifest.json",
            same_files(&extracted, &out.join("SHA256SUMS")),
        );
        steps.record(
            "the bundle's own scripts/verify.sh finds it intact",
            cmd::run(
                Command::new("sh")
                    .current_dir(&extracted)
                    .args(["scripts/verify.sh", "."]),
            ),
        );
    } else {
        steps.skip("checks of the extracted files", "nothing was extracted");
    }

    println!("\n==> bundle-pack inspect");
    steps.record(
        "bundle-pack inspect: the embedded manifest is the first entry",
        inspect(&root),
    );

    println!("\n==> packing again into target/xtask-demo/: the bytes must not change");
    steps.record(
        "a second pack gives byte-identical archive and manifest",
        repack(&root, &out, &manifest),
    );

    Ok(steps.summary(&out))
}

/// Packs the example config into `<dir>/bootstrap.tar.gz`; returns the manifest from stdout.
fn pack(root: &Path, dir: &str, with_sidecars: bool) -> Result<Vec<u8>> {
    let mut pack = Command::new(workspace::release_binary("bundle-pack"));
    pack.current_dir(root)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .args(["--config", CONFIG, "-o", &format!("{dir}/{ARCHIVE}")]);
    if with_sidecars {
        pack.args([
            "-m",
            &format!("{dir}/bootstrap.manifest.json"),
            "--sums",
            &format!("{dir}/SHA256SUMS"),
            "--b3sums",
            &format!("{dir}/B3SUMS"),
        ]);
    }
    println!(
        "$ SOURCE_DATE_EPOCH={SOURCE_DATE_EPOCH} {}",
        cmd::display(&pack)
    );
    pack.stderr(Stdio::inherit());
    let output = cmd::output(&mut pack)?;
    ensure!(
        output.status.success(),
        "bundle-pack failed ({})",
        output.status
    );
    ensure!(
        !output.stdout.is_empty(),
        "bundle-pack wrote no manifest on stdout"
    );
    Ok(output.stdout)
}

fn same_manifest(stdout: &[u8], file: &Path) -> Result<()> {
    let written = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    ensure!(
        written == stdout,
        "{} differs from the manifest on stdout",
        workspace::short(file)
    );
    let text = String::from_utf8_lossy(stdout);
    ensure!(
        text.contains("stellaops.bundle/v1"),
        "the manifest does not name schema stellaops.bundle/v1"
    );
    ensure!(
        text.contains("\"archive\""),
        "the manifest on stdout has no `archive` member"
    );
    Ok(())
}

/// `tar -tvzf`, printed, then the properties a user relies on checked on the listing.
fn listing(out: &Path) -> Result<()> {
    let mut tar = Command::new("tar");
    tar.current_dir(out).args(["-tvzf", ARCHIVE]);
    println!("$ {}", cmd::display(&tar));
    let output = cmd::output(&mut tar)?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    ensure!(
        output.status.success(),
        "tar -tvzf failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );

    let mut paths = Vec::new();
    for line in text.lines() {
        // `-rw-r--r-- 0/0  221 2026-11-01 00:00 charts/scanner/Chart.yaml`
        let fields: Vec<&str> = line.split_whitespace().collect();
        ensure!(fields.len() >= 6, "unexpected tar listing line: {line}");
        let path = fields[5..].join(" ");
        ensure!(
            fields[1] == "0/0",
            "`{path}`: owner is {}, not 0/0",
            fields[1]
        );
        paths.push(path);
    }
    ensure!(
        paths.first().map(String::as_str) == Some("manifest.json"),
        "the first entry is {:?}, not manifest.json",
        paths.first()
    );
    ensure!(
        paths
            .iter()
            .any(|p| p.len() > 100 && p.starts_with("config/policies/")),
        "no entry with a path longer than 100 bytes: the PAX path record was lost"
    );
    ensure!(
        !paths.iter().any(|p| p == EXCLUDED),
        "`{EXCLUDED}` is in the archive despite the exclude rule"
    );
    Ok(())
}

/// No file missing from, or added to, what the sums list (plus the embedded manifest).
fn same_files(extracted: &Path, sums: &Path) -> Result<()> {
    let text =
        fs::read_to_string(sums).with_context(|| format!("cannot read {}", sums.display()))?;
    let mut listed = BTreeSet::new();
    for line in text.lines() {
        listed.insert(
            sums_path(line).with_context(|| format!("{}: bad line {line:?}", sums.display()))?,
        );
    }
    listed.insert("manifest.json".to_owned());

    let mut found = BTreeSet::new();
    walk(extracted, extracted, &mut found)?;
    let missing: Vec<_> = listed.difference(&found).collect();
    let unexpected: Vec<_> = found.difference(&listed).collect();
    ensure!(missing.is_empty(), "listed but not extracted: {missing:?}");
    ensure!(
        unexpected.is_empty(),
        "extracted but not listed: {unexpected:?}"
    );
    println!("{} files, as listed", found.len());
    Ok(())
}

/// The path of one GNU sums line (`<hex>  <path>`, `<hex> *<path>`, or `\`-escaped).
fn sums_path(line: &str) -> Result<String> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let Some((hex, path)) = line.split_once(' ') else {
        bail!("no separator");
    };
    ensure!(
        !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "no digest"
    );
    let path = path.strip_prefix([' ', '*']).unwrap_or(path);
    if !escaped {
        return Ok(path.to_owned());
    }
    let mut unescaped = String::with_capacity(path.len());
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => unescaped.push('\n'),
            Some('r') => unescaped.push('\r'),
            Some('\\') => unescaped.push('\\'),
            other => bail!("bad escape \\{other:?}"),
        }
    }
    Ok(unescaped)
}

fn walk(root: &Path, dir: &Path, found: &mut BTreeSet<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, found)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            found.insert(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

fn inspect(root: &Path) -> Result<()> {
    let mut inspect = Command::new(workspace::release_binary("bundle-pack"));
    inspect
        .current_dir(root)
        .args(["inspect", &format!("out/{ARCHIVE}")]);
    println!("$ {}", cmd::display(&inspect));
    inspect.stderr(Stdio::inherit());
    let output = cmd::output(&mut inspect)?;
    ensure!(
        output.status.success(),
        "bundle-pack inspect failed ({})",
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        text.contains("stellaops.bundle/v1"),
        "inspect printed no stellaops.bundle/v1 manifest"
    );
    println!(
        "(printed the embedded manifest, {} bytes)",
        output.stdout.len()
    );
    Ok(())
}

fn repack(root: &Path, out: &Path, first_manifest: &[u8]) -> Result<()> {
    let dir = workspace::target_dir().join("xtask-demo");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let rel = dir
        .strip_prefix(root)
        .unwrap_or(&dir)
        .to_string_lossy()
        .into_owned();
    let manifest = pack(root, &rel, false)?;
    let first = fs::read(out.join(ARCHIVE)).context("cannot read out/bootstrap.tar.gz")?;
    let again =
        fs::read(dir.join(ARCHIVE)).with_context(|| format!("cannot read {rel}/{ARCHIVE}"))?;
    ensure!(
        first == again,
        "the archive bytes differ between two packs of the same inputs"
    );
    ensure!(
        manifest == first_manifest,
        "the manifest differs between two packs of the same inputs"
    );
    Ok(())
}

/// The outcome of each step, printed as it happens and again at the end.
#[derive(Debug, Default)]
struct Steps {
    done: Vec<(String, Outcome)>,
}

#[derive(Debug)]
enum Outcome {
    Ok,
    Failed(String),
    Skipped(String),
}

impl Steps {
    /// Records and prints a step; true if it passed.
    fn record(&mut self, name: &str, result: Result<()>) -> bool {
        let outcome = match result {
            Ok(()) => Outcome::Ok,
            Err(err) => Outcome::Failed(format!("{err:#}")),
        };
        println!("{}", line(name, &outcome));
        let ok = matches!(outcome, Outcome::Ok);
        self.done.push((name.to_owned(), outcome));
        ok
    }

    fn skip(&mut self, name: &str, why: &str) {
        let outcome = Outcome::Skipped(why.to_owned());
        println!("{}", line(name, &outcome));
        self.done.push((name.to_owned(), outcome));
    }

    fn summary(&self, out: &Path) -> ExitCode {
        println!("\n==> summary");
        for (name, outcome) in &self.done {
            println!("{}", line(name, outcome));
        }
        let failed = self
            .done
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
            .count();
        let archive = out.join(ARCHIVE);
        if let (Ok(meta), Ok(sums)) = (
            archive.metadata(),
            fs::read_to_string(out.join("bootstrap.tar.gz.sha256")),
        ) {
            let sha = sums.split_whitespace().next().unwrap_or("?");
            println!(
                "\nbundle: out/{ARCHIVE} ({} bytes, sha256 {sha})",
                meta.len()
            );
            println!(
                "        out/bootstrap.manifest.json, out/SHA256SUMS, out/B3SUMS, out/extracted/"
            );
        }
        if failed == 0 {
            println!("demo: all {} steps passed", self.done.len());
            ExitCode::SUCCESS
        } else {
            println!("demo: {failed} of {} steps FAILED", self.done.len());
            ExitCode::FAILURE
        }
    }
}

fn line(name: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok => format!("  OK       {name}"),
        Outcome::Failed(why) => format!("  FAILED   {name}: {why}"),
        Outcome::Skipped(why) => format!("  SKIPPED  {name}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_lines_give_their_paths() {
        let hex = "ab".repeat(32);
        assert_eq!(
            sums_path(&format!("{hex}  charts/a.yaml")).unwrap(),
            "charts/a.yaml"
        );
        assert_eq!(sums_path(&format!("{hex} *bin/tool")).unwrap(), "bin/tool");
        assert_eq!(
            sums_path(&format!("\\{hex}  a\\nb\\\\c")).unwrap(),
            "a\nb\\c"
        );
        assert!(sums_path("not a sums line").is_err());
    }
}
