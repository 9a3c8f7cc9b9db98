//! `netpolicy-gen lint`: finds the holes in existing NetworkPolicy and Cilium YAML that leave
//! egress open, each reported with its file, line and document index.
//!
//! What is reported (codes are stable; `--ignore CODE` drops one):
//! `egress-allow-all` (`egress: [{}]`), `egress-any-destination` (ports to every address),
//! `egress-any-address` (`0.0.0.0/0`, `::/0`, Cilium `world`/`all`), `egress-rules-ignored`
//! (egress rules, `policyTypes` without `Egress`), `egress-deny-ineffective` (`egress: []`
//! without `policyTypes`: the policy is Ingress-only), `no-default-deny` (a namespace whose
//! pods are not all isolated for egress), `reopens-egress` (a wide allow on pods another policy
//! closed: policies only add allows), `host-network` (workloads NetworkPolicy cannot see),
//! `invalid-ip-block` (an `except` outside its `cidr`), `cilium-empty-section` (an empty Cilium
//! section is ignored and turns on no default deny) and `cilium-fqdn-without-dns-proxy`.

use crate::error::NetpolicyError;
use crate::policy::{self, selector::Selector};
use crate::policy::{describe_ports, Body, CiliumRule, Inventory, NetworkPolicy, Object, Peer};
use crate::spec::{Seg, SYSTEM_NAMESPACES};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// The `schema` of the lint report.
pub const LINT_SCHEMA: &str = "stellaops.netpolicy-lint/v1";

/// Options of `netpolicy-gen lint`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Read NetworkPolicy (networking.k8s.io/v1), CiliumNetworkPolicy and \
CiliumClusterwideNetworkPolicy objects from YAML or JSON files (multi-document, `List` kinds \
too) and report what leaves egress open, each finding with file, line and document index (0-based, \
as yq's documentIndex). Workloads (Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, \
CronJob) and Namespaces in the same files are checked too. The report (JSON, \
stellaops.netpolicy-lint/v1) goes to stdout, one line per finding to stderr. Exit 0 no finding, \
1 findings, 2 unreadable input."
)]
pub struct LintArgs {
    /// Policy files, or folders searched for *.yaml, *.yml and *.json (`-` reads stdin).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Namespace of objects that name none (what `kubectl apply -n` would use).
    #[arg(long, short = 'n', value_name = "NS", default_value = policy::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Do not report findings with this code (repeatable).
    #[arg(long, value_name = "CODE", value_enum)]
    pub ignore: Vec<Code>,
    /// No lines on stderr (the report is still written).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// An egress rule with no peer and no port: every destination, every port.
    EgressAllowAll,
    /// An egress rule with ports but no peer: those ports to every destination.
    EgressAnyDestination,
    /// `0.0.0.0/0`, `::/0`, or Cilium `world`/`all`.
    EgressAnyAddress,
    /// Egress rules in a policy whose `policyTypes` omits `Egress`.
    EgressRulesIgnored,
    /// `egress: []` without `policyTypes`: the policy defaults to Ingress only.
    EgressDenyIneffective,
    /// A namespace whose pods are not all isolated for egress.
    NoDefaultDeny,
    /// A wide allow on pods that another policy isolates.
    ReopensEgress,
    /// A workload on the host network, which NetworkPolicy does not cover.
    HostNetwork,
    /// An `except` that is not inside its `cidr`.
    InvalidIpBlock,
    /// An empty Cilium section (`egress: []`): ignored, no default deny.
    CiliumEmptySection,
    /// `toFQDNs` with no DNS proxy rule (`toPorts[].rules.dns`) anywhere in the input.
    CiliumFqdnWithoutDnsProxy,
}

impl Code {
    /// The code as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::EgressAllowAll => "egress-allow-all",
            Code::EgressAnyDestination => "egress-any-destination",
            Code::EgressAnyAddress => "egress-any-address",
            Code::EgressRulesIgnored => "egress-rules-ignored",
            Code::EgressDenyIneffective => "egress-deny-ineffective",
            Code::NoDefaultDeny => "no-default-deny",
            Code::ReopensEgress => "reopens-egress",
            Code::HostNetwork => "host-network",
            Code::InvalidIpBlock => "invalid-ip-block",
            Code::CiliumEmptySection => "cilium-empty-section",
            Code::CiliumFqdnWithoutDnsProxy => "cilium-fqdn-without-dns-proxy",
        }
    }
}

/// An object named by a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjectRef {
    pub file: String,
    pub line: usize,
    pub document: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    /// The object the finding is in (for `no-default-deny`, an object of the namespace).
    #[serde(flatten)]
    pub at: ObjectRef,
    /// Where in the object, as `spec.egress[0].to[1].ipBlock.cidr`; empty for the whole object.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    pub message: String,
    /// Other objects the finding is about (the policies a `reopens-egress` re-opens).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<ObjectRef>,
}

/// A namespace seen in the input and whether its pods are all isolated for egress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceState {
    pub name: String,
    pub default_deny: bool,
}

/// How much was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub policies: usize,
    pub findings: usize,
}

/// The lint report (`stellaops.netpolicy-lint/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    pub schema: &'static str,
    pub ok: bool,
    pub counts: Counts,
    pub namespaces: Vec<NamespaceState>,
    pub findings: Vec<Finding>,
}

/// Runs `netpolicy-gen lint`.
pub fn run(
    args: &LintArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    let inventory = policy::load_paths(&args.files)?;
    let report = lint(&inventory, &args.namespace, &args.ignore);
    let json = offline_formats::jcs::to_pretty_vec(&report)
        .map_err(|e| NetpolicyError::Internal(format!("lint report: {e}")))?;
    tool_cli::write_data(stdout, &json);
    if !args.quiet {
        for f in &report.findings {
            let item =
                f.at.item
                    .map(|i| format!(", items[{i}]"))
                    .unwrap_or_default();
            let _ = writeln!(
                stderr,
                "{}:{}: {}: {} ({}, document {}{item})",
                tool_cli::sanitize(&f.at.file),
                f.at.line,
                f.code.as_str(),
                tool_cli::sanitize(&f.message),
                tool_cli::sanitize(&label(&f.at)),
                f.at.document
            );
        }
        let c = &report.counts;
        let what = format!(
            "lint: {} finding{} in {} file{} ({} documents, {} policies)",
            c.findings,
            plural(c.findings),
            c.files,
            plural(c.files),
            c.documents,
            c.policies
        );
        let _ = if report.ok {
            writeln!(stderr, "{}: {what}", crate::TOOL)
        } else {
            writeln!(stderr, "{}: error: {what}", crate::TOOL)
        };
    }
    Ok(u8::from(!report.ok))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn label(r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    }
}

/// A rule that lets pods reach every address (on some ports): what can re-open egress.
struct WideGrant {
    object: usize,
    path: Vec<Seg>,
    what: String,
}

/// A policy (or Cilium rule) that isolates the pods it selects for egress.
struct Closer<'a> {
    object: usize,
    /// `None`: a cluster-wide Cilium rule.
    namespace: Option<&'a str>,
    selector: &'a Selector,
}

/// Lints everything in `inventory`; objects without a namespace are in `default_namespace`.
pub fn lint(inventory: &Inventory, default_namespace: &str, ignore: &[Code]) -> LintReport {
    let mut linter = Linter {
        objects: &inventory.objects,
        default_namespace,
        findings: Vec::new(),
        grants: Vec::new(),
        fqdn_rules: Vec::new(),
        dns_proxy: false,
    };
    for (i, object) in inventory.objects.iter().enumerate() {
        match &object.body {
            Body::NetworkPolicy(np) => linter.network_policy(i, np),
            Body::Cilium(c) => {
                for rule in &c.rules {
                    linter.cilium_rule(i, rule);
                }
            }
            Body::Workload { host_network: true } => {
                let mut path: Vec<Seg> = policy::pod_spec_path(&object.kind)
                    .iter()
                    .map(|k| Seg::Key((*k).to_string()))
                    .collect();
                path.push(Seg::Key("hostNetwork".into()));
                linter.push(
                    Code::HostNetwork,
                    i,
                    &path,
                    format!(
                        "{} runs on the host network: NetworkPolicy and Cilium endpoint policies do \
                         not cover it; seal the node itself (nftables/iptables) or drop hostNetwork",
                        object.kind
                    ),
                    Vec::new(),
                );
            }
            _ => {}
        }
    }
    if !linter.dns_proxy {
        for (object, path) in std::mem::take(&mut linter.fqdn_rules) {
            linter.push(
                Code::CiliumFqdnWithoutDnsProxy,
                object,
                &path,
                "toFQDNs learns addresses only from DNS answers seen by Cilium's DNS proxy; no \
                 rule here has toPorts[].rules.dns, so these destinations stay closed"
                    .to_string(),
                Vec::new(),
            );
        }
    }
    let namespaces = linter.namespaces();
    linter.reopened();
    let Linter { mut findings, .. } = linter;
    findings.retain(|f| !ignore.contains(&f.code));
    findings.sort_by(|a, b| {
        (
            &a.at.file,
            a.at.document,
            a.at.item,
            a.at.line,
            a.code,
            &a.path,
            &a.message,
        )
            .cmp(&(
                &b.at.file,
                b.at.document,
                b.at.item,
                b.at.line,
                b.code,
                &b.path,
                &b.message,
            ))
    });
    findings.dedup();
    let policies = inventory
        .objects
        .iter()
        .filter(|o| matches!(o.body, Body::NetworkPolicy(_) | Body::Cilium(_)))
        .count();
    LintReport {
        schema: LINT_SCHEMA,
        ok: findings.is_empty(),
        counts: Counts {
            files: inventory.files,
            documents: inventory.documents,
            objects: inventory.objects.len(),
            policies,
            findings: findings.len(),
        },
        namespaces,
        findings,
    }
}

struct Linter<'a> {
    objects: &'a [Object],
    default_namespace: &'a str,
    findings: Vec<Finding>,
    grants: Vec<WideGrant>,
    fqdn_rules: Vec<(usize, Vec<Seg>)>,
    dns_proxy: bool,
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn join(base: &[Seg], rest: &[Seg]) -> Vec<Seg> {
    let mut path = base.to_vec();
    path.extend_from_slice(rest);
    path
}

fn family(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "IPv4",
        IpNet::V6(_) => "IPv6",
    }
}

impl<'a> Linter<'a> {
    fn object_ref(&self, object: usize, path: &[Seg]) -> ObjectRef {
        let o = &self.objects[object];
        let namespaced = !matches!(&o.body, Body::Namespace)
            && !matches!(&o.body, Body::Cilium(c) if c.clusterwide);
        ObjectRef {
            file: o.origin.file.clone(),
            line: o.line_of(path),
            document: o.origin.document,
            item: o.origin.item,
            kind: o.kind.clone(),
            namespace: namespaced.then(|| o.namespace_or(self.default_namespace).to_string()),
            name: o.name.clone(),
        }
    }

    fn push(
        &mut self,
        code: Code,
        object: usize,
        path: &[Seg],
        message: String,
        related: Vec<ObjectRef>,
    ) {
        let at = self.object_ref(object, path);
        self.findings.push(Finding {
            code,
            at,
            path: crate::spec::render_path(path),
            message,
            related,
        });
    }

    fn network_policy(&mut self, i: usize, np: &NetworkPolicy) {
        let spec = [key("spec")];
        let rules = np.egress.as_deref().unwrap_or_default();
        if !rules.is_empty() && !np.policy_types.is_empty() && !np.isolates_egress() {
            self.push(
                Code::EgressRulesIgnored,
                i,
                &join(&spec, &[key("policyTypes")]),
                format!(
                    "policyTypes does not list Egress, so {} ignored and the policy isolates no \
                     pod for egress",
                    if rules.len() == 1 {
                        "its egress rule is".to_string()
                    } else {
                        format!("its {} egress rules are", rules.len())
                    }
                ),
                Vec::new(),
            );
        }
        if np.egress.as_ref().is_some_and(Vec::is_empty) && np.policy_types.is_empty() {
            self.push(
                Code::EgressDenyIneffective,
                i,
                &join(&spec, &[key("egress")]),
                "`egress: []` without policyTypes denies nothing: the API defaults policyTypes to \
                 [Ingress] when a policy has no egress rule; add `policyTypes: [Egress]`"
                    .to_string(),
                Vec::new(),
            );
        }
        for (r, rule) in rules.iter().enumerate() {
            let rule_path = join(&spec, &[key("egress"), Seg::Index(r)]);
            for (p, peer) in rule.to.iter().enumerate() {
                if let Peer::IpBlock(block) = peer {
                    let cidr_path = join(
                        &rule_path,
                        &[key("to"), Seg::Index(p), key("ipBlock"), key("cidr")],
                    );
                    let stray = block.stray_excepts();
                    if !stray.is_empty() {
                        self.push(
                            Code::InvalidIpBlock,
                            i,
                            &cidr_path,
                            format!(
                                "except {} is not inside cidr {}: the API server refuses it",
                                list(&stray),
                                block.cidr
                            ),
                            Vec::new(),
                        );
                    }
                }
            }
            if !np.isolates_egress() {
                continue;
            }
            let ports = describe_ports(&rule.ports);
            if rule.to.is_empty() {
                let (code, what) = if rule.ports.is_empty() {
                    (
                        Code::EgressAllowAll,
                        "allows all egress: no peer and no port (`egress: [{}]`) means every \
                         destination on every port"
                            .to_string(),
                    )
                } else {
                    (
                        Code::EgressAnyDestination,
                        format!("allows {ports} to every destination (the rule has no `to`)"),
                    )
                };
                self.push(code, i, &rule_path, what.clone(), Vec::new());
                self.grants.push(WideGrant {
                    object: i,
                    path: rule_path.clone(),
                    what,
                });
                continue;
            }
            for (p, peer) in rule.to.iter().enumerate() {
                if let Peer::IpBlock(block) = peer {
                    if block.cidr.prefix_len() == 0 {
                        let path = join(
                            &rule_path,
                            &[key("to"), Seg::Index(p), key("ipBlock"), key("cidr")],
                        );
                        let what = any_address(&block.cidr, &block.except, &ports);
                        self.push(Code::EgressAnyAddress, i, &path, what.clone(), Vec::new());
                        self.grants.push(WideGrant {
                            object: i,
                            path,
                            what,
                        });
                    }
                }
            }
        }
    }

    fn cilium_rule(&mut self, i: usize, rule: &CiliumRule) {
        for (name, len) in [
            ("ingress", rule.ingress),
            ("ingressDeny", rule.ingress_deny),
            ("egress", rule.egress.as_ref().map(Vec::len)),
            ("egressDeny", rule.egress_deny.as_ref().map(Vec::len)),
        ] {
            if len == Some(0) {
                let direction = if name.starts_with("egress") {
                    "egress"
                } else {
                    "ingress"
                };
                self.push(
                    Code::CiliumEmptySection,
                    i,
                    &join(&rule.path, &[key(name)]),
                    format!(
                        "`{name}: []` is ignored: an empty section puts no endpoint into \
                         {direction} default deny (Cilium 1.17 and later reject it); write \
                         `{name}: [{{}}]` to deny all {direction}"
                    ),
                    Vec::new(),
                );
            }
        }
        for (r, egress) in rule.egress.iter().flatten().enumerate() {
            let rule_path = join(&rule.path, &[key("egress"), Seg::Index(r)]);
            if egress.dns_proxy {
                self.dns_proxy = true;
            }
            if egress.others.iter().any(|(field, _)| *field == "toFQDNs") {
                self.fqdn_rules
                    .push((i, join(&rule_path, &[key("toFQDNs")])));
            }
            for (s, set) in egress.to_cidr_set.iter().flatten().enumerate() {
                if let Some(cidr) = set.cidr {
                    let block = policy::IpBlock {
                        cidr,
                        except: set.except.clone(),
                    };
                    let stray = block.stray_excepts();
                    if !stray.is_empty() {
                        self.push(
                            Code::InvalidIpBlock,
                            i,
                            &join(&rule_path, &[key("toCIDRSet"), Seg::Index(s), key("cidr")]),
                            format!("except {} is not inside cidr {cidr}", list(&stray)),
                            Vec::new(),
                        );
                    }
                }
            }
            if egress.is_empty_rule() {
                continue;
            }
            let ports = egress.ports();
            let ports_text = describe_ports(&ports);
            if !egress.has_l3() {
                let what = format!(
                    "allows {ports_text} to every destination (the rule has toPorts and no \
                     destination selector)"
                );
                self.push(
                    Code::EgressAnyDestination,
                    i,
                    &rule_path,
                    what.clone(),
                    Vec::new(),
                );
                self.grants.push(WideGrant {
                    object: i,
                    path: rule_path,
                    what,
                });
                continue;
            }
            for (e, entity) in egress.to_entities.iter().flatten().enumerate() {
                if matches!(
                    entity.as_str(),
                    "all" | "world" | "world-ipv4" | "world-ipv6"
                ) {
                    let path = join(&rule_path, &[key("toEntities"), Seg::Index(e)]);
                    let (code, what) = if entity == "all" && ports.is_empty() {
                        (
                            Code::EgressAllowAll,
                            "allows all egress: toEntities `all` on every port".to_string(),
                        )
                    } else {
                        (
                            Code::EgressAnyAddress,
                            format!(
                                "toEntities `{entity}` allows {ports_text} to every address \
                                 outside the cluster"
                            ),
                        )
                    };
                    self.push(code, i, &path, what.clone(), Vec::new());
                    self.grants.push(WideGrant {
                        object: i,
                        path,
                        what,
                    });
                }
            }
            let cidrs = egress
                .to_cidr
                .iter()
                .flatten()
                .enumerate()
                .map(|(c, net)| (key("toCIDR"), c, None, *net, Vec::new()));
            let sets = egress
                .to_cidr_set
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(c, s)| {
                    s.cidr.map(|net| {
                        (
                            key("toCIDRSet"),
                            c,
                            Some(key("cidr")),
                            net,
                            s.except.clone(),
                        )
                    })
                });
            let wide: Vec<_> = cidrs
                .chain(sets)
                .filter(|(_, _, _, net, _)| net.prefix_len() == 0)
                .collect();
            for (field, c, leaf, net, except) in wide {
                let mut path = join(&rule_path, &[field, Seg::Index(c)]);
                path.extend(leaf);
                let what = any_address(&net, &except, &ports_text);
                self.push(Code::EgressAnyAddress, i, &path, what.clone(), Vec::new());
                self.grants.push(WideGrant {
                    object: i,
                    path,
                    what,
                });
            }
        }
    }

    /// Every policy (or Cilium rule) that isolates the pods it selects for egress, without
    /// allowing everything itself.
    fn closers(&self) -> Vec<Closer<'a>> {
        let mut out = Vec::new();
        for (i, o) in self.objects.iter().enumerate() {
            match &o.body {
                Body::NetworkPolicy(np) if np.isolates_egress() && !allows_all(np) => {
                    out.push(Closer {
                        object: i,
                        namespace: Some(o.namespace_or(self.default_namespace)),
                        selector: &np.pod_selector,
                    })
                }
                Body::Cilium(c) => {
                    for rule in &c.rules {
                        if let (true, Some(selector)) =
                            (rule.default_denies_egress(), &rule.endpoint_selector)
                        {
                            out.push(Closer {
                                object: i,
                                namespace: (!c.clusterwide)
                                    .then(|| o.namespace_or(self.default_namespace)),
                                selector,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The namespaces of the input and whether each has an egress default deny; a
    /// `no-default-deny` finding for each that has none (system namespaces are exempt).
    fn namespaces(&mut self) -> Vec<NamespaceState> {
        let mut first: BTreeMap<String, usize> = BTreeMap::new();
        for (i, o) in self.objects.iter().enumerate() {
            let ns = match &o.body {
                Body::Namespace => Some(o.name.clone()),
                Body::Cilium(c) if c.clusterwide => None,
                Body::NetworkPolicy(_) | Body::Cilium(_) | Body::Workload { .. } => {
                    Some(o.namespace_or(self.default_namespace).to_string())
                }
                Body::Other => None,
            };
            if let Some(ns) = ns.filter(|n| !n.is_empty()) {
                let entry = first.entry(ns).or_insert(i);
                // Point at the Namespace object when there is one.
                if matches!(o.body, Body::Namespace)
                    && !matches!(self.objects[*entry].body, Body::Namespace)
                {
                    *entry = i;
                }
            }
        }
        let closers = self.closers();
        let mut states = Vec::new();
        for (ns, at) in first {
            let denied = closers.iter().any(|c| match c.namespace {
                Some(cns) => {
                    cns == ns
                        && match &self.objects[c.object].body {
                            Body::NetworkPolicy(_) => c.selector.is_empty(),
                            _ => c.selector.selects_whole_namespace(&ns),
                        }
                }
                None => c.selector.selects_whole_namespace(&ns),
            });
            let system = SYSTEM_NAMESPACES.contains(&ns.as_str());
            if !denied && !system {
                let mut at_ref = self.object_ref(at, &[]);
                at_ref.namespace = Some(ns.clone());
                self.findings.push(Finding {
                    code: Code::NoDefaultDeny,
                    at: at_ref,
                    path: String::new(),
                    message: format!(
                        "namespace `{ns}` has no egress default deny: no policy selects all of its \
                         pods with Egress in policyTypes (`podSelector: {{}}`, `policyTypes: \
                         [Egress]`), so pods no policy selects reach everything"
                    ),
                    related: Vec::new(),
                });
            }
            states.push(NamespaceState {
                name: ns,
                default_deny: denied,
            });
        }
        states
    }

    /// A `reopens-egress` finding for every wide grant on pods that another policy isolates.
    fn reopened(&mut self) {
        let closers = self.closers();
        let grants = std::mem::take(&mut self.grants);
        for grant in &grants {
            let o = &self.objects[grant.object];
            let (grant_ns, grant_selectors): (Option<&str>, Vec<&Selector>) = match &o.body {
                Body::NetworkPolicy(np) => (
                    Some(o.namespace_or(self.default_namespace)),
                    vec![&np.pod_selector],
                ),
                Body::Cilium(c) => (
                    (!c.clusterwide).then(|| o.namespace_or(self.default_namespace)),
                    c.rules
                        .iter()
                        .filter(|r| grant.path.starts_with(&r.path))
                        .filter_map(|r| r.endpoint_selector.as_ref())
                        .collect(),
                ),
                _ => continue,
            };
            let mut related: Vec<ObjectRef> = closers
                .iter()
                .filter(|c| c.object != grant.object)
                .filter(|c| match (grant_ns, c.namespace) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                })
                .filter(|c| grant_selectors.iter().any(|s| s.may_overlap(c.selector)))
                .map(|c| self.object_ref(c.object, &[]))
                .collect();
            related.sort();
            related.dedup();
            if related.is_empty() {
                continue;
            }
            let names: Vec<String> = related.iter().map(label).collect();
            let message = format!(
                "re-opens egress that {} close{} (policies only add allows): this rule {}",
                names.join(", "),
                if related.len() == 1 { "s" } else { "" },
                grant.what
            );
            self.push(
                Code::ReopensEgress,
                grant.object,
                &grant.path,
                message,
                related,
            );
        }
    }
}

/// True when the policy itself allows every destination on every port.
fn allows_all(np: &NetworkPolicy) -> bool {
    np.effective_egress()
        .iter()
        .any(|r| r.to.is_empty() && r.ports.is_empty())
}

fn any_address(net: &IpNet, except: &[IpNet], ports: &str) -> String {
    let mut what = format!("{net} allows {ports} to every {} address", family(net));
    if !except.is_empty() {
        what.push_str(&format!(" but {}", list(except)));
    }
    what
}

fn list(nets: &[IpNet]) -> String {
    let set: BTreeSet<String> = nets.iter().map(ToString::to_string).collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}
