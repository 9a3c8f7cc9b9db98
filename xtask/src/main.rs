//! Project automation (`cargo xtask …`): runs whole pipelines by calling the built tools,
//! exactly as a Makefile recipe or a CI step would.

mod args;
mod bench;
mod cmd;
mod demo;
mod suite;
mod workspace;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask: project automation for the Offline Ops toolset

usage: cargo xtask <command> [options]

commands:
  demo          build the tools, pack examples/bootstrap.yaml into out/, check the bundle
                with the system's gzip, tar, sha256sum and b3sum, then approve it 2 of 3
                with mirror-sign and check the signed sums with signify-openbsd
  test          the whole test suite: required system tools, rustfmt, clippy -D warnings,
                then every test in the workspace, and aoc-verify's rule-engine coverage
  bench pack    measure bundle-pack against `tar | pigz -6` on the reference corpus
  bench sign    time mirror-sign sign, verify and attest on the reference corpus's manifest
  bench verify  measure checksum-verify against sha256sum -c, b3sum --check and tar -xzf
  bench aoc     measure aoc-verify against an equivalent jq filter on ≥ 1 GB of NDJSON

Run `cargo xtask <command> --help` for the options of a command.
";

fn main() -> ExitCode {
    let mut args = args::Args::from_env();
    let result = match args.subcommand().as_deref() {
        Some("demo") => demo::run(args),
        Some("test") => suite::run(args),
        Some("bench") => bench::run(args),
        Some("help") => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(args::Usage(format!("unknown command `{other}`")).into()),
        None if args.help() => {
            print!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(args::Usage("a command is required".into()).into()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            if err.downcast_ref::<args::Usage>().is_some() {
                eprintln!("run `cargo xtask --help` for usage");
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
