//! Command-line plumbing every Offline Ops tool shares, so they all behave alike in pipelines:
//! `--help` and `--version` on stdout, argument errors as `<tool>: error: …` with exit 2,
//! messages made safe for a terminal, and data written to a pipe that may close early.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Exit code for usage, input, I/O and internal errors (DESIGN §4).
pub const EXIT_UNUSABLE: u8 = 2;

/// Parses a command line. On `--help`/`--version` the text goes to stdout and the caller gets
/// exit 0 back; on an argument error the message goes to stderr as `<tool>: error: …` and the
/// caller gets exit 2 back.
pub fn parse<C, I, T>(
    tool: &str,
    args: I,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<C, ExitCode>
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match C::try_parse_from(args) {
        Ok(cli) => Ok(cli),
        Err(e) if !e.use_stderr() => {
            // The text is data the user asked for.
            let _ = write!(stdout, "{e}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            let _ = write!(stderr, "{tool}: error: {}", sanitize(text));
            Err(ExitCode::from(EXIT_UNUSABLE))
        }
    }
}

/// Prints `<tool>: error: <message>` on stderr, sanitized.
pub fn report_error(tool: &str, stderr: &mut dyn Write, message: &str) {
    let _ = writeln!(stderr, "{tool}: error: {}", sanitize(message));
}

/// Escapes control characters so that a hostile file name, keyid or owner cannot move the
/// cursor or forge lines on the user's terminal; newlines that end the message are kept.
pub fn sanitize(message: &str) -> String {
    let body = message.trim_end_matches('\n');
    let mut out = String::with_capacity(message.len());
    for c in body.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push_str(&message[body.len()..]);
    out
}

/// Writes data to stdout; a closed pipe is not an error (the reader stopped listening, as
/// `head` does), so the tool still exits 0.
pub fn write_data(stdout: &mut dyn Write, bytes: &[u8]) {
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
}

/// Largest JSON document (manifest, envelope, trust root) a tool reads whole: far above any
/// real one (a 20,000-file manifest is about 6 MiB), far below what would hurt the machine.
pub const MAX_DOCUMENT: u64 = 256 * 1024 * 1024;

/// The name used for a path in messages and reports: `<stdin>` for `-`.
pub fn display_name(path: &std::path::Path) -> std::path::PathBuf {
    if path.as_os_str() == "-" {
        std::path::PathBuf::from("<stdin>")
    } else {
        path.to_owned()
    }
}

/// Why a document could not be read whole.
#[derive(Debug)]
pub enum DocumentReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// Larger than [`MAX_DOCUMENT`].
    TooLarge,
    /// Nothing but white space.
    Empty,
}

/// Reads a whole document from `path` (`-` is stdin), at most [`MAX_DOCUMENT`] bytes; a
/// document of nothing but white space is refused too.
pub fn read_document(path: &std::path::Path) -> Result<Vec<u8>, DocumentReadError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes))
    };
    read.map_err(DocumentReadError::Io)?;
    if bytes.len() as u64 > MAX_DOCUMENT {
        return Err(DocumentReadError::TooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DocumentReadError::Empty);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Parser)]
    #[command(name = "demo-tool", version)]
    struct Demo {
        #[arg(long)]
        level: u8,
    }

    fn parse_demo(args: &[&str]) -> (Result<Demo, ExitCode>, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let parsed = parse::<Demo, _, _>("demo-tool", args, &mut out, &mut err);
        (
            parsed,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn argument_errors_use_the_house_format_and_exit_2() {
        let (parsed, out, err) = parse_demo(&["demo-tool", "--level", "x"]);
        assert_eq!(parsed.unwrap_err(), ExitCode::from(2));
        assert!(out.is_empty());
        assert!(
            err.starts_with("demo-tool: error: invalid value 'x'"),
            "{err}"
        );
    }

    #[test]
    fn help_goes_to_stdout_with_exit_0() {
        let (parsed, out, err) = parse_demo(&["demo-tool", "--help"]);
        assert_eq!(parsed.unwrap_err(), ExitCode::SUCCESS);
        assert!(out.contains("--level"), "{out}");
        assert!(err.is_empty());
    }

    #[test]
    fn control_characters_are_escaped_but_final_newlines_kept() {
        assert_eq!(sanitize("a\tb\x1b[2Jc\n"), "a\\tb\\u{1b}[2Jc\n");
        assert_eq!(sanitize("line one\nline two"), "line one\nline two");
    }

    #[test]
    fn documents_are_read_whole_and_empty_ones_refused() {
        let dir = std::env::temp_dir().join(format!("tool-cli-doc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let full = dir.join("full.json");
        let blank = dir.join("blank.json");
        std::fs::write(&full, b"{\"a\": 1}\n").unwrap();
        std::fs::write(&blank, b" \n\t").unwrap();
        assert_eq!(read_document(&full).unwrap(), b"{\"a\": 1}\n");
        assert!(matches!(
            read_document(&blank),
            Err(DocumentReadError::Empty)
        ));
        assert!(matches!(
            read_document(&dir.join("absent.json")),
            Err(DocumentReadError::Io(_))
        ));
        assert_eq!(
            display_name(std::path::Path::new("-")),
            std::path::Path::new("<stdin>")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
