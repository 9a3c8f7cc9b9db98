//! `netpolicy-gen verify-script`: emits the POSIX `sh` script that proves sealed mode on the
//! data path, from inside a container or pod (or, for the rules check, on the host).
//!
//! Order matters: the rules check, then a positive control (an allowed endpoint must answer,
//! so a probe that cannot connect at all is not mistaken for a block), then each allow-list
//! entry (must connect), the allowed addresses on a port that is not allowed, outside
//! addresses on IPv4 and IPv6 (must fail within the timeout), and outside names (must not
//! resolve). Probes are TCP connects — never ping, whose answer says nothing about TCP or UDP
//! egress; UDP has no handshake to observe, so UDP entries are listed as skipped.

use crate::error::NetpolicyError;
use crate::eval::Destination;
use crate::generate::{iptables, nftables};
use crate::spec::{AllowEntry, IpNet, Protocol, Spec};
use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

/// Outside destinations probed by default: public anycast resolvers and web front ends on
/// IPv4 and IPv6, which answer TCP from anywhere that has egress.
pub const DEFAULT_OUTSIDE: &[&str] = &[
    "1.1.1.1:443/TCP",
    "8.8.8.8:53/TCP",
    "9.9.9.9:443/TCP",
    "[2606:4700:4700::1111]:443/TCP",
    "[2001:4860:4860::8888]:53/TCP",
];

/// Names that must not resolve by default: any answer means DNS reaches the internet.
pub const DEFAULT_OUTSIDE_NAMES: &[&str] = &["example.com", "registry-1.docker.io"];

/// Exit code of the script when the positive control failed and nothing leaked.
pub const EXIT_INCONCLUSIVE: u8 = 3;

/// Options of `netpolicy-gen verify-script`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Print a POSIX sh script (on stdout) that proves sealed mode on the data \
path. Run it inside a container on a compose bridge or in a pod: it checks the egress rules are \
loaded where it can see them (--rules nft|iptables on the host), runs a positive control first \
(an allowed endpoint must answer, else the run is inconclusive), probes every allow-list entry \
(must connect), the allowed addresses on a port that is not allowed and outside addresses on \
IPv4 and IPv6 (must fail within the timeout), and checks that outside names do not resolve. \
Probes are TCP connects with nc -z (netcat-openbsd, busybox or ncat), else bash's /dev/tcp \
under timeout(1), else python3; never ping. The script prints one JSON line per check on stdout \
({check, dst, expected, note, observed, port, proto, verdict}) and TAP on stderr, and exits 0 \
sealed, 1 on a leak or a failed check, 2 on a usage error or no probe tool, 3 when the positive \
control failed and nothing leaked (inconclusive)."
)]
pub struct VerifyScriptArgs {
    /// The sealed-mode spec.
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// The positive control, IP:PORT (TCP); default: the first allow-list entry with one
    /// address and a TCP port.
    #[arg(long, value_name = "IP:PORT")]
    pub control: Option<Destination>,
    /// An outside destination that must not connect, IP:PORT (TCP; repeatable). Replaces the
    /// default set (1.1.1.1:443, 8.8.8.8:53, 9.9.9.9:443 and two IPv6 anycast addresses).
    #[arg(long, value_name = "IP:PORT")]
    pub outside: Vec<Destination>,
    /// A name that must not resolve (repeatable). Replaces the default set (example.com,
    /// registry-1.docker.io).
    #[arg(long, value_name = "NAME")]
    pub outside_name: Vec<String>,
    /// Seconds a probe may take before it counts as blocked (the script's default; it can be
    /// changed with --timeout when run).
    #[arg(long, value_name = "SECONDS", default_value_t = 3)]
    pub timeout: u32,
}

/// One probe of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `control`, `allow`, `port`, `outside`, `dns`.
    pub check: &'static str,
    /// An address, or a name for `dns`.
    pub dst: String,
    pub port: u16,
    pub protocol: Protocol,
    /// True when the probe must connect (or the name resolve).
    pub expect_open: bool,
    /// Why it is probed this way; for a skipped probe, why it is skipped.
    pub note: String,
    /// Skipped: listed but not probed (UDP, no port).
    pub skip: bool,
}

/// Runs `netpolicy-gen verify-script`.
pub fn run(
    args: &VerifyScriptArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    let spec = Spec::load(&args.spec)?;
    if args.timeout == 0 || args.timeout > 300 {
        return Err(NetpolicyError::Usage(format!(
            "--timeout {}: give 1-300 seconds",
            args.timeout
        )));
    }
    let outside = if args.outside.is_empty() {
        DEFAULT_OUTSIDE
            .iter()
            .map(|s| s.parse::<Destination>().map_err(NetpolicyError::Internal))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        args.outside.clone()
    };
    for d in outside.iter().chain(&args.control) {
        if d.0.protocol != Protocol::Tcp {
            return Err(NetpolicyError::Usage(format!(
                "`{d}`: only TCP can be probed (UDP has no handshake to observe)"
            )));
        }
    }
    let names: Vec<String> = if args.outside_name.is_empty() {
        DEFAULT_OUTSIDE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args.outside_name
            .iter()
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
            .collect()
    };
    for name in &names {
        if !is_host_name(name) {
            return Err(NetpolicyError::Usage(format!(
                "--outside-name `{name}`: not a host name"
            )));
        }
    }
    let probes = plan(&spec, args.control.as_ref(), &outside, &names);
    if !probes.iter().any(|p| p.check == "control") {
        let _ = writeln!(
            stderr,
            "{}: warning: no allow-list entry has one address and a TCP port: give --control \
             IP:PORT, or every run of the script is inconclusive (exit 3)",
            crate::TOOL
        );
    }
    let script = render(&spec, &probes, args.timeout);
    tool_cli::write_data(stdout, script.as_bytes());
    Ok(0)
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The address probed for an entry: the entry's own address for a single-address entry,
/// else the first host address it allows (`except`s removed).
fn probe_address(entry: &AllowEntry) -> Option<(IpAddr, bool)> {
    let single = matches!(entry.cidr, IpNet::V4(n) if n.prefix_len() == 32)
        || matches!(entry.cidr, IpNet::V6(n) if n.prefix_len() == 128);
    if single && entry.except.is_empty() {
        return Some((entry.cidr.addr(), true));
    }
    let net = entry.allowed_nets().into_iter().next()?;
    let addr = match net {
        IpNet::V4(n) if n.prefix_len() < 31 => {
            IpAddr::V4(u32::from(n.network()).checked_add(1)?.into())
        }
        IpNet::V6(n) if n.prefix_len() < 127 => {
            IpAddr::V6(u128::from(n.network()).checked_add(1)?.into())
        }
        other => other.network(),
    };
    Some((addr, false))
}

/// Every probe, in the order the script runs them.
pub fn plan(
    spec: &Spec,
    control: Option<&Destination>,
    outside: &[Destination],
    names: &[String],
) -> Vec<Probe> {
    let entries = spec.egress_allow();
    let mut probes = Vec::new();
    let control = control
        .map(|d| (d.0.ip, d.0.port, "given with --control".to_string()))
        .or_else(|| {
            entries.iter().find_map(|e| {
                let (ip, single) = probe_address(e)?;
                let port = e.ports.iter().find(|p| p.protocol == Protocol::Tcp)?;
                single.then(|| (ip, port.port, format!("allow-list entry {}", e.name)))
            })
        });
    if let Some((ip, port, note)) = control {
        probes.push(Probe {
            check: "control",
            dst: ip.to_string(),
            port,
            protocol: Protocol::Tcp,
            expect_open: true,
            note,
            skip: false,
        });
    }
    for entry in &entries {
        let Some((ip, single)) = probe_address(entry) else {
            continue;
        };
        let note = if single {
            format!("allow-list entry {}", entry.name)
        } else {
            format!(
                "allow-list entry {}: first address of {}",
                entry.name, entry.cidr
            )
        };
        if entry.ports.is_empty() {
            probes.push(Probe {
                check: "allow",
                dst: ip.to_string(),
                port: 0,
                protocol: Protocol::Tcp,
                expect_open: true,
                note: format!("{note}: every port is allowed, no port to probe"),
                skip: true,
            });
            continue;
        }
        for range in &entry.ports {
            let skip = range.protocol != Protocol::Tcp;
            probes.push(Probe {
                check: "allow",
                dst: ip.to_string(),
                port: range.port,
                protocol: range.protocol,
                expect_open: true,
                note: if skip {
                    format!(
                        "{note}: {} has no handshake to observe",
                        range.protocol.as_upper()
                    )
                } else {
                    note.clone()
                },
                skip,
            });
        }
        // The same address on a port that is not allowed must stay closed.
        let allowed = |p: u32| {
            entry
                .ports
                .iter()
                .any(|r| (u32::from(r.port)..=u32::from(r.last())).contains(&p))
        };
        let highest = entry
            .ports
            .iter()
            .map(|r| u32::from(r.last()))
            .max()
            .unwrap_or(0);
        let lowest = entry
            .ports
            .iter()
            .map(|r| u32::from(r.port))
            .min()
            .unwrap_or(1);
        let closed = [highest + 1, lowest.saturating_sub(1)]
            .into_iter()
            .find(|p| (1..=65535).contains(p) && !allowed(*p))
            .and_then(|p| u16::try_from(p).ok());
        if let Some(port) = closed {
            probes.push(Probe {
                check: "port",
                dst: ip.to_string(),
                port,
                protocol: Protocol::Tcp,
                expect_open: false,
                note: format!("allow-list entry {}: a port it does not allow", entry.name),
                skip: false,
            });
        }
    }
    for d in outside {
        probes.push(Probe {
            check: "outside",
            dst: d.0.ip.to_string(),
            port: d.0.port,
            protocol: Protocol::Tcp,
            expect_open: false,
            note: format!(
                "outside address ({})",
                if d.0.ip.is_ipv4() { "IPv4" } else { "IPv6" }
            ),
            skip: false,
        });
    }
    for name in names {
        probes.push(Probe {
            check: "dns",
            dst: name.clone(),
            port: crate::spec::DNS_PORT,
            protocol: Protocol::Udp,
            expect_open: false,
            note: "outside name".to_string(),
            skip: false,
        });
    }
    probes
}

/// The script's fixed part: options, tool detection, probe functions, reporting.
const PRELUDE: &str = r##"set -u

rules_mode=auto
rules_only=0

usage() {
    echo "usage: $0 [--rules auto|nft|iptables|none] [--rules-only] [--timeout SECONDS]" >&2
    echo "  --rules MODE   where to look for the egress rules: auto (default; checked when" >&2
    echo "                 visible, skipped otherwise), nft or iptables (must be loaded here:" >&2
    echo "                 run on the host), none" >&2
    echo "  --rules-only   check the rules and stop (on the host)" >&2
    echo "  --timeout N    seconds before a probe counts as blocked (default $timeout_s)" >&2
    echo "Prints one JSON line per check on stdout and TAP on stderr. Exit 0 sealed, 1 leak or" >&2
    echo "failed check, 2 usage or no probe tool, 3 inconclusive (positive control failed)." >&2
    exit "${1:-2}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --rules) [ $# -ge 2 ] || usage; rules_mode=$2; shift 2 ;;
        --rules=*) rules_mode=${1#--rules=}; shift ;;
        --rules-only) rules_only=1; shift ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#--timeout=}; shift ;;
        -h|--help) usage 0 ;;
        *) echo "$0: unknown option: $1" >&2; usage ;;
    esac
done
case $rules_mode in auto|nft|iptables|none) ;; *) usage ;; esac
case $timeout_s in ''|*[!0-9]*|0) usage ;; esac

have() { command -v "$1" >/dev/null 2>&1; }

# A probe must give up on its own: run it under timeout(1) when there is one.
bounded() {
    if have timeout; then
        timeout "$((timeout_s + 2))" "$@"
    else
        "$@"
    fi
}

# TCP connect, in order of preference: nc -z (netcat-openbsd, busybox, ncat, traditional),
# bash's /dev/tcp (only under timeout(1), which bounds it), python3.
probe_tool=
if have nc && nc -h 2>&1 | grep -q -- '-z'; then
    probe_tool=nc
elif have bash && have timeout; then
    probe_tool=bash
elif have python3; then
    probe_tool=python3
fi

# shellcheck disable=SC2016 # in the bash -c text, $1 and $2 are bash's own arguments
tcp_connects() {
    case $probe_tool in
        nc) bounded nc -z -w "$timeout_s" "$1" "$2" </dev/null >/dev/null 2>&1 ;;
        bash) timeout "$timeout_s" bash -c 'exec 3<>"/dev/tcp/$1/$2"' sealed-probe "$1" "$2" </dev/null >/dev/null 2>&1 ;;
        python3) bounded python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()' "$1" "$2" "$timeout_s" </dev/null >/dev/null 2>&1 ;;
        *) return 2 ;;
    esac
}

# 0: the name resolves, 1: it does not (or not in time), 2: no resolver tool here.
# (getent exits 2 for "not found": every outcome is mapped to 0 or 1 here.)
resolves() {
    if have getent; then
        if bounded getent ahosts "$1" >/dev/null 2>&1 || bounded getent hosts "$1" >/dev/null 2>&1; then
            return 0
        fi
        return 1
    fi
    if have nslookup; then
        if bounded nslookup "$1" 2>/dev/null | awk '/^Name:/ { n = 1 } n && /^Address/ { f = 1 } END { exit !f }'; then
            return 0
        fi
        return 1
    fi
    if have python3; then
        if bounded python3 -c 'import socket, sys; socket.getaddrinfo(sys.argv[1], None)' "$1" >/dev/null 2>&1; then
            return 0
        fi
        return 1
    fi
    return 2
}

n=0
leaks=0
failed=0
skipped=0
passed=0
control_failed=0

# report CHECK DST PROTO PORT EXPECTED OBSERVED VERDICT NOTE
report() {
    n=$((n + 1))
    printf '{"check":"%s","dst":"%s","expected":"%s","note":"%s","observed":"%s","port":%s,"proto":"%s","verdict":"%s"}\n' \
        "$1" "$2" "$5" "$8" "$6" "$4" "$3" "$7"
    case $7 in
        pass) passed=$((passed + 1)); echo "ok $n - $1 $2 $3/$4: $6 ($8)" >&2 ;;
        skip) skipped=$((skipped + 1)); echo "ok $n - $1 $2 $3/$4 # SKIP $8" >&2 ;;
        leak) leaks=$((leaks + 1)); echo "not ok $n - $1 $2 $3/$4: LEAK, $6 ($8)" >&2 ;;
        *) failed=$((failed + 1)); echo "not ok $n - $1 $2 $3/$4: expected $5, $6 ($8)" >&2 ;;
    esac
}

# tcp CHECK DST PORT EXPECTED NOTE
tcp() {
    if tcp_connects "$2" "$3"; then observed=open; else observed=closed; fi
    if [ "$observed" = "$4" ]; then
        verdict=pass
    elif [ "$4" = closed ]; then
        verdict=leak
    else
        verdict=fail
        [ "$1" = control ] && control_failed=1
    fi
    report "$1" "$2" tcp "$3" "$4" "$observed" "$verdict" "$5"
}

# skip CHECK DST PROTO PORT EXPECTED NOTE
skip() {
    report "$1" "$2" "$3" "$4" "$5" unknown skip "$6"
}

# no_control NOTE: without a positive control no block proves anything.
# shellcheck disable=SC2317 # called only by scripts generated without a control
no_control() {
    control_failed=1
    report control - tcp 0 open unknown skip "$1"
}

# name DST NOTE
name() {
    resolves "$1"
    case $? in
        0) report dns "$1" dns 53 unresolved resolved leak "$2" ;;
        1) report dns "$1" dns 53 unresolved unresolved pass "$2" ;;
        *) report dns "$1" dns 53 unresolved unknown skip "$2: no getent, nslookup or python3 here" ;;
    esac
}

# The rules: loaded where this script can see them?
rules() {
    nft_state=invisible
    if [ "$rules_mode" = auto ] || [ "$rules_mode" = nft ]; then
        if have nft && nft list tables >/dev/null 2>&1; then
            if nft list table inet "$nft_table" >/dev/null 2>&1; then nft_state=loaded; else nft_state=missing; fi
        fi
    fi
    ipt_state=invisible
    if [ "$rules_mode" = auto ] || [ "$rules_mode" = iptables ]; then
        if have iptables && iptables -w -S >/dev/null 2>&1; then
            ipt_state=missing
            if iptables -w -S DOCKER-USER 2>/dev/null | grep -qx -- "-A DOCKER-USER -j $ipt_chain" &&
                { ! have ip6tables || ip6tables -w -S DOCKER-USER 2>/dev/null | grep -qx -- "-A DOCKER-USER -j $ipt_chain"; }; then
                ipt_state=loaded
            fi
        fi
    fi
    case $rules_mode in
        auto)
            if [ "$nft_state" = loaded ]; then
                report rules "inet $nft_table" nft 0 loaded loaded pass "nft list table inet $nft_table"
            elif [ "$ipt_state" = loaded ]; then
                report rules "DOCKER-USER -j $ipt_chain" iptables 0 loaded loaded pass "iptables -S DOCKER-USER"
            else
                skip rules "inet $nft_table or DOCKER-USER -j $ipt_chain" rules 0 loaded "not visible here: run on the host with --rules nft or --rules iptables"
            fi
            ;;
        nft)
            case $nft_state in
                loaded) report rules "inet $nft_table" nft 0 loaded loaded pass "nft list table inet $nft_table" ;;
                missing) report rules "inet $nft_table" nft 0 loaded missing fail "nft list table inet $nft_table" ;;
                *) report rules "inet $nft_table" nft 0 loaded unknown fail "nft is missing or not permitted here" ;;
            esac
            ;;
        iptables)
            case $ipt_state in
                loaded) report rules "DOCKER-USER -j $ipt_chain" iptables 0 loaded loaded pass "iptables -S DOCKER-USER" ;;
                missing) report rules "DOCKER-USER -j $ipt_chain" iptables 0 loaded missing fail "no -j $ipt_chain in DOCKER-USER (IPv4 or IPv6)" ;;
                *) report rules "DOCKER-USER -j $ipt_chain" iptables 0 loaded unknown fail "iptables is missing or not permitted here" ;;
            esac
            ;;
        none) skip rules "-" rules 0 loaded "--rules none" ;;
    esac
}

finish() {
    echo "1..$n" >&2
    echo "# sealed-verify: $passed passed, $leaks leaks, $failed failed, $skipped skipped (probe: ${probe_tool:-none}, timeout ${timeout_s}s)" >&2
    if [ "$leaks" -gt 0 ]; then
        echo "# LEAK: egress reached a destination outside the allow-list" >&2
        exit 1
    fi
    if [ "$control_failed" -eq 1 ]; then
        echo "# INCONCLUSIVE: the positive control did not connect, so a blocked probe proves nothing" >&2
        exit 3
    fi
    [ "$failed" -eq 0 ] || exit 1
    exit 0
}

rules
if [ "$rules_only" -eq 1 ]; then
    finish
fi
if [ -z "$probe_tool" ]; then
    echo "$0: error: no probe tool: install nc (netcat-openbsd or busybox), or bash with timeout, or python3" >&2
    exit 2
fi
"##;

/// The whole script.
pub fn render(spec: &Spec, probes: &[Probe], timeout: u32) -> String {
    let mut out = String::from("#!/bin/sh\n");
    out.push_str(&format!(
        "# Sealed-mode verification on the data path (mode: {}).\n\
         # Generated by netpolicy-gen verify-script; do not edit: change the spec and run it again.\n\
         # Run inside a container on a compose bridge or in a pod; on the host, add\n\
         # `--rules nft` or `--rules iptables` to check the rules are loaded.\n\
         # Usage: sh sealed-verify.sh [--rules auto|nft|iptables|none] [--rules-only] [--timeout SECONDS]\n\
         # Output: one JSON line per check on stdout, TAP on stderr.\n\
         # Exit: 0 sealed, 1 leak or failed check, 2 usage or no probe tool,\n\
         #       3 inconclusive (the positive control did not connect).\n\
         \n\
         timeout_s={timeout}\n\
         nft_table='{}'\n\
         ipt_chain='{}'\n",
        spec.mode.as_str(),
        nftables::TABLE,
        iptables::CHAIN,
    ));
    out.push_str(PRELUDE);
    out.push('\n');
    if !probes.iter().any(|p| p.check == "control") {
        out.push_str(
            "no_control 'no allow-list entry has one address and a TCP port: generate with --control IP:PORT'\n",
        );
    }
    for p in probes {
        let expected = if p.check == "dns" {
            "unresolved"
        } else if p.expect_open {
            "open"
        } else {
            "closed"
        };
        let line = if p.check == "dns" {
            format!("name '{}' '{}'", p.dst, p.note)
        } else if p.skip {
            format!(
                "skip {} '{}' {} {} {} '{}'",
                p.check,
                p.dst,
                p.protocol.as_lower(),
                p.port,
                expected,
                p.note
            )
        } else {
            format!(
                "tcp {} '{}' {} {} '{}'",
                p.check, p.dst, p.port, expected, p.note
            )
        };
        let _ = writeln!(out, "{line}");
    }
    out.push_str("finish\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn spec() -> Spec {
        Spec::parse(
            "mode: sealed\nnamespaces: [a]\ndns: {resolvers: [10.96.0.10]}\nallow:\n\
             - {name: store, cidr: 10.20.0.5/32, ports: [{port: 9000}]}\n\
             - {name: mirror, cidr: 10.20.1.0/24, except: [10.20.1.0/25], ports: [{port: 443}, {port: 8440, endPort: 8443}]}\n\
             - {name: ntp, cidr: 10.30.0.1/32, ports: [{port: 123, protocol: UDP}]}\n\
             - {name: otlp, cidr: 'fd00:20::/64'}\n",
            Path::new("spec.yaml"),
        )
        .unwrap()
    }

    #[test]
    fn the_plan_puts_the_control_first_and_probes_every_entry() {
        let outside = vec!["198.51.100.7:443/TCP".parse().unwrap()];
        let probes = plan(&spec(), None, &outside, &["example.com".into()]);
        let got: Vec<(&str, String, u16, bool, bool)> = probes
            .iter()
            .map(|p| (p.check, p.dst.clone(), p.port, p.expect_open, p.skip))
            .collect();
        assert_eq!(
            got,
            vec![
                ("control", "10.20.0.5".into(), 9000, true, false),
                ("allow", "10.20.1.129".into(), 443, true, false),
                ("allow", "10.20.1.129".into(), 8440, true, false),
                ("port", "10.20.1.129".into(), 8444, false, false),
                ("allow", "10.30.0.1".into(), 123, true, true),
                ("port", "10.30.0.1".into(), 124, false, false),
                ("allow", "fd00:20::1".into(), 0, true, true),
                ("allow", "10.20.0.5".into(), 9000, true, false),
                ("port", "10.20.0.5".into(), 9001, false, false),
                ("outside", "198.51.100.7".into(), 443, false, false),
                ("dns", "example.com".into(), 53, false, false),
            ]
        );
    }

    #[test]
    fn the_script_ends_with_its_probes_and_finish() {
        let probes = plan(&spec(), None, &[], &[]);
        let script = render(&spec(), &probes, 5);
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains("\ntimeout_s=5\n"));
        assert!(script.contains("\ntcp control '10.20.0.5' 9000 open 'allow-list entry store'\n"));
        assert!(script.contains("\nskip allow '10.30.0.1' udp 123 open 'allow-list entry ntp: UDP has no handshake to observe'\n"));
        assert!(script.ends_with("finish\n"));
        assert!(!script.contains("ping"));
    }
}
