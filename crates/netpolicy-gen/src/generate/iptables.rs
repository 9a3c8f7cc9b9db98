//! Target `iptables`: `iptables-restore` and `ip6tables-restore` files for Docker's
//! `DOCKER-USER` chain with the nftables target's meaning, an apply script that keeps exactly
//! one jump at the top of `DOCKER-USER`, a systemd unit that re-applies after boot, Docker
//! restarts and firewalld reloads, and the compose override that pins the bridge names.
//!
//! The rules live in own chains (`SEALED-EGRESS`, `SEALED-FROM-COMPOSE`) that the restore
//! files flush and refill, so applying twice leaves one copy. They only ever `RETURN` or
//! `DROP`: an `ACCEPT` in `DOCKER-USER` would skip Docker's own isolation rules.

use super::host::{host_allows, HostAllow};
use super::{compose_override, header, GeneratedFile, INSTALL_DIR};
use crate::error::NetpolicyError;
use crate::spec::Spec;
use std::fmt::Write as _;

/// The chain `DOCKER-USER` jumps to.
pub const CHAIN: &str = "SEALED-EGRESS";
/// The chain holding the filter for packets from the compose bridges.
pub const FILTER_CHAIN: &str = "SEALED-FROM-COMPOSE";
/// IPv4 rules under `--out`.
pub const V4_PATH: &str = "iptables/sealed-egress.v4.rules";
/// IPv6 rules under `--out`.
pub const V6_PATH: &str = "iptables/sealed-egress.v6.rules";
/// The apply script under `--out`.
pub const APPLY_PATH: &str = "iptables/apply.sh";
/// The systemd unit under `--out`.
pub const UNIT_PATH: &str = "iptables/sealed-egress-iptables.service";

/// The files for target `iptables`.
pub fn generate(spec: &Spec) -> Result<Vec<GeneratedFile>, NetpolicyError> {
    Ok(vec![
        GeneratedFile::script(APPLY_PATH, apply_script(spec)),
        GeneratedFile::text(UNIT_PATH, unit(spec)),
        GeneratedFile::text(V4_PATH, rules(spec, false)),
        GeneratedFile::text(V6_PATH, rules(spec, true)),
        compose_override(spec)?,
    ])
}

fn rules(spec: &Spec, ipv6: bool) -> String {
    let (family, tool) = if ipv6 {
        ("IPv6", "ip6tables-restore")
    } else {
        ("IPv4", "iptables-restore")
    };
    let mut out = header(
        "#",
        spec,
        &format!("Sealed egress for the compose bridges ({family}, {tool} --noflush)."),
    );
    let _ = write!(
        out,
        "# Apply with apply.sh, which also keeps one `-j {CHAIN}` at the top of DOCKER-USER.\n\
         # Drops: {} -L {FILTER_CHAIN} -v -x -n\n\
         *filter\n\
         :{CHAIN} - [0:0]\n\
         :{FILTER_CHAIN} - [0:0]\n\
         -F {CHAIN}\n\
         -F {FILTER_CHAIN}\n",
        if ipv6 { "ip6tables" } else { "iptables" }
    );
    let networks = spec.sorted_networks();
    for n in &networks {
        let _ = writeln!(out, "-A {CHAIN} -i {} -j {FILTER_CHAIN}", n.bridge);
    }
    let _ = writeln!(
        out,
        "-A {FILTER_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
    );
    for n in &networks {
        let _ = writeln!(
            out,
            "-A {FILTER_CHAIN} -i {b} -o {b} -m comment --comment \"intra-bridge {name}\" -j RETURN",
            b = n.bridge,
            name = n.name
        );
    }
    for rule in host_allows(spec).iter().filter(|r| r.is_ipv6() == ipv6) {
        for line in allow_lines(rule) {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = write!(
        out,
        "-A {FILTER_CHAIN} -m comment --comment \"sealed: everything else\" -j DROP\nCOMMIT\n"
    );
    out
}

fn allow_lines(rule: &HostAllow) -> Vec<String> {
    let port = match rule.port {
        None => String::new(),
        Some(p) => {
            let proto = p.protocol.as_lower();
            let ports = if p.is_single() {
                p.port.to_string()
            } else {
                format!("{}:{}", p.port, p.last())
            };
            format!(" -p {proto} -m {proto} --dport {ports}")
        }
    };
    rule.nets
        .iter()
        .map(|net| {
            format!(
                "-A {FILTER_CHAIN} -d {net}{port} -m comment --comment \"{}\" -j RETURN",
                rule.comment
            )
        })
        .collect()
}

fn apply_script(spec: &Spec) -> String {
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&header(
        "#",
        spec,
        "Applies the sealed-egress rules to DOCKER-USER (IPv4 and IPv6). Safe to run again: the\n# restore files flush and refill their own chains, DOCKER-USER keeps exactly one jump to them,\n# first, and FORWARD keeps its jump to DOCKER-USER first.",
    ));
    let _ = write!(
        out,
        r#"set -eu

dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)

# Keeps exactly one `-j TARGET` in CHAIN, as its first rule: inserts it unless it is rule 1
# already, then deletes every other copy from the bottom up (rule numbers shift as rules go).
first_jump() {{
    tool=$1
    chain=$2
    target=$3
    if [ "$("$tool" -w -S "$chain" | sed -n 2p)" != "-A $chain -j $target" ]; then
        "$tool" -w -I "$chain" 1 -j "$target"
    fi
    "$tool" -w -S "$chain" |
        awk -v rule="-A $chain -j $target" 'NR > 2 && $0 == rule {{ print NR - 1 }}' |
        sort -rn |
        while read -r n; do
            "$tool" -w -D "$chain" "$n"
        done
}}

apply() {{
    tool=$1
    rules=$2
    # Docker creates DOCKER-USER when it starts; before that (at boot) create it ourselves.
    "$tool" -w -n -L DOCKER-USER >/dev/null 2>&1 || "$tool" -w -N DOCKER-USER
    "$tool-restore" -w --noflush <"$rules"
    first_jump "$tool" DOCKER-USER {CHAIN}
    # DOCKER-USER only runs if FORWARD jumps to it before anything accepts the packet: keep
    # that jump first too, as Docker itself does when it starts.
    first_jump "$tool" FORWARD DOCKER-USER
}}

apply iptables "$dir/sealed-egress.v4.rules"
apply ip6tables "$dir/sealed-egress.v6.rules"
"#
    );
    out
}

fn unit(spec: &Spec) -> String {
    let mut out = header(
        "#",
        spec,
        "systemd unit: applies the sealed-egress DOCKER-USER rules at boot before Docker, again\n# whenever Docker or firewalld restarts, and on firewalld reload (which drops them).",
    );
    let _ = write!(
        out,
        "# Install: copy iptables/ to {INSTALL_DIR}/iptables/ and this file to /etc/systemd/system/,\n\
         # then: systemctl daemon-reload && systemctl enable --now sealed-egress-iptables.service\n\
         \n\
         [Unit]\n\
         Description=Sealed-mode egress rules in DOCKER-USER (iptables, netpolicy-gen)\n\
         Documentation=man:iptables-restore(8)\n\
         DefaultDependencies=no\n\
         Wants=network-pre.target\n\
         After=local-fs.target firewalld.service\n\
         Before=network-pre.target docker.service shutdown.target\n\
         Conflicts=shutdown.target\n\
         PartOf=docker.service firewalld.service\n\
         ReloadPropagatedFrom=firewalld.service\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/bin/sh {INSTALL_DIR}/{APPLY_PATH}\n\
         ExecReload=/bin/sh {INSTALL_DIR}/{APPLY_PATH}\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target docker.service\n"
    );
    out
}
