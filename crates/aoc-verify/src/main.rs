//! `aoc-verify` binary: argument parsing and exit code only; the work is in the library.

fn main() -> std::process::ExitCode {
    aoc_verify::main_with_args(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    )
}
