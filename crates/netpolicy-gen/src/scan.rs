//! `netpolicy-gen scan`: finds the network endpoints named in configuration files (YAML,
//! JSON, TOML, `.env`, INI) that the spec's allow-list does not cover — the CI rule that fails
//! when a new external endpoint appears.
//!
//! The scan reads text line by line (any size, bounded memory) and favours precision: an
//! address is reported wherever it appears outside comments, a host name only where the text
//! says it is an endpoint — a URL's host, `name.tld:port`, a container image's registry, or
//! the value of a key named for an endpoint (`host`, `server`, `url`, `endpoint`, …). See
//! `docs/netpolicy-gen.md#scan` for every rule and why it is sound.

mod text;

use crate::error::NetpolicyError;
use crate::spec::Spec;
use ipnet::IpNet;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use text::{Candidate, Context, Syntax};

/// The `schema` of the scan report.
pub const SCAN_SCHEMA: &str = "stellaops.netpolicy-scan/v1";

/// Lines longer than this are scanned in pieces of this size.
const MAX_LINE: u64 = 1024 * 1024;

/// Options of `netpolicy-gen scan`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Find host names and IP addresses in configuration files (*.yaml, *.yml, \
*.json, *.toml, *.ini, *.cfg, *.conf, *.env and .env files, searched recursively in each DIR; \
hidden folders skipped) that the spec does not allow, and report each with file:line:column. \
Allowed: addresses inside an allow-list cidr (minus its except), the DNS resolvers and NodeLocal \
DNS address, NTP servers and compose subnets of the spec, loopback, unspecified and reserved \
addresses, IPv6 link-local addresses; cluster-internal names (single-label, localhost, *.svc, \
*.<cluster-domain>), the reserved example/test/invalid names, and every --allow. Addresses are \
found anywhere outside comments; host names where the text makes them an endpoint: a URL's host, \
name.tld:port, an image's registry (no registry: docker.io), or the value of a key named for an \
endpoint. The report (JSON, stellaops.netpolicy-scan/v1) goes to stdout, one line per finding to \
stderr. Exit 0 nothing found, 1 findings, 2 unreadable input."
)]
pub struct ScanArgs {
    /// The sealed-mode spec whose allow-list applies.
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// Folders (or files) to scan.
    #[arg(value_name = "DIR", required = true)]
    pub paths: Vec<PathBuf>,
    /// Also allow this address, CIDR, host name, or `*.domain` (repeatable).
    #[arg(long, value_name = "VALUE")]
    pub allow: Vec<String>,
    /// The cluster's DNS domain: names under it are internal.
    #[arg(long, value_name = "DOMAIN", default_value = "cluster.local")]
    pub cluster_domain: String,
    /// No lines on stderr (the report is still written).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ip,
    Cidr,
    Host,
}

/// One endpoint not on the allow-list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub file: String,
    pub line: u64,
    /// 1-based, in characters.
    pub column: usize,
    pub kind: Kind,
    /// The address, network or host name (lowercase).
    pub value: String,
    /// How it was recognised: `url`, `host-port`, `image`, `key`, `address`.
    pub context: Context,
    /// The key the value belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// How much was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub files: usize,
    pub lines: u64,
    pub findings: usize,
}

/// The scan report (`stellaops.netpolicy-scan/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub schema: &'static str,
    pub ok: bool,
    pub counts: Counts,
    /// Each distinct value found, sorted.
    pub values: Vec<String>,
    pub findings: Vec<Finding>,
}

/// What the scan lets through.
#[derive(Debug, Clone)]
pub struct AllowList {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
    suffixes: Vec<String>,
    cluster_domain: String,
}

impl AllowList {
    /// The allow-list of `spec` plus `extra` values (addresses, CIDRs, names, `*.domain`).
    pub fn new(spec: &Spec, extra: &[String], cluster_domain: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in spec.egress_allow() {
            nets.extend(entry.allowed_nets());
        }
        nets.extend(spec.dns.resolvers.iter().map(|ip| IpNet::from(*ip)));
        nets.extend(spec.dns.node_local.map(IpNet::from));
        nets.extend(spec.compose.networks.iter().map(|n| n.subnet));
        let mut hosts = Vec::new();
        let mut suffixes = Vec::new();
        for value in extra {
            let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
            if let Ok(net) = crate::policy::parse_net(&v) {
                nets.push(net);
            } else if let Some(suffix) = v.strip_prefix("*.").or_else(|| v.strip_prefix('.')) {
                if !text::is_dns_name(suffix) {
                    return Err(format!(
                        "--allow `{value}`: not an address, CIDR or host name"
                    ));
                }
                suffixes.push(suffix.to_string());
            } else if text::is_dns_name(&v) {
                hosts.push(v);
            } else {
                return Err(format!(
                    "--allow `{value}`: not an address, CIDR or host name"
                ));
            }
        }
        Ok(AllowList {
            nets,
            hosts,
            suffixes,
            cluster_domain: cluster_domain.trim_matches('.').to_ascii_lowercase(),
        })
    }

    /// True when `ip` needs no allow-list entry or has one.
    pub fn allows_ip(&self, ip: &IpAddr) -> bool {
        not_an_egress_address(ip) || self.nets.iter().any(|n| n.contains(ip))
    }

    /// True when every address of `net` is allowed.
    pub fn allows_net(&self, net: &IpNet) -> bool {
        self.nets.iter().any(|n| n.contains(net))
            || (not_an_egress_address(&net.network()) && not_an_egress_address(&net.broadcast()))
    }

    /// True when `host` (lowercase, no trailing dot) needs no allow-list entry or has one.
    pub fn allows_host(&self, host: &str) -> bool {
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        !host.contains('.')
            || under("localhost")
            || host.ends_with(".svc")
            || under(&self.cluster_domain)
            || host.ends_with(&format!(".svc.{}", self.cluster_domain))
            // RFC 2606 / 6761: reserved, never delegated, so never reached.
            || ["example", "test", "invalid", "example.com", "example.net", "example.org"]
                .iter()
                .any(|d| under(d))
            || self.hosts.iter().any(|h| h == host)
            || self.suffixes.iter().any(|s| under(s))
    }
}

/// Addresses that no packet leaves the host or the link for: loopback, unspecified,
/// "this network" (0.0.0.0/8), reserved (240.0.0.0/4, broadcast) and IPv6 link-local.
fn not_an_egress_address(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.octets()[0] == 0 || v4.octets()[0] >= 240,
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| not_an_egress_address(&IpAddr::V4(v4)))
        }
    }
}

/// Runs `netpolicy-gen scan`.
pub fn run(
    args: &ScanArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    let spec = Spec::load(&args.spec)?;
    let allow =
        AllowList::new(&spec, &args.allow, &args.cluster_domain).map_err(NetpolicyError::Usage)?;
    let mut files = Vec::new();
    for path in &args.paths {
        let meta = std::fs::metadata(path).map_err(|e| NetpolicyError::io(path, e))?;
        if meta.is_dir() {
            collect(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut report = ScanReport {
        schema: SCAN_SCHEMA,
        ok: true,
        counts: Counts {
            files: 0,
            lines: 0,
            findings: 0,
        },
        values: Vec::new(),
        findings: Vec::new(),
    };
    for file in &files {
        let reader = std::fs::File::open(file).map_err(|e| NetpolicyError::io(file, e))?;
        let lines = scan_reader(
            reader,
            &file.display().to_string(),
            Syntax::of(file),
            &allow,
            &mut report.findings,
        )
        .map_err(|e| NetpolicyError::io(file, e))?;
        report.counts.files += 1;
        report.counts.lines += lines;
    }
    report.findings.sort();
    report.findings.dedup();
    let mut values: Vec<String> = report.findings.iter().map(|f| f.value.clone()).collect();
    values.sort();
    values.dedup();
    report.values = values;
    report.counts.findings = report.findings.len();
    report.ok = report.findings.is_empty();
    let json = offline_formats::jcs::to_pretty_vec(&report)
        .map_err(|e| NetpolicyError::Internal(format!("scan report: {e}")))?;
    tool_cli::write_data(stdout, &json);
    if !args.quiet {
        for f in &report.findings {
            let key = f
                .key
                .as_deref()
                .map(|k| format!(" (key `{}`)", tool_cli::sanitize(k)))
                .unwrap_or_default();
            let _ = writeln!(
                stderr,
                "{}:{}:{}: {} `{}` is not on the allow-list ({}){key}",
                tool_cli::sanitize(&f.file),
                f.line,
                f.column,
                kind_word(f.kind),
                tool_cli::sanitize(&f.value),
                context_word(f.context),
            );
        }
        let what = format!(
            "scan: {} endpoint{} not on the allow-list ({} distinct) in {} files",
            report.counts.findings,
            if report.counts.findings == 1 { "" } else { "s" },
            report.values.len(),
            report.counts.files
        );
        let _ = if report.ok {
            writeln!(stderr, "{}: {what}", crate::TOOL)
        } else {
            writeln!(stderr, "{}: error: {what}", crate::TOOL)
        };
    }
    Ok(u8::from(!report.ok))
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Ip => "address",
        Kind::Cidr => "network",
        Kind::Host => "host",
    }
}

fn context_word(c: Context) -> &'static str {
    match c {
        Context::Url => "in a URL",
        Context::HostPort => "as host:port",
        Context::Image => "as an image registry",
        Context::Key => "as an endpoint value",
        Context::Address => "as an address",
    }
}

/// The configuration files under `dir`, in byte order of their paths; hidden folders and
/// symbolic links to folders are skipped.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), NetpolicyError> {
    for path in crate::policy::sorted_entries(dir)? {
        let link = std::fs::symlink_metadata(&path).map_err(|e| NetpolicyError::io(&path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if link.is_dir() {
            if !name.starts_with('.') {
                collect(&path, out)?;
            }
        } else if Syntax::of(&path) != Syntax::Unknown {
            let meta = std::fs::metadata(&path).map_err(|e| NetpolicyError::io(&path, e))?;
            if meta.is_file() {
                out.push(path);
            }
        }
    }
    Ok(())
}

/// Scans one file's lines, pushing what the allow-list does not cover; returns the number
/// of lines.
pub fn scan_reader<R: Read>(
    reader: R,
    file: &str,
    syntax: Syntax,
    allow: &AllowList,
    out: &mut Vec<Finding>,
) -> std::io::Result<u64> {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    let mut number = 0;
    let mut keys = text::KeyScope::default();
    let mut continued = false;
    loop {
        buf.clear();
        let n = reader.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        if !continued {
            number += 1;
        }
        continued = !buf.ends_with(b"\n") && n as u64 == MAX_LINE;
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        for Candidate {
            column,
            kind,
            value,
            context,
            key,
        } in text::candidates(line, syntax, &mut keys)
        {
            let allowed = match kind {
                Kind::Ip => value.parse::<IpAddr>().is_ok_and(|ip| allow.allows_ip(&ip)),
                Kind::Cidr => value.parse::<IpNet>().is_ok_and(|n| allow.allows_net(&n)),
                Kind::Host => allow.allows_host(&value),
            };
            if !allowed {
                out.push(Finding {
                    file: file.to_string(),
                    line: number,
                    column,
                    kind,
                    value,
                    context,
                    key,
                });
            }
        }
    }
    Ok(number)
}
