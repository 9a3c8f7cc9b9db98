//! A typed model of Kubernetes NetworkPolicy (`networking.k8s.io/v1`) and Cilium network
//! policies (`CiliumNetworkPolicy`, `CiliumClusterwideNetworkPolicy`) read from multi-document
//! YAML, each object with the file, document index and line it came from; shared by `lint`
//! and `eval`.
//!
//! The model keeps what the API distinguishes and users confuse: a missing list and an empty
//! one (`egress:` absent, `egress: []`, `egress: [{}]`), `policyTypes` as written (defaulted
//! only by [`NetworkPolicy::isolates_egress`]), and Cilium's explicit empty lists, which select
//! nothing. Workloads and namespaces found in the same files are kept too, for `lint`.

// Explicit paths: this file is also reached through a `#[path]` attribute, which would
// otherwise look for its submodules beside it.
#[path = "policy/documents.rs"]
pub mod documents;
#[path = "policy/selector.rs"]
pub mod selector;

use crate::error::NetpolicyError;
use crate::spec::{locate, Protocol, Seg};
use ipnet::IpNet;
use selector::{null_as_default, Selector, CILIUM_NAMESPACE_LABEL};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A policy file larger than this is refused (it is read whole, so it is bounded).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The namespace of an object that names none (what `kubectl apply` uses without `-n`).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Kinds whose pod template `lint` checks for `hostNetwork: true`, with the path to the pod
/// spec.
const WORKLOADS: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("Deployment", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// The path to the pod spec in a workload of `kind` (empty for other kinds).
pub fn pod_spec_path(kind: &str) -> &'static [&'static str] {
    WORKLOADS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, path)| path)
}

// ---- objects and where they come from --------------------------------------------------

/// Where an object was read: file, 0-based document index, `items` index inside a `List`,
/// and the 1-based line the object starts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub file: String,
    pub document: usize,
    pub item: Option<usize>,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} (document {}", self.file, self.line, self.document)?;
        if let Some(item) = self.item {
            write!(f, ", items[{item}]")?;
        }
        f.write_str(")")
    }
}

/// One Kubernetes object of the input.
#[derive(Debug, Clone)]
pub struct Object {
    pub origin: Origin,
    pub api_version: String,
    pub kind: String,
    /// `metadata.name`, empty when missing.
    pub name: String,
    /// `metadata.namespace` as written.
    pub namespace: Option<String>,
    pub body: Body,
    /// The document's text and the path of the object in it (`items[i]` in a `List`): kept to
    /// find the line of a rule.
    text: String,
    doc_line: usize,
    prefix: Vec<Seg>,
}

/// What `lint` and `eval` read from an object.
#[derive(Debug, Clone)]
pub enum Body {
    NetworkPolicy(NetworkPolicy),
    Cilium(CiliumPolicy),
    /// A pod or pod controller; `host_network` from its pod template.
    Workload {
        host_network: bool,
    },
    Namespace,
    Other,
}

impl Object {
    /// The namespace the object lives in: as written, else `default_namespace`.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(default_namespace)
    }

    /// The 1-based line in the file of `path` inside the object (`spec.egress[0]`), or the
    /// object's own line when the path cannot be found.
    pub fn line_of(&self, path: &[Seg]) -> usize {
        let mut full = self.prefix.clone();
        full.extend_from_slice(path);
        locate(&self.text, &full)
            .map(|l| self.doc_line + l.saturating_sub(1))
            .unwrap_or(self.origin.line)
    }

    /// `Kind namespace/name` (cluster-scoped kinds: `Kind name`).
    pub fn label(&self, default_namespace: &str) -> String {
        match (&self.body, &self.namespace) {
            (Body::Cilium(c), _) if c.clusterwide => format!("{} {}", self.kind, self.name),
            (Body::Namespace, _) => format!("{} {}", self.kind, self.name),
            _ => format!(
                "{} {}/{}",
                self.kind,
                self.namespace_or(default_namespace),
                self.name
            ),
        }
    }
}

/// Everything read from the inputs.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub objects: Vec<Object>,
    /// Files read.
    pub files: usize,
    /// Documents read (empty ones included).
    pub documents: usize,
}

// ---- NetworkPolicy ---------------------------------------------------------------------

/// A `networking.k8s.io/v1` NetworkPolicy, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub pod_selector: Selector,
    /// As written; empty means "not given" (the API then defaults it).
    pub policy_types: Vec<PolicyType>,
    /// Number of ingress rules, `None` when `ingress` is absent.
    pub ingress: Option<usize>,
    /// `None` when `egress` is absent (or null), `Some([])` for `egress: []`.
    pub egress: Option<Vec<EgressRule>>,
}

/// A `policyTypes` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PolicyType {
    Ingress,
    Egress,
}

/// One egress rule; an empty `to` (absent or `[]`) is every destination, an empty `ports`
/// every port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRule {
    pub to: Vec<Peer>,
    pub ports: Vec<PortSpec>,
}

/// An egress peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    IpBlock(IpBlock),
    /// `namespaceSelector` and/or `podSelector`: pods, never an address outside the cluster.
    Pods {
        namespace_selector: Option<Selector>,
        pod_selector: Option<Selector>,
    },
}

/// `ipBlock` (and Cilium `toCIDRSet`): `cidr` minus every `except`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpBlock {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

impl IpBlock {
    /// True when `ip` is in `cidr` and in no `except`.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|e| e.contains(ip))
    }

    /// `except` entries not inside `cidr` (the API server refuses them).
    pub fn stray_excepts(&self) -> Vec<IpNet> {
        self.except
            .iter()
            .filter(|e| {
                !(self.cidr.trunc().contains(*e) && e.prefix_len() > self.cidr.prefix_len())
            })
            .copied()
            .collect()
    }
}

/// A port (or range) and protocol; `protocol: None` is any protocol (Cilium `ANY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub protocol: Option<Protocol>,
    pub port: PortMatch,
}

/// Which ports a [`PortSpec`] covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMatch {
    Any,
    /// First and last port, inclusive.
    Range(u16, u16),
    /// A named container port: resolved on the destination pod, so it never matches an
    /// address outside the cluster.
    Named(String),
    /// ICMP (Cilium): no port, never a TCP, UDP or SCTP flow.
    Icmp,
}

impl PortSpec {
    /// `Some(true)` when the spec covers `port`/`protocol`, `Some(false)` when it does not,
    /// `None` when it cannot be known (a named port).
    pub fn covers(&self, port: u16, protocol: Protocol) -> Option<bool> {
        if self.protocol.is_some_and(|p| p != protocol) {
            return Some(false);
        }
        match &self.port {
            PortMatch::Any => Some(true),
            PortMatch::Range(first, last) => Some((*first..=*last).contains(&port)),
            PortMatch::Named(_) => None,
            PortMatch::Icmp => Some(false),
        }
    }

    /// `TCP 443`, `TCP 8440-8443`, `UDP any port`, `any protocol 53`, `TCP port https`.
    pub fn describe(&self) -> String {
        let protocol = self.protocol.map_or("any protocol", Protocol::as_upper);
        match &self.port {
            PortMatch::Any => format!("{protocol} any port"),
            PortMatch::Range(a, b) if a == b => format!("{protocol} {a}"),
            PortMatch::Range(a, b) => format!("{protocol} {a}-{b}"),
            PortMatch::Named(name) => format!("{protocol} port {name}"),
            PortMatch::Icmp => "ICMP".to_string(),
        }
    }
}

/// `all ports` or the ports listed, for messages.
pub fn describe_ports(ports: &[PortSpec]) -> String {
    if ports.is_empty() {
        "all ports".to_string()
    } else {
        ports
            .iter()
            .map(PortSpec::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A flow to an address: what `eval` asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
}

/// Whether a rule lets a flow through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    /// Not matched, but only because the model cannot know (the reason says why).
    Unknown(String),
}

/// Ports: an empty list covers every port; a named port is unknown.
fn ports_cover(ports: &[PortSpec], flow: &Flow) -> Match {
    if ports.is_empty() {
        return Match::Yes;
    }
    let mut named = None;
    for p in ports {
        match p.covers(flow.port, flow.protocol) {
            Some(true) => return Match::Yes,
            Some(false) => {}
            None => named = Some(p.describe()),
        }
    }
    match named {
        Some(n) => Match::Unknown(format!(
            "named port ({n}) resolves on the destination pod, not on an address"
        )),
        None => Match::No,
    }
}

impl NetworkPolicy {
    /// True when the policy isolates the pods it selects for egress, with the API's
    /// defaulting: `policyTypes` given → Egress must be listed; not given → Egress when the
    /// policy has at least one egress rule.
    pub fn isolates_egress(&self) -> bool {
        if self.policy_types.is_empty() {
            self.egress.as_ref().is_some_and(|rules| !rules.is_empty())
        } else {
            self.policy_types.contains(&PolicyType::Egress)
        }
    }

    /// The egress rules the API enforces (none unless the policy isolates egress).
    pub fn effective_egress(&self) -> &[EgressRule] {
        match &self.egress {
            Some(rules) if self.isolates_egress() => rules,
            _ => &[],
        }
    }
}

impl EgressRule {
    /// Whether the rule allows `flow` to an address (not a pod).
    pub fn allows(&self, flow: &Flow) -> Match {
        let ports = ports_cover(&self.ports, flow);
        if ports == Match::No {
            return Match::No;
        }
        let peer = if self.to.is_empty() {
            Match::Yes
        } else {
            let mut result = Match::No;
            for peer in &self.to {
                match peer {
                    Peer::IpBlock(block) if block.contains(&flow.ip) => {
                        result = Match::Yes;
                        break;
                    }
                    Peer::IpBlock(_) => {}
                    Peer::Pods { .. } => {
                        result = Match::Unknown(
                            "namespaceSelector/podSelector peers select pods; pod addresses are not modelled"
                                .to_string(),
                        )
                    }
                }
            }
            result
        };
        match (peer, ports) {
            (Match::Yes, Match::Yes) => Match::Yes,
            (Match::No, _) => Match::No,
            (Match::Unknown(r), _) | (_, Match::Unknown(r)) => Match::Unknown(r),
            (_, Match::No) => Match::No,
        }
    }
}

// ---- Cilium ----------------------------------------------------------------------------

/// A `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy`: one rule per `spec` and
/// `specs` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiliumPolicy {
    pub clusterwide: bool,
    pub rules: Vec<CiliumRule>,
}

/// One Cilium rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiliumRule {
    /// `spec` or `specs[i]`.
    pub path: Vec<Seg>,
    /// `None` for a host policy (`nodeSelector`), which selects nodes, not pods.
    pub endpoint_selector: Option<Selector>,
    pub ingress: Option<usize>,
    pub ingress_deny: Option<usize>,
    pub egress: Option<Vec<CiliumEgress>>,
    pub egress_deny: Option<Vec<CiliumEgress>>,
    /// `enableDefaultDeny.egress` as written.
    pub default_deny_egress: Option<bool>,
}

/// One Cilium egress (or egress deny) rule. Each list is `None` when absent: an explicit
/// empty list selects nothing (Cilium ≥ 1.15).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiliumEgress {
    pub to_endpoints: Option<Vec<Selector>>,
    pub to_cidr: Option<Vec<IpNet>>,
    pub to_cidr_set: Option<Vec<CidrSet>>,
    pub to_entities: Option<Vec<String>>,
    /// Other destination fields present (`toFQDNs`, `toServices`, `toGroups`, `toNodes`,
    /// `toRequires`) with their length.
    pub others: Vec<(&'static str, usize)>,
    /// `None` when absent: every port.
    pub to_ports: Option<Vec<Vec<PortSpec>>>,
    /// A `toPorts[].rules.dns` section: the DNS proxy `toFQDNs` needs.
    pub dns_proxy: bool,
}

/// A `toCIDRSet` entry; `cidr` is `None` for a `cidrGroupRef`/`cidrGroupSelector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrSet {
    pub cidr: Option<IpNet>,
    pub except: Vec<IpNet>,
}

impl CiliumRule {
    /// True when endpoints selected by this rule go into egress default deny: a non-empty
    /// `egress` or `egressDeny` section, unless `enableDefaultDeny.egress: false`; or
    /// `enableDefaultDeny.egress: true`.
    pub fn default_denies_egress(&self) -> bool {
        match self.default_deny_egress {
            Some(v) => v,
            None => {
                self.egress.as_ref().is_some_and(|e| !e.is_empty())
                    || self.egress_deny.as_ref().is_some_and(|e| !e.is_empty())
            }
        }
    }

    /// True when the rule selects a pod of `namespace` with `labels`; `policy_namespace` is
    /// the namespace of a namespaced policy (which only selects its own pods).
    pub fn selects(
        &self,
        policy_namespace: Option<&str>,
        namespace: &str,
        labels: &BTreeMap<String, String>,
    ) -> bool {
        let Some(selector) = &self.endpoint_selector else {
            return false;
        };
        if policy_namespace.is_some_and(|ns| ns != namespace) {
            return false;
        }
        let mut labels = labels.clone();
        labels.insert(CILIUM_NAMESPACE_LABEL.to_string(), namespace.to_string());
        selector.matches(&labels)
    }
}

/// Cilium entities that cover addresses outside the cluster.
pub fn entity_covers(entity: &str, ip: &IpAddr) -> bool {
    match entity {
        "all" | "world" => true,
        "world-ipv4" => ip.is_ipv4(),
        "world-ipv6" => ip.is_ipv6(),
        _ => false,
    }
}

impl CiliumEgress {
    /// True when any destination (L3) field is present, even empty.
    pub fn has_l3(&self) -> bool {
        self.to_endpoints.is_some()
            || self.to_cidr.is_some()
            || self.to_cidr_set.is_some()
            || self.to_entities.is_some()
            || !self.others.is_empty()
    }

    /// The port lists of `toPorts`, flattened; empty means every port.
    pub fn ports(&self) -> Vec<PortSpec> {
        match &self.to_ports {
            None => Vec::new(),
            Some(rules) if rules.iter().any(Vec::is_empty) => Vec::new(),
            Some(rules) => rules.iter().flatten().cloned().collect(),
        }
    }

    /// True when the rule names neither a destination nor a port (`- {}`): in Cilium it
    /// allows nothing (it only turns on default deny).
    pub fn is_empty_rule(&self) -> bool {
        !self.has_l3() && self.to_ports.as_ref().is_none_or(Vec::is_empty)
    }

    /// Whether the rule covers `flow` to an address outside the cluster.
    pub fn allows(&self, flow: &Flow) -> Match {
        if self.is_empty_rule() {
            return Match::No;
        }
        let ports = ports_cover(&self.ports(), flow);
        if ports == Match::No {
            return Match::No;
        }
        let l3 = if !self.has_l3() {
            // Only toPorts: every destination on those ports.
            Match::Yes
        } else {
            let cidr = self.to_cidr.iter().flatten().any(|n| n.contains(&flow.ip));
            let set = self.to_cidr_set.iter().flatten().any(|s| {
                s.cidr.is_some_and(|c| {
                    IpBlock {
                        cidr: c,
                        except: s.except.clone(),
                    }
                    .contains(&flow.ip)
                })
            });
            let entity = self
                .to_entities
                .iter()
                .flatten()
                .any(|e| entity_covers(e, &flow.ip));
            if cidr || set || entity {
                Match::Yes
            } else if self.to_endpoints.as_ref().is_some_and(|e| !e.is_empty()) {
                Match::Unknown(
                    "toEndpoints select pods; pod addresses are not modelled".to_string(),
                )
            } else if let Some((field, _)) = self.others.iter().find(|(_, n)| *n > 0) {
                Match::Unknown(format!(
                    "{field} destinations are resolved at run time, not modelled"
                ))
            } else {
                Match::No
            }
        };
        match (l3, ports) {
            (Match::Yes, Match::Yes) => Match::Yes,
            (Match::No, _) => Match::No,
            (Match::Unknown(r), _) | (_, Match::Unknown(r)) => Match::Unknown(r),
            (_, Match::No) => Match::No,
        }
    }
}

// ---- reading ---------------------------------------------------------------------------

/// Reads every file of `paths`: files as given (`-` is stdin), folders recursively for
/// `*.yaml`, `*.yml` and `*.json`, in byte order of their paths.
pub fn load_paths(paths: &[PathBuf]) -> Result<Inventory, NetpolicyError> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| NetpolicyError::io(path, e))?;
        if meta.is_dir() {
            collect_dir(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut inventory = Inventory::default();
    for file in files {
        let text = read_bounded(&file)?;
        let name = file.display().to_string();
        let (objects, documents) = parse_text(&text, &name, &file)?;
        inventory.objects.extend(objects);
        inventory.documents += documents;
        inventory.files += 1;
    }
    Ok(inventory)
}

/// The policy-like files under `dir`, sorted by path bytes.
fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), NetpolicyError> {
    for path in sorted_entries(dir)? {
        let meta = std::fs::metadata(&path).map_err(|e| NetpolicyError::io(&path, e))?;
        if meta.is_dir() {
            collect_dir(&path, out)?;
        } else if meta.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The entries of `dir`, sorted by their paths' bytes (so by name), for a walk whose order
/// does not depend on the file system.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, NetpolicyError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| NetpolicyError::io(dir, e))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(|e| NetpolicyError::io(dir, e))?;
    entries.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(entries)
}

/// Reads a whole file (`-`: stdin), refusing more than [`MAX_FILE_BYTES`] and non-UTF-8.
pub fn read_bounded(path: &Path) -> Result<String, NetpolicyError> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    match read {
        Ok(n) if n as u64 > MAX_FILE_BYTES => Err(NetpolicyError::input(
            path,
            None,
            format!("larger than {MAX_FILE_BYTES} bytes"),
        )),
        Ok(_) => String::from_utf8(bytes)
            .map_err(|_| NetpolicyError::input(path, None, "not UTF-8 text")),
        Err(e) => Err(NetpolicyError::io(path, e)),
    }
}

/// Parses the documents of one file named `name`; returns its objects and its number of
/// documents.
pub fn parse_text(
    text: &str,
    name: &str,
    path: &Path,
) -> Result<(Vec<Object>, usize), NetpolicyError> {
    let documents = documents::split(text);
    let mut objects = Vec::new();
    for doc in &documents {
        let value: Value = serde_yaml::from_str(doc.text).map_err(|e| yaml_error(path, doc, &e))?;
        let Some(kind) = value.get("kind").and_then(Value::as_str) else {
            continue;
        };
        let origin = Origin {
            file: name.to_string(),
            document: doc.index,
            item: None,
            line: first_content_line(doc),
        };
        let items = value.get("items").and_then(Value::as_sequence);
        if let (true, Some(items)) = (kind.ends_with("List"), items) {
            for (i, item) in items.iter().enumerate() {
                let prefix = vec![Seg::Key("items".into()), Seg::Index(i)];
                let line = locate(doc.text, &prefix)
                    .map(|l| doc.stream_line(l))
                    .unwrap_or(origin.line);
                let origin = Origin {
                    item: Some(i),
                    line,
                    ..origin.clone()
                };
                if let Some(object) = read_object(item, None, doc, origin, prefix, path)? {
                    objects.push(object);
                }
            }
        } else if let Some(object) =
            read_object(&value, Some(doc.text), doc, origin, Vec::new(), path)?
        {
            objects.push(object);
        }
    }
    Ok((objects, documents.len()))
}

/// The first line of a document that is not its `---`, a comment or blank.
fn first_content_line(doc: &documents::Document<'_>) -> usize {
    doc.text
        .lines()
        .position(|l| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || t == "---")
        })
        .map_or(doc.line, |i| doc.line + i)
}

fn yaml_error(path: &Path, doc: &documents::Document<'_>, e: &serde_yaml::Error) -> NetpolicyError {
    let text = e.to_string();
    let (line, message) = match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let message = text.strip_suffix(&suffix).unwrap_or(&text);
            (doc.stream_line(loc.line()), message)
        }
        None => (doc.line, text.as_str()),
    };
    NetpolicyError::input(
        path,
        Some(line),
        format!(
            "document {}: {}",
            doc.index,
            shift_lines(message, doc.line - 1)
        ),
    )
}

/// Rewrites every `line N` in a serde_yaml message, which counts from the document's first
/// line, to count from the top of the file.
fn shift_lines(message: &str, by: usize) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (head, tail) = rest.split_at(at + 5);
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Builds one object from `value`; `text` is the document's text when the object is the
/// whole document (typed errors then carry their line).
fn read_object(
    value: &Value,
    text: Option<&str>,
    doc: &documents::Document<'_>,
    origin: Origin,
    prefix: Vec<Seg>,
    path: &Path,
) -> Result<Option<Object>, NetpolicyError> {
    let Some(kind) = value.get("kind").and_then(Value::as_str) else {
        return Ok(None);
    };
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    let meta = value.get("metadata");
    let field = |key: &str| {
        meta.and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let typed_error = |e: serde_yaml::Error| {
        let line = e
            .location()
            .filter(|_| text.is_some())
            .map_or(origin.line, |l| doc.stream_line(l.line()));
        let message = e.to_string();
        let message = match e.location() {
            Some(loc) => message
                .strip_suffix(&format!(" at line {} column {}", loc.line(), loc.column()))
                .unwrap_or(&message)
                .to_string(),
            None => message,
        };
        let message = if text.is_some() {
            shift_lines(&message, doc.line - 1)
        } else {
            message
        };
        NetpolicyError::input(
            path,
            Some(line),
            format!("document {}: {kind}: {message}", origin.document),
        )
    };
    let body = match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy") => {
            let raw: RawNetworkPolicyDoc = typed(value, text).map_err(typed_error)?;
            Body::NetworkPolicy(raw.spec.unwrap_or_default().into_model())
        }
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            let raw: RawCiliumDoc = typed(value, text).map_err(typed_error)?;
            Body::Cilium(raw.into_model(kind == "CiliumClusterwideNetworkPolicy"))
        }
        ("", "Namespace") => Body::Namespace,
        _ => match WORKLOADS.iter().find(|(k, _)| *k == kind) {
            Some((_, pod_spec)) => {
                let mut node = Some(value);
                for key in *pod_spec {
                    node = node.and_then(|n| n.get(*key));
                }
                let host_network = node
                    .and_then(|n| n.get("hostNetwork"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                Body::Workload { host_network }
            }
            None => Body::Other,
        },
    };
    Ok(Some(Object {
        origin: origin.clone(),
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: field("name").unwrap_or_default(),
        namespace: field("namespace"),
        body,
        text: doc.text.to_string(),
        doc_line: doc.line,
        prefix,
    }))
}

/// Deserializes from the text when there is one (errors with lines), else from the value.
fn typed<T: serde::de::DeserializeOwned>(
    value: &Value,
    text: Option<&str>,
) -> Result<T, serde_yaml::Error> {
    match text {
        Some(text) => serde_yaml::from_str(text),
        None => serde_yaml::from_value(value.clone()),
    }
}

// ---- the wire shapes -------------------------------------------------------------------

#[derive(Deserialize)]
struct RawNetworkPolicyDoc {
    #[serde(default)]
    spec: Option<RawNetworkPolicySpec>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNetworkPolicySpec {
    #[serde(default, deserialize_with = "null_as_default")]
    pod_selector: Selector,
    #[serde(default, deserialize_with = "null_as_default")]
    policy_types: Vec<PolicyType>,
    #[serde(default)]
    ingress: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    egress: Option<Vec<RawEgressRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEgressRule {
    #[serde(default, deserialize_with = "null_as_default")]
    to: Vec<RawPeer>,
    #[serde(default, deserialize_with = "null_as_default")]
    ports: Vec<K8sPort>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPeer {
    #[serde(default)]
    pod_selector: Option<Selector>,
    #[serde(default)]
    namespace_selector: Option<Selector>,
    #[serde(default)]
    ip_block: Option<RawIpBlock>,
}

#[derive(Deserialize)]
struct RawIpBlock {
    cidr: Cidr,
    #[serde(default, deserialize_with = "null_as_default")]
    except: Vec<Cidr>,
}

/// A NetworkPolicy port, checked as the API server checks it; Kubernetes defaults the
/// protocol to TCP.
struct K8sPort(PortSpec);

impl<'de> Deserialize<'de> for K8sPort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            protocol: Option<Protocol>,
            #[serde(default)]
            port: Option<PortValue>,
            #[serde(default)]
            end_port: Option<PortNumber>,
        }
        let raw = Raw::deserialize(d)?;
        let protocol = Some(raw.protocol.unwrap_or(Protocol::Tcp));
        if matches!(raw.port, Some(PortValue::Number(0))) {
            return Err(serde::de::Error::custom("port 0 is out of range 1-65535"));
        }
        port_spec(protocol, raw.port, raw.end_port.map(|e| e.0))
            .map(K8sPort)
            .map_err(serde::de::Error::custom)
    }
}

/// A Cilium port; ICMP carries no port and never matches a TCP, UDP or SCTP flow.
struct CiliumPort(PortSpec);

impl<'de> Deserialize<'de> for CiliumPort {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            port: Option<PortValue>,
            #[serde(default)]
            end_port: Option<PortNumber>,
            #[serde(default)]
            protocol: Option<CiliumProtocol>,
        }
        let raw = Raw::deserialize(d)?;
        let protocol = match raw.protocol.unwrap_or(CiliumProtocol::Any) {
            CiliumProtocol::Tcp => Some(Protocol::Tcp),
            CiliumProtocol::Udp => Some(Protocol::Udp),
            CiliumProtocol::Sctp => Some(Protocol::Sctp),
            CiliumProtocol::Any => None,
            CiliumProtocol::Icmp | CiliumProtocol::Icmpv6 => {
                return Ok(CiliumPort(PortSpec {
                    protocol: None,
                    port: PortMatch::Icmp,
                }))
            }
        };
        port_spec(protocol, raw.port, raw.end_port.map(|e| e.0))
            .map(CiliumPort)
            .map_err(serde::de::Error::custom)
    }
}

/// An address network: CIDR notation, or (Cilium) a bare address.
#[derive(Debug, Clone, Copy)]
struct Cidr(IpNet);

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_net(&s).map(Cidr).map_err(serde::de::Error::custom)
    }
}

/// Parses `10.0.0.0/8`, `fd00::/8` or a bare address (a host prefix).
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net);
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{s}` is not a CIDR"))
}

/// A port number 1-65535.
#[derive(Debug, Clone, Copy)]
struct PortNumber(u16);

impl<'de> Deserialize<'de> for PortNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match PortValue::deserialize(d)? {
            PortValue::Number(n) if n > 0 => Ok(PortNumber(n)),
            PortValue::Number(n) => Err(serde::de::Error::custom(format!(
                "port {n} is out of range 1-65535"
            ))),
            PortValue::Name(s) => Err(serde::de::Error::custom(format!(
                "`{s}` is not a port number"
            ))),
        }
    }
}

/// A port as the API writes it: a number, a numeric string (Cilium), or a name.
#[derive(Debug, Clone)]
enum PortValue {
    Number(u16),
    Name(String),
}

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        let number = |n: i64| {
            u16::try_from(n)
                .map(PortValue::Number)
                .map_err(|_| serde::de::Error::custom(format!("port {n} is out of range 0-65535")))
        };
        match Raw::deserialize(d)? {
            Raw::Int(n) => number(n),
            Raw::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                number(s.parse::<i64>().unwrap_or(i64::MAX))
            }
            Raw::Str(s) => Ok(PortValue::Name(s)),
        }
    }
}

fn port_spec(
    protocol: Option<Protocol>,
    port: Option<PortValue>,
    end: Option<u16>,
) -> Result<PortSpec, String> {
    let port = match (port, end) {
        (None, None) | (Some(PortValue::Number(0)), None) => PortMatch::Any,
        (None, Some(e)) => return Err(format!("endPort {e} without a port")),
        (Some(PortValue::Number(0)), Some(_)) => {
            return Err("endPort with port 0 (every port)".to_string())
        }
        (Some(PortValue::Number(p)), None) => PortMatch::Range(p, p),
        (Some(PortValue::Number(p)), Some(e)) if e >= p => PortMatch::Range(p, e),
        (Some(PortValue::Number(p)), Some(e)) => {
            return Err(format!("endPort {e} is below port {p}"))
        }
        (Some(PortValue::Name(n)), None) => PortMatch::Named(n),
        (Some(PortValue::Name(n)), Some(_)) => {
            return Err(format!("endPort with the named port `{n}`"))
        }
    };
    Ok(PortSpec { protocol, port })
}

impl RawNetworkPolicySpec {
    fn into_model(self) -> NetworkPolicy {
        NetworkPolicy {
            pod_selector: self.pod_selector,
            policy_types: self.policy_types,
            ingress: self.ingress.map(|r| r.len()),
            egress: self.egress.map(|rules| {
                rules
                    .into_iter()
                    .map(|r| EgressRule {
                        to: r.to.into_iter().map(RawPeer::into_model).collect(),
                        ports: r.ports.into_iter().map(|p| p.0).collect(),
                    })
                    .collect()
            }),
        }
    }
}

impl RawPeer {
    fn into_model(self) -> Peer {
        match self.ip_block {
            Some(b) => Peer::IpBlock(IpBlock {
                cidr: b.cidr.0,
                except: b.except.into_iter().map(|c| c.0).collect(),
            }),
            None => Peer::Pods {
                namespace_selector: self.namespace_selector,
                pod_selector: self.pod_selector,
            },
        }
    }
}

#[derive(Deserialize)]
struct RawCiliumDoc {
    #[serde(default)]
    spec: Option<RawCiliumRule>,
    #[serde(default, deserialize_with = "null_as_default")]
    specs: Vec<RawCiliumRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCiliumRule {
    #[serde(default)]
    endpoint_selector: Option<Selector>,
    #[serde(default)]
    ingress: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    ingress_deny: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    egress: Option<Vec<RawCiliumEgress>>,
    #[serde(default)]
    egress_deny: Option<Vec<RawCiliumEgress>>,
    #[serde(default)]
    enable_default_deny: Option<RawDefaultDeny>,
}

#[derive(Deserialize)]
struct RawDefaultDeny {
    #[serde(default)]
    egress: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCiliumEgress {
    #[serde(default)]
    to_endpoints: Option<Vec<Selector>>,
    #[serde(default, rename = "toCIDR")]
    to_cidr: Option<Vec<Cidr>>,
    #[serde(default, rename = "toCIDRSet")]
    to_cidr_set: Option<Vec<RawCidrSet>>,
    #[serde(default)]
    to_entities: Option<Vec<String>>,
    #[serde(default, rename = "toFQDNs")]
    to_fqdns: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    to_services: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    to_groups: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    to_nodes: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    to_requires: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    to_ports: Option<Vec<RawCiliumPortRule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCidrSet {
    #[serde(default)]
    cidr: Option<Cidr>,
    #[serde(default, deserialize_with = "null_as_default")]
    except: Vec<Cidr>,
}

#[derive(Deserialize)]
struct RawCiliumPortRule {
    #[serde(default, deserialize_with = "null_as_default")]
    ports: Vec<CiliumPort>,
    #[serde(default)]
    rules: Option<RawL7>,
}

#[derive(Deserialize)]
struct RawL7 {
    #[serde(default)]
    dns: Option<Vec<IgnoredAny>>,
}

/// Cilium's protocols: `ANY` (the default) matches all of them.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum CiliumProtocol {
    Tcp,
    Udp,
    Sctp,
    Any,
    Icmp,
    Icmpv6,
}

impl RawCiliumDoc {
    fn into_model(self, clusterwide: bool) -> CiliumPolicy {
        let mut rules = Vec::new();
        if let Some(spec) = self.spec {
            rules.push(spec.into_model(vec![Seg::Key("spec".into())]));
        }
        for (i, spec) in self.specs.into_iter().enumerate() {
            rules.push(spec.into_model(vec![Seg::Key("specs".into()), Seg::Index(i)]));
        }
        CiliumPolicy { clusterwide, rules }
    }
}

impl RawCiliumRule {
    fn into_model(self, path: Vec<Seg>) -> CiliumRule {
        let convert = |rules: Option<Vec<RawCiliumEgress>>| {
            rules.map(|r| r.into_iter().map(RawCiliumEgress::into_model).collect())
        };
        CiliumRule {
            path,
            endpoint_selector: self.endpoint_selector,
            ingress: self.ingress.map(|r| r.len()),
            ingress_deny: self.ingress_deny.map(|r| r.len()),
            egress: convert(self.egress),
            egress_deny: convert(self.egress_deny),
            default_deny_egress: self.enable_default_deny.and_then(|d| d.egress),
        }
    }
}

impl RawCiliumEgress {
    fn into_model(self) -> CiliumEgress {
        let mut others = Vec::new();
        for (name, field) in [
            ("toFQDNs", &self.to_fqdns),
            ("toServices", &self.to_services),
            ("toGroups", &self.to_groups),
            ("toNodes", &self.to_nodes),
            ("toRequires", &self.to_requires),
        ] {
            if let Some(list) = field {
                others.push((name, list.len()));
            }
        }
        let dns_proxy = self
            .to_ports
            .iter()
            .flatten()
            .any(|r| r.rules.as_ref().is_some_and(|l7| l7.dns.is_some()));
        let to_ports = self.to_ports.map(|rules| {
            rules
                .into_iter()
                .map(|rule| rule.ports.into_iter().map(|p| p.0).collect())
                .collect()
        });
        CiliumEgress {
            to_endpoints: self.to_endpoints,
            to_cidr: self.to_cidr.map(|v| v.into_iter().map(|c| c.0).collect()),
            to_cidr_set: self.to_cidr_set.map(|v| {
                v.into_iter()
                    .map(|s| CidrSet {
                        cidr: s.cidr.map(|c| c.0),
                        except: s.except.into_iter().map(|c| c.0).collect(),
                    })
                    .collect()
            }),
            to_entities: self.to_entities,
            others,
            to_ports,
            dns_proxy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(text: &str) -> Vec<Object> {
        parse_text(text, "t.yaml", Path::new("t.yaml")).unwrap().0
    }

    fn np(text: &str) -> NetworkPolicy {
        let doc = format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p}}\nspec:\n{text}");
        match objects(&doc).remove(0).body {
            Body::NetworkPolicy(np) => np,
            other => panic!("{other:?}"),
        }
    }

    fn flow(s: &str) -> Flow {
        let (addr, proto) = s.split_once('/').unwrap();
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        let protocol = match proto {
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            _ => Protocol::Tcp,
        };
        Flow {
            ip: addr.ip(),
            port: addr.port(),
            protocol,
        }
    }

    #[test]
    fn policy_types_default_as_the_api_defaults_them() {
        // No policyTypes: Egress only when there is an egress rule.
        assert!(np("  podSelector: {}\n  egress: [{}]\n").isolates_egress());
        assert!(!np("  podSelector: {}\n  egress: []\n").isolates_egress());
        assert!(!np("  podSelector: {}\n").isolates_egress());
        assert!(!np("  podSelector: {}\n  policyTypes: []\n  egress: []\n").isolates_egress());
        // Given: exactly what it lists.
        assert!(np("  podSelector: {}\n  policyTypes: [Egress]\n").isolates_egress());
        let ignored = np("  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{}]\n");
        assert!(!ignored.isolates_egress());
        assert!(ignored.effective_egress().is_empty());
    }

    #[test]
    fn egress_rules_match_addresses_ports_and_protocols() {
        let p = np("  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}]\n    ports: [{port: 443}, {protocol: UDP, port: 5000, endPort: 5010}]\n");
        let rule = &p.effective_egress()[0];
        assert_eq!(rule.allows(&flow("10.1.2.3:443/TCP")), Match::Yes);
        assert_eq!(rule.allows(&flow("10.1.2.3:443/UDP")), Match::No);
        assert_eq!(rule.allows(&flow("10.9.2.3:443/TCP")), Match::No);
        assert_eq!(rule.allows(&flow("10.1.2.3:5010/UDP")), Match::Yes);
        assert_eq!(rule.allows(&flow("10.1.2.3:5011/UDP")), Match::No);
        assert_eq!(rule.allows(&flow("[fd00::1]:443/TCP")), Match::No);
        // `- {}` matches everything; a pod peer cannot be decided.
        let all = np("  podSelector: {}\n  egress: [{}]\n");
        assert_eq!(
            all.effective_egress()[0].allows(&flow("1.1.1.1:1/SCTP")),
            Match::Yes
        );
        let pods = np("  podSelector: {}\n  egress: [{to: [{podSelector: {}}]}]\n");
        assert!(matches!(
            pods.effective_egress()[0].allows(&flow("1.1.1.1:1/TCP")),
            Match::Unknown(_)
        ));
    }

    #[test]
    fn stray_excepts_are_found() {
        let block = IpBlock {
            cidr: "10.0.0.0/8".parse().unwrap(),
            except: vec![
                "10.1.0.0/16".parse().unwrap(),
                "192.168.0.0/16".parse().unwrap(),
                "10.0.0.0/8".parse().unwrap(),
            ],
        };
        assert_eq!(
            block.stray_excepts(),
            vec![
                "192.168.0.0/16".parse::<IpNet>().unwrap(),
                "10.0.0.0/8".parse().unwrap()
            ]
        );
    }

    #[test]
    fn cilium_rules_follow_cilium() {
        let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c, namespace: a}\nspecs:\n- endpointSelector: {}\n  egress:\n  - {}\n  - toCIDR: []\n    toPorts: [{ports: [{port: '80'}]}]\n  - toPorts: [{ports: [{port: '53', protocol: ANY}]}]\n  - toEntities: [world-ipv6]\n  - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]\n    toPorts: [{ports: [{port: '0', protocol: TCP}]}]\n";
        let Body::Cilium(c) = objects(text).remove(0).body else {
            panic!()
        };
        let rule = &c.rules[0];
        assert_eq!(rule.path, vec![Seg::Key("specs".into()), Seg::Index(0)]);
        assert!(rule.default_denies_egress());
        let e = rule.egress.as_ref().unwrap();
        assert!(e[0].is_empty_rule());
        assert_eq!(e[0].allows(&flow("1.1.1.1:80/TCP")), Match::No);
        // An explicit empty list selects nothing.
        assert_eq!(e[1].allows(&flow("1.1.1.1:80/TCP")), Match::No);
        assert_eq!(e[2].allows(&flow("1.1.1.1:53/UDP")), Match::Yes);
        assert_eq!(e[3].allows(&flow("[2001:db8::1]:1/TCP")), Match::Yes);
        assert_eq!(e[3].allows(&flow("1.1.1.1:1/TCP")), Match::No);
        assert_eq!(e[4].allows(&flow("10.2.0.1:65000/TCP")), Match::Yes);
        assert_eq!(e[4].allows(&flow("10.1.0.1:65000/TCP")), Match::No);
        assert_eq!(e[4].allows(&flow("10.2.0.1:65000/UDP")), Match::No);
        // Namespaced: only its own namespace's pods.
        let labels = BTreeMap::new();
        assert!(rule.selects(Some("a"), "a", &labels));
        assert!(!rule.selects(Some("a"), "b", &labels));
    }

    #[test]
    fn objects_know_their_document_line_and_list_item() {
        let text = "# header\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: apps/v1\n  kind: CronJob\n  metadata: {name: j}\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec: {hostNetwork: true}\n---\n---\nkind: Pod\nmetadata: {name: p, namespace: x}\n";
        let (objects, documents) = parse_text(text, "t.yaml", Path::new("t.yaml")).unwrap();
        assert_eq!(documents, 3);
        let shape: Vec<(usize, Option<usize>, usize, &str)> = objects
            .iter()
            .map(|o| {
                (
                    o.origin.document,
                    o.origin.item,
                    o.origin.line,
                    o.kind.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (0, Some(0), 6, "Namespace"),
                (0, Some(1), 9, "CronJob"),
                (2, None, 19, "Pod")
            ]
        );
        assert!(matches!(
            objects[1].body,
            Body::Workload { host_network: true }
        ));
        assert_eq!(objects[2].namespace.as_deref(), Some("x"));
    }

    #[test]
    fn serde_yaml_lines_are_shifted_to_the_file() {
        assert_eq!(
            shift_lines("at line 3 column 1, while parsing at line 2", 10),
            "at line 13 column 1, while parsing at line 12"
        );
        assert_eq!(shift_lines("no position", 5), "no position");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_reads_or_fails_cleanly(text in "(---\\n|kind: NetworkPolicy\\n|apiVersion: networking.k8s.io/v1\\n|spec:\\n|  egress: \\[\\{\\}\\]\\n|  podSelector: \\{\\}\\n|items:\\n|- |\\PC{0,10}\\n){0,12}") {
            let _ = parse_text(&text, "p.yaml", Path::new("p.yaml"));
        }
    }
}
