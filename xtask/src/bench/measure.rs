//! Timing a command (wall clock) and, under GNU time, its peak resident set size.

use crate::cmd;
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// GNU time (Debian package `time`): `-f %M` prints the child's peak RSS in KiB.
const GNU_TIME: &str = "/usr/bin/time";

/// A command to be timed.
#[derive(Debug, Clone)]
pub struct Job {
    pub label: String,
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Also measure peak RSS (runs the command under GNU time).
    pub rss: bool,
    /// A file to read stdin from (default: nothing, `/dev/null`).
    pub stdin: Option<PathBuf>,
    /// Environment variables the command must not see (say, one that makes it log each run).
    pub env_remove: Vec<&'static str>,
}

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub peak_rss_kib: Option<u64>,
}

impl Job {
    fn command(&self) -> Command {
        let mut command = if self.rss {
            let mut time = Command::new(GNU_TIME);
            time.args(["-f", "%M"]).arg(&self.program);
            time
        } else {
            Command::new(&self.program)
        };
        command.args(&self.args);
        for name in &self.env_remove {
            command.env_remove(name);
        }
        command
    }

    /// The command line, for the report.
    pub fn display(&self) -> String {
        let mut plain = Command::new(&self.program);
        plain.args(&self.args);
        match &self.stdin {
            Some(path) => format!("{} < {}", cmd::display(&plain), path.display()),
            None => cmd::display(&plain),
        }
    }

    /// Runs once with stdout discarded; fails with the command's own error output.
    pub fn run(&self) -> Result<Sample> {
        let mut command = self.command();
        let stdin = match &self.stdin {
            Some(path) => File::open(path)
                .with_context(|| format!("{}: cannot open {}", self.label, path.display()))?
                .into(),
            None => Stdio::null(),
        };
        command
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let output = command
            .output()
            .with_context(|| format!("cannot start {}: `{}`", self.label, self.display()))?;
        let wall = start.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let mut lines: Vec<&str> = stderr.lines().collect();
            if self.rss {
                // GNU time's own lines: the status note and the `%M` figure.
                lines.pop();
                lines.retain(|l| !l.starts_with("Command exited with non-zero status"));
            }
            let tail = &lines[lines.len().saturating_sub(20)..];
            bail!(
                "{} failed ({}): `{}`\n{}",
                self.label,
                output.status,
                self.display(),
                tail.join("\n")
            );
        }
        let peak_rss_kib = if self.rss {
            Some(parse_rss(&stderr).with_context(|| {
                format!("{}: no peak RSS from GNU time in: {stderr:?}", self.label)
            })?)
        } else {
            None
        };
        Ok(Sample { wall, peak_rss_kib })
    }
}

/// Fails with a clear message unless GNU time is at /usr/bin/time.
pub fn require_gnu_time() -> Result<()> {
    let output = Command::new(GNU_TIME)
        .args(["-f", "%M", "true"])
        .stderr(Stdio::piped())
        .output();
    match output {
        Ok(out)
            if out.status.success()
                && parse_rss(&String::from_utf8_lossy(&out.stderr)).is_some() =>
        {
            Ok(())
        }
        _ => bail!(
            "peak RSS is measured with GNU time at {GNU_TIME}, which is missing or not GNU time \
             (Debian: apt-get install time)"
        ),
    }
}

/// GNU time writes its `-f` line last, after anything the command wrote to stderr.
fn parse_rss(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim().parse().ok())
}

/// The median; the mean of the two middle values for an even count.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn rss_is_the_last_line() {
        assert_eq!(parse_rss("warning: x\n12345\n"), Some(12345));
        assert_eq!(
            parse_rss("Command exited with non-zero status 2\n900\n"),
            Some(900)
        );
        assert_eq!(parse_rss("no number\n"), None);
    }
}
