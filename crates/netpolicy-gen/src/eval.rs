//! `netpolicy-gen eval`: answers, offline, whether a pod may open a connection to an address
//! under a folder of NetworkPolicy and Cilium policies, and which policies decided it;
//! `--matrix` prints the answers for sets of sources and destinations as a truth table.
//!
//! Semantics (Kubernetes NetworkPolicy, as the API defines it): a pod is isolated for egress
//! when some policy of its namespace selects it and has Egress in its (defaulted)
//! `policyTypes`; an isolated pod may reach a destination when any egress rule of any policy
//! selecting it matches (`ipBlock` cidr minus except, ports with `endPort`, protocol TCP by
//! default); a pod no policy isolates may reach everything. Cilium rules add to this as
//! Cilium does: a selecting rule with an egress section (or `enableDefaultDeny.egress`)
//! isolates, `toCIDR`/`toCIDRSet`/`toEntities: [world]` match addresses, `egressDeny` wins over
//! every allow, and an empty rule (`- {}`) allows nothing.
//!
//! Limits: destinations are addresses outside the cluster. Peers that select pods
//! (`namespaceSelector`, `podSelector`, `toEndpoints`), named ports, `toFQDNs` and
//! `toServices` are never matched against an address (pod addresses and DNS answers are not
//! modelled); when one of them is all that could have allowed a flow, the answer carries a
//! note saying so.

use crate::error::NetpolicyError;
use crate::policy::{self, Body, Flow, Inventory, Match, Object};
use crate::spec::{render_path, Protocol, Seg};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// The `schema` of the eval report.
pub const EVAL_SCHEMA: &str = "stellaops.netpolicy-eval/v1";

/// Options of `netpolicy-gen eval`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Answer allow or deny for connections from pods to addresses under the \
NetworkPolicy and Cilium policies found in --policies (files, or folders searched for *.yaml, \
*.yml and *.json), offline, with the policies and rules that decided each answer. Every --from \
is asked against every --to. --matrix adds a truth table (rows: sources, columns: \
destinations; `.` allowed, `X` denied, as Cyclonus prints it). The report (JSON, \
stellaops.netpolicy-eval/v1) goes to stdout; --format text prints the answers (or the table) \
for people instead. Destinations are addresses outside the cluster: peers that select pods, \
named ports, toFQDNs and toServices never match one (see the notes of each answer). Exit 0, or \
1 with --expect when an answer differs, 2 on unreadable input."
)]
pub struct EvalArgs {
    /// Policy files, or folders searched for *.yaml, *.yml and *.json (repeatable).
    #[arg(long = "policies", value_name = "PATH", required = true)]
    pub policies: Vec<PathBuf>,
    /// Source pod: NS/KEY=VALUE[,KEY=VALUE…] (`NS` alone: a pod without labels); repeatable.
    #[arg(long = "from", value_name = "NS/LABELS", required = true)]
    pub from: Vec<Source>,
    /// Destination: IP:PORT/PROTO, IPv6 in brackets ([fd00::1]:443/TCP); PROTO TCP, UDP or
    /// SCTP, TCP when omitted; repeatable.
    #[arg(long = "to", value_name = "IP:PORT/PROTO", required = true)]
    pub to: Vec<Destination>,
    /// Add a truth table of every --from against every --to.
    #[arg(long)]
    pub matrix: bool,
    /// `json` (the report) or `text` (for people).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Exit 1 unless every answer is this one.
    #[arg(long, value_enum, value_name = "VERDICT")]
    pub expect: Option<Verdict>,
    /// Namespace of objects that name none (what `kubectl apply -n` would use).
    #[arg(long, short = 'n', value_name = "NS", default_value = policy::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

/// An answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

/// Why an answer is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// No policy isolates the pod for egress: everything is allowed.
    NotIsolated,
    /// A rule of a policy selecting the pod allows the flow.
    AllowedByRule,
    /// The pod is isolated and no rule allows the flow.
    NoRuleAllows,
    /// A Cilium `egressDeny` rule matches the flow.
    DeniedByRule,
}

/// A source pod: namespace and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (namespace, labels) = s.split_once('/').unwrap_or((s, ""));
        if namespace.is_empty() {
            return Err(format!("`{s}`: expected NS/KEY=VALUE[,KEY=VALUE…]"));
        }
        let mut map = BTreeMap::new();
        for pair in labels.split(',').filter(|p| !p.is_empty()) {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(format!("`{pair}`: a label is KEY=VALUE"));
            };
            if k.is_empty() {
                return Err(format!("`{pair}`: empty label key"));
            }
            map.insert(k.to_string(), v.to_string());
        }
        Ok(Source {
            namespace: namespace.to_string(),
            labels: map,
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.namespace)?;
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !labels.is_empty() {
            write!(f, "/{}", labels.join(","))?;
        }
        Ok(())
    }
}

/// A destination address, port and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination(pub Flow);

impl FromStr for Destination {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected IP:PORT/PROTO (IPv6 as [ADDR]:PORT/PROTO)");
        let (endpoint, protocol) = match s.rsplit_once('/') {
            Some((e, p)) => (
                e,
                match p.to_ascii_uppercase().as_str() {
                    "TCP" => Protocol::Tcp,
                    "UDP" => Protocol::Udp,
                    "SCTP" => Protocol::Sctp,
                    _ => return Err(format!("`{p}`: protocol is TCP, UDP or SCTP")),
                },
            ),
            None => (s, Protocol::Tcp),
        };
        let (ip, port) = if let Some(rest) = endpoint.strip_prefix('[') {
            rest.split_once("]:").ok_or_else(bad)?
        } else {
            let (ip, port) = endpoint.rsplit_once(':').ok_or_else(bad)?;
            if ip.contains(':') {
                return Err(bad());
            }
            (ip, port)
        };
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if port == 0 {
            return Err(format!("`{s}`: port 0 is not a destination"));
        }
        Ok(Destination(Flow { ip, port, protocol }))
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Flow { ip, port, protocol } = self.0;
        match ip {
            IpAddr::V4(v4) => write!(f, "{v4}:{port}/{}", protocol.as_upper()),
            IpAddr::V6(v6) => write!(f, "[{v6}]:{port}/{}", protocol.as_upper()),
        }
    }
}

/// A policy, or one rule of it, that decided an answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleRef {
    pub file: String,
    pub line: usize,
    pub document: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<usize>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The rule (`spec.egress[2]`), or the part of the policy that isolates the pod.
    pub path: String,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub from: String,
    pub to: String,
    pub verdict: Verdict,
    pub reason: Reason,
    /// The rules that allowed or denied the flow, or (when none did) the policies that isolate
    /// the pod; empty when the pod is not isolated.
    pub decided_by: Vec<RuleRef>,
    /// What the model could not decide (a pod-selecting peer, a named port).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The truth table of `--matrix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    /// `rows[i][j]`: the answer for `sources[i]` to `destinations[j]`.
    pub rows: Vec<Vec<Verdict>>,
}

/// The eval report (`stellaops.netpolicy-eval/v1`).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub schema: &'static str,
    /// Policies read (NetworkPolicy and Cilium objects).
    pub policies: usize,
    pub answers: Vec<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Matrix>,
}

/// Runs `netpolicy-gen eval`.
pub fn run(
    args: &EvalArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    let inventory = policy::load_paths(&args.policies)?;
    let report = evaluate_all(
        &inventory,
        &args.namespace,
        &args.from,
        &args.to,
        args.matrix,
    );
    match args.format {
        Format::Json => {
            let json = offline_formats::jcs::to_pretty_vec(&report)
                .map_err(|e| NetpolicyError::Internal(format!("eval report: {e}")))?;
            tool_cli::write_data(stdout, &json);
        }
        Format::Text => {
            let text = match &report.matrix {
                Some(m) => render_matrix(m),
                None => render_answers(&report.answers),
            };
            tool_cli::write_data(stdout, text.as_bytes());
        }
    }
    let allowed = report
        .answers
        .iter()
        .filter(|a| a.verdict == Verdict::Allow)
        .count();
    let _ = writeln!(
        stderr,
        "{}: eval: {allowed} allowed, {} denied ({} policies)",
        crate::TOOL,
        report.answers.len() - allowed,
        report.policies
    );
    match args.expect {
        Some(expected) if report.answers.iter().any(|a| a.verdict != expected) => {
            let _ = writeln!(
                stderr,
                "{}: error: eval: not every answer is {}",
                crate::TOOL,
                verdict_word(expected)
            );
            Ok(1)
        }
        _ => Ok(0),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Allow => "allow",
        Verdict::Deny => "deny",
    }
}

/// Answers every source against every destination.
pub fn evaluate_all(
    inventory: &Inventory,
    default_namespace: &str,
    sources: &[Source],
    destinations: &[Destination],
    matrix: bool,
) -> EvalReport {
    let mut answers = Vec::new();
    let mut rows = Vec::new();
    for source in sources {
        let mut row = Vec::new();
        for destination in destinations {
            let answer = evaluate(inventory, default_namespace, source, destination);
            row.push(answer.verdict);
            answers.push(answer);
        }
        rows.push(row);
    }
    let policies = inventory
        .objects
        .iter()
        .filter(|o| matches!(o.body, Body::NetworkPolicy(_) | Body::Cilium(_)))
        .count();
    EvalReport {
        schema: EVAL_SCHEMA,
        policies,
        answers,
        matrix: matrix.then(|| Matrix {
            sources: sources.iter().map(ToString::to_string).collect(),
            destinations: destinations.iter().map(ToString::to_string).collect(),
            rows,
        }),
    }
}

fn rule_ref(object: &Object, path: &[Seg], default_namespace: &str) -> RuleRef {
    let clusterwide = matches!(&object.body, Body::Cilium(c) if c.clusterwide);
    RuleRef {
        file: object.origin.file.clone(),
        line: object.line_of(path),
        document: object.origin.document,
        item: object.origin.item,
        kind: object.kind.clone(),
        namespace: (!clusterwide).then(|| object.namespace_or(default_namespace).to_string()),
        name: object.name.clone(),
        path: render_path(path),
    }
}

/// Answers one flow from `source` to `destination`.
pub fn evaluate(
    inventory: &Inventory,
    default_namespace: &str,
    source: &Source,
    destination: &Destination,
) -> Answer {
    let flow = &destination.0;
    let mut isolating = Vec::new();
    let mut allowing = Vec::new();
    let mut denying = Vec::new();
    let mut notes = Vec::new();
    let key = |k: &str| Seg::Key(k.to_string());
    for object in &inventory.objects {
        let namespace = object.namespace_or(default_namespace);
        let mut note = |path: &[Seg], why: String| {
            notes.push(format!(
                "{} {}: {why}",
                object.label(default_namespace),
                render_path(path)
            ))
        };
        match &object.body {
            Body::NetworkPolicy(np) => {
                if namespace != source.namespace
                    || !np.isolates_egress()
                    || !np.pod_selector.matches(&source.labels)
                {
                    continue;
                }
                isolating.push(rule_ref(
                    object,
                    &[key("spec"), key("podSelector")],
                    default_namespace,
                ));
                for (r, rule) in np.effective_egress().iter().enumerate() {
                    let path = [key("spec"), key("egress"), Seg::Index(r)];
                    match rule.allows(flow) {
                        Match::Yes => allowing.push(rule_ref(object, &path, default_namespace)),
                        Match::Unknown(why) => note(&path, why),
                        Match::No => {}
                    }
                }
            }
            Body::Cilium(c) => {
                let policy_namespace = (!c.clusterwide).then_some(namespace);
                for rule in &c.rules {
                    if !rule.selects(policy_namespace, &source.namespace, &source.labels) {
                        continue;
                    }
                    if rule.default_denies_egress() {
                        let mut path = rule.path.clone();
                        path.push(key("endpointSelector"));
                        isolating.push(rule_ref(object, &path, default_namespace));
                    }
                    for (field, list, into) in [
                        ("egress", &rule.egress, &mut allowing),
                        ("egressDeny", &rule.egress_deny, &mut denying),
                    ] {
                        for (r, egress) in list.iter().flatten().enumerate() {
                            let mut path = rule.path.clone();
                            path.extend([key(field), Seg::Index(r)]);
                            match egress.allows(flow) {
                                Match::Yes => into.push(rule_ref(object, &path, default_namespace)),
                                Match::Unknown(why) => note(&path, why),
                                Match::No => {}
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let (verdict, reason, mut decided_by) = if !denying.is_empty() {
        (Verdict::Deny, Reason::DeniedByRule, denying)
    } else if isolating.is_empty() {
        (Verdict::Allow, Reason::NotIsolated, Vec::new())
    } else if !allowing.is_empty() {
        (Verdict::Allow, Reason::AllowedByRule, allowing)
    } else {
        (Verdict::Deny, Reason::NoRuleAllows, isolating)
    };
    decided_by.sort();
    decided_by.dedup();
    // A note only matters when it could have changed a denial.
    if verdict == Verdict::Allow {
        notes.clear();
    }
    notes.sort();
    notes.dedup();
    Answer {
        from: source.to_string(),
        to: destination.to_string(),
        verdict,
        reason,
        decided_by,
        notes,
    }
}

/// One line per answer: `allow  FROM -> TO  (by …)`.
fn render_answers(answers: &[Answer]) -> String {
    let mut out = String::new();
    for a in answers {
        let by: Vec<String> = a
            .decided_by
            .iter()
            .map(|r| {
                let name = match &r.namespace {
                    Some(ns) => format!("{ns}/{}", r.name),
                    None => r.name.clone(),
                };
                format!("{} {name} {} ({}:{})", r.kind, r.path, r.file, r.line)
            })
            .collect();
        let why = match a.reason {
            Reason::NotIsolated => "no policy isolates the pod for egress".to_string(),
            Reason::AllowedByRule => format!("allowed by {}", by.join("; ")),
            Reason::NoRuleAllows => format!("isolated by {}; no rule allows it", by.join("; ")),
            Reason::DeniedByRule => format!("denied by {}", by.join("; ")),
        };
        out.push_str(&format!(
            "{:<5} {} -> {}: {}\n",
            verdict_word(a.verdict),
            tool_cli::sanitize(&a.from),
            a.to,
            tool_cli::sanitize(&why)
        ));
        for note in &a.notes {
            out.push_str(&format!("      note: {}\n", tool_cli::sanitize(note)));
        }
    }
    out
}

/// A Cyclonus-style table: sources down, destinations across, `.` allowed, `X` denied.
pub fn render_matrix(m: &Matrix) -> String {
    let corner = "from \\ to";
    let first = m
        .sources
        .iter()
        .map(|s| s.chars().count())
        .chain([corner.len()])
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = m
        .destinations
        .iter()
        .map(|d| d.chars().count().max(1))
        .collect();
    let rule = {
        let mut line = format!("+{}+", "-".repeat(first + 2));
        for w in &widths {
            line.push_str(&format!("{}+", "-".repeat(w + 2)));
        }
        line.push('\n');
        line
    };
    let mut out = rule.clone();
    out.push_str(&format!("| {corner:<first$} |"));
    for (d, w) in m.destinations.iter().zip(&widths) {
        out.push_str(&format!(" {d:<w$} |"));
    }
    out.push('\n');
    out.push_str(&rule);
    for (source, row) in m.sources.iter().zip(&m.rows) {
        out.push_str(&format!("| {:<first$} |", tool_cli::sanitize(source)));
        for (v, w) in row.iter().zip(&widths) {
            let cell = match v {
                Verdict::Allow => ".",
                Verdict::Deny => "X",
            };
            out.push_str(&format!(" {cell:<w$} |"));
        }
        out.push('\n');
    }
    out.push_str(&rule);
    out.push_str(". allowed, X denied\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_destinations_parse_and_print_back() {
        let s: Source = "stellaops/tier=db,app=scanner".parse().unwrap();
        assert_eq!(s.namespace, "stellaops");
        assert_eq!(s.to_string(), "stellaops/app=scanner,tier=db");
        assert_eq!("ns".parse::<Source>().unwrap().to_string(), "ns");
        assert!("/app=x".parse::<Source>().is_err());
        assert!("ns/app".parse::<Source>().is_err());

        let d: Destination = "10.20.0.5:9000/tcp".parse().unwrap();
        assert_eq!(d.to_string(), "10.20.0.5:9000/TCP");
        let d: Destination = "[fd00:20::1]:4317/UDP".parse().unwrap();
        assert_eq!(d.to_string(), "[fd00:20::1]:4317/UDP");
        assert_eq!(
            "10.0.0.1:53".parse::<Destination>().unwrap().0.protocol,
            Protocol::Tcp
        );
        for bad in [
            "10.0.0.1",
            "fd00::1:443/TCP",
            "10.0.0.1:0/TCP",
            "10.0.0.1:80/ICMP",
            "x:80",
        ] {
            assert!(bad.parse::<Destination>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_matrix_is_a_cyclonus_table() {
        let m = Matrix {
            sources: vec!["a/app=x".into()],
            destinations: vec!["10.0.0.1:80/TCP".into(), "[::1]:1/UDP".into()],
            rows: vec![vec![Verdict::Allow, Verdict::Deny]],
        };
        assert_eq!(
            render_matrix(&m),
            "+-----------+-----------------+-------------+\n\
             | from \\ to | 10.0.0.1:80/TCP | [::1]:1/UDP |\n\
             +-----------+-----------------+-------------+\n\
             | a/app=x   | .               | X           |\n\
             +-----------+-----------------+-------------+\n\
             . allowed, X denied\n"
        );
    }
}
