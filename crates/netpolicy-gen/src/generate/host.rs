//! The compose-host allow-list shared by the nftables and iptables targets: which
//! destinations a packet from a compose bridge may reach, one rule per port item.
//!
//! Neither ruleset has `except`, so each entry's networks are its `cidr` minus its `except`s
//! ([`AllowEntry::allowed_nets`]): disjoint prefixes, which nftables also needs in a set.

use crate::spec::{AllowEntry, IpNet, PortRange, Protocol, Spec, DNS_PORT};

/// One accept rule of the host rulesets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAllow {
    /// Disjoint destination prefixes, one address family, sorted.
    pub nets: Vec<IpNet>,
    /// `None`: every port and protocol.
    pub port: Option<PortRange>,
    /// What the rule is for (`dns resolver`, `allow <name>`).
    pub comment: String,
}

impl HostAllow {
    /// True for IPv6 rules.
    pub fn is_ipv6(&self) -> bool {
        matches!(self.nets.first(), Some(IpNet::V6(_)))
    }
}

/// The rules in order: DNS resolvers (UDP then TCP 53), then the allow-list by entry name.
pub fn host_allows(spec: &Spec) -> Vec<HostAllow> {
    let mut rules = Vec::new();
    for ip in spec.sorted_resolvers() {
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            rules.push(HostAllow {
                nets: vec![IpNet::from(ip)],
                port: Some(PortRange {
                    port: DNS_PORT,
                    end_port: None,
                    protocol,
                }),
                comment: "dns resolver".to_string(),
            });
        }
    }
    for entry in spec.egress_allow() {
        rules.extend(entry_rules(&entry));
    }
    rules
}

fn entry_rules(entry: &AllowEntry) -> Vec<HostAllow> {
    let nets = entry.allowed_nets();
    if nets.is_empty() {
        return Vec::new();
    }
    let comment = format!("allow {}", entry.name);
    if entry.ports.is_empty() {
        return vec![HostAllow {
            nets,
            port: None,
            comment,
        }];
    }
    entry
        .ports
        .iter()
        .map(|p| HostAllow {
            nets: nets.clone(),
            port: Some(*p),
            comment: comment.clone(),
        })
        .collect()
}
