//! Target `cilium`: a `CiliumClusterwideNetworkPolicy` that puts every pod outside the system
//! namespaces into egress default deny with DNS allowed, and per namespace a
//! `CiliumNetworkPolicy` with the same-namespace, DNS and allow-list (`toCIDRSet`) rules.
//!
//! `enableDefaultDeny` is always explicit, and no rule or section is made only of empty lists
//! (Cilium treats such a section as inert and rejects it from 1.17).

use super::k8s::{dns_addresses, Metadata};
use super::{header, managed_labels, yaml_documents, GeneratedFile};
use crate::error::NetpolicyError;
use crate::spec::{
    AllowEntry, IpNet, PortRange, Protocol, Spec, CLUSTER_DNS_LABEL_KEY, CLUSTER_DNS_LABEL_VALUE,
    CLUSTER_DNS_NAMESPACE, DNS_PORT, SYSTEM_NAMESPACES,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Cilium's label for a pod's namespace.
pub const NAMESPACE_LABEL: &str = "k8s:io.kubernetes.pod.namespace";
/// Name of the clusterwide policy and of the per-namespace policies.
pub const POLICY_NAME: &str = "sealed-egress";
/// The clusterwide default-deny policy's name.
pub const CLUSTERWIDE_NAME: &str = "sealed-default-deny";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CiliumPolicy {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Rule,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    description: String,
    endpoint_selector: Selector,
    enable_default_deny: DefaultDeny,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ingress: Vec<IngressRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    egress: Vec<EgressRule>,
}

#[derive(Debug, Serialize)]
struct DefaultDeny {
    egress: bool,
    ingress: bool,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    match_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    match_expressions: Vec<Expression>,
}

#[derive(Debug, Serialize)]
struct Expression {
    key: &'static str,
    operator: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IngressRule {
    from_endpoints: Vec<Selector>,
}

/// An egress rule; exactly one peer kind is set and it is never an empty list.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct EgressRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    to_endpoints: Vec<Selector>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    to_entities: Vec<&'static str>,
    #[serde(rename = "toCIDRSet", skip_serializing_if = "Vec::is_empty")]
    to_cidr_set: Vec<CidrRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    to_ports: Vec<PortRule>,
}

#[derive(Debug, Serialize)]
struct CidrRule {
    cidr: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    except: Vec<String>,
}

#[derive(Debug, Serialize)]
struct PortRule {
    ports: Vec<PortProtocol>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PortProtocol {
    /// Cilium takes the port as a string.
    port: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_port: Option<u16>,
    protocol: &'static str,
}

impl PortProtocol {
    fn from_range(p: &PortRange) -> Self {
        PortProtocol {
            port: p.port.to_string(),
            end_port: (!p.is_single()).then_some(p.last()),
            protocol: p.protocol.as_upper(),
        }
    }
}

fn dns_ports() -> Vec<PortRule> {
    vec![PortRule {
        ports: [Protocol::Udp, Protocol::Tcp]
            .into_iter()
            .map(|protocol| PortProtocol {
                port: DNS_PORT.to_string(),
                end_port: None,
                protocol: protocol.as_upper(),
            })
            .collect(),
    }]
}

/// The files for target `cilium`: `cilium/clusterwide-default-deny.yaml` and
/// `cilium/<namespace>.yaml`.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, NetpolicyError> {
    let mut files = Vec::new();
    let clusterwide = CiliumPolicy {
        api_version: "cilium.io/v2",
        kind: "CiliumClusterwideNetworkPolicy",
        metadata: Metadata {
            name: CLUSTERWIDE_NAME.to_string(),
            namespace: None,
            labels: managed_labels(),
        },
        spec: Rule {
            description: "Sealed mode: egress default deny for every pod outside the system namespaces; DNS allowed".to_string(),
            endpoint_selector: Selector {
                match_labels: BTreeMap::new(),
                // `Exists` keeps the host and other non-pod endpoints out; `NotIn` alone
                // would match them (they have no namespace label).
                match_expressions: vec![
                    Expression {
                        key: NAMESPACE_LABEL,
                        operator: "Exists",
                        values: Vec::new(),
                    },
                    Expression {
                        key: NAMESPACE_LABEL,
                        operator: "NotIn",
                        values: SYSTEM_NAMESPACES.to_vec(),
                    },
                ],
            },
            enable_default_deny: DefaultDeny {
                egress: true,
                ingress: false,
            },
            ingress: Vec::new(),
            egress: dns_rules(spec),
        },
    };
    check(&clusterwide)?;
    files.push(GeneratedFile::text(
        "cilium/clusterwide-default-deny.yaml",
        yaml_documents(
            header("#", spec, "Sealed-mode CiliumClusterwideNetworkPolicy: egress default deny outside the system namespaces, DNS allowed."),
            &[clusterwide],
        )?,
    ));

    let allow = spec.egress_allow();
    for ns in spec.sorted_namespaces() {
        let policy = namespace_policy(spec, &ns, &allow);
        check(&policy)?;
        files.push(GeneratedFile::text(
            format!("cilium/{ns}.yaml"),
            yaml_documents(
                header(
                    "#",
                    spec,
                    &format!("Sealed-mode CiliumNetworkPolicy for namespace `{ns}`: default deny, same namespace, DNS, allow-list."),
                ),
                &[policy],
            )?,
        ));
    }
    Ok(files)
}

fn namespace_policy(spec: &Spec, ns: &str, allow: &[AllowEntry]) -> CiliumPolicy {
    let same_namespace = || vec![Selector::default()];
    let mut egress = vec![EgressRule {
        to_endpoints: same_namespace(),
        ..EgressRule::default()
    }];
    egress.extend(dns_rules(spec));
    for entry in allow {
        egress.push(EgressRule {
            to_cidr_set: vec![CidrRule {
                cidr: entry.cidr.to_string(),
                except: entry.except.iter().map(ToString::to_string).collect(),
            }],
            to_ports: if entry.ports.is_empty() {
                Vec::new()
            } else {
                vec![PortRule {
                    ports: entry.ports.iter().map(PortProtocol::from_range).collect(),
                }]
            },
            ..EgressRule::default()
        });
    }
    CiliumPolicy {
        api_version: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: Metadata {
            name: POLICY_NAME.to_string(),
            namespace: Some(ns.to_string()),
            labels: managed_labels(),
        },
        spec: Rule {
            description: format!(
                "Sealed mode for namespace {ns}: default deny; same namespace, DNS and the allow-list ({}) only",
                if allow.is_empty() {
                    "empty".to_string()
                } else {
                    allow.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
                }
            ),
            endpoint_selector: Selector::default(),
            enable_default_deny: DefaultDeny {
                egress: true,
                ingress: true,
            },
            ingress: vec![IngressRule {
                from_endpoints: same_namespace(),
            }],
            egress,
        },
    }
}

/// DNS: the cluster DNS pods; NodeLocal DNS, which listens on the host network, so Cilium sees
/// it as the `host` entity rather than a CIDR; and the resolvers by address.
fn dns_rules(spec: &Spec) -> Vec<EgressRule> {
    let mut rules = Vec::new();
    if spec.dns.cluster_dns {
        rules.push(EgressRule {
            to_endpoints: vec![Selector {
                match_labels: BTreeMap::from([
                    (
                        NAMESPACE_LABEL.to_string(),
                        CLUSTER_DNS_NAMESPACE.to_string(),
                    ),
                    (
                        format!("k8s:{CLUSTER_DNS_LABEL_KEY}"),
                        CLUSTER_DNS_LABEL_VALUE.to_string(),
                    ),
                ]),
                match_expressions: Vec::new(),
            }],
            to_ports: dns_ports(),
            ..EgressRule::default()
        });
    }
    if spec.dns.node_local.is_some() {
        rules.push(EgressRule {
            to_entities: vec!["host"],
            to_ports: dns_ports(),
            ..EgressRule::default()
        });
    }
    let addresses = dns_addresses(spec);
    if !addresses.is_empty() {
        rules.push(EgressRule {
            to_cidr_set: addresses
                .into_iter()
                .map(|ip| CidrRule {
                    cidr: IpNet::from(ip).to_string(),
                    except: Vec::new(),
                })
                .collect(),
            to_ports: dns_ports(),
            ..EgressRule::default()
        });
    }
    rules
}

/// Refuses a rule whose peers are all empty: it would be inert (or rejected) in Cilium.
fn check(policy: &CiliumPolicy) -> Result<(), NetpolicyError> {
    for rule in &policy.spec.egress {
        if rule.to_endpoints.is_empty()
            && rule.to_entities.is_empty()
            && rule.to_cidr_set.is_empty()
        {
            return Err(NetpolicyError::Internal(format!(
                "Cilium policy `{}` has an egress rule without peers",
                policy.metadata.name
            )));
        }
        if rule.to_ports.iter().any(|p| p.ports.is_empty()) {
            return Err(NetpolicyError::Internal(format!(
                "Cilium policy `{}` has an empty port list",
                policy.metadata.name
            )));
        }
    }
    Ok(())
}
