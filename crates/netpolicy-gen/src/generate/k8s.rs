//! Target `k8s`: Kubernetes `NetworkPolicy` objects, one file per namespace.
//!
//! Per namespace: a default deny (`podSelector: {}`, both policy types, no rules), DNS (the
//! cluster DNS pods by namespace AND pod selector in one peer, NodeLocal DNS and resolvers by
//! `ipBlock`, UDP+TCP 53), same-namespace traffic, and one policy per allow-list entry. No
//! rule is ever an empty object: `egress: [{}]` would allow everything.

use super::{header, managed_labels, yaml_documents, GeneratedFile};
use crate::error::NetpolicyError;
use crate::spec::{
    AllowEntry, IpNet, PortRange, Protocol, Spec, CLUSTER_DNS_LABEL_KEY, CLUSTER_DNS_LABEL_VALUE,
    CLUSTER_DNS_NAMESPACE, DNS_PORT,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// Label every namespace carries with its own name (Kubernetes ≥ 1.21).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Names of the generated policies.
pub const DEFAULT_DENY: &str = "sealed-default-deny";
/// The DNS policy's name.
pub const ALLOW_DNS: &str = "sealed-allow-dns";
/// The same-namespace policy's name.
pub const ALLOW_SAME_NAMESPACE: &str = "sealed-allow-same-namespace";
/// Prefix of the per-entry policies' names (`sealed-allow-<entry name>`).
pub const ALLOW_PREFIX: &str = "sealed-allow-";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkPolicy {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: NetworkPolicySpec,
}

#[derive(Debug, Serialize)]
pub(crate) struct Metadata {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkPolicySpec {
    pod_selector: LabelSelector,
    policy_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ingress: Vec<IngressRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    egress: Vec<EgressRule>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    match_labels: BTreeMap<String, String>,
}

impl LabelSelector {
    fn one(key: &str, value: &str) -> Self {
        LabelSelector {
            match_labels: BTreeMap::from([(key.to_string(), value.to_string())]),
        }
    }
}

#[derive(Debug, Serialize)]
struct IngressRule {
    from: Vec<Peer>,
}

/// An egress rule; `to` is never empty (see [`EgressRule::new`]).
#[derive(Debug, Serialize)]
struct EgressRule {
    to: Vec<Peer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<NetworkPolicyPort>,
}

impl EgressRule {
    /// An empty `to` would make the rule match every destination: refuse to build one.
    fn new(to: Vec<Peer>, ports: Vec<NetworkPolicyPort>) -> Result<Self, NetpolicyError> {
        if to.is_empty() {
            return Err(NetpolicyError::Internal(
                "an egress rule without peers would allow every destination".to_string(),
            ));
        }
        Ok(EgressRule { to, ports })
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Peer {
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip_block: Option<IpBlock>,
}

impl Peer {
    fn ip_block(cidr: IpNet, except: &[IpNet]) -> Self {
        Peer {
            ip_block: Some(IpBlock {
                cidr: cidr.to_string(),
                except: except.iter().map(ToString::to_string).collect(),
            }),
            ..Peer::default()
        }
    }
}

#[derive(Debug, Serialize)]
struct IpBlock {
    cidr: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    except: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkPolicyPort {
    protocol: &'static str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_port: Option<u16>,
}

impl NetworkPolicyPort {
    fn from_range(p: &PortRange) -> Self {
        NetworkPolicyPort {
            protocol: p.protocol.as_upper(),
            port: p.port,
            end_port: (!p.is_single()).then_some(p.last()),
        }
    }

    fn dns() -> Vec<Self> {
        [Protocol::Udp, Protocol::Tcp]
            .into_iter()
            .map(|protocol| NetworkPolicyPort {
                protocol: protocol.as_upper(),
                port: DNS_PORT,
                end_port: None,
            })
            .collect()
    }
}

/// The files for target `k8s`: `k8s/<namespace>.yaml` for every namespace.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, NetpolicyError> {
    let allow = spec.egress_allow();
    let mut files = Vec::new();
    for ns in spec.sorted_namespaces() {
        let docs = namespace_policies(spec, &ns, &allow)?;
        let text = yaml_documents(
            header(
                "#",
                spec,
                &format!("Sealed-mode NetworkPolicies for namespace `{ns}`: default deny, DNS, same namespace, allow-list."),
            ),
            &docs,
        )?;
        files.push(GeneratedFile::text(format!("k8s/{ns}.yaml"), text));
    }
    Ok(files)
}

fn namespace_policies(
    spec: &Spec,
    ns: &str,
    allow: &[AllowEntry],
) -> Result<Vec<NetworkPolicy>, NetpolicyError> {
    let policy = |name: String, spec: NetworkPolicySpec| NetworkPolicy {
        api_version: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: Metadata {
            name,
            namespace: Some(ns.to_string()),
            labels: managed_labels(),
        },
        spec,
    };
    let mut docs = vec![policy(
        DEFAULT_DENY.to_string(),
        NetworkPolicySpec {
            pod_selector: LabelSelector::default(),
            policy_types: vec!["Ingress", "Egress"],
            ingress: Vec::new(),
            egress: Vec::new(),
        },
    )];

    let dns_peers = dns_peers(spec);
    if !dns_peers.is_empty() {
        docs.push(policy(
            ALLOW_DNS.to_string(),
            NetworkPolicySpec {
                pod_selector: LabelSelector::default(),
                policy_types: vec!["Egress"],
                ingress: Vec::new(),
                egress: vec![EgressRule::new(dns_peers, NetworkPolicyPort::dns())?],
            },
        ));
    }

    let same_namespace = || Peer {
        pod_selector: Some(LabelSelector::default()),
        ..Peer::default()
    };
    docs.push(policy(
        ALLOW_SAME_NAMESPACE.to_string(),
        NetworkPolicySpec {
            pod_selector: LabelSelector::default(),
            policy_types: vec!["Ingress", "Egress"],
            ingress: vec![IngressRule {
                from: vec![same_namespace()],
            }],
            egress: vec![EgressRule::new(vec![same_namespace()], Vec::new())?],
        },
    ));

    for entry in allow {
        docs.push(policy(
            format!("{ALLOW_PREFIX}{}", entry.name),
            NetworkPolicySpec {
                pod_selector: LabelSelector::default(),
                policy_types: vec!["Egress"],
                ingress: Vec::new(),
                egress: vec![EgressRule::new(
                    vec![Peer::ip_block(entry.cidr, &entry.except)],
                    entry
                        .ports
                        .iter()
                        .map(NetworkPolicyPort::from_range)
                        .collect(),
                )?],
            },
        ));
    }
    Ok(docs)
}

/// The DNS peers: cluster DNS pods (namespace AND pod selector in ONE peer: two peers would
/// allow every pod in kube-system, or every pod labelled kube-dns anywhere), then NodeLocal
/// DNS and the resolvers by address.
fn dns_peers(spec: &Spec) -> Vec<Peer> {
    let mut peers = Vec::new();
    if spec.dns.cluster_dns {
        peers.push(Peer {
            namespace_selector: Some(LabelSelector::one(
                NAMESPACE_NAME_LABEL,
                CLUSTER_DNS_NAMESPACE,
            )),
            pod_selector: Some(LabelSelector::one(
                CLUSTER_DNS_LABEL_KEY,
                CLUSTER_DNS_LABEL_VALUE,
            )),
            ip_block: None,
        });
    }
    for ip in dns_addresses(spec) {
        peers.push(Peer::ip_block(IpNet::from(ip), &[]));
    }
    peers
}

/// NodeLocal DNS first, then the resolvers in address order, without repeats.
pub(crate) fn dns_addresses(spec: &Spec) -> Vec<std::net::IpAddr> {
    let mut out: Vec<std::net::IpAddr> = spec.dns.node_local.into_iter().collect();
    for ip in spec.sorted_resolvers() {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    out
}
