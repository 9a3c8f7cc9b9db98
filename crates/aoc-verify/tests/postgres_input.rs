//! The PostgreSQL input against a real server (one per test, see `support/postgres.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/postgres.rs"]
mod postgres_support;

use aoc_verify::input::postgres::{redact_url, PostgresSource};
use aoc_verify::input::{Batch, BatchSource, Encoding, InputError, PositionKind, BATCH_BYTES};
use postgres_support::{free_port, quote_ident, Postgres};
use serde_json::{json, Value};
use std::sync::Arc;

fn collection() -> Arc<str> {
    Arc::from("advisory_raw")
}

fn connect(pg: &Postgres, table: &str, column: &str) -> PostgresSource {
    PostgresSource::connect(&pg.url(), table, column, collection())
        .unwrap_or_else(|error| panic!("connect: {error}"))
}

fn connect_err(url: &str, table: &str, column: &str) -> InputError {
    match PostgresSource::connect(url, table, column, collection()) {
        Ok(source) => panic!("expected an error, got {source:?}"),
        Err(error) => error,
    }
}

fn read_all(source: &mut PostgresSource) -> Vec<Batch> {
    let mut batches = Vec::new();
    while let Some(batch) = source.next_batch().unwrap() {
        batches.push(batch);
    }
    batches
}

/// Every frame's text and row number, in order.
fn frames(batches: &[Batch]) -> Vec<(u64, String)> {
    batches
        .iter()
        .flat_map(|batch| {
            batch.frames.iter().map(|frame| {
                let text = std::str::from_utf8(&batch.data[frame.range.clone()]).unwrap();
                (frame.position, text.to_owned())
            })
        })
        .collect()
}

fn parsed(batches: &[Batch]) -> Vec<Value> {
    frames(batches)
        .into_iter()
        .map(|(row, text)| {
            serde_json::from_str(&text).unwrap_or_else(|error| panic!("row {row}: {error}"))
        })
        .collect()
}

/// Compares documents without printing thousands of them on failure.
fn assert_same_documents(actual: &[Value], expected: &[Value]) {
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(a == e, "row {}: read {a}, inserted {e}", i + 1);
    }
    assert_eq!(actual.len(), expected.len(), "number of documents");
}

/// An advisory-like document of about 1.5 KB, different for every `i`.
fn advisory(i: usize) -> Value {
    json!({
        "_id": format!("GHSA-{i:04}-test-{:04}", i * 7 % 10_000),
        "source": {"vendor": "ghsa", "connector": "github", "revision": i},
        "upstream": {
            "document_version": format!("2024-01-{:02}T00:00:00Z", i % 28 + 1),
            "content_hash": format!("sha256:{:064x}", i * 2_654_435_761_usize),
            "signature": {"present": i.is_multiple_of(3)},
        },
        "content": {
            "format": "OSV",
            "raw": {
                "summary": format!("Über-long \"summary\"\twith\nescapes \\ and ünïcödé {i}"),
                "details": "x".repeat(1_000 + i % 200),
                "severity": [{"type": "CVSS_V3", "score": ([9.8, 7.5, 5.3, 4.0][i % 4])}],
                "aliases": [format!("CVE-2024-{i:05}")],
            },
        },
        "linkset": {"purls": [format!("pkg:npm/example-{i}@1.0.{i}")]},
    })
}

fn error_text(error: &InputError) -> String {
    format!("{error} / {error:?}")
}

#[test]
fn reads_every_row_in_order_in_several_batches() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    let documents = (0..3_500).map(advisory).collect::<Vec<_>>();
    pg.insert_values("advisory_raw", "document", &documents);

    let mut source = connect(&pg, "advisory_raw", "document");
    let batches = read_all(&mut source);

    assert!(batches.len() >= 3, "{} batches", batches.len());
    for batch in &batches {
        assert_eq!(&*batch.source, "postgres:advisory_raw");
        assert_eq!(&*batch.collection, "advisory_raw");
        assert_eq!(batch.encoding, Encoding::Json);
        assert_eq!(batch.position_kind, PositionKind::Row);
        assert!(!batch.frames.is_empty());
        // Sized on the average document so far: about BATCH_BYTES, not exactly.
        assert!(
            batch.data.len() <= BATCH_BYTES / 4 * 5,
            "{}",
            batch.data.len()
        );
    }
    // jsonb normalizes key order and whitespace: compare values.
    assert_same_documents(&parsed(&batches), &documents);
    let rows = frames(&batches)
        .into_iter()
        .map(|(row, _)| row)
        .collect::<Vec<_>>();
    assert_eq!(rows, (1..=3_500).collect::<Vec<u64>>());
    // Exhausted for good.
    assert!(source.next_batch().unwrap().is_none());
}

#[test]
fn smaller_batch_bytes_make_more_smaller_batches() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    let documents = (0..1_000).map(advisory).collect::<Vec<_>>();
    pg.insert_values("advisory_raw", "document", &documents);

    let mut source = connect(&pg, "advisory_raw", "document").with_batch_bytes(32 << 10);
    let batches = read_all(&mut source);

    // About 1.5 KB a document: 32 KiB batches hold about 20 (after a first probe of 128).
    assert!(batches.len() >= 30, "{} batches", batches.len());
    for batch in &batches[1..] {
        assert!(
            batch.data.len() <= (32 << 10) + 2_000,
            "{}",
            batch.data.len()
        );
    }
    assert_same_documents(&parsed(&batches), &documents);
}

#[test]
fn empty_table_has_no_batches() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    let mut source = connect(&pg, "advisory_raw", "document");
    assert!(source.next_batch().unwrap().is_none());
    assert!(source.next_batch().unwrap().is_none());
}

#[test]
fn schema_qualified_table_and_names_that_need_quoting() {
    let pg = Postgres::start();
    let schema = "Raw Data";
    let table = "Advisory-\"Raw\"";
    let column = "Doc Body";
    let qualified = format!("{}.{}", quote_ident(schema), quote_ident(table));
    pg.execute(&format!("CREATE SCHEMA {}", quote_ident(schema)));
    pg.create_jsonb_table(&qualified, &quote_ident(column));
    pg.insert_values(&qualified, &quote_ident(column), &[json!({"in": "schema"})]);
    // The same table name on the search path, with other content: must not be read.
    pg.create_jsonb_table(&quote_ident(table), &quote_ident(column));
    pg.insert_values(
        &quote_ident(table),
        &quote_ident(column),
        &[json!({"in": "public"})],
    );

    // Parts as written: case, spaces and quotes are part of the name.
    let name = format!("{schema}.{table}");
    let mut source = connect(&pg, &name, column);
    let batches = read_all(&mut source);
    assert_eq!(parsed(&batches), [json!({"in": "schema"})]);
    assert_eq!(&*batches[0].source, "postgres:Raw Data.Advisory-\"Raw\"");

    // Without the schema: the search path's table.
    let batches = read_all(&mut connect(&pg, table, column));
    assert_eq!(parsed(&batches), [json!({"in": "public"})]);

    // Lower case is another name.
    let error = connect_err(&pg.url(), "raw data.advisory-\"raw\"", column);
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[test]
fn names_with_dots_are_written_in_double_quotes() {
    let pg = Postgres::start();
    pg.execute("CREATE SCHEMA \"ingest.v2\"");
    pg.create_jsonb_table("\"ingest.v2\".\"raw\"", "\"doc.json\"");
    pg.insert_values("\"ingest.v2\".\"raw\"", "\"doc.json\"", &[json!({"a": 1})]);

    let batches = read_all(&mut connect(&pg, "\"ingest.v2\".raw", "\"doc.json\""));
    assert_eq!(parsed(&batches), [json!({"a": 1})]);

    // Unquoted, the dot separates schema and table.
    let error = connect_err(&pg.url(), "ingest.v2.raw", "\"doc.json\"");
    assert!(matches!(error, InputError::Usage(_)), "{error:?}");
    assert!(error.to_string().contains("ingest.v2.raw"), "{error}");
}

#[test]
fn null_row_is_the_frame_null() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    pg.insert_texts(
        "advisory_raw",
        "document",
        [Some(r#"{"_id": "a"}"#), None, Some(r#"{"_id": "c"}"#)],
    );

    let batches = read_all(&mut connect(&pg, "advisory_raw", "document"));
    assert_eq!(
        frames(&batches),
        [
            (1, r#"{"_id": "a"}"#.to_owned()),
            (2, "null".to_owned()),
            (3, r#"{"_id": "c"}"#.to_owned()),
        ]
    );
}

#[test]
fn json_column_is_read_as_stored() {
    let pg = Postgres::start();
    pg.create_table("vex_raw", "body", "json");
    // `json` keeps the text as written: key order, spacing and duplicate keys (which the
    // engine must see to report).
    let texts = [r#"{ "b" : 1,"a":[1 , 2] }"#, r#"{"a":1,"a":2}"#, "[]"];
    pg.insert_texts("vex_raw", "body", texts.iter().copied().map(Some));

    let batches = read_all(&mut connect(&pg, "vex_raw", "body"));
    let texts_read = frames(&batches)
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>();
    assert_eq!(texts_read, texts);
}

#[test]
fn a_domain_over_jsonb_is_accepted() {
    let pg = Postgres::start();
    pg.execute("CREATE DOMAIN advisory_document AS jsonb CHECK (jsonb_typeof(VALUE) = 'object')");
    pg.create_table("advisory_raw", "document", "advisory_document");
    pg.insert_values("advisory_raw", "document", &[json!({"x": true})]);
    let batches = read_all(&mut connect(&pg, "advisory_raw", "document"));
    assert_eq!(parsed(&batches), [json!({"x": true})]);
}

#[test]
fn missing_table_column_or_schema_and_wrong_type_are_clear_errors() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    pg.create_table("notes", "body", "text");
    pg.execute("CREATE SEQUENCE counter");

    let database_error = |table: &str, column: &str| match connect_err(&pg.url(), table, column) {
        InputError::Database {
            source_name,
            message,
        } => {
            assert_eq!(source_name, format!("postgres:{table}"));
            message
        }
        other => panic!("expected a database error, got {other:?}"),
    };

    assert_eq!(
        database_error("advisory_rwa", "document"),
        "table `advisory_rwa` does not exist"
    );
    assert_eq!(
        database_error("nope.advisory_raw", "document"),
        "table `nope.advisory_raw` does not exist"
    );
    assert_eq!(
        database_error("advisory_raw", "doc"),
        "table `advisory_raw` has no column `doc`"
    );
    assert_eq!(
        database_error("notes", "body"),
        "column `body` of table `notes` has type text, expected jsonb or json"
    );
    assert_eq!(
        database_error("counter", "document"),
        "`counter` is not a table or view"
    );
    // The table's identity column `id` is an integer.
    assert!(database_error("advisory_raw", "id").contains("has type bigint"));

    let error = connect_err(&pg.url(), "", "document");
    assert!(matches!(error, InputError::Usage(_)), "{error:?}");
    assert!(error.to_string().contains("empty name"), "{error}");
    let error = connect_err(&pg.url(), "advisory_raw", "");
    assert!(matches!(error, InputError::Usage(_)), "{error:?}");
}

#[test]
fn nothing_listening_is_a_clear_error_without_the_password() {
    let port = free_port();
    let url = format!("postgres://aoc:Sekr1t-pw@127.0.0.1:{port}/concelier");
    let error = connect_err(&url, "advisory_raw", "document");
    let text = error_text(&error);
    assert!(matches!(error, InputError::Database { .. }), "{text}");
    assert!(
        error.to_string().starts_with(&format!(
            "postgres:advisory_raw: cannot connect to `postgres://aoc:***@127.0.0.1:{port}/concelier`: "
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(!text.contains("Sekr1t-pw"), "{text}");

    // Key-value connection strings too.
    let url = format!("host=127.0.0.1 port={port} user=aoc password=Sekr1t-pw dbname=x");
    let text = error_text(&connect_err(&url, "advisory_raw", "document"));
    assert!(text.contains("password=***"), "{text}");
    assert!(!text.contains("Sekr1t-pw"), "{text}");
}

#[test]
fn authentication_failures_are_clear_errors_without_the_password() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    pg.insert_values("advisory_raw", "document", &[json!({"ok": 1})]);
    pg.require_password("aoc", "right-Pa55");
    pg.execute("GRANT SELECT ON advisory_raw TO aoc");

    let wrong = pg.url_for("aoc", "Wr0ng-Pa55");
    let error = connect_err(&wrong, "advisory_raw", "document");
    let text = error_text(&error);
    assert!(
        text.contains("password authentication failed for user \"aoc\""),
        "{text}"
    );
    assert!(text.contains("aoc:***@127.0.0.1"), "{text}");
    assert!(!text.contains("Wr0ng-Pa55"), "{text}");

    let unknown = pg.url_for("nobody", "Wr0ng-Pa55");
    let text = error_text(&connect_err(&unknown, "advisory_raw", "document"));
    assert!(text.contains("nobody"), "{text}");
    assert!(!text.contains("Wr0ng-Pa55"), "{text}");

    // The right password reads, and the source never shows it.
    let right = pg.url_for("aoc", "right-Pa55");
    let mut source = PostgresSource::connect(&right, "advisory_raw", "document", collection())
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(!format!("{source:?}").contains("right-Pa55"));
    assert_eq!(parsed(&read_all(&mut source)), [json!({"ok": 1})]);

    // A role without SELECT: the server's refusal, named.
    pg.execute("REVOKE SELECT ON advisory_raw FROM aoc");
    let text = error_text(&connect_err(&right, "advisory_raw", "document"));
    assert!(text.contains("permission denied"), "{text}");
    assert!(!text.contains("right-Pa55"), "{text}");
}

#[test]
fn rows_come_through_a_server_side_cursor() {
    let pg = Postgres::start();
    pg.create_jsonb_table("advisory_raw", "document");
    let documents = (0..20_000)
        .map(|i| json!({"_id": i, "pad": "p".repeat(150)}))
        .collect::<Vec<_>>();
    pg.insert_values("advisory_raw", "document", &documents);

    let mut source = connect(&pg, "advisory_raw", "document").with_batch_bytes(64 << 10);
    let first = source.next_batch().unwrap().unwrap();
    assert!(first.frames.len() < 1_000, "{} rows", first.frames.len());

    // The reader's session, seen from another: inside its transaction, last statement a
    // FETCH from the cursor. A client-side read would show `idle` after one SELECT.
    let mut observer = pg.client();
    let activity = |observer: &mut postgres::Client| {
        let row = observer
            .query_one(
                "SELECT state, query FROM pg_stat_activity WHERE application_name = 'aoc-verify'",
                &[],
            )
            .unwrap();
        (row.get::<_, String>(0), row.get::<_, String>(1))
    };
    let (state, query) = activity(&mut observer);
    assert_eq!(state, "idle in transaction");
    assert!(query.starts_with("FETCH FORWARD "), "{query}");
    assert!(query.ends_with(" FROM aoc_cursor"), "{query}");

    // The cursor reads one snapshot: rows added meanwhile are not part of this read.
    pg.insert_values("advisory_raw", "document", &[json!({"_id": "late"})]);

    let mut batches = vec![first];
    batches.extend(read_all(&mut source));
    assert!(batches.len() > 40, "{} batches", batches.len());
    for batch in &batches {
        assert!(
            batch.data.len() <= (64 << 10) / 4 * 5,
            "{}",
            batch.data.len()
        );
    }
    assert_same_documents(&parsed(&batches), &documents);

    // Done: the transaction is over, the cursor closed.
    let (state, query) = activity(&mut observer);
    assert_eq!(state, "idle");
    assert!(query.contains("COMMIT"), "{query}");
}

#[test]
fn redact_url_is_public_and_hides_passwords() {
    assert_eq!(
        redact_url("postgres://aoc:Sekr1t@db:5432/concelier?sslmode=disable"),
        "postgres://aoc:***@db:5432/concelier?sslmode=disable"
    );
    assert_eq!(
        redact_url("host=db password=Sekr1t"),
        "host=db password=***"
    );
}

#[test]
fn harness_stops_the_server_on_drop() {
    let pg = Postgres::start();
    let pid = pg.pid();
    let url = pg.url();
    let data = pg.data_dir().to_owned();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(pg);
    assert!(postgres::Client::connect(&url, postgres::NoTls).is_err());
    assert!(!data.exists(), "{}", data.display());
    // Reaped, not a zombie: the pid is gone.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
