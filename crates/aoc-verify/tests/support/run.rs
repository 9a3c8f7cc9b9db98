//! Running the built `aoc-verify` in the tests, and reading what it printed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_aoc-verify");

/// A finished run: exit code, stdout, stderr.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (the report), or a panic showing both streams.
    pub fn report(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }

    /// stdout as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The listed violations' members `fields`, one row each.
    fn rows(&self, fields: &[&str]) -> Vec<Vec<String>> {
        self.report()["violations"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|v| {
                        fields
                            .iter()
                            .map(|f| v[*f].as_str().unwrap().to_owned())
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (code, documentId, path) of every listed violation.
    pub fn violations(&self) -> Vec<(String, String, String)> {
        self.rows(&["code", "documentId", "path"])
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect()
    }

    /// (collection, code, documentId, path) of every listed violation.
    pub fn violations_in(&self) -> Vec<(String, String, String, String)> {
        self.rows(&["collection", "code", "documentId", "path"])
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
            .collect()
    }
}

/// Runs the tool with `stdin` as its standard input.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A tool that stops early (a bad option, a bad rules file) closes its stdin unread: that
    // broken pipe is not the test's failure, the exit code says what happened.
    let written = child.stdin.take().unwrap().write_all(stdin);
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the tool with an empty standard input.
pub fn run(args: &[&str]) -> Run {
    run_with_stdin(args, b"")
}
