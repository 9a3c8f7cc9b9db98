//! PostgreSQL input: the documents of one `json`/`jsonb` column, read through a server-side
//! cursor so that memory stays flat however large the table is.
//!
//! The reader runs `BEGIN READ ONLY`, `DECLARE aoc_cursor NO SCROLL CURSOR FOR SELECT
//! <column>::text FROM <table>`, then `FETCH FORWARD n` until the cursor is exhausted; each
//! fetch becomes one [`Batch`]. `n` follows the documents' average size so that a batch holds
//! about [`BATCH_BYTES`].

use super::{
    Batch, BatchSource, Encoding, Frame, InputError, PositionKind, BATCH_BYTES, MAX_DOCUMENT_BYTES,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Rows of the first fetch, before the documents' size is known: small, so that a table of
/// huge documents does not make a huge first batch.
const FIRST_FETCH_ROWS: u64 = 128;

/// Most rows in one fetch, however small the documents: bounds the per-batch frame list.
const MAX_FETCH_ROWS: u64 = 50_000;

/// Connect timeout when the URL sets none: an unreachable host fails in bounded time.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Shown in place of a password.
const REDACTED: &str = "***";

/// Text of a SQL `NULL` document: the engine reports it as a document that is not an object.
const NULL_DOCUMENT: &[u8] = b"null";

/// Reads the documents of one `json` or `jsonb` column of a PostgreSQL table or view, in the
/// order the server returns them, as [`Batch`]es of JSON frames numbered by row (1-based).
///
/// The read runs in one read-only transaction through a server-side cursor: the client holds
/// one batch at a time, never the whole result.
pub struct PostgresSource {
    client: Client,
    source: Arc<str>,
    collection: Arc<str>,
    /// The connection string as it may be shown (password redacted).
    redacted_url: String,
    /// The password, to scrub from any message the driver or server hands back.
    secrets: Vec<String>,
    batch_bytes: usize,
    /// Row number of the next document (1-based).
    next_row: u64,
    /// Documents and their bytes read so far, for sizing the next fetch.
    rows_read: u64,
    bytes_read: u64,
    finished: bool,
}

impl fmt::Debug for PostgresSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // By hand: the client and the secrets stay out of logs.
        f.debug_struct("PostgresSource")
            .field("source", &self.source)
            .field("collection", &self.collection)
            .field("url", &self.redacted_url)
            .field("batch_bytes", &self.batch_bytes)
            .field("next_row", &self.next_row)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl PostgresSource {
    /// Connects to `url` (a `postgres://` URL or a `key=value` connection string, without
    /// TLS), checks that `column` of `table` is `json` or `jsonb`, and opens the cursor.
    ///
    /// `table` is `name` or `schema.name`; each part is taken exactly as written
    /// (case-sensitive, like a quoted SQL identifier), or may itself be written in double
    /// quotes (`"my.schema".tbl`) when it contains a dot. `column` follows the same syntax
    /// with a single part. Batches are named `postgres:<table>` and belong to `collection`.
    ///
    /// # Errors
    ///
    /// [`InputError::Usage`] for an empty or malformed table or column name;
    /// [`InputError::Database`] when the server cannot be reached or refuses the login, the
    /// table or column does not exist, the column is not `json`/`jsonb`, or a query fails.
    /// No message contains the password.
    pub fn connect(
        url: &str,
        table: &str,
        column: &str,
        collection: Arc<str>,
    ) -> Result<Self, InputError> {
        let table_parts = parse_name(table, 2)
            .map_err(|why| InputError::Usage(format!("invalid table name `{table}`: {why}")))?;
        let column_name = parse_name(column, 1)
            .map_err(|why| InputError::Usage(format!("invalid column name `{column}`: {why}")))?
            .concat();
        let source: Arc<str> = Arc::from(format!("postgres:{table}"));
        let redacted_url = redact_url(url);
        let database_error = |message: String| InputError::Database {
            source_name: source.to_string(),
            message,
        };

        let mut config: Config = url.parse().map_err(|error: postgres::Error| {
            // The parser's messages name options, never values; scrub anyway, below.
            database_error(format!(
                "invalid connection URL `{redacted_url}`: {}",
                describe(&error)
            ))
        })?;
        let secrets = config
            .get_password()
            .map(|password| String::from_utf8_lossy(password).into_owned())
            .filter(|password| !password.is_empty())
            .into_iter()
            .collect::<Vec<_>>();
        if config.get_application_name().is_none() {
            config.application_name("aoc-verify");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let client = config.connect(NoTls).map_err(|error| {
            database_error(scrub(
                &format!("cannot connect to `{redacted_url}`: {}", describe(&error)),
                &secrets,
            ))
        })?;

        let mut this = PostgresSource {
            client,
            source: Arc::clone(&source),
            collection,
            redacted_url,
            secrets,
            batch_bytes: BATCH_BYTES,
            next_row: 1,
            rows_read: 0,
            bytes_read: 0,
            finished: false,
        };
        let table_sql = table_parts
            .iter()
            .map(|part| quote_ident(part))
            .collect::<Vec<_>>()
            .join(".");
        this.check_column(table, &table_sql, &column_name)?;
        let declare = format!(
            // synchronize_seqscans off: the table is read from its first page, so two runs on
            // an unchanged table list documents (and violations) in the same order.
            "SET synchronize_seqscans = off; BEGIN READ ONLY; \
             DECLARE aoc_cursor NO SCROLL CURSOR FOR SELECT {}::text FROM {table_sql}",
            quote_ident(&column_name)
        );
        this.client
            .batch_execute(&declare)
            .map_err(|error| this.database_error("cannot open the cursor", &error))?;
        Ok(this)
    }

    /// Aims each batch at about `bytes` bytes instead of [`BATCH_BYTES`] (at least one
    /// document per batch).
    #[must_use]
    pub fn with_batch_bytes(mut self, bytes: usize) -> Self {
        self.batch_bytes = bytes.max(1);
        self
    }

    /// The connection string as it may be shown: the password replaced by `***`.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// Fails unless `column` of `table` exists and is `json`, `jsonb` or a domain over one.
    fn check_column(
        &mut self,
        table: &str,
        table_sql: &str,
        column: &str,
    ) -> Result<(), InputError> {
        // Parameters, not splicing: `to_regclass` parses the quoted name the way `FROM` will,
        // and yields NULL (not an error) for a missing relation.
        const QUERY: &str = "\
            SELECT r.relkind::text, format_type(a.atttypid, a.atttypmod), \
                   COALESCE(NULLIF(t.typbasetype, 0), a.atttypid) \
                       IN ('json'::regtype, 'jsonb'::regtype) \
            FROM (SELECT to_regclass($1::text) AS oid) c \
            LEFT JOIN pg_class r ON r.oid = c.oid \
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname::text = $2::text \
                AND a.attnum > 0 AND NOT a.attisdropped \
            LEFT JOIN pg_type t ON t.oid = a.atttypid";
        let row = self
            .client
            .query_one(QUERY, &[&table_sql, &column])
            .map_err(|error| self.database_error("cannot look up the column type", &error))?;
        let typed = |index: usize| -> Result<Option<String>, InputError> {
            row.try_get::<_, Option<String>>(index)
                .map_err(|error| self.database_error("cannot look up the column type", &error))
        };
        let relkind = typed(0)?;
        let type_name = typed(1)?;
        let is_json = row
            .try_get::<_, Option<bool>>(2)
            .map_err(|error| self.database_error("cannot look up the column type", &error))?;
        let message = match (relkind.as_deref(), type_name, is_json) {
            (None, _, _) => format!("table `{table}` does not exist"),
            // Tables, views, materialized views, foreign and partitioned tables.
            (Some(kind), _, _) if !matches!(kind, "r" | "v" | "m" | "f" | "p") => {
                format!("`{table}` is not a table or view")
            }
            (Some(_), None, _) => format!("table `{table}` has no column `{column}`"),
            (Some(_), Some(_), Some(true)) => return Ok(()),
            (Some(_), Some(type_name), _) => format!(
                "column `{column}` of table `{table}` has type {type_name}, expected jsonb or json"
            ),
        };
        Err(InputError::Database {
            source_name: self.source.to_string(),
            message,
        })
    }

    /// Rows for the next fetch: enough for about `batch_bytes` at the average size so far.
    fn fetch_rows(&self) -> u64 {
        if self.rows_read == 0 {
            return FIRST_FETCH_ROWS;
        }
        let average = (self.bytes_read / self.rows_read).max(1);
        let batch_bytes = u64::try_from(self.batch_bytes).unwrap_or(u64::MAX);
        (batch_bytes / average).clamp(1, MAX_FETCH_ROWS)
    }

    fn database_error(&self, context: &str, error: &postgres::Error) -> InputError {
        InputError::Database {
            source_name: self.source.to_string(),
            message: scrub(&format!("{context}: {}", describe(error)), &self.secrets),
        }
    }

    /// Ends the transaction once every row is read.
    fn finish(&mut self) {
        self.finished = true;
        // Every row is in hand: a failure here can only be a lost connection, which ends the
        // session and rolls its read-only transaction back anyway.
        let _ = self.client.batch_execute("CLOSE aoc_cursor; COMMIT");
    }
}

impl BatchSource for PostgresSource {
    fn next_batch(&mut self) -> Result<Option<Batch>, InputError> {
        if self.finished {
            return Ok(None);
        }
        let batch = self.read_batch();
        if batch.is_err() {
            // The transaction is aborted or the connection gone: nothing more to read.
            self.finished = true;
        }
        batch
    }
}

impl PostgresSource {
    /// One `FETCH` as one batch; ends the transaction at the end of the cursor.
    fn read_batch(&mut self) -> Result<Option<Batch>, InputError> {
        let rows = self.fetch_rows();
        let fetch = format!("FETCH FORWARD {rows} FROM aoc_cursor");
        let mut data = Vec::new();
        let mut frames = Vec::new();
        let mut fetched: u64 = 0;
        let fetch_error =
            |error: &postgres::Error, secrets: &[String], source: &str| InputError::Database {
                source_name: source.to_owned(),
                message: scrub(&format!("cannot fetch rows: {}", describe(error)), secrets),
            };
        let mut iter = self
            .client
            .query_raw(&fetch, std::iter::empty::<&str>())
            .map_err(|error| fetch_error(&error, &self.secrets, &self.source))?;
        while let Some(row) = iter
            .next()
            .map_err(|error| fetch_error(&error, &self.secrets, &self.source))?
        {
            let position = self.next_row;
            let text = row
                .try_get::<_, Option<&str>>(0)
                .map_err(|error| InputError::Database {
                    source_name: format!("{}: row {position}", self.source),
                    message: scrub(&describe(&error), &self.secrets),
                })?;
            let document = text.map_or(NULL_DOCUMENT, str::as_bytes);
            if document.len() > MAX_DOCUMENT_BYTES {
                return Err(InputError::Malformed {
                    source_name: format!("{}: row {position}", self.source),
                    message: format!(
                        "document of {} bytes exceeds the limit of {MAX_DOCUMENT_BYTES} bytes",
                        document.len()
                    ),
                });
            }
            let start = data.len();
            data.extend_from_slice(document);
            frames.push(Frame {
                range: start..data.len(),
                position,
            });
            self.next_row += 1;
            fetched += 1;
        }
        drop(iter);
        self.rows_read += fetched;
        self.bytes_read += u64::try_from(data.len()).unwrap_or(u64::MAX);
        if fetched < rows {
            self.finish();
        }
        if frames.is_empty() {
            return Ok(None);
        }
        Ok(Some(Batch {
            source: Arc::clone(&self.source),
            collection: Arc::clone(&self.collection),
            encoding: Encoding::Json,
            position_kind: PositionKind::Row,
            data,
            frames,
        }))
    }
}

/// A driver error in one line: the server's own message for a database error, else the
/// driver's description followed by its causes.
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            message.push_str(&format!(" (hint: {hint})"));
        }
        return message;
    }
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    message
}

/// `message` with every occurrence of a secret replaced by `***`.
fn scrub(message: &str, secrets: &[String]) -> String {
    secrets.iter().fold(message.to_owned(), |message, secret| {
        message.replace(secret, REDACTED)
    })
}

/// `name` as a SQL identifier: in double quotes, inner double quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Splits a possibly qualified name into at most `max_parts` parts separated by dots; a part
/// is taken as written, or written in double quotes (with `""` for a quote) to contain dots.
fn parse_name(name: &str, max_parts: usize) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut rest = name;
    loop {
        let (part, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let mut part = String::new();
            let mut chars = quoted.char_indices().peekable();
            let end = loop {
                match chars.next() {
                    Some((_, '"')) if chars.peek().is_some_and(|&(_, c)| c == '"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some((i, '"')) => break i + 1,
                    Some((_, c)) => part.push(c),
                    None => return Err("unterminated double quote".to_owned()),
                }
            };
            (part, &quoted[end..])
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        if part.is_empty() {
            return Err("empty name".to_owned());
        }
        if part.contains('\0') {
            return Err("NUL character in name".to_owned());
        }
        parts.push(part);
        if after.is_empty() {
            break;
        }
        rest = after
            .strip_prefix('.')
            .ok_or_else(|| "text after a closing double quote".to_owned())?;
    }
    if parts.len() > max_parts {
        return Err(if max_parts == 1 {
            "expected a single name (write it in double quotes if it contains a dot)".to_owned()
        } else {
            "expected `table` or `schema.table`".to_owned()
        });
    }
    Ok(parts)
}

/// A PostgreSQL connection string as it may be shown in messages and logs: the password of a
/// `postgres://user:password@host/db` URL, of a `?password=` parameter or of a
/// `password=…` key-value pair replaced by `***`.
///
/// Errs on the side of hiding: in a URL whose password holds an unescaped `@`, everything up
/// to the last `@` is hidden; a key-value string that does not parse is hidden from the
/// first parameter it cannot read.
pub fn redact_url(url: &str) -> String {
    for prefix in ["postgres://", "postgresql://"] {
        if let Some(rest) = url.strip_prefix(prefix) {
            return format!("{prefix}{}", redact_url_rest(rest));
        }
    }
    redact_key_value(url)
}

fn redact_url_rest(rest: &str) -> String {
    let mut out = String::with_capacity(rest.len());
    // The driver takes the credentials up to the first `@`, libpq up to the last one before
    // the path: hide from the colon to the last `@` of all, which covers both.
    let after_credentials = match rest.find('@') {
        Some(first_at) => match rest[..first_at].find(':') {
            Some(colon) => {
                let last_at = rest.rfind('@').unwrap_or(first_at);
                out.push_str(&rest[..=colon]);
                out.push_str(REDACTED);
                out.push('@');
                &rest[last_at + 1..]
            }
            None => {
                out.push_str(&rest[..=first_at]);
                &rest[first_at + 1..]
            }
        },
        None => rest,
    };
    // A password in a URL without `@` (`postgres://user:secret`) reads as a port: hide any
    // port that is not a number.
    let host_end = after_credentials
        .find(['/', '?'])
        .unwrap_or(after_credentials.len());
    let hosts = after_credentials[..host_end]
        .split(',')
        .map(|chunk| {
            let port_start = if chunk.starts_with('[') {
                chunk.find(']').map_or(chunk.len(), |close| close + 1)
            } else {
                chunk.find(':').unwrap_or(chunk.len())
            };
            match chunk[port_start..].strip_prefix(':') {
                Some(port) if !port.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{}:{REDACTED}", &chunk[..port_start])
                }
                _ => chunk.to_owned(),
            }
        })
        .collect::<Vec<_>>();
    out.push_str(&hosts.join(","));
    let after_credentials = &after_credentials[host_end..];
    match after_credentials.find('?') {
        Some(question) => {
            out.push_str(&after_credentials[..=question]);
            let query = &after_credentials[question + 1..];
            let params = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if percent_decode(key) == "password" => {
                        format!("{key}={REDACTED}")
                    }
                    _ => param.to_owned(),
                })
                .collect::<Vec<_>>();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(after_credentials),
    }
    out
}

/// Decodes `%XX` escapes (as the driver does for URL parameter names), lossily.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |offset: usize| {
            bytes
                .get(i + offset)
                .and_then(|&b| (b as char).to_digit(16))
        };
        if bytes[i] == b'%' {
            if let (Some(high), Some(low)) = (hex(1), hex(2)) {
                decoded.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Redacts a `key=value key='quoted value'` connection string, following the driver's own
/// grammar (whitespace around `=`, single quotes, backslash escapes).
fn redact_key_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    // Start of the text not yet copied to `out`.
    let mut copied = 0;
    loop {
        while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            break;
        };
        while chars
            .next_if(|&(_, c)| !c.is_whitespace() && c != '=')
            .is_some()
        {}
        let key_end = chars.peek().map_or(text.len(), |&(i, _)| i);
        let key = &text[key_start..key_end];
        while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|&(_, c)| c == '=').is_none() || key.is_empty() {
            out.push_str(&text[copied..key_start]);
            out.push_str(REDACTED);
            return out;
        }
        while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(text.len(), |&(i, _)| i);
        if chars.next_if(|&(_, c)| c == '\'').is_some() {
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    _ => {}
                }
            }
            if !closed {
                out.push_str(&text[copied..value_start]);
                out.push_str(REDACTED);
                return out;
            }
        } else {
            while let Some((_, c)) = chars.next_if(|&(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    chars.next();
                }
            }
        }
        let value_end = chars.peek().map_or(text.len(), |&(i, _)| i);
        if key == "password" {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_url_passwords() {
        let cases = [
            (
                "postgres://aoc:s3cret@db.internal:5432/concelier",
                "postgres://aoc:***@db.internal:5432/concelier",
            ),
            (
                "postgresql://aoc:s3cret@db/x?sslmode=disable",
                "postgresql://aoc:***@db/x?sslmode=disable",
            ),
            ("postgres://aoc@db/x", "postgres://aoc@db/x"),
            ("postgres://db:5432/x", "postgres://db:5432/x"),
            ("postgres://db1:5432,db2/x", "postgres://db1:5432,db2/x"),
            ("postgres://[::1]:5432/x", "postgres://[::1]:5432/x"),
            // `@host` forgotten: the password reads as a port.
            ("postgres://aoc:s3cret", "postgres://aoc:***"),
            ("postgres://[::1]:s3cret/x", "postgres://[::1]:***/x"),
            ("postgres://aoc:@db/x", "postgres://aoc:***@db/x"),
            // An unescaped `@` in the password: everything up to the last `@` is hidden.
            ("postgres://aoc:p@ss@db/x", "postgres://aoc:***@db/x"),
            ("postgres://aoc:pa/ss@db/x", "postgres://aoc:***@db/x"),
            (
                "postgres://db/x?user=aoc&password=s3cret&sslmode=disable",
                "postgres://db/x?user=aoc&password=***&sslmode=disable",
            ),
            (
                "postgres://db/x?pass%77ord=s3cret",
                "postgres://db/x?pass%77ord=***",
            ),
            (
                "postgres://aoc:a@db/x?password=b",
                "postgres://aoc:***@db/x?password=***",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn redacts_key_value_passwords() {
        let cases = [
            (
                "host=db user=aoc password=s3cret dbname=x",
                "host=db user=aoc password=*** dbname=x",
            ),
            (
                "host=db password = 's3 c\\'ret' dbname=x",
                "host=db password = *** dbname=x",
            ),
            ("password=s3\\ cret", "password=***"),
            ("host=db user=aoc", "host=db user=aoc"),
            ("host=db password='unterminated", "host=db password=***"),
            ("host=db password s3cret", "host=db ***"),
            ("", ""),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn redacted_url_never_contains_the_password() {
        let urls = [
            "postgres://u:Sekr1t@h/db",
            "postgres://u:Sekr1t@@h/db",
            "postgres://h/db?password=Sekr1t",
            "postgres://u:Sekr1t@h/db?options=a@b",
            "postgres://u:Sekr1t",
            "user=u password=Sekr1t",
            "user=u password='Sekr1t",
            "user=u password",
            "password=Sekr1t\u{a0}host=h",
        ];
        for url in urls {
            assert!(
                !redact_url(url).contains("Sekr1t"),
                "{url}: {}",
                redact_url(url)
            );
        }
    }

    #[test]
    fn scrubs_secrets_from_messages() {
        assert_eq!(
            scrub("bad password Sekr1t!", &["Sekr1t".to_owned()]),
            "bad password ***!"
        );
        assert_eq!(scrub("unchanged", &[]), "unchanged");
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("advisory_raw"), "\"advisory_raw\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn parses_names() {
        let ok = |name: &str, max| parse_name(name, max).unwrap();
        assert_eq!(ok("advisory_raw", 2), ["advisory_raw"]);
        assert_eq!(ok("raw.Advisory", 2), ["raw", "Advisory"]);
        assert_eq!(ok("\"my.schema\".\"t\"\"q\"", 2), ["my.schema", "t\"q"]);
        assert_eq!(ok("my schema.t", 2), ["my schema", "t"]);
        assert_eq!(ok("\"doc.v1\"", 1), ["doc.v1"]);
        for bad in [
            "", ".", "a.", ".a", "a..b", "a.b.c", "\"a", "\"a\"b", "\"\"", "a\0",
        ] {
            assert!(parse_name(bad, 2).is_err(), "{bad:?}");
        }
        assert!(parse_name("a.b", 1).is_err());
    }

    #[test]
    fn percent_decodes_keys() {
        assert_eq!(percent_decode("pass%77ord"), "password");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
