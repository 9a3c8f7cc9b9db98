//! The sealed-mode spec: one small YAML file naming the namespaces to seal, how pods resolve
//! names, the few internal endpoints egress may reach and the compose bridges to filter.
//!
//! Loading is strict: unknown keys, impossible values (an `except` outside its `cidr`,
//! `endPort < port`, a mixed address family, a CIDR with host bits set, port 0, a duplicate
//! name, a bridge name the kernel would refuse) are errors that name the file and the line.
//! Type errors get their line from serde_yaml; for the checks that look at several values at
//! once, a second pass over the text finds the line of the offending key (see [`locate`]).

use crate::error::NetpolicyError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

pub use ipnet::IpNet;

/// The `schema` value a spec may carry (optional; any other value is rejected).
pub const SPEC_SCHEMA: &str = "stellaops.netpolicy-spec/v1";

/// A spec larger than this is not a spec (it is read whole, so it is bounded).
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// The namespaces the platform's control plane runs in: never sealed by a spec, exempted by
/// the cluster-wide policies.
pub const SYSTEM_NAMESPACES: &[&str] = &[
    "calico-apiserver",
    "calico-system",
    "kube-node-lease",
    "kube-public",
    "kube-system",
    "tigera-operator",
];

/// Where cluster DNS (CoreDNS or kube-dns) runs and the label its pods carry.
pub const CLUSTER_DNS_NAMESPACE: &str = "kube-system";
/// Label key of the cluster DNS pods (CoreDNS keeps kube-dns' label).
pub const CLUSTER_DNS_LABEL_KEY: &str = "k8s-app";
/// Label value of the cluster DNS pods.
pub const CLUSTER_DNS_LABEL_VALUE: &str = "kube-dns";

/// The NTP port opened for `ntp.servers` in constrained mode.
pub const NTP_PORT: u16 = 123;
/// The DNS port opened for cluster DNS, NodeLocal DNS and resolvers.
pub const DNS_PORT: u16 = 53;

/// How much egress the site allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Nothing leaves except DNS and the allow-list.
    Sealed,
    /// Sealed plus NTP (`ntp.servers`) and allow-list entries as wide as `0.0.0.0/0`.
    Constrained,
    /// Egress is open; the spec still feeds `scan` and `lint`, `generate` refuses it.
    Connected,
}

impl Mode {
    /// The spelling used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sealed => "sealed",
            Mode::Constrained => "constrained",
            Mode::Connected => "connected",
        }
    }
}

/// A loaded, checked spec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// Optional; when present it must be [`SPEC_SCHEMA`].
    #[serde(default)]
    pub schema: Option<String>,
    pub mode: Mode,
    /// Kubernetes namespaces to seal, as written (generators sort them).
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub dns: Dns,
    /// Allow-list entries, as written (generators sort them by name).
    #[serde(default)]
    pub allow: Vec<AllowEntry>,
    /// NTP servers; constrained mode only.
    #[serde(default)]
    pub ntp: Option<Ntp>,
    #[serde(default)]
    pub compose: Compose,
}

/// How pods and containers resolve names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Dns {
    /// Allow UDP+TCP 53 to the cluster DNS pods (`kube-system`, `k8s-app=kube-dns`); default true.
    #[serde(default = "default_true")]
    pub cluster_dns: bool,
    /// NodeLocal DNS cache address (host network, usually 169.254.20.10), reached by `ipBlock`.
    #[serde(default)]
    pub node_local: Option<IpAddr>,
    /// Further resolver addresses reached on port 53 (also from compose bridges).
    #[serde(default)]
    pub resolvers: Vec<IpAddr>,
}

impl Default for Dns {
    fn default() -> Self {
        Dns {
            cluster_dns: true,
            node_local: None,
            resolvers: Vec::new(),
        }
    }
}

fn default_true() -> bool {
    true
}

/// One internal endpoint egress may reach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AllowEntry {
    /// A DNS-1123 label, unique in the spec; names the generated policies and rules.
    pub name: String,
    /// The destination network, IPv4 or IPv6, without host bits.
    #[serde(deserialize_with = "de_cidr")]
    pub cidr: IpNet,
    /// Networks inside `cidr` that stay closed; same family, strictly inside.
    #[serde(default, deserialize_with = "de_cidrs")]
    pub except: Vec<IpNet>,
    /// Ports; empty (or absent) means every port and protocol.
    #[serde(default)]
    pub ports: Vec<PortRange>,
}

impl AllowEntry {
    /// The networks this entry opens: `cidr` minus every `except`, as the fewest prefixes,
    /// sorted. Used where the target has no `except` (nftables, iptables).
    pub fn allowed_nets(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        subtract(self.cidr, &self.except, &mut out);
        out.sort();
        out
    }

    /// True when the entry is IPv6.
    pub fn is_ipv6(&self) -> bool {
        matches!(self.cidr, IpNet::V6(_))
    }
}

/// Cuts `excepts` out of `net`, pushing what is left as prefixes.
fn subtract(net: IpNet, excepts: &[IpNet], out: &mut Vec<IpNet>) {
    if excepts.iter().any(|e| e.contains(&net)) {
        return;
    }
    if !excepts.iter().any(|e| net.contains(e)) {
        out.push(net);
        return;
    }
    // Some except lies strictly inside: split in halves and recurse (depth ≤ 128).
    let Ok(halves) = net.subnets(net.prefix_len() + 1) else {
        return;
    };
    for half in halves {
        subtract(half, excepts, out);
    }
}

/// A port or port range with its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortRange {
    #[serde(deserialize_with = "de_port")]
    pub port: u16,
    /// Last port of a range (inclusive), ≥ `port`.
    #[serde(default, deserialize_with = "de_opt_port")]
    pub end_port: Option<u16>,
    /// Default TCP, as in Kubernetes.
    #[serde(default)]
    pub protocol: Protocol,
}

impl PortRange {
    /// The last port of the range (`port` when there is no `endPort`).
    pub fn last(&self) -> u16 {
        self.end_port.unwrap_or(self.port)
    }

    /// True when the range is a single port (`endPort` absent or equal to `port`).
    pub fn is_single(&self) -> bool {
        self.last() == self.port
    }
}

/// A transport protocol, spelled as Kubernetes spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// `TCP`, `UDP` or `SCTP`.
    pub fn as_upper(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    /// `tcp`, `udp` or `sctp` (nftables, iptables).
    pub fn as_lower(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// NTP servers a constrained site may reach (UDP 123).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Ntp {
    pub servers: Vec<IpAddr>,
}

/// The compose host's networks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Compose {
    #[serde(default)]
    pub networks: Vec<ComposeNetwork>,
}

/// A compose network whose Linux bridge name is pinned.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComposeNetwork {
    /// The network's name in the compose file.
    pub name: String,
    /// The Linux bridge (`com.docker.network.bridge.name`), at most 15 bytes.
    pub bridge: String,
    /// The network's subnet, without host bits.
    #[serde(deserialize_with = "de_cidr")]
    pub subnet: IpNet,
}

impl Spec {
    /// Reads and checks the spec at `path` (`-` reads stdin).
    pub fn load(path: &Path) -> Result<Spec, NetpolicyError> {
        let mut text = String::new();
        let read = if path == Path::new("-") {
            std::io::stdin()
                .lock()
                .take(MAX_SPEC_BYTES + 1)
                .read_to_string(&mut text)
        } else {
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_SPEC_BYTES + 1).read_to_string(&mut text))
        };
        match read {
            Ok(n) if n as u64 > MAX_SPEC_BYTES => Err(NetpolicyError::input(
                path,
                None,
                format!("larger than {MAX_SPEC_BYTES} bytes; not a spec"),
            )),
            Ok(_) => Spec::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(NetpolicyError::input(path, None, "not UTF-8 text"))
            }
            Err(e) => Err(NetpolicyError::io(path, e)),
        }
    }

    /// Parses and checks spec `text`; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Spec, NetpolicyError> {
        if text.trim().is_empty()
            || text
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Err(NetpolicyError::input(path, None, "the spec is empty"));
        }
        let spec: Spec = serde_yaml::from_str(text).map_err(|e| yaml_error(path, &e))?;
        if let Err(problem) = spec.check() {
            let line = locate(text, &problem.at);
            return Err(NetpolicyError::input(
                path,
                line,
                format!("{}: {}", render_path(&problem.at), problem.message),
            ));
        }
        Ok(spec)
    }

    /// The allow-list the generators open: `allow` plus, in constrained mode, one entry per
    /// NTP server (`ntp-1`, `ntp-2`, … in address order, UDP 123), sorted by name.
    pub fn egress_allow(&self) -> Vec<AllowEntry> {
        let mut entries = self.allow.clone();
        entries.extend(self.ntp_entries());
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    }

    fn ntp_entries(&self) -> Vec<AllowEntry> {
        let mut servers: Vec<IpAddr> = self
            .ntp
            .as_ref()
            .map(|n| n.servers.clone())
            .unwrap_or_default();
        servers.sort();
        servers.dedup();
        servers
            .into_iter()
            .enumerate()
            .map(|(i, ip)| AllowEntry {
                name: format!("ntp-{}", i + 1),
                cidr: IpNet::from(ip),
                except: Vec::new(),
                ports: vec![PortRange {
                    port: NTP_PORT,
                    end_port: None,
                    protocol: Protocol::Udp,
                }],
            })
            .collect()
    }

    /// The namespaces, sorted and without duplicates.
    pub fn sorted_namespaces(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.namespaces.iter().collect();
        set.into_iter().cloned().collect()
    }

    /// The compose networks sorted by bridge name.
    pub fn sorted_networks(&self) -> Vec<ComposeNetwork> {
        let mut nets = self.compose.networks.clone();
        nets.sort_by(|a, b| a.bridge.cmp(&b.bridge));
        nets
    }

    /// DNS resolver addresses (`dns.resolvers`), sorted and without duplicates.
    pub fn sorted_resolvers(&self) -> Vec<IpAddr> {
        let set: BTreeSet<IpAddr> = self.dns.resolvers.iter().copied().collect();
        set.into_iter().collect()
    }

    /// Checks everything serde cannot: returns the first problem, with where it is.
    fn check(&self) -> Result<(), Problem> {
        if let Some(schema) = &self.schema {
            if schema != SPEC_SCHEMA {
                return Err(Problem::new(
                    vec![Seg::key("schema")],
                    format!(
                        "unknown spec schema `{schema}`; this netpolicy-gen reads `{SPEC_SCHEMA}`"
                    ),
                ));
            }
        }
        self.check_namespaces()?;
        self.check_dns()?;
        self.check_allow()?;
        self.check_ntp()?;
        self.check_compose()
    }

    fn check_namespaces(&self) -> Result<(), Problem> {
        let mut seen = BTreeSet::new();
        for (i, ns) in self.namespaces.iter().enumerate() {
            let at = || vec![Seg::key("namespaces"), Seg::Index(i)];
            if let Err(why) = dns_label(ns, 63) {
                return Err(Problem::new(at(), format!("namespace `{ns}` {why}")));
            }
            if SYSTEM_NAMESPACES.contains(&ns.as_str()) {
                return Err(Problem::new(
                    at(),
                    format!("`{ns}` is a system namespace (cluster DNS and the CNI run there); it is exempted, never sealed"),
                ));
            }
            if !seen.insert(ns) {
                return Err(Problem::new(
                    at(),
                    format!("namespace `{ns}` is listed twice"),
                ));
            }
        }
        Ok(())
    }

    fn check_dns(&self) -> Result<(), Problem> {
        let mut seen = BTreeSet::new();
        for (i, ip) in self.dns.resolvers.iter().enumerate() {
            if !seen.insert(ip) {
                return Err(Problem::new(
                    vec![Seg::key("dns"), Seg::key("resolvers"), Seg::Index(i)],
                    format!("resolver {ip} is listed twice"),
                ));
            }
            if ip.is_unspecified() {
                return Err(Problem::new(
                    vec![Seg::key("dns"), Seg::key("resolvers"), Seg::Index(i)],
                    format!("resolver {ip} is the unspecified address"),
                ));
            }
        }
        if let Some(ip) = self.dns.node_local {
            if ip.is_unspecified() {
                return Err(Problem::new(
                    vec![Seg::key("dns"), Seg::key("nodeLocal")],
                    format!("nodeLocal {ip} is the unspecified address"),
                ));
            }
        }
        Ok(())
    }

    fn check_allow(&self) -> Result<(), Problem> {
        let mut names = BTreeSet::new();
        for (i, entry) in self.allow.iter().enumerate() {
            let at = |rest: &[Seg]| {
                let mut p = vec![Seg::key("allow"), Seg::Index(i)];
                p.extend_from_slice(rest);
                p
            };
            if let Err(why) = dns_label(&entry.name, 48) {
                return Err(Problem::new(
                    at(&[Seg::key("name")]),
                    format!("name `{}` {why}", entry.name),
                ));
            }
            if !names.insert(entry.name.as_str()) {
                return Err(Problem::new(
                    at(&[Seg::key("name")]),
                    format!("name `{}` is used by an earlier entry", entry.name),
                ));
            }
            if entry.cidr.prefix_len() == 0 && self.mode == Mode::Sealed {
                return Err(Problem::new(
                    at(&[Seg::key("cidr")]),
                    format!(
                        "{} opens every address; sealed mode allows named internal endpoints only (use constrained mode)",
                        entry.cidr
                    ),
                ));
            }
            let mut seen = BTreeSet::new();
            for (j, except) in entry.except.iter().enumerate() {
                let here = at(&[Seg::key("except"), Seg::Index(j)]);
                if family_name(except) != family_name(&entry.cidr) {
                    return Err(Problem::new(
                        here,
                        format!(
                            "except {except} is {} but cidr {} is {}: mixed address family",
                            family_name(except),
                            entry.cidr,
                            family_name(&entry.cidr)
                        ),
                    ));
                }
                if except == &entry.cidr {
                    return Err(Problem::new(
                        here,
                        format!("except {except} is the whole cidr; nothing would be allowed"),
                    ));
                }
                if !entry.cidr.contains(except) {
                    return Err(Problem::new(
                        here,
                        format!("except {except} is outside cidr {}", entry.cidr),
                    ));
                }
                if !seen.insert(except) {
                    return Err(Problem::new(
                        here,
                        format!("except {except} is listed twice"),
                    ));
                }
            }
            let mut ports = BTreeSet::new();
            for (j, port) in entry.ports.iter().enumerate() {
                if let Some(end) = port.end_port {
                    if end < port.port {
                        return Err(Problem::new(
                            at(&[Seg::key("ports"), Seg::Index(j), Seg::key("endPort")]),
                            format!("endPort {end} is below port {}", port.port),
                        ));
                    }
                }
                if !ports.insert(*port) {
                    return Err(Problem::new(
                        at(&[Seg::key("ports"), Seg::Index(j)]),
                        format!(
                            "port {}/{} is listed twice",
                            port.port,
                            port.protocol.as_upper()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_ntp(&self) -> Result<(), Problem> {
        let Some(ntp) = &self.ntp else {
            return Ok(());
        };
        if self.mode != Mode::Constrained {
            return Err(Problem::new(
                vec![Seg::key("ntp")],
                format!(
                    "ntp is allowed in constrained mode only (this spec is {})",
                    self.mode.as_str()
                ),
            ));
        }
        if ntp.servers.is_empty() {
            return Err(Problem::new(
                vec![Seg::key("ntp"), Seg::key("servers")],
                "ntp.servers is empty; name at least one server or drop ntp",
            ));
        }
        let names: BTreeSet<&str> = self.allow.iter().map(|e| e.name.as_str()).collect();
        let mut seen = BTreeSet::new();
        for (i, ip) in ntp.servers.iter().enumerate() {
            let at = vec![Seg::key("ntp"), Seg::key("servers"), Seg::Index(i)];
            if !seen.insert(ip) {
                return Err(Problem::new(at, format!("server {ip} is listed twice")));
            }
            if ip.is_unspecified() {
                return Err(Problem::new(
                    at,
                    format!("server {ip} is the unspecified address"),
                ));
            }
        }
        for entry in self.ntp_entries() {
            if names.contains(entry.name.as_str()) {
                return Err(Problem::new(
                    vec![Seg::key("ntp")],
                    format!(
                        "the NTP servers become allow entries named `ntp-N`, and `{}` is already an allow entry",
                        entry.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_compose(&self) -> Result<(), Problem> {
        let mut names = BTreeSet::new();
        let mut bridges = BTreeSet::new();
        for (i, net) in self.compose.networks.iter().enumerate() {
            let at = |key: &'static str| {
                vec![
                    Seg::key("compose"),
                    Seg::key("networks"),
                    Seg::Index(i),
                    Seg::key(key),
                ]
            };
            if let Err(why) = compose_name(&net.name) {
                return Err(Problem::new(
                    at("name"),
                    format!("network name `{}` {why}", net.name),
                ));
            }
            if !names.insert(net.name.as_str()) {
                return Err(Problem::new(
                    at("name"),
                    format!("network `{}` is listed twice", net.name),
                ));
            }
            if let Err(why) = bridge_name(&net.bridge) {
                return Err(Problem::new(
                    at("bridge"),
                    format!("bridge `{}` {why}", net.bridge),
                ));
            }
            if !bridges.insert(net.bridge.as_str()) {
                return Err(Problem::new(
                    at("bridge"),
                    format!("bridge `{}` is used by an earlier network", net.bridge),
                ));
            }
            if let Some(other) = self.compose.networks[..i]
                .iter()
                .find(|o| o.subnet.contains(&net.subnet) || net.subnet.contains(&o.subnet))
            {
                return Err(Problem::new(
                    at("subnet"),
                    format!(
                        "subnet {} overlaps network `{}` ({})",
                        net.subnet, other.name, other.subnet
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn family_name(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "IPv4",
        IpNet::V6(_) => "IPv6",
    }
}

/// A DNS-1123 label of at most `max` bytes.
fn dns_label(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".to_string());
    }
    if s.len() > max {
        return Err(format!("is longer than {max} characters"));
    }
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok_chars && ok_ends {
        Ok(())
    } else {
        Err("is not a DNS-1123 label (lowercase letters, digits and `-`, starting and ending with a letter or digit)".to_string())
    }
}

/// A compose network name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 63 bytes.
fn compose_name(s: &str) -> Result<(), String> {
    let first_ok = s.starts_with(|c: char| c.is_ascii_alphanumeric());
    let rest_ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if s.is_empty() {
        Err("is empty".to_string())
    } else if s.len() > 63 {
        Err("is longer than 63 characters".to_string())
    } else if first_ok && rest_ok {
        Ok(())
    } else {
        Err(
            "must start with a letter or digit and hold only letters, digits, `_`, `.` and `-`"
                .to_string(),
        )
    }
}

/// A Linux interface name the kernel accepts (IFNAMSIZ − 1 = 15 bytes), restricted to
/// characters that need no quoting in nftables, iptables and shell.
fn bridge_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err("is empty".to_string())
    } else if s.len() > 15 {
        Err(format!(
            "is {} characters; Linux interface names have at most 15",
            s.len()
        ))
    } else if s == "." || s == ".." {
        Err("is not an interface name".to_string())
    } else if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        Err("may hold only letters, digits, `_`, `.` and `-`".to_string())
    } else {
        Ok(())
    }
}

// ---- serde helpers: every check inside a visitor, so serde_yaml attaches the line -------

fn de_cidr<'de, D: Deserializer<'de>>(d: D) -> Result<IpNet, D::Error> {
    d.deserialize_str(CidrVisitor)
}

fn de_cidrs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    struct Cidr(IpNet);
    impl<'de> Deserialize<'de> for Cidr {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(CidrVisitor).map(Cidr)
        }
    }
    Ok(Vec::<Cidr>::deserialize(d)?
        .into_iter()
        .map(|c| c.0)
        .collect())
}

struct CidrVisitor;

impl Visitor<'_> for CidrVisitor {
    type Value = IpNet;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CIDR such as 10.20.0.0/24 or fd00:20::/64")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<IpNet, E> {
        parse_cidr(s).map_err(E::custom)
    }
}

/// Parses a CIDR strictly: an address, `/`, a prefix length, no host bits.
pub fn parse_cidr(s: &str) -> Result<IpNet, String> {
    if !s.contains('/') {
        return Err(format!(
            "`{s}` is not a CIDR: write the prefix length (`{s}/32` for one IPv4 address, `/128` for IPv6)"
        ));
    }
    let net: IpNet = s
        .parse()
        .map_err(|_| format!("`{s}` is not a CIDR (address/prefix-length)"))?;
    if net.trunc() != net {
        return Err(format!(
            "`{s}` has host bits set (the network is {})",
            net.trunc()
        ));
    }
    Ok(net)
}

fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    d.deserialize_u64(PortVisitor)
}

fn de_opt_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    d.deserialize_u64(PortVisitor).map(Some)
}

struct PortVisitor;

impl Visitor<'_> for PortVisitor {
    type Value = u16;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a port number 1-65535")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u16, E> {
        match u16::try_from(v) {
            Ok(p) if p != 0 => Ok(p),
            _ => Err(E::custom(format!("port {v} is out of range 1-65535"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u16, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("port {v} is out of range 1-65535"))),
        }
    }
}

/// Turns a serde_yaml error into an input error with its line, without repeating the
/// location in the message.
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> NetpolicyError {
    let text = e.to_string();
    match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
            NetpolicyError::input(path, Some(loc.line()), message)
        }
        None => NetpolicyError::input(path, None, text),
    }
}

// ---- locating a key by path ------------------------------------------------------------

/// One step of a path into the spec: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    /// A mapping key.
    pub fn key(k: &str) -> Seg {
        Seg::Key(k.to_string())
    }
}

/// A problem found after parsing, and where it is.
#[derive(Debug)]
struct Problem {
    at: Vec<Seg>,
    message: String,
}

impl Problem {
    fn new(at: Vec<Seg>, message: impl Into<String>) -> Problem {
        Problem {
            at,
            message: message.into(),
        }
    }
}

/// `allow[1].ports[0].endPort`, as serde_yaml writes paths in its own errors.
pub fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The 1-based line of the value at `path` in the YAML `text`, if it is there.
///
/// serde_yaml 0.9 tags an error raised while a node is being deserialized with that node's
/// position; so this walks the document with a seed that follows `path` and fails on purpose
/// at its end, and reads the position back from the error.
pub fn locate(text: &str, path: &[Seg]) -> Option<usize> {
    let seed = Locate { path };
    match seed.deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(()) => None,
        Err(e) => e.location().map(|l| l.line()),
    }
}

struct Locate<'a> {
    path: &'a [Seg],
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.path.split_first() {
            None => d.deserialize_any(Found),
            Some((Seg::Key(key), rest)) => d.deserialize_any(InMap { key, rest }),
            Some((Seg::Index(index), rest)) => d.deserialize_any(InSeq {
                index: *index,
                rest,
            }),
        }
    }
}

/// Fails on whatever node it is given: the failure carries the node's position.
struct Found;

impl Visitor<'_> for Found {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the located node")
    }
}

struct InMap<'a> {
    key: &'a str,
    rest: &'a [Seg],
}

impl<'de> Visitor<'de> for InMap<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // At the end of the path the key itself is the located node: its line is the one
        // to name even when its value is a block starting on the next line.
        let fail_on = self.rest.is_empty().then_some(self.key);
        while let Some(key) = map.next_key_seed(KeyProbe { fail_on })? {
            if key.as_deref() == Some(self.key) {
                return map.next_value_seed(Locate { path: self.rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Reads a mapping key as text (`None` for a non-string key), failing on `fail_on`.
struct KeyProbe<'a> {
    fail_on: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<String>, E> {
        if self.fail_on == Some(v) {
            Err(E::custom("located"))
        } else {
            Ok(Some(v.to_string()))
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
}

struct InSeq<'a> {
    index: usize,
    rest: &'a [Seg],
}

impl<'de> Visitor<'de> for InSeq<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            if i == self.index {
                return seq
                    .next_element_seed(Locate { path: self.rest })
                    .map(|_| ());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
mode: sealed
namespaces: [stellaops]
dns: {clusterDns: true, nodeLocal: 169.254.20.10, resolvers: [10.96.0.10]}
allow:
  - name: object-store
    cidr: 10.20.0.5/32
    ports: [{port: 9000, protocol: TCP}]
compose:
  networks:
    - {name: stellaops, bridge: br-stellaops, subnet: 172.28.0.0/24}
";

    fn parse(text: &str) -> Result<Spec, NetpolicyError> {
        Spec::parse(text, Path::new("spec.yaml"))
    }

    fn err(text: &str) -> (Option<usize>, String) {
        match parse(text) {
            Err(NetpolicyError::Input { line, message, .. }) => (line, message),
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn the_issue_example_loads() {
        let spec = parse(EXAMPLE).unwrap();
        assert_eq!(spec.mode, Mode::Sealed);
        assert_eq!(spec.namespaces, ["stellaops"]);
        assert_eq!(spec.dns.node_local, Some("169.254.20.10".parse().unwrap()));
        assert_eq!(spec.allow[0].cidr, "10.20.0.5/32".parse::<IpNet>().unwrap());
        assert_eq!(spec.allow[0].ports[0].protocol, Protocol::Tcp);
        assert_eq!(spec.compose.networks[0].bridge, "br-stellaops");
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let text = EXAMPLE.replace(
            "    cidr: 10.20.0.5/32\n",
            "    cidr: 10.20.0.5/32\n    prot: 1\n",
        );
        let (line, message) = err(&text);
        assert_eq!(line, Some(7), "{message}");
        assert!(message.contains("unknown field `prot`"), "{message}");
    }

    #[test]
    fn end_port_below_port_names_the_end_port_line() {
        let text = "mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.0/8\n    ports:\n      - port: 443\n        endPort: 80\n";
        let (line, message) = err(text);
        assert_eq!(line, Some(7), "{message}");
        assert_eq!(
            message,
            "allow[0].ports[0].endPort: endPort 80 is below port 443"
        );
    }

    #[test]
    fn except_outside_cidr_and_mixed_family_name_the_except() {
        let text = "mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.0/8\n    except:\n      - 10.1.0.0/16\n      - 11.0.0.0/16\n";
        let (line, message) = err(text);
        assert_eq!(line, Some(7), "{message}");
        assert!(message.contains("outside cidr 10.0.0.0/8"), "{message}");
        let text = "mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.0/8\n    except: [\"fd00::/64\"]\n";
        let (line, message) = err(text);
        assert_eq!(line, Some(5), "{message}");
        assert!(message.contains("mixed address family"), "{message}");
    }

    #[test]
    fn bad_values_name_their_line() {
        for (text, line, needle) in [
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.5/24\n", 4, "host bits"),
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.300/32\n", 4, "not a CIDR"),
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.5\n", 4, "prefix length"),
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.5/32\n    ports: [{port: 0}]\n", 5, "port 0 is out of range"),
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.5/32\n    ports:\n      - port: 1\n        endPort: 70000\n", 7, "port 70000"),
            ("mode: sealed\nallow:\n  - name: a\n    cidr: 10.0.0.5/32\n  - name: a\n    cidr: 10.0.0.6/32\n", 5, "used by an earlier entry"),
            ("mode: sealed\ncompose:\n  networks:\n    - name: n\n      bridge: br-much-too-long-name\n      subnet: 172.28.0.0/24\n", 5, "at most 15"),
            ("mode: sealed\nntp: {servers: [10.0.0.1]}\n", 2, "constrained mode only"),
            ("mode: sealed\nallow:\n  - name: any\n    cidr: 0.0.0.0/0\n", 4, "opens every address"),
            ("mode: sealed\nnamespaces: [a, kube-system]\n", 2, "system namespace"),
            ("mode: sealed\nnamespaces:\n  - a\n  - Bad_Name\n", 4, "DNS-1123"),
            ("mode: leaky\n", 1, "unknown variant"),
            ("mode: sealed\nschema: stellaops.netpolicy-spec/v2\n", 2, "unknown spec schema"),
        ] {
            let (got, message) = err(text);
            assert_eq!(got, Some(line), "{text}: {message}");
            assert!(message.contains(needle), "{text}: {message}");
        }
    }

    #[test]
    fn empty_specs_are_refused() {
        assert_eq!(err("").1, "the spec is empty");
        assert_eq!(err("# nothing\n\n").1, "the spec is empty");
    }

    #[test]
    fn allowed_nets_cut_the_excepts_out() {
        let entry = AllowEntry {
            name: "a".into(),
            cidr: "10.0.0.0/24".parse().unwrap(),
            except: vec![
                "10.0.0.0/26".parse().unwrap(),
                "10.0.0.128/25".parse().unwrap(),
            ],
            ports: vec![],
        };
        let nets: Vec<String> = entry.allowed_nets().iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["10.0.0.64/26"]);
    }

    #[test]
    fn ntp_servers_become_sorted_udp_123_entries() {
        let spec = parse("mode: constrained\nntp: {servers: [10.0.0.9, 10.0.0.2]}\nallow:\n  - {name: z, cidr: 10.1.0.0/16}\n").unwrap();
        let all = spec.egress_allow();
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["ntp-1", "ntp-2", "z"]);
        assert_eq!(all[0].cidr.to_string(), "10.0.0.2/32");
        assert_eq!(all[0].ports[0].port, 123);
        assert_eq!(all[0].ports[0].protocol, Protocol::Udp);
    }

    #[test]
    fn locate_finds_keys_in_block_and_flow_style() {
        let text = "a:\n  b: [x, {c: 1}]\n  d:\n    - e\n    - f\n";
        assert_eq!(
            locate(text, &[Seg::key("a"), Seg::key("d"), Seg::Index(1)]),
            Some(5)
        );
        assert_eq!(
            locate(
                text,
                &[Seg::key("a"), Seg::key("b"), Seg::Index(1), Seg::key("c")]
            ),
            Some(2)
        );
        assert_eq!(locate(text, &[Seg::key("zz")]), None);
    }
}
