//! A few lines of argument parsing, so the xtask needs no argument-parser crate.

use std::collections::VecDeque;
use std::fmt;

/// A mistake in how the xtask was called (exit 2), as opposed to a step that failed (exit 1).
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// The arguments not consumed yet.
#[derive(Debug)]
pub struct Args {
    rest: VecDeque<String>,
}

impl Args {
    pub fn new(args: impl IntoIterator<Item = String>) -> Self {
        Self {
            rest: args.into_iter().collect(),
        }
    }

    pub fn from_env() -> Self {
        Self::new(std::env::args().skip(1))
    }

    /// Takes the next argument if it is a word (a subcommand), not an option.
    pub fn subcommand(&mut self) -> Option<String> {
        match self.rest.front() {
            Some(word) if !word.starts_with('-') => self.rest.pop_front(),
            _ => None,
        }
    }

    /// Takes `-h`/`--help` wherever it is.
    pub fn help(&mut self) -> bool {
        self.flag(&["-h", "--help"])
    }

    /// Takes every occurrence of a flag; true if there was one.
    pub fn flag(&mut self, names: &[&str]) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| !names.contains(&a.as_str()));
        self.rest.len() != before
    }

    /// Takes `--name VALUE` or `--name=VALUE`; the last one wins.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, Usage> {
        let mut found = None;
        let prefix = format!("{name}=");
        let mut i = 0;
        while i < self.rest.len() {
            if self.rest[i] == name {
                let Some(value) = self.rest.get(i + 1).cloned() else {
                    return Err(Usage(format!("`{name}` needs a value")));
                };
                self.rest.drain(i..i + 2);
                found = Some(value);
            } else if let Some(value) = self.rest[i].strip_prefix(&prefix) {
                found = Some(value.to_owned());
                self.rest.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(found)
    }

    /// Takes `--name VALUE` and parses it.
    pub fn parsed<T: std::str::FromStr>(&mut self, name: &str) -> Result<Option<T>, Usage> {
        match self.value(name)? {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| Usage(format!("`{name}`: invalid value `{raw}`"))),
        }
    }

    /// Fails on anything left over, so a typo is never silently ignored.
    pub fn finish(self) -> Result<(), Usage> {
        match self.rest.front() {
            None => Ok(()),
            Some(arg) => Err(Usage(format!("unexpected argument `{arg}`"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn subcommand_then_options() {
        let mut a = args(&[
            "bench", "pack", "--scale", "0.01", "--runs=5", "--json", "f.json",
        ]);
        assert_eq!(a.subcommand().as_deref(), Some("bench"));
        assert_eq!(a.subcommand().as_deref(), Some("pack"));
        assert_eq!(a.parsed::<f64>("--scale").unwrap(), Some(0.01));
        assert_eq!(a.parsed::<u32>("--runs").unwrap(), Some(5));
        assert_eq!(a.value("--json").unwrap().as_deref(), Some("f.json"));
        assert!(a.finish().is_ok());
    }

    #[test]
    fn option_is_not_a_subcommand() {
        let mut a = args(&["--help"]);
        assert_eq!(a.subcommand(), None);
        assert!(a.help());
    }

    #[test]
    fn missing_value_and_leftovers_are_errors() {
        assert!(args(&["--runs"]).value("--runs").is_err());
        assert!(args(&["--runs", "x"]).parsed::<u32>("--runs").is_err());
        assert!(args(&["--sacle", "1"]).finish().is_err());
    }
}
