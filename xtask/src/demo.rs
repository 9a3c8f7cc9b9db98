//! `cargo xtask demo`: the main job on the bundled example inputs, checked by the system's tools.

use crate::args::Args;
use crate::{cmd, workspace};
use anyhow::{bail, ensure, Context, Result};
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};

const HELP: &str = "\
cargo xtask demo: pack the example Bootstrap Pack, approve it 2 of 3, and check it with the
system's tools

usage: cargo xtask demo

Removes out/, builds the tools in release mode, packs examples/bootstrap.yaml into
out/bootstrap.tar.gz (with out/bootstrap.manifest.json and bundle-pack's GNU sums of the
files, out/SHA256SUMS and out/B3SUMS) with a fixed SOURCE_DATE_EPOCH, then checks the bundle
with gzip -t, tar -tvzf, sha256sum -c, tar -xzf into out/extracted/, sha256sum -c and
b3sum --check on the extracted files, the bundle's own scripts/verify.sh,
`bundle-pack inspect`, and a second pack that must give the same bytes.

Then the approval flow with mirror-sign, at fixed times so that it passes on any day:
keys for alice, bob and carol (out/keys/); a 2-of-3 trust root (out/root.json) signed by
alice and bob (out/root.dsse.json); alice signs the manifest and bob adds his signature
(out/bootstrap.dsse.json), both recorded in out/audit.jsonl; `mirror-sign verify` meets the
threshold, and refuses the envelope with alice's signature alone; `mirror-sign sums` writes
the signed sums into out/signify/, which signify-openbsd -C checks there against the archive
and the files extracted beside it; `mirror-sign attest` writes out/bootstrap.intoto.json,
whose signature OpenSSL checks; `mirror-sign audit verify` finds the log intact, and a
tampered copy of it broken.

Then the sealed site with checksum-verify: the approved archive is verified without
extracting it (report in out/bootstrap.checksum-verify.json), alice's envelope alone, a copy
with one byte changed and an unlisted file in out/extracted/ are refused, and the bundle is
staged twice into the file:// object store out/store/ (activated by its receipt.json; the
second run uploads nothing).

Last, sealed egress with netpolicy-gen: policies for every target from
examples/netpolicy/sealed.yaml into out/netpolicy/, linted clean; a policy with `egress: [{}]`
flagged; the evaluator allows the allow-listed object store and denies an outside address;
out/sealed-verify.sh is valid `sh`.

And the Aggregation-Only Contract with aoc-verify: the example exports in examples/aoc/ are
clean (exit 0, report in out/aoc-clean.json); the exports with violations give every code
ERR_AOC_001…007 (exit 1, CI artefacts in out/aoc/: aoc-report.json, violations.ndjson,
junit.xml, aoc.prom); `aoc-verify guard` passes the clean documents of a stream
(out/aoc-guard-passed.ndjson) and rejects the others with their violations
(out/aoc-guard-rejects.ndjson). Prints OK/FAILED per step; exits 1 if any step failed.
";

/// 2026-11-01T00:00:00Z, the `createdAt` of examples/bootstrap.yaml: a fixed clock is what
/// makes the bundle reproducible.
const SOURCE_DATE_EPOCH: &str = "1793491200";

const CONFIG: &str = "examples/bootstrap.yaml";
const ARCHIVE: &str = "bootstrap.tar.gz";
/// In examples/bootstrap/ but excluded by the config's `**/*.bak` rule.
const EXCLUDED: &str = "charts/scanner/values.yaml.bak";

/// The approval flow's fixed clock, so that the demo passes on any day. The keys and the
/// trust root are valid from the bundle's `createdAt` for 12 months: keys live at most 12
/// months, and a root never outlives the keys that can replace it (the key rotation runbook;
/// `trust init` warns otherwise). `verify` judges at `NOW`, inside that window.
const NOT_BEFORE: &str = "2026-11-01T00:00:00Z";
const EXPIRES: &str = "2027-11-01T00:00:00Z";
const NOW: &str = "2026-11-28T00:00:00Z";

/// The root key holders; the first two approve the bundle, carol does not.
const APPROVERS: [&str; 3] = ["alice", "bob", "carol"];
const AUDIT: &str = "out/audit.jsonl";
/// `mirror-sign sums` writes here: the folder a sealed site checks with `signify -C`, holding
/// the signed sums, the archive, and the files extracted beside it. It is not out/ itself,
/// where bundle-pack's GNU `SHA256SUMS` of the files is.
const SIGNIFY_DIR: &str = "out/signify";

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
    let Some(manifest) = steps.value(
        "bundle-pack packed examples/bootstrap.yaml into out/",
        pack(&root, "out", true),
    ) else {
        return Ok(steps.summary(&out));
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
            "sha256sum -c ../SHA256SUMS, bundle-pack's sums of the files (in out/extracted/)",
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

    approval(&mut steps, &root, &out);
    sealed_site(&mut steps, &root, &out);
    sealed_egress(&mut steps, &root, &out);
    aoc_contract(&mut steps, &root, &out);

    Ok(steps.summary(&out))
}

/// The approval flow on the packed bundle: keys, a 2-of-3 trust root, two approvers, verify,
/// signed sums checked with signify, provenance checked with OpenSSL, and the audit log. A
/// stage that fails skips the stages that need its output.
fn approval(steps: &mut Steps, root: &Path, out: &Path) {
    println!("\n==> mirror-sign keygen: a key for each of alice, bob and carol");
    if !steps.record(
        "mirror-sign keygen: alice, bob, carol in out/keys/ (private keys 0600)",
        keygen(root, out),
    ) {
        steps.skip("the approval flow", "no keys");
        return;
    }

    println!("\n==> the trust root: any 2 of alice, bob and carol; alice and bob sign it");
    if !steps.record(
        "mirror-sign trust init --threshold 2 (out/root.json), signed by alice and bob \
         (out/root.dsse.json)",
        trust_root(root),
    ) {
        steps.skip("the approval of the bundle", "no trust root");
        return;
    }

    println!("\n==> approving the bundle: alice signs the manifest, bob adds his signature");
    if !steps.record(
        "mirror-sign sign by alice then bob: out/bootstrap.dsse.json, both in out/audit.jsonl",
        approve(root),
    ) {
        steps.skip("the checks of the approval", "the bundle was not signed");
        return;
    }

    println!("\n==> mirror-sign verify against out/root.dsse.json at {NOW}");
    let verified = steps.record(
        "mirror-sign verify: signed by alice and bob, any 2 of 3 required: threshold met (exit 0)",
        verify(root, out),
    );
    steps.record(
        "mirror-sign verify of alice's signature alone: threshold not met (exit 1)",
        verify_alone(root),
    );

    println!("\n==> signed sums for signify in {SIGNIFY_DIR}/, checked as a sealed site would");
    signed_sums(steps, root, out);

    println!("\n==> provenance: mirror-sign attest");
    if steps.record(
        "mirror-sign attest: out/bootstrap.intoto.json (in-toto Statement v1 in DSSE)",
        attest(root),
    ) {
        match (cmd::which("python3"), cmd::which("openssl"), verified) {
            (Some(_), Some(_), true) => {
                steps.record(
                    "python3 + openssl: the statement names the archive and the approved \
                     manifest, alice's signature verifies",
                    check_attestation(root),
                );
            }
            (_, _, false) => steps.skip(
                "the check of the attestation",
                "no verify report to compare the manifest digest with",
            ),
            _ => steps.skip(
                "the check of the attestation",
                "python3 or openssl is not installed (Debian: apt-get install python3 openssl)",
            ),
        }
    }

    println!("\n==> the audit log");
    steps.record(
        "mirror-sign audit verify out/audit.jsonl: 5 lines, chain intact (exit 0)",
        audit_verify(root),
    );
    steps.record(
        "mirror-sign audit verify of a copy with line 2 edited: names it (exit 1)",
        audit_tampered(root, out),
    );
}

/// The sealed site: `checksum-verify` checks the approved bundle without extracting it, the
/// extracted files against the manifest, refuses a changed byte, a short approval and an
/// unlisted file, then stages the bundle into a file:// object store, twice (the second run
/// finds it active and uploads nothing).
fn sealed_site(steps: &mut Steps, root: &Path, out: &Path) {
    println!("\n==> the sealed site: checksum-verify and checksum-verify stage");
    if !out.join("bootstrap.dsse.json").exists() || !out.join("root.dsse.json").exists() {
        steps.skip("the sealed-site checks", "the bundle was not approved");
        return;
    }
    steps.record(
        "checksum-verify --envelope out/bootstrap.dsse.json --trust out/root.dsse.json \
         out/bootstrap.tar.gz: streamed, approved 2 of 3, every file matches (exit 0)",
        site_verify(root, out),
    );
    steps.record(
        "checksum-verify of alice's envelope alone: a `signature` failure (exit 1)",
        site_verify_alone(root),
    );
    steps.record(
        "checksum-verify of a copy of the archive with one byte changed: refused (exit 1)",
        site_tampered(root, out),
    );
    steps.record(
        "checksum-verify --manifest out/bootstrap.manifest.json out/extracted/: intact (exit 0)",
        run_tool(
            "checksum-verify",
            root,
            &["--manifest", "out/bootstrap.manifest.json", "out/extracted"],
            None,
            None,
        )
        .and_then(|ran| ran.exit(0)),
    );
    steps.record(
        "an unlisted file dropped into out/extracted/ is reported `unexpected` (exit 1)",
        site_unlisted(root, out),
    );
    let store = out.join("store");
    let to = format!("file://{}", store.display());
    let stage = |root: &Path| {
        run_tool(
            "checksum-verify",
            root,
            &[
                "stage",
                "--envelope",
                "out/bootstrap.dsse.json",
                "--trust",
                "out/root.dsse.json",
                "--now",
                NOW,
                "--operator",
                "operator",
                "--to",
                &to,
                "out/bootstrap.tar.gz",
            ],
            None,
            None,
        )
    };
    let staged = steps.record(
        "checksum-verify stage --to file://…/out/store: verified while stored, activated by \
         receipt.json (exit 0)",
        stage(root).and_then(|ran| {
            ran.exit(0)?;
            let receipt = store.join("stellaops-bootstrap/1/receipt.json");
            let text = fs::read_to_string(&receipt)
                .with_context(|| format!("no receipt at {}", receipt.display()))?;
            ensure!(
                text.contains("\"decision\": \"accepted\""),
                "{} does not record an accepted decision",
                receipt.display()
            );
            Ok(())
        }),
    );
    if staged {
        steps.record(
            "checksum-verify stage again: already active, nothing uploaded (exit 0)",
            stage(root).and_then(|ran| {
                ran.exit(0)?;
                ensure!(
                    ran.stderr.contains("already active; 0 objects uploaded"),
                    "the rerun did not report an active generation with nothing uploaded"
                );
                Ok(())
            }),
        );
    }
}

/// Sealed egress with netpolicy-gen: policies for every target from the example spec, linted
/// clean; a wide-open policy flagged; the evaluator allows the allow-listed endpoint and denies
/// an outside one; the sealed-mode verifier script is valid `sh`.
fn sealed_egress(steps: &mut Steps, root: &Path, out: &Path) {
    println!("\n==> sealed egress: netpolicy-gen");
    let generated = steps.record(
        "netpolicy-gen generate --spec examples/netpolicy/sealed.yaml --target all: \
         out/netpolicy/, file list with policyHash in out/netpolicy.files.json",
        run_tool(
            "netpolicy-gen",
            root,
            &[
                "generate",
                "--spec",
                "examples/netpolicy/sealed.yaml",
                "--target",
                "all",
                "--out",
                "out/netpolicy",
            ],
            None,
            Some("out/netpolicy.files.json"),
        )
        .and_then(|ran| ran.exit(0))
        .and_then(|()| {
            let list = fs::read_to_string(out.join("netpolicy.files.json"))
                .context("cannot read out/netpolicy.files.json")?;
            ensure!(
                list.contains("\"policyHash\": \"sha256:"),
                "out/netpolicy.files.json has no policyHash"
            );
            Ok(())
        }),
    );
    if !generated {
        steps.skip(
            "the checks of the generated policies",
            "nothing was generated",
        );
        return;
    }
    steps.record(
        "netpolicy-gen lint of the generated Kubernetes and Cilium policies: no finding (exit 0)",
        policy_files(out).and_then(|files| {
            let mut args = vec!["lint"];
            args.extend(files.iter().map(String::as_str));
            run_tool("netpolicy-gen", root, &args, None, None)?.exit(0)
        }),
    );
    steps.record(
        "netpolicy-gen lint of a policy with `egress: [{}]`: flagged (exit 1)",
        open_policy_flagged(root, out),
    );
    let eval = |to: &str, expect: &str| {
        run_tool(
            "netpolicy-gen",
            root,
            &[
                "eval",
                "--policies",
                "out/netpolicy/k8s",
                "--from",
                "stellaops/app=scanner",
                "--to",
                to,
                "--expect",
                expect,
            ],
            None,
            None,
        )
        .and_then(|ran| ran.exit(0))
    };
    steps.record(
        "netpolicy-gen eval: stellaops → 10.20.0.5:9000/TCP (object store) allowed",
        eval("10.20.0.5:9000/TCP", "allow"),
    );
    steps.record(
        "netpolicy-gen eval: stellaops → 93.184.216.34:443/TCP (outside) denied",
        eval("93.184.216.34:443/TCP", "deny"),
    );
    steps.record(
        "netpolicy-gen verify-script > out/sealed-verify.sh: valid POSIX sh (sh -n)",
        run_tool(
            "netpolicy-gen",
            root,
            &["verify-script", "--spec", "examples/netpolicy/sealed.yaml"],
            None,
            Some("out/sealed-verify.sh"),
        )
        .and_then(|ran| ran.exit(0))
        .and_then(|()| {
            cmd::run(
                Command::new("sh")
                    .current_dir(root)
                    .args(["-n", "out/sealed-verify.sh"]),
            )
        }),
    );
}

/// The Aggregation-Only Contract on the example exports: clean ones pass, the ones with
/// violations show every code, and the guard splits a stream.
fn aoc_contract(steps: &mut Steps, root: &Path, out: &Path) {
    println!("\n==> the Aggregation-Only Contract: aoc-verify");
    steps.record(
        "aoc-verify of the clean advisory_raw and vex_raw exports: no violation (exit 0)",
        run_tool(
            "aoc-verify",
            root,
            &[
                "examples/aoc/advisory_raw.ndjson",
                "examples/aoc/vex_raw.ndjson",
            ],
            None,
            Some("out/aoc-clean.json"),
        )
        .and_then(|ran| ran.exit(0)),
    );
    steps.record(
        "aoc-verify of the exports with violations: ERR_AOC_001…007 (exit 1), artefacts in out/aoc/",
        run_tool(
            "aoc-verify",
            root,
            &[
                "--format",
                "table",
                "--report-dir",
                "out/aoc",
                "examples/aoc/bad-advisory_raw.ndjson",
                "examples/aoc/bad-vex_raw.ndjson",
            ],
            None,
            None,
        )
        .and_then(|ran| {
            ran.exit(1)?;
            print!("{}", ran.stdout);
            let report = fs::read_to_string(out.join("aoc/aoc-report.json"))
                .context("cannot read out/aoc/aoc-report.json")?;
            for code in 1..=7 {
                let code = format!("\"ERR_AOC_00{code}\": ");
                ensure!(report.contains(&code), "out/aoc/aoc-report.json has no {code}");
            }
            for name in ["violations.ndjson", "junit.xml", "aoc.prom"] {
                ensure!(out.join("aoc").join(name).is_file(), "out/aoc/{name} is missing");
            }
            Ok(())
        }),
    );
    steps.record(
        "aoc-verify guard: clean documents pass byte for byte, the others are rejected (exit 1)",
        run_tool(
            "aoc-verify",
            root,
            &[
                "guard",
                "--collection",
                "advisory_raw",
                "--rejects",
                "out/aoc-guard-rejects.ndjson",
            ],
            Some("examples/aoc/bad-advisory_raw.ndjson"),
            Some("out/aoc-guard-passed.ndjson"),
        )
        .and_then(|ran| {
            ran.exit(1)?;
            let input = fs::read_to_string(root.join("examples/aoc/bad-advisory_raw.ndjson"))?;
            let passed = fs::read_to_string(out.join("aoc-guard-passed.ndjson"))?;
            let rejected = fs::read_to_string(out.join("aoc-guard-rejects.ndjson"))?;
            ensure!(
                !passed.is_empty() && !rejected.is_empty(),
                "nothing passed or nothing rejected"
            );
            for line in passed.lines() {
                ensure!(
                    input.lines().any(|l| l == line),
                    "a passed line is not a line of the input"
                );
            }
            ensure!(
                passed.lines().count() + rejected.lines().count() == input.lines().count(),
                "every input line is passed or rejected"
            );
            Ok(())
        }),
    );
}

/// The generated Kubernetes and Cilium policy files, relative to the workspace root.
fn policy_files(out: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for target in ["k8s", "cilium"] {
        let dir = out.join("netpolicy").join(target);
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let name = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".yaml") {
                files.push(format!("out/netpolicy/{target}/{name}"));
            }
        }
    }
    files.sort();
    ensure!(!files.is_empty(), "no policy files in out/netpolicy/");
    Ok(files)
}

fn open_policy_flagged(root: &Path, out: &Path) -> Result<()> {
    let open = out.join("netpolicy-open.yaml");
    fs::write(
        &open,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-all-egress\n  \
         namespace: stellaops\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{}]\n",
    )
    .with_context(|| format!("cannot write {}", open.display()))?;
    let ran = run_tool(
        "netpolicy-gen",
        root,
        &["lint", "out/netpolicy-open.yaml"],
        None,
        None,
    )?;
    ran.exit(1)?;
    ensure!(
        ran.stdout.contains("allow-all-egress"),
        "the lint report does not name the policy"
    );
    Ok(())
}

/// `checksum-verify` of the archive against `envelope` and the demo's trust root, at `NOW`.
fn verify_signed(root: &Path, envelope: &str, stdout: Option<&str>) -> Result<Ran> {
    run_tool(
        "checksum-verify",
        root,
        &[
            "--envelope",
            envelope,
            "--trust",
            "out/root.dsse.json",
            "--now",
            NOW,
            "out/bootstrap.tar.gz",
        ],
        None,
        stdout,
    )
}

fn site_verify(root: &Path, out: &Path) -> Result<()> {
    verify_signed(
        root,
        "out/bootstrap.dsse.json",
        Some("out/bootstrap.checksum-verify.json"),
    )?
    .exit(0)?;
    let report = fs::read_to_string(out.join("bootstrap.checksum-verify.json"))
        .context("cannot read out/bootstrap.checksum-verify.json")?;
    ensure!(
        report.contains("\"ok\": true"),
        "out/bootstrap.checksum-verify.json does not say ok"
    );
    println!("report in out/bootstrap.checksum-verify.json: ok");
    Ok(())
}

fn site_verify_alone(root: &Path) -> Result<()> {
    let ran = verify_signed(root, "out/bootstrap.alice.dsse.json", None)?;
    ran.exit(1)?;
    ensure!(
        ran.stdout.contains("\"kind\": \"signature\""),
        "the report does not name a signature failure"
    );
    Ok(())
}

fn site_tampered(root: &Path, out: &Path) -> Result<()> {
    let mut bytes = fs::read(out.join(ARCHIVE)).context("cannot read out/bootstrap.tar.gz")?;
    // A byte well inside the archive, past the manifest entry.
    let at = bytes.len() * 2 / 3;
    bytes[at] ^= 0x20;
    let copy = out.join("tampered.tar.gz");
    fs::write(&copy, &bytes).with_context(|| format!("cannot write {}", copy.display()))?;
    let ran = run_tool(
        "checksum-verify",
        root,
        &[
            "--manifest",
            "out/bootstrap.manifest.json",
            "out/tampered.tar.gz",
        ],
        None,
        None,
    );
    fs::remove_file(&copy).with_context(|| format!("cannot remove {}", copy.display()))?;
    let ran = ran?;
    ran.exit(1)?;
    ensure!(
        ran.stdout.contains("\"ok\": false"),
        "the report does not say the archive failed"
    );
    Ok(())
}

fn site_unlisted(root: &Path, out: &Path) -> Result<()> {
    let extra = out.join("extracted").join("UNLISTED.txt");
    fs::write(&extra, "not in the manifest\n")
        .with_context(|| format!("cannot write {}", extra.display()))?;
    let ran = run_tool(
        "checksum-verify",
        root,
        &["--manifest", "out/bootstrap.manifest.json", "out/extracted"],
        None,
        None,
    );
    fs::remove_file(&extra).with_context(|| format!("cannot remove {}", extra.display()))?;
    let ran = ran?;
    ran.exit(1)?;
    ensure!(
        ran.stdout.contains("\"kind\": \"unexpected\"")
            && ran.stdout.contains("\"path\": \"UNLISTED.txt\""),
        "the report does not name UNLISTED.txt as unexpected"
    );
    Ok(())
}

fn keygen(root: &Path, out: &Path) -> Result<()> {
    for name in APPROVERS {
        let ran = mirror_sign(
            root,
            &["keygen", "--key-id", name, "--out", "out/keys"],
            None,
            None,
        )?;
        ran.exit(0)?;
        let fingerprint =
            json_str(&ran.stdout, "fingerprint").context("keygen printed no fingerprint")?;
        println!("{name}: {fingerprint}");
        let key = out.join("keys").join(format!("{name}.key"));
        let meta = key
            .metadata()
            .with_context(|| format!("cannot stat {}", workspace::short(&key)))?;
        let mode = meta.permissions().mode() & 0o777;
        ensure!(
            mode == 0o600,
            "{}: mode {mode:o}, not 600",
            workspace::short(&key)
        );
    }
    Ok(())
}

fn trust_root(root: &Path) -> Result<()> {
    let keys: Vec<String> = APPROVERS
        .iter()
        .map(|name| format!("out/keys/{name}.pub"))
        .collect();
    let mut args = vec!["trust", "init", "--threshold", "2"];
    for key in &keys {
        args.extend(["--key", key.as_str()]);
    }
    args.extend(["--not-before", NOT_BEFORE, "--expires", EXPIRES]);
    mirror_sign(root, &args, None, Some("out/root.json"))?.exit(0)?;
    // Each holder signs on their own machine and passes the envelope on.
    mirror_sign(
        root,
        &["sign", "--key", "out/keys/alice.key"],
        Some("out/root.json"),
        Some("out/root.alice.dsse.json"),
    )?
    .exit(0)?;
    mirror_sign(
        root,
        &["sign", "--key", "out/keys/bob.key"],
        Some("out/root.alice.dsse.json"),
        Some("out/root.dsse.json"),
    )?
    .exit(0)
}

fn approve(root: &Path) -> Result<()> {
    mirror_sign(
        root,
        &[
            "sign",
            "--key",
            "out/keys/alice.key",
            "--audit",
            AUDIT,
            "--actor",
            "alice",
        ],
        Some("out/bootstrap.manifest.json"),
        Some("out/bootstrap.alice.dsse.json"),
    )?
    .exit(0)?;
    mirror_sign(
        root,
        &[
            "sign",
            "--key",
            "out/keys/bob.key",
            "--audit",
            AUDIT,
            "--actor",
            "bob",
        ],
        Some("out/bootstrap.alice.dsse.json"),
        Some("out/bootstrap.dsse.json"),
    )?
    .exit(0)
}

fn verify(root: &Path, out: &Path) -> Result<()> {
    mirror_sign(
        root,
        &[
            "verify",
            "--trust",
            "out/root.dsse.json",
            "--now",
            NOW,
            "--audit",
            AUDIT,
            "--actor",
            "operator",
        ],
        Some("out/bootstrap.dsse.json"),
        Some("out/bootstrap.verify.json"),
    )?
    .exit(0)?;
    let report = fs::read_to_string(out.join("bootstrap.verify.json"))
        .context("cannot read out/bootstrap.verify.json")?;
    ensure!(
        report.contains("\"ok\": true") && report.contains("\"valid\": 2"),
        "out/bootstrap.verify.json does not say ok with 2 valid signatures"
    );
    let signed_by = ["alice", "bob"].map(|name| format!("\"keyid\": \"{name}\""));
    ensure!(
        signed_by
            .iter()
            .all(|keyid| report.contains(keyid.as_str())),
        "out/bootstrap.verify.json does not name alice and bob"
    );
    println!("report in out/bootstrap.verify.json: ok, valid 2 (alice, bob), threshold 2");
    Ok(())
}

fn verify_alone(root: &Path) -> Result<()> {
    let ran = mirror_sign(
        root,
        &[
            "verify",
            "--trust",
            "out/root.dsse.json",
            "--now",
            NOW,
            "out/bootstrap.alice.dsse.json",
        ],
        None,
        None,
    )?;
    ran.exit(1)?;
    ensure!(
        ran.stdout.contains("\"ok\": false") && ran.stdout.contains("threshold-not-met"),
        "the report does not say threshold-not-met"
    );
    ensure!(
        ran.stderr.contains("threshold not met: 1 of the 2"),
        "stderr does not say the threshold was not met"
    );
    Ok(())
}

/// `mirror-sign sums` and `pub --format signify`, then the stock `signify -C` in
/// out/signify/: the archive alone before extraction, then the archive and every file.
fn signed_sums(steps: &mut Steps, root: &Path, out: &Path) {
    let Some(entries) = steps.value(
        "mirror-sign sums: out/signify/SHA256SUMS and SHA256SUMS.sig (the archive and the files)",
        sums(root),
    ) else {
        return;
    };
    if !steps.record(
        "mirror-sign pub --format signify: out/keys/alice.signify.pub",
        signify_pub(root, out),
    ) {
        return;
    }
    if cmd::which("signify-openbsd").is_none() {
        steps.skip(
            "signify-openbsd -C in out/signify/",
            "signify-openbsd is not installed (Debian: apt-get install signify-openbsd)",
        );
        return;
    }
    let dir = root.join(SIGNIFY_DIR);
    println!("$ cp out/{ARCHIVE} {SIGNIFY_DIR}/");
    let copied = fs::copy(out.join(ARCHIVE), dir.join(ARCHIVE))
        .map(drop)
        .with_context(|| format!("cannot copy out/{ARCHIVE} into {SIGNIFY_DIR}/"));
    if !steps.record(
        "signify-openbsd -C … bootstrap.tar.gz (in out/signify/, before extraction): the archive",
        copied.and_then(|()| signify_check(&dir, &[ARCHIVE], 1)),
    ) {
        return;
    }
    if steps.record(
        "tar -xzf bootstrap.tar.gz (in out/signify/, beside the archive)",
        cmd::run(
            Command::new("tar")
                .current_dir(&dir)
                .args(["-xzf", ARCHIVE]),
        ),
    ) {
        steps.record(
            "signify-openbsd -C (in out/signify/): signature verified, the archive and every file OK",
            signify_check(&dir, &[], entries),
        );
    }
}

/// Runs `mirror-sign sums`; returns how many lines SHA256SUMS has.
fn sums(root: &Path) -> Result<usize> {
    println!("$ mkdir {SIGNIFY_DIR}");
    fs::create_dir_all(root.join(SIGNIFY_DIR))
        .with_context(|| format!("cannot create {SIGNIFY_DIR}"))?;
    let out_dir = format!("{SIGNIFY_DIR}/");
    let ran = mirror_sign(
        root,
        &[
            "sums",
            "--key",
            "out/keys/alice.key",
            "--out",
            &out_dir,
            "--audit",
            AUDIT,
            "--actor",
            "alice",
        ],
        Some("out/bootstrap.manifest.json"),
        None,
    )?;
    print!("{}", ran.stdout);
    ran.exit(0)?;
    let entries = json_number(&ran.stdout, "entries").context("sums printed no `entries`")?;
    ensure!(entries > 1, "SHA256SUMS has {entries} lines");
    Ok(entries)
}

fn signify_pub(root: &Path, out: &Path) -> Result<()> {
    mirror_sign(
        root,
        &["pub", "--key", "out/keys/alice.key", "--format", "signify"],
        None,
        Some("out/keys/alice.signify.pub"),
    )?
    .exit(0)?;
    let text = fs::read_to_string(out.join("keys/alice.signify.pub"))
        .context("cannot read out/keys/alice.signify.pub")?;
    print!("{text}");
    ensure!(
        text.starts_with("untrusted comment: ") && text.lines().count() == 2,
        "out/keys/alice.signify.pub is not a signify public key file"
    );
    Ok(())
}

/// `signify -C` in `dir`, on `names` (every listed file when empty); `ok` lines must say OK.
fn signify_check(dir: &Path, names: &[&str], ok: usize) -> Result<()> {
    let mut signify = Command::new("signify-openbsd");
    signify
        .current_dir(dir)
        .args([
            "-C",
            "-p",
            "../keys/alice.signify.pub",
            "-x",
            "SHA256SUMS.sig",
        ])
        .args(names);
    println!("$ {}", cmd::display(&signify));
    let output = cmd::output(&mut signify)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    ensure!(
        output.status.success(),
        "signify-openbsd -C failed ({})",
        output.status
    );
    ensure!(
        stdout.lines().next() == Some("Signature Verified"),
        "signify did not say `Signature Verified`"
    );
    let checked = stdout.lines().filter(|l| l.ends_with(": OK")).count();
    ensure!(checked == ok, "{checked} files OK, not {ok}");
    Ok(())
}

fn attest(root: &Path) -> Result<()> {
    mirror_sign(
        root,
        &[
            "attest",
            "--key",
            "out/keys/alice.key",
            "--archive",
            &format!("out/{ARCHIVE}"),
            "--audit",
            AUDIT,
            "--actor",
            "alice",
        ],
        Some("out/bootstrap.manifest.json"),
        Some("out/bootstrap.intoto.json"),
    )?
    .exit(0)
}

/// An outside check of the attestation: Python reads the envelope and the statement, OpenSSL
/// verifies the Ed25519 signature over DSSE's PAE with alice's public key.
const CHECK_ATTESTATION: &str = r#"
import base64, json, os, subprocess, sys, tempfile
envelope, public_key, archive_sums, report = sys.argv[1:5]
def fail(message):
    sys.exit("check-attestation: " + message)
env = json.load(open(envelope))
payload_type = env["payloadType"]
if payload_type != "application/vnd.in-toto+json":
    fail("payloadType is %r" % payload_type)
body = base64.b64decode(env["payload"], validate=True)
statement = json.loads(body)
if statement["_type"] != "https://in-toto.io/Statement/v1":
    fail("_type is %r" % statement["_type"])
archive_sha256 = open(archive_sums).read().split()[0]
subjects = [(s["name"], s["digest"].get("sha256")) for s in statement["subject"]]
if subjects != [("bootstrap.tar.gz", archive_sha256)]:
    fail("subject is %r, not the archive with sha256 %s" % (subjects, archive_sha256))
approved = json.load(open(report))["payloadDigest"]
if statement["predicate"]["manifestDigest"] != approved:
    fail("manifestDigest is %s, not the approved payload %s"
         % (statement["predicate"]["manifestDigest"], approved))
print("subject: bootstrap.tar.gz sha256:%s, manifestDigest: %s (the approved payload)"
      % (archive_sha256, approved))
t = payload_type.encode()
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
if len(env["signatures"]) != 1:
    fail("%d signatures, not 1" % len(env["signatures"]))
with tempfile.TemporaryDirectory() as tmp:
    pae_file, sig_file = os.path.join(tmp, "pae"), os.path.join(tmp, "sig")
    with open(pae_file, "wb") as f:
        f.write(pae)
    with open(sig_file, "wb") as f:
        f.write(base64.b64decode(env["signatures"][0]["sig"], validate=True))
    verified = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public_key,
                               "-rawin", "-in", pae_file, "-sigfile", sig_file])
    if verified.returncode != 0:
        fail("openssl pkeyutl -verify failed")
"#;

fn check_attestation(root: &Path) -> Result<()> {
    let files = [
        "out/bootstrap.intoto.json",
        "out/keys/alice.pub",
        "out/bootstrap.tar.gz.sha256",
        "out/bootstrap.verify.json",
    ];
    println!(
        "$ python3 -c \"$CHECK_ATTESTATION\" {}   # the script is in xtask/src/demo.rs",
        files.join(" ")
    );
    cmd::output(
        Command::new("python3")
            .current_dir(root)
            .args(["-c", CHECK_ATTESTATION])
            .args(files)
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit()),
    )
    .and_then(|output| {
        ensure!(
            output.status.success(),
            "the attestation check failed ({})",
            output.status
        );
        Ok(())
    })
}

fn audit_verify(root: &Path) -> Result<()> {
    let ran = mirror_sign(root, &["audit", "verify", AUDIT], None, None)?;
    print!("{}", ran.stdout);
    ran.exit(0)?;
    // sign (alice), sign (bob), verify (operator), sums and attest (alice).
    ensure!(
        ran.stdout.contains("\"ok\": true") && ran.stdout.contains("\"lines\": 5"),
        "the report does not say ok with 5 lines"
    );
    Ok(())
}

fn audit_tampered(root: &Path, out: &Path) -> Result<()> {
    let log = fs::read_to_string(out.join("audit.jsonl")).context("cannot read out/audit.jsonl")?;
    let (from, to) = ("\"actor\":\"bob\"", "\"actor\":\"mallory\"");
    let mut lines: Vec<String> = log.lines().map(|line| format!("{line}\n")).collect();
    let Some(line) = lines.get_mut(1).filter(|line| line.contains(from)) else {
        bail!("line 2 of out/audit.jsonl is not bob's signature");
    };
    *line = line.replacen(from, to, 1);
    let tampered = lines.concat();
    println!("$ sed '2s/{from}/{to}/' out/audit.jsonl > out/audit.tampered.jsonl");
    fs::write(out.join("audit.tampered.jsonl"), tampered)
        .context("cannot write out/audit.tampered.jsonl")?;
    let ran = mirror_sign(
        root,
        &["audit", "verify", "out/audit.tampered.jsonl"],
        None,
        None,
    )?;
    ran.exit(1)?;
    ensure!(
        ran.stderr.contains("line 2 was edited"),
        "stderr does not name line 2 as edited"
    );
    Ok(())
}

/// A finished tool run: its exit status, stdout (unless it went to a file), stderr.
#[derive(Debug)]
struct Ran {
    tool: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn exit(&self, code: i32) -> Result<()> {
        ensure!(
            self.status.code() == Some(code),
            "{} exited with {}, not {code}: {}",
            self.tool,
            self.status,
            self.stderr.trim()
        );
        Ok(())
    }
}

/// Runs `mirror-sign` in the workspace root; see [`run_tool`].
fn mirror_sign(
    root: &Path,
    args: &[&str],
    stdin: Option<&str>,
    stdout: Option<&str>,
) -> Result<Ran> {
    run_tool("mirror-sign", root, args, stdin, stdout)
}

/// Runs one of the built tools in the workspace root, printed as the shell line that does
/// the same: `stdin` and `stdout` name files (stdout is captured when `None`). Its stderr is
/// captured and shown.
fn run_tool(
    tool: &str,
    root: &Path,
    args: &[&str],
    stdin: Option<&str>,
    stdout: Option<&str>,
) -> Result<Ran> {
    let mut run = Command::new(workspace::release_binary(tool));
    run.current_dir(root).args(args);
    let mut shown = cmd::display(&run);
    if let Some(path) = stdin {
        let file = File::open(root.join(path)).with_context(|| format!("cannot read {path}"))?;
        run.stdin(file);
        shown.push_str(&format!(" < {path}"));
    }
    if let Some(path) = stdout {
        let file =
            File::create(root.join(path)).with_context(|| format!("cannot create {path}"))?;
        run.stdout(file);
        shown.push_str(&format!(" > {path}"));
    }
    println!("$ {shown}");
    let output = cmd::output(&mut run)?;
    let ran = Ran {
        tool: tool.to_owned(),
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    eprint!("{}", ran.stderr);
    Ok(ran)
}

/// The string value of `"member": "…"` in pretty JSON printed by a tool (no escapes in it).
fn json_str<'a>(json: &'a str, member: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{member}\": \""))? + member.len() + 5;
    let rest = &json[start..];
    Some(&rest[..rest.find('"')?])
}

/// The integer value of `"member": N` in pretty JSON printed by a tool.
fn json_number(json: &str, member: &str) -> Option<usize> {
    let start = json.find(&format!("\"{member}\": "))? + member.len() + 4;
    let digits: String = json[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
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

    /// Records a step that gives a value; the value if it passed.
    fn value<T>(&mut self, name: &str, result: Result<T>) -> Option<T> {
        match result {
            Ok(value) => {
                self.record(name, Ok(()));
                Some(value)
            }
            Err(err) => {
                self.record(name, Err(err));
                None
            }
        }
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
        let approval: Vec<String> = [
            "root.dsse.json",
            "bootstrap.dsse.json",
            "bootstrap.verify.json",
            "signify/SHA256SUMS.sig",
            "bootstrap.intoto.json",
            "audit.jsonl",
            "bootstrap.checksum-verify.json",
            "store/stellaops-bootstrap/1/receipt.json",
        ]
        .iter()
        .filter(|file| out.join(file).exists())
        .map(|file| format!("out/{file}"))
        .collect();
        if !approval.is_empty() {
            println!("approval: {}", approval.join(", "));
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

    #[test]
    fn members_are_read_from_pretty_json() {
        let json = "{\n  \"entries\": 13,\n  \"fingerprint\": \"sha256:ab\",\n  \"lines\": 5\n}\n";
        assert_eq!(json_str(json, "fingerprint"), Some("sha256:ab"));
        assert_eq!(json_number(json, "entries"), Some(13));
        assert_eq!(json_number(json, "lines"), Some(5));
        assert_eq!(json_str(json, "entries"), None);
        assert_eq!(json_number(json, "missing"), None);
    }
}
