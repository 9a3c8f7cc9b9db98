//! A small sealed site in network namespaces, built by each data-path test and torn down by
//! `Drop`: a compose host with a Linux bridge and two containers, and an "internet" with
//! listeners on several addresses and ports (IPv4 and IPv6) and a DNS server.
//!
//! ```text
//!  c1 (172.28.0.2, fd00:28::2) ─┐                        ┌─ net: 10.20.0.5 :9000 :9001   (allowed :9000)
//!                               ├─ br-stellaops ─ host ─ up0 ──   10.20.0.6 :9000        (not allowed)
//!  c2 (172.28.0.3, fd00:28::3) ─┘  172.28.0.1             │       10.20.0.53 :53 :54     (resolver :53)
//!     listens :8080                fd00:28::1 (forwards)  │       198.51.100.7 :443      (outside)
//!                                                         │       198.51.100.53 udp/53   (outside DNS)
//!                                                         └─      fd00:20::5 :4317 :4318 (allowed :4317)
//!                                                                 2001:db8:ff::7 :443    (outside v6)
//! ```
//!
//! Listeners and probes are this test binary run again inside a namespace
//! (`ip netns exec NS <test binary> helper_process --exact`), told what to do by
//! [`HELPER_ENV`]; a listener greets every connection, so an "open" probe also proves that
//! replies come back.
#![allow(dead_code)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers of a test binary: a failed expectation is a failed test"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_netpolicy-gen");

/// The environment variable that turns `helper_process` into a listener or a prober.
pub const HELPER_ENV: &str = "NETPOLICY_DATAPATH_HELPER";

/// How long a probe waits for a connection: a dropped SYN shows as a timeout.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// The spec of the test site; its bridge and subnet are the topology's.
pub const SPEC: &str = "\
mode: sealed
namespaces: [stellaops]
dns:
  resolvers: [10.20.0.53]
allow:
  - name: object-store
    cidr: 10.20.0.5/32
    ports: [{port: 9000, protocol: TCP}]
  - name: otlp
    cidr: \"fd00:20::5/128\"
    ports: [{port: 4317, protocol: TCP}]
compose:
  networks:
    - {name: stellaops, bridge: br-stellaops, subnet: 172.28.0.0/24}
";

pub const BRIDGE: &str = "br-stellaops";

/// Destinations outside the bridge and whether the spec allows them.
pub const OUTSIDE_TABLE: &[(&str, bool)] = &[
    ("10.20.0.5:9000", true),
    ("10.20.0.5:9001", false),
    ("10.20.0.6:9000", false),
    ("10.20.0.53:53", true),
    ("10.20.0.53:54", false),
    ("198.51.100.7:443", false),
    ("[fd00:20::5]:4317", true),
    ("[fd00:20::5]:4318", false),
    ("[2001:db8:ff::7]:443", false),
];

/// Destinations on the bridge (container c2), always allowed.
pub const BRIDGE_TABLE: &[&str] = &["172.28.0.3:8080", "[fd00:28::3]:8080"];

/// The outside DNS server (answers every A query), which containers are pointed at.
pub const OUTSIDE_DNS: &str = "198.51.100.53:53";

/// What a probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Connected and read the listener's greeting.
    Open,
    /// No answer within [`PROBE_TIMEOUT`]: dropped.
    Timeout,
    Refused,
    Other(String),
}

impl Outcome {
    fn parse(s: &str) -> Outcome {
        match s {
            "open" => Outcome::Open,
            "timeout" => Outcome::Timeout,
            "refused" => Outcome::Refused,
            other => Outcome::Other(other.to_string()),
        }
    }
}

/// Whether this test can run: true as root; false (with a message) when not root and CI is
/// unset; a panic when CI is set, where the tests must run.
pub fn privileged(test: &str) -> bool {
    let uid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX);
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if uid != 0 {
        assert!(
            !ci,
            "{test}: data-path tests need root (network namespaces, nftables, iptables) and CI is set"
        );
        eprintln!("{test}: skipped: data-path tests need root (network namespaces); CI is unset");
        return false;
    }
    for (tool, package) in [
        ("ip", "iproute2"),
        ("nft", "nftables"),
        ("iptables", "iptables"),
        ("ip6tables", "iptables"),
    ] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                !ci,
                "{test}: `{tool}` is missing: apt-get install {package} (CI is set)"
            );
            eprintln!(
                "{test}: skipped: `{tool}` is missing (apt-get install {package}); CI is unset"
            );
            return false;
        }
    }
    true
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The site. Namespaces, helper processes and `/etc/netns` files go away on drop.
#[derive(Debug)]
pub struct Site {
    pub host: String,
    pub c1: String,
    pub c2: String,
    pub net: String,
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    etc: Vec<PathBuf>,
}

impl Site {
    /// Builds the namespaces, links, addresses and routes, and starts the listeners.
    pub fn new(tag: &str) -> Site {
        let id = format!(
            "npg{}-{}-{tag}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut site = Site {
            host: format!("{id}-host"),
            c1: format!("{id}-c1"),
            c2: format!("{id}-c2"),
            net: format!("{id}-net"),
            dir: tempfile::tempdir().expect("temporary folder"),
            children: Vec::new(),
            etc: Vec::new(),
        };
        for ns in [&site.host, &site.c1, &site.c2, &site.net] {
            run(&["ip", "netns", "add", ns]);
            // No duplicate address detection: IPv6 addresses are usable at once.
            site.sh(ns, "echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; ip link set lo up");
        }
        let (host, c1, c2, net) = (
            site.host.clone(),
            site.c1.clone(),
            site.c2.clone(),
            site.net.clone(),
        );
        site.ok(
            &host,
            &[
                "ip",
                "link",
                "add",
                BRIDGE,
                "type",
                "bridge",
                "forward_delay",
                "0",
            ],
        );
        site.ok(
            &host,
            &["ip", "addr", "add", "172.28.0.1/24", "dev", BRIDGE],
        );
        site.ok(
            &host,
            &[
                "ip",
                "-6",
                "addr",
                "add",
                "fd00:28::1/64",
                "dev",
                BRIDGE,
                "nodad",
            ],
        );
        site.ok(&host, &["ip", "link", "set", BRIDGE, "up"]);
        for (ns, port, v4, v6) in [
            (&c1, "vc1", "172.28.0.2/24", "fd00:28::2/64"),
            (&c2, "vc2", "172.28.0.3/24", "fd00:28::3/64"),
        ] {
            site.ok(
                &host,
                &[
                    "ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns,
                ],
            );
            site.ok(&host, &["ip", "link", "set", port, "master", BRIDGE, "up"]);
            site.ok(ns, &["ip", "addr", "add", v4, "dev", "eth0"]);
            site.ok(ns, &["ip", "-6", "addr", "add", v6, "dev", "eth0", "nodad"]);
            site.ok(ns, &["ip", "link", "set", "eth0", "up"]);
            site.ok(ns, &["ip", "route", "add", "default", "via", "172.28.0.1"]);
            site.ok(
                ns,
                &["ip", "-6", "route", "add", "default", "via", "fd00:28::1"],
            );
        }
        site.ok(
            &host,
            &[
                "ip", "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", &net,
            ],
        );
        for a in ["10.20.0.1/24", "198.51.100.1/24"] {
            site.ok(&host, &["ip", "addr", "add", a, "dev", "up0"]);
        }
        for a in ["fd00:20::1/64", "2001:db8:ff::1/64"] {
            site.ok(
                &host,
                &["ip", "-6", "addr", "add", a, "dev", "up0", "nodad"],
            );
        }
        site.ok(&host, &["ip", "link", "set", "up0", "up"]);
        for a in [
            "10.20.0.5/24",
            "10.20.0.6/24",
            "10.20.0.53/24",
            "198.51.100.7/24",
            "198.51.100.53/24",
        ] {
            site.ok(&net, &["ip", "addr", "add", a, "dev", "eth0"]);
        }
        for a in ["fd00:20::5/64", "2001:db8:ff::7/64"] {
            site.ok(
                &net,
                &["ip", "-6", "addr", "add", a, "dev", "eth0", "nodad"],
            );
        }
        site.ok(&net, &["ip", "link", "set", "eth0", "up"]);
        site.ok(
            &net,
            &["ip", "route", "add", "172.28.0.0/24", "via", "10.20.0.1"],
        );
        site.ok(
            &net,
            &[
                "ip",
                "-6",
                "route",
                "add",
                "fd00:28::/64",
                "via",
                "fd00:20::1",
            ],
        );
        site.sh(
            &host,
            "echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding",
        );
        // Containers resolve through the outside DNS server: a name that resolves is a leak.
        for ns in [&c1, &c2] {
            let etc = Path::new("/etc/netns").join(ns);
            std::fs::create_dir_all(&etc).expect("mkdir /etc/netns/NS");
            std::fs::write(
                etc.join("resolv.conf"),
                "nameserver 198.51.100.53\noptions timeout:1 attempts:1\n",
            )
            .expect("resolv.conf");
            std::fs::write(etc.join("nsswitch.conf"), "hosts: files dns\n").expect("nsswitch");
            std::fs::write(etc.join("hosts"), "127.0.0.1 localhost\n::1 localhost\n")
                .expect("hosts");
            site.etc.push(etc);
        }
        let mut listen: Vec<String> = OUTSIDE_TABLE
            .iter()
            .map(|(a, _)| format!("tcp:{a}"))
            .collect();
        listen.push(format!("dns:{OUTSIDE_DNS}"));
        site.serve(&net, &listen);
        let bridge_listen: Vec<String> = BRIDGE_TABLE.iter().map(|a| format!("tcp:{a}")).collect();
        site.serve(&c2, &bridge_listen);
        site
    }

    /// Runs `args` in namespace `ns`.
    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        output(&full)
    }

    /// Runs `args` in `ns`; panics with its stderr unless it succeeds.
    pub fn ok(&self, ns: &str, args: &[&str]) -> String {
        let out = self.exec(ns, args);
        assert!(
            out.status.success(),
            "{ns}: {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a shell command in `ns`; panics unless it succeeds.
    pub fn sh(&self, ns: &str, script: &str) -> String {
        self.ok(ns, &["sh", "-c", script])
    }

    /// Starts the helper as a listener in `ns` and waits until every socket is bound.
    fn serve(&mut self, ns: &str, endpoints: &[String]) {
        let exe = std::env::current_exe().expect("test executable");
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(exe)
            .args([
                "helper_process",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(HELPER_ENV, format!("serve {}", endpoints.join(" ")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the listener helper");
        let stdout = child.stdout.take().expect("helper stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have written `test helper_process ... ` on the same line.
                if line.ends_with("HELPER ready") {
                    let _ = tx.send(());
                }
            }
        });
        self.children.push(child);
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{ns}: the listener helper did not get ready"));
    }

    /// Connects from `ns` to every target at once; returns what each saw.
    pub fn probe(&self, ns: &str, targets: &[&str]) -> BTreeMap<String, Outcome> {
        let exe = std::env::current_exe().expect("test executable");
        let list: Vec<String> = targets.iter().map(|t| format!("tcp:{t}")).collect();
        let out = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(exe)
            .args([
                "helper_process",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(HELPER_ENV, format!("probe {}", list.join(" ")))
            .stdin(Stdio::null())
            .output()
            .expect("run the probe helper");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut seen = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.find("HELPER probe ").map(|at| &line[at + 13..]) {
                let (target, outcome) = rest.split_once(' ').expect("target and outcome");
                seen.insert(target.to_string(), Outcome::parse(outcome));
            }
        }
        assert_eq!(
            seen.len(),
            targets.len(),
            "probe helper output: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen
    }

    /// Writes the test spec and returns its path.
    pub fn spec(&self) -> PathBuf {
        write_spec(self.dir.path())
    }

    /// Runs `netpolicy-gen generate --target T` on the test spec into `dir/T`.
    pub fn generate(&self, target: &str) -> PathBuf {
        generate_in(self.dir.path(), target)
    }

    /// Loads the generated nftables ruleset in the host namespace.
    pub fn apply_nftables(&self, out: &Path) {
        let file = out.join("nftables/sealed-egress.nft");
        self.ok(
            &self.host,
            &["nft", "-f", file.to_str().expect("UTF-8 path")],
        );
    }

    /// A Docker-like FORWARD chain (policy DROP, a jump to DOCKER-USER first, then Docker's
    /// accepts for the bridge), IPv4 and IPv6.
    pub fn docker_like_forward(&self) {
        for tool in ["iptables", "ip6tables"] {
            let script = format!(
                "{tool} -w -P FORWARD DROP && {tool} -w -N DOCKER-USER && {tool} -w -A DOCKER-USER -j RETURN && \
                 {tool} -w -A FORWARD -j DOCKER-USER && \
                 {tool} -w -A FORWARD -o {BRIDGE} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT && \
                 {tool} -w -A FORWARD -i {BRIDGE} ! -o {BRIDGE} -j ACCEPT && \
                 {tool} -w -A FORWARD -i {BRIDGE} -o {BRIDGE} -j ACCEPT"
            );
            self.sh(&self.host, &script);
        }
    }

    /// Runs the generated `apply.sh` in the host namespace.
    pub fn apply_iptables(&self, out: &Path) {
        let file = out.join("iptables/apply.sh");
        self.ok(&self.host, &["sh", file.to_str().expect("UTF-8 path")]);
    }

    /// Packets counted by the nftables drop counter of `family` (`ipv4`, `ipv6`).
    pub fn nft_drops(&self, family: &str) -> u64 {
        let text = self.ok(
            &self.host,
            &[
                "nft",
                "list",
                "counter",
                "inet",
                "sealed_egress",
                &format!("dropped_{family}"),
            ],
        );
        let packets = text
            .split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .unwrap_or_else(|| panic!("no packet count in {text}"));
        packets.parse().expect("packet count")
    }

    /// Packets counted by the final DROP of the generated iptables chain (`iptables` or
    /// `ip6tables`).
    pub fn iptables_drops(&self, tool: &str) -> u64 {
        let text = self.ok(
            &self.host,
            &[tool, "-w", "-L", "SEALED-FROM-COMPOSE", "-v", "-x", "-n"],
        );
        let line = text
            .lines()
            .rfind(|l| l.split_whitespace().nth(2) == Some("DROP"))
            .unwrap_or_else(|| panic!("no DROP rule in {text}"));
        line.split_whitespace()
            .next()
            .unwrap()
            .parse()
            .expect("packet count")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.c1, &self.c2, &self.net, &self.host] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for dir in &self.etc {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes the test spec into `dir` and returns its path.
pub fn write_spec(dir: &Path) -> PathBuf {
    let path = dir.join("spec.yaml");
    std::fs::write(&path, SPEC).expect("write spec");
    path
}

/// Runs `netpolicy-gen generate --target T` on the test spec into `dir/T`; returns the folder.
pub fn generate_in(dir: &Path, target: &str) -> PathBuf {
    let spec = write_spec(dir);
    let out = dir.join(target);
    let run = output(&[
        BIN,
        "generate",
        "--spec",
        spec.to_str().expect("UTF-8 path"),
        "--target",
        target,
        "--out",
        out.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        run.status.success(),
        "generate --target {target}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// The absolute path of a program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let out = output(&["sh", "-c", &format!("command -v {name}")]);
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Runs a command; panics when it cannot start.
pub fn output(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"))
}

/// Runs a command; panics unless it succeeds.
pub fn run(args: &[&str]) {
    let out = output(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- the helper process ----------------------------------------------------------------

/// What the helper is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperTask {
    /// Listen on every endpoint until killed.
    Serve(Vec<Endpoint>),
    /// Connect to every address and print what happened.
    Probe(Vec<SocketAddr>),
}

/// A listening endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Tcp(SocketAddr),
    /// A DNS server answering every A query with 203.0.113.80.
    Dns(SocketAddr),
}

/// Parses [`HELPER_ENV`]: `serve tcp:ADDR dns:ADDR…` or `probe tcp:ADDR…`.
pub fn parse_task(text: &str) -> Result<HelperTask, String> {
    let mut words = text.split_whitespace();
    let verb = words.next().ok_or("empty task")?;
    let mut endpoints = Vec::new();
    for word in words {
        let (kind, addr) = word.split_once(':').ok_or(format!("`{word}`: KIND:ADDR"))?;
        let addr: SocketAddr = addr.parse().map_err(|e| format!("`{addr}`: {e}"))?;
        endpoints.push(match kind {
            "tcp" => Endpoint::Tcp(addr),
            "dns" => Endpoint::Dns(addr),
            _ => return Err(format!("`{kind}`: tcp or dns")),
        });
    }
    match verb {
        "serve" => Ok(HelperTask::Serve(endpoints)),
        "probe" => endpoints
            .into_iter()
            .map(|e| match e {
                Endpoint::Tcp(a) => Ok(a),
                Endpoint::Dns(_) => Err("probes are tcp".to_string()),
            })
            .collect::<Result<_, _>>()
            .map(HelperTask::Probe),
        _ => Err(format!("`{verb}`: serve or probe")),
    }
}

/// Runs a helper task (in the namespace it was started in).
pub fn helper_main(text: &str) {
    match parse_task(text).expect("helper task") {
        HelperTask::Serve(endpoints) => serve(&endpoints),
        HelperTask::Probe(targets) => {
            let handles: Vec<_> = targets
                .into_iter()
                .map(|t| std::thread::spawn(move || (t, probe_one(t))))
                .collect();
            let mut out = std::io::stdout().lock();
            for h in handles {
                let (target, outcome) = h.join().expect("probe thread");
                writeln!(out, "HELPER probe {target} {outcome}").expect("stdout");
            }
        }
    }
}

fn probe_one(target: SocketAddr) -> String {
    match TcpStream::connect_timeout(&target, PROBE_TIMEOUT) {
        Ok(mut stream) => {
            let _ = stream.set_read_timeout(Some(PROBE_TIMEOUT));
            let mut greeting = [0u8; 5];
            match stream.read_exact(&mut greeting) {
                Ok(()) if &greeting == b"hello" => "open".to_string(),
                Ok(()) => "open-without-greeting".to_string(),
                Err(e) => format!("open-no-reply:{:?}", e.kind()),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => "timeout".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "refused".to_string(),
        Err(e) => format!("error:{:?}", e.kind()),
    }
}

fn serve(endpoints: &[Endpoint]) -> ! {
    for endpoint in endpoints {
        match *endpoint {
            Endpoint::Tcp(addr) => {
                let listener =
                    TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
                std::thread::spawn(move || {
                    for mut stream in listener.incoming().flatten() {
                        let _ = stream.write_all(format!("hello from {addr}\n").as_bytes());
                    }
                });
            }
            Endpoint::Dns(addr) => {
                let socket =
                    UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind udp {addr}: {e}"));
                std::thread::spawn(move || {
                    let mut buf = [0u8; 512];
                    while let Ok((n, from)) = socket.recv_from(&mut buf) {
                        if let Some(answer) = dns_answer(&buf[..n]) {
                            let _ = socket.send_to(&answer, from);
                        }
                    }
                });
            }
        }
    }
    println!("HELPER ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// A DNS response to `query`: 203.0.113.80 for an A question, no record for any other.
pub fn dns_answer(query: &[u8]) -> Option<Vec<u8>> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    let mut end = 12;
    loop {
        let len = usize::from(*query.get(end)?);
        end += 1;
        if len == 0 {
            break;
        }
        end += len;
    }
    let qtype = u16::from_be_bytes([*query.get(end)?, *query.get(end + 1)?]);
    end += 4;
    let question = query.get(12..end)?;
    let a = qtype == 1;
    let mut out = Vec::with_capacity(end + 16);
    out.extend_from_slice(&query[0..2]);
    out.extend_from_slice(&[0x81, 0x80, 0, 1, 0, u8::from(a), 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if a {
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 80]);
    }
    Some(out)
}
