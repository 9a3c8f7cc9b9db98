//! Target `nftables`: an `inet` table whose forward chain runs before Docker's (priority
//! `filter - 1`) and filters what leaves the compose bridges, IPv4 and IPv6 alike; a systemd
//! unit that loads it at boot; and the compose override that pins the bridge names.
//!
//! An `accept` in one base chain does not stop the packet from meeting the others (Docker's
//! among them), while a `drop` is final: so this table only ever drops, and cannot open what
//! Docker's own rules close. Loading the file replaces the table in one transaction.

use super::host::{host_allows, HostAllow};
use super::{compose_override, header, GeneratedFile, INSTALL_DIR};
use crate::error::NetpolicyError;
use crate::spec::Spec;
use std::fmt::Write as _;

/// The table's name (family `inet`).
pub const TABLE: &str = "sealed_egress";
/// The named counters of dropped packets, per family.
pub const COUNTER_V4: &str = "dropped_ipv4";
/// The IPv6 drop counter.
pub const COUNTER_V6: &str = "dropped_ipv6";
/// The ruleset's path under `--out`.
pub const RULESET_PATH: &str = "nftables/sealed-egress.nft";
/// The systemd unit's path under `--out`.
pub const UNIT_PATH: &str = "nftables/sealed-egress-nftables.service";

/// The files for target `nftables`.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, NetpolicyError> {
    Ok(vec![
        GeneratedFile::text(RULESET_PATH, ruleset(spec)),
        GeneratedFile::text(UNIT_PATH, unit(spec)),
        compose_override(spec)?,
    ])
}

fn ruleset(spec: &Spec) -> String {
    let networks = spec.sorted_networks();
    let mut out = String::from("#!/usr/sbin/nft -f\n");
    out.push_str(&header(
        "#",
        spec,
        "Sealed egress for the compose bridges (nftables, IPv4 and IPv6).",
    ));
    let _ = write!(
        out,
        "# Load: nft -f sealed-egress.nft (replaces table inet {TABLE} in one transaction; safe to repeat).\n\
         # Drops: nft list counter inet {TABLE} {COUNTER_V4}; nft list counter inet {TABLE} {COUNTER_V6}\n\
         \n\
         table inet {TABLE}\n\
         delete table inet {TABLE}\n\
         \n\
         table inet {TABLE} {{\n\
         \tcounter {COUNTER_V4} {{\n\t}}\n\
         \tcounter {COUNTER_V6} {{\n\t}}\n\
         \n\
         \tchain forward {{\n\
         \t\t# Before Docker's and iptables-nft's filter chains (priority filter = 0).\n\
         \t\ttype filter hook forward priority filter - 1; policy accept;\n"
    );
    let bridges: Vec<String> = networks
        .iter()
        .map(|n| format!("\"{}\"", n.bridge))
        .collect();
    let _ = writeln!(
        out,
        "\t\tiifname {{ {} }} jump from_compose\n\t}}\n",
        bridges.join(", ")
    );
    out.push_str("\tchain from_compose {\n\t\tct state established,related accept\n");
    for n in &networks {
        let _ = writeln!(
            out,
            "\t\tiifname \"{b}\" oifname \"{b}\" accept comment \"intra-bridge {name}\"",
            b = n.bridge,
            name = n.name
        );
    }
    for rule in host_allows(spec) {
        let _ = writeln!(out, "\t\t{}", allow_rule(&rule));
    }
    let _ = write!(
        out,
        "\t\tmeta nfproto ipv4 counter name \"{COUNTER_V4}\" drop comment \"sealed: everything else\"\n\
         \t\tmeta nfproto ipv6 counter name \"{COUNTER_V6}\" drop comment \"sealed: everything else\"\n\
         \t}}\n}}\n"
    );
    out
}

fn allow_rule(rule: &HostAllow) -> String {
    let family = if rule.is_ipv6() { "ip6" } else { "ip" };
    let nets: Vec<String> = rule.nets.iter().map(ToString::to_string).collect();
    let daddr = if nets.len() == 1 {
        nets.join("")
    } else {
        format!("{{ {} }}", nets.join(", "))
    };
    let port = match rule.port {
        None => String::new(),
        Some(p) if p.is_single() => format!(" {} dport {}", p.protocol.as_lower(), p.port),
        Some(p) => format!(" {} dport {}-{}", p.protocol.as_lower(), p.port, p.last()),
    };
    format!(
        "{family} daddr {daddr}{port} accept comment \"{}\"",
        rule.comment
    )
}

fn unit(spec: &Spec) -> String {
    let mut out = header(
        "#",
        spec,
        "systemd unit: loads the sealed-egress nftables table at boot, before Docker, and again\n# whenever nftables.service (which may `flush ruleset`) restarts.",
    );
    let _ = write!(
        out,
        "# Install: copy nftables/ to {INSTALL_DIR}/nftables/ and this file to /etc/systemd/system/,\n\
         # then: systemctl daemon-reload && systemctl enable --now sealed-egress-nftables.service\n\
         \n\
         [Unit]\n\
         Description=Sealed-mode egress filter for compose bridges (nftables, netpolicy-gen)\n\
         Documentation=man:nft(8)\n\
         DefaultDependencies=no\n\
         Wants=network-pre.target\n\
         After=local-fs.target nftables.service\n\
         Before=network-pre.target docker.service shutdown.target\n\
         Conflicts=shutdown.target\n\
         PartOf=nftables.service\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/usr/sbin/nft -f {INSTALL_DIR}/{RULESET_PATH}\n\
         ExecReload=/usr/sbin/nft -f {INSTALL_DIR}/{RULESET_PATH}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    );
    out
}
