//! Test harness: a throwaway PostgreSQL server per test, on loopback, in a temporary folder.
//!
//! Include it from a test file with
//!
//! ```ignore
//! #[path = "support/postgres.rs"]
//! mod postgres_support;
//! use postgres_support::Postgres;
//! ```
//!
//! [`Postgres::start`] runs Debian's own binaries (`/usr/lib/postgresql/<version>/bin`, the
//! newest installed; `AOC_TEST_PG_BINDIR` overrides) and fails loudly when they are missing:
//! `apt-get install -y postgresql`. Under root (CI) `initdb` and `postgres` run as the
//! `postgres` system user that package creates, through `setpriv` (which execs, so the child
//! we hold is the postmaster itself). The cluster lives in a fresh temporary folder owned by
//! that user, uses `trust` authentication, listens on `127.0.0.1` on a free port and on a
//! Unix socket in the same folder, and runs with `fsync=off`. Dropping the handle stops it
//! (`pg_ctl stop -m immediate`, then SIGKILL); a watchdog process stops it too, and deletes
//! the folder, if the test process dies without unwinding (abort, SIGKILL, nextest timeout).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use postgres::{Client, NoTls};
use std::fs::File;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The system user that runs the server when the tests run as root.
const SERVER_USER: &str = "postgres";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running PostgreSQL server, stopped and deleted on drop.
#[derive(Debug)]
pub struct Postgres {
    server: Server,
    bindir: PathBuf,
    run_as: Option<RunAs>,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    // Last, so the folder goes after the server has stopped.
    dir: TempDir,
}

/// The postmaster we spawned, and the watchdog that stops it if we die.
#[derive(Debug)]
struct Server {
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
}

/// The user to run the server's binaries as.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

impl Postgres {
    /// Initializes a cluster in a temporary folder and starts a server on a free loopback
    /// port; returns once it accepts connections. Panics (with the server log) on failure.
    pub fn start() -> Postgres {
        let bindir = find_bindir();
        let run_as = server_user();
        let dir = make_dir(run_as.as_ref());
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");

        let initdb = command(run_as.as_ref(), &bindir.join("initdb"), dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .output()
            .unwrap_or_else(|error| panic!("cannot run initdb: {error}"));
        assert_ok("initdb", &initdb);

        // A free port can be taken by another test between our probe and the server's bind:
        // try a few.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_start = std::fs::metadata(&log).map_or(0, |meta| meta.len());
            let child = spawn_server(run_as.as_ref(), &bindir, dir.path(), &data, &log, port);
            let watchdog = spawn_watchdog(child.id(), dir.path());
            let mut server = Server { child, watchdog };
            match wait_ready(&mut server, port) {
                Ok(()) => {
                    return Postgres {
                        server,
                        bindir,
                        run_as,
                        data,
                        log,
                        port,
                        dir,
                    }
                }
                Err(why) => {
                    stop(&mut server, run_as.as_ref(), &bindir, dir.path(), &data);
                    let whole_log = std::fs::read(&log).unwrap_or_default();
                    let start = usize::try_from(log_start).unwrap_or(0).min(whole_log.len());
                    // This attempt's lines only: an earlier attempt's bind failure is old news.
                    last_log = String::from_utf8_lossy(&whole_log[start..]).into_owned();
                    let port_taken = last_log.contains("could not bind")
                        || last_log.contains("Address already in use");
                    if !port_taken {
                        panic!("postgres did not start: {why}\n--- server log ---\n{last_log}");
                    }
                }
            }
        }
        panic!("postgres did not start: no free port\n--- server log ---\n{last_log}");
    }

    /// A URL for the superuser `postgres` (trust authentication, no password) and the
    /// `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A URL for `user` with `password`, for the `postgres` database.
    pub fn url_for(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// The TCP port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.server.child.id()
    }

    /// A new superuser connection.
    pub fn client(&self) -> Client {
        Client::connect(&self.url(), NoTls)
            .unwrap_or_else(|error| panic!("cannot connect to the test server: {error}"))
    }

    /// Runs `sql` (one or more statements) as the superuser; panics on error.
    pub fn execute(&self, sql: &str) {
        if let Err(error) = self.client().batch_execute(sql) {
            panic!("{sql}: {}", describe(&error));
        }
    }

    /// Creates `table` with an identity column `id` and a `column` of `column_type`
    /// (`jsonb`, `json`, `text`…). `table` and `column` are SQL as written: quote them with
    /// [`quote_ident`] where needed.
    pub fn create_table(&self, table: &str, column: &str, column_type: &str) {
        self.execute(&format!(
            "CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY, {column} {column_type})"
        ));
    }

    /// Creates `table` with a `jsonb` column `column` (SQL as written, like [`create_table`]).
    ///
    /// [`create_table`]: Postgres::create_table
    pub fn create_jsonb_table(&self, table: &str, column: &str) {
        self.create_table(table, column, "jsonb");
    }

    /// Appends `documents` to `column` of `table`, in order.
    pub fn insert_values(&self, table: &str, column: &str, documents: &[serde_json::Value]) {
        let texts = documents
            .iter()
            .map(|document| serde_json::to_string(document).unwrap())
            .collect::<Vec<_>>();
        self.insert_texts(table, column, texts.iter().map(|text| Some(text.as_str())));
    }

    /// Appends raw texts to `column` of `table`, in order, through one `COPY` (`None` is SQL
    /// `NULL`). The server parses them as the column's type.
    pub fn insert_texts<'a>(
        &self,
        table: &str,
        column: &str,
        texts: impl IntoIterator<Item = Option<&'a str>>,
    ) {
        let mut client = self.client();
        let sql = format!("COPY {table} ({column}) FROM STDIN");
        let mut writer = client
            .copy_in(&sql)
            .unwrap_or_else(|error| panic!("{sql}: {}", describe(&error)));
        let mut line = String::new();
        for text in texts {
            line.clear();
            match text {
                None => line.push_str("\\N"),
                Some(text) => {
                    for c in text.chars() {
                        match c {
                            '\\' => line.push_str("\\\\"),
                            '\n' => line.push_str("\\n"),
                            '\r' => line.push_str("\\r"),
                            '\t' => line.push_str("\\t"),
                            c => line.push(c),
                        }
                    }
                }
            }
            line.push('\n');
            writer.write_all(line.as_bytes()).unwrap();
        }
        if let Err(error) = writer.finish() {
            panic!("{sql}: {}", describe(&error));
        }
    }

    /// Creates a login role with a password and makes TCP logins of every role but
    /// `postgres` check passwords (SCRAM), so that tests can see authentication fail.
    pub fn require_password(&self, user: &str, password: &str) {
        self.execute(&format!(
            "SET password_encryption = 'scram-sha-256'; \
             CREATE ROLE {} LOGIN PASSWORD '{}'",
            quote_ident(user),
            password.replace('\'', "''")
        ));
        let hba = "local all all trust\n\
                   host all postgres 127.0.0.1/32 trust\n\
                   host all all 127.0.0.1/32 scram-sha-256\n";
        // Written through the existing file, which stays the server user's.
        std::fs::write(self.data.join("pg_hba.conf"), hba).unwrap();
        self.execute("SELECT pg_reload_conf()");
        // The reload is asynchronous: wait until the server reports the new rules.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let rows = self
                .client()
                .query(
                    "SELECT 1 FROM pg_hba_file_rules WHERE auth_method = 'scram-sha-256'",
                    &[],
                )
                .unwrap();
            let trusted = Client::connect(&self.url_for(user, "not-the-password"), NoTls);
            if !rows.is_empty() && trusted.is_err() {
                return;
            }
            assert!(Instant::now() < deadline, "pg_hba.conf was not reloaded");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(
            &mut self.server,
            self.run_as.as_ref(),
            &self.bindir,
            self.dir.path(),
            &self.data,
        );
    }
}

/// Waits until the server on `port` accepts connections, or has exited, or times out.
fn wait_ready(server: &mut Server, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    loop {
        if let Some(status) = server.child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the server exited: {status}"));
        }
        match Client::connect(&url, NoTls) {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(format!(
                    "not accepting connections after {START_TIMEOUT:?}: {}",
                    describe(&error)
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Stops the server (and its watchdog) and waits for it: `pg_ctl stop -m immediate`, then
/// SIGKILL if it is still there after 10 s. Safe to call twice.
fn stop(server: &mut Server, run_as: Option<&RunAs>, bindir: &Path, cwd: &Path, data: &Path) {
    if let Some((mut watchdog, stdin)) = server.watchdog.take() {
        // Killed before its pipe closes, so that it never signals a recycled pid.
        let _ = watchdog.kill();
        let _ = watchdog.wait();
        drop(stdin);
    }
    if matches!(server.child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = command(run_as, &bindir.join("pg_ctl"), cwd)
        .arg("stop")
        .arg("-D")
        .arg(data)
        .args(["-m", "immediate", "-w", "-t", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if matches!(server.child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
}

/// `name` as a SQL identifier: in double quotes, inner double quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A loopback TCP port that nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("cannot find a free port: {error}"))
}

fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => format!("{error}: {:?}", std::error::Error::source(error)),
    }
}

fn find_bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AOC_TEST_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut versions = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<f64>().ok()?;
            let bin = entry.path().join("bin");
            let complete = ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|tool| bin.join(tool).is_file());
            complete.then_some((version, bin))
        })
        .collect::<Vec<_>>();
    versions.sort_by(|a, b| a.0.total_cmp(&b.0));
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/<version>/bin: \
             install them with `apt-get install -y postgresql` (or set AOC_TEST_PG_BINDIR)"
        ),
    }
}

/// `postgres` when running as root (the server refuses root), else nobody: run as ourselves.
fn server_user() -> Option<RunAs> {
    if id(&["-u"]) != 0 {
        return None;
    }
    Some(RunAs {
        name: SERVER_USER.to_owned(),
        uid: id(&["-u", SERVER_USER]),
        gid: id(&["-g", SERVER_USER]),
    })
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run `id`: {error}"));
    assert!(
        output.status.success(),
        "`id {}` failed: {} (the `{SERVER_USER}` system user comes with \
         `apt-get install -y postgresql`)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// A fresh folder the server user owns and can reach: the first of the usual temporary
/// folders whose every parent that user may traverse.
fn make_dir(run_as: Option<&RunAs>) -> TempDir {
    let mut bases = vec![std::env::temp_dir()];
    for base in ["/tmp", "/var/tmp", "/dev/shm"] {
        if !bases.iter().any(|known| known == Path::new(base)) {
            bases.push(PathBuf::from(base));
        }
    }
    let mut tried = Vec::new();
    for base in bases {
        let Ok(dir) = tempfile::Builder::new()
            .prefix("aoc-verify-pg-")
            .tempdir_in(&base)
        else {
            tried.push(format!("{}: cannot create a folder", base.display()));
            continue;
        };
        let Some(user) = run_as else {
            return dir;
        };
        if let Err(error) = std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid)) {
            tried.push(format!("{}: chown: {error}", base.display()));
            continue;
        }
        let reachable = command(Some(user), Path::new("test"), Path::new("/"))
            .arg("-w")
            .arg(dir.path())
            .status()
            .is_ok_and(|status| status.success());
        if reachable {
            return dir;
        }
        tried.push(format!(
            "{}: not writable by the `{}` user (a parent folder it cannot traverse?)",
            base.display(),
            user.name
        ));
    }
    panic!(
        "no temporary folder usable by the PostgreSQL server:\n{}",
        tried.join("\n")
    );
}

/// A command for `program`, run as `run_as` when given, in `cwd` (the server user may not
/// be able to enter ours).
fn command(run_as: Option<&RunAs>, program: &Path, cwd: &Path) -> Command {
    let mut command = match run_as {
        Some(user) => {
            let mut command = Command::new("setpriv");
            command
                .arg(format!("--reuid={}", user.uid))
                .arg(format!("--regid={}", user.gid))
                .arg("--clear-groups")
                .arg("--")
                .arg(program);
            command
        }
        None => Command::new(program),
    };
    command.current_dir(cwd).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            command.env_remove(key);
        }
    }
    command
}

fn spawn_server(
    run_as: Option<&RunAs>,
    bindir: &Path,
    dir: &Path,
    data: &Path,
    log: &Path,
    port: u16,
) -> Child {
    let log_file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|error| panic!("{}: {error}", log.display()));
    let settings = [
        "listen_addresses=127.0.0.1".to_owned(),
        format!("port={port}"),
        format!("unix_socket_directories={}", dir.display()),
        "fsync=off".to_owned(),
        "synchronous_commit=off".to_owned(),
        "full_page_writes=off".to_owned(),
        // Many servers run at once on small machines: keep each one small.
        "shared_buffers=16MB".to_owned(),
        "max_connections=30".to_owned(),
        "max_wal_senders=0".to_owned(),
        "wal_level=minimal".to_owned(),
        "max_parallel_workers_per_gather=0".to_owned(),
        "dynamic_shared_memory_type=mmap".to_owned(),
        "log_min_messages=warning".to_owned(),
    ];
    let mut command = command(run_as, &bindir.join("postgres"), dir);
    command.arg("-D").arg(data);
    for setting in &settings {
        command.arg("-c").arg(setting);
    }
    command
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start postgres: {error}"))
}

/// A shell that waits for its stdin to close (our process has ended, however it ended),
/// then shuts the server down at once and, once it has gone (10 s at most), deletes `dir`.
fn spawn_watchdog(pid: u32, dir: &Path) -> Option<(Child, ChildStdin)> {
    const SCRIPT: &str = r#"cat >/dev/null
kill -QUIT "$1" 2>/dev/null
i=0
while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
rm -rf -- "$2""#;
    let mut watchdog = Command::new("sh")
        .args(["-c", SCRIPT, "sh"])
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdin = watchdog.stdin.take()?;
    Some((watchdog, stdin))
}

fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
