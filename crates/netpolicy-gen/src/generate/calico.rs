//! Target `calico`: a `GlobalNetworkPolicy` that puts every pod outside the system namespaces
//! into default deny (ingress and egress) with DNS allowed.
//!
//! Its `order` (2000) is after the order Calico gives Kubernetes NetworkPolicies (1000), so
//! the `k8s` target's allows are evaluated first; what none of them allowed reaches this
//! policy, which allows DNS and nothing else, and the tier's end denies the rest. It also
//! covers namespaces the spec does not name, including ones created later.

use super::k8s::{dns_addresses, Metadata};
use super::{header, managed_labels, yaml_documents, GeneratedFile};
use crate::error::NetpolicyError;
use crate::spec::{
    IpNet, Protocol, Spec, CLUSTER_DNS_LABEL_KEY, CLUSTER_DNS_LABEL_VALUE, CLUSTER_DNS_NAMESPACE,
    DNS_PORT, SYSTEM_NAMESPACES,
};
use serde::Serialize;

/// The policy's name.
pub const POLICY_NAME: &str = "sealed-default-deny";
/// After Kubernetes NetworkPolicies (order 1000 in Calico).
pub const ORDER: u32 = 2000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GlobalNetworkPolicy {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: GlobalNetworkPolicySpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GlobalNetworkPolicySpec {
    order: u32,
    namespace_selector: String,
    types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    egress: Vec<CalicoRule>,
}

#[derive(Debug, Serialize)]
struct CalicoRule {
    action: &'static str,
    protocol: &'static str,
    destination: Destination,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Destination {
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace_selector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nets: Vec<String>,
    ports: Vec<u16>,
}

/// The files for target `calico`: `calico/global-default-deny.yaml`.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, NetpolicyError> {
    let quoted: Vec<String> = SYSTEM_NAMESPACES
        .iter()
        .map(|ns| format!("'{ns}'"))
        .collect();
    let mut egress = Vec::new();
    let nets: Vec<String> = dns_addresses(spec)
        .into_iter()
        .map(|ip| IpNet::from(ip).to_string())
        .collect();
    for protocol in [Protocol::Udp, Protocol::Tcp] {
        if spec.dns.cluster_dns {
            egress.push(CalicoRule {
                action: "Allow",
                protocol: protocol.as_upper(),
                destination: Destination {
                    namespace_selector: Some(format!(
                        "projectcalico.org/name == '{CLUSTER_DNS_NAMESPACE}'"
                    )),
                    selector: Some(format!(
                        "{CLUSTER_DNS_LABEL_KEY} == '{CLUSTER_DNS_LABEL_VALUE}'"
                    )),
                    nets: Vec::new(),
                    ports: vec![DNS_PORT],
                },
            });
        }
        if !nets.is_empty() {
            egress.push(CalicoRule {
                action: "Allow",
                protocol: protocol.as_upper(),
                destination: Destination {
                    namespace_selector: None,
                    selector: None,
                    nets: nets.clone(),
                    ports: vec![DNS_PORT],
                },
            });
        }
    }
    let policy = GlobalNetworkPolicy {
        api_version: "projectcalico.org/v3",
        kind: "GlobalNetworkPolicy",
        metadata: Metadata {
            name: POLICY_NAME.to_string(),
            namespace: None,
            labels: managed_labels(),
        },
        spec: GlobalNetworkPolicySpec {
            order: ORDER,
            namespace_selector: format!("projectcalico.org/name not in {{{}}}", quoted.join(", ")),
            types: vec!["Ingress", "Egress"],
            egress,
        },
    };
    let text = yaml_documents(
        header(
            "#",
            spec,
            "Sealed-mode Calico GlobalNetworkPolicy: default deny outside the system namespaces, DNS allowed.\n# Apply with the k8s target's NetworkPolicies (order 1000), which this one (order 2000) backs up.",
        ),
        &[policy],
    )?;
    Ok(vec![GeneratedFile::text(
        "calico/global-default-deny.yaml",
        text,
    )])
}
