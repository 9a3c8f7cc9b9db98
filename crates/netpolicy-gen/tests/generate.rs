//! `netpolicy-gen generate` through the real binary: golden files for every target,
//! determinism, the `policyHash`, what the generated policies mean, spec errors with their
//! line, and atomic writes.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers of a test binary: a failed expectation is a failed test"
)]

mod generate_support;

use generate_support::*;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn spec_path(rel: &str) -> std::path::PathBuf {
    workspace_root().join(rel)
}

fn generate_case(case: &str, target: &str, out: &Path) -> Run {
    let (_, spec) = CASES
        .iter()
        .find(|(name, _)| *name == case)
        .expect("known case");
    generate(&spec_path(spec), target, out)
}

#[test]
fn golden_files_for_every_target() {
    for (case, _) in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let run = generate_case(case, "all", tmp.path());
        let files = read_tree(tmp.path());
        for (_, prefixes) in TARGETS {
            assert!(
                files
                    .keys()
                    .any(|p| prefixes.iter().any(|pre| p.starts_with(pre))),
                "case {case}: target `all` wrote nothing under {prefixes:?}"
            );
        }
        check_golden(case, &files, &run.stdout);
    }
}

#[test]
fn each_target_writes_exactly_its_part_of_all() {
    for (case, _) in CASES {
        let all_dir = tempfile::tempdir().unwrap();
        generate_case(case, "all", all_dir.path());
        let all = read_tree(all_dir.path());
        for (target, prefixes) in TARGETS {
            let tmp = tempfile::tempdir().unwrap();
            let run = generate_case(case, target, tmp.path());
            let files = read_tree(tmp.path());
            let expected: BTreeMap<String, Vec<u8>> = all
                .iter()
                .filter(|(p, _)| prefixes.iter().any(|pre| p.starts_with(pre)))
                .map(|(p, b)| (p.clone(), b.clone()))
                .collect();
            assert!(!expected.is_empty(), "{case}/{target}");
            assert_eq!(files, expected, "case {case}, target {target}");
            let json = run.json();
            assert_eq!(json["target"], *target);
            let listed: Vec<&str> = json["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap())
                .collect();
            let written: Vec<&str> = files.keys().map(String::as_str).collect();
            assert_eq!(listed, written, "case {case}, target {target}");
        }
    }
}

#[test]
fn two_runs_give_identical_bytes_whatever_the_umask() {
    let spec = spec_path(CASES[0].1);
    let mut outputs = Vec::new();
    for umask in ["000", "077"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let run = run_cmd(
            Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "umask {umask} && exec \"$0\" generate --spec \"$1\" --target all --out \"$2\""
                ))
                .arg(BIN)
                .arg(&spec)
                .arg(&out),
        )
        .ok();
        for (rel, _) in read_tree(&out) {
            let mode = fs::metadata(out.join(&rel)).unwrap().permissions().mode() & 0o777;
            let expected = if rel.ends_with(".sh") { 0o755 } else { 0o644 };
            assert_eq!(mode, expected, "{rel} with umask {umask}");
        }
        outputs.push((read_tree(&out), run.stdout));
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn spec_order_does_not_change_the_output() {
    let text = fs::read_to_string(spec_path(CASES[0].1)).unwrap();
    let mut spec: Yaml = serde_yaml::from_str(&text).unwrap();
    for key in ["namespaces", "allow"] {
        spec[key].as_sequence_mut().unwrap().reverse();
    }
    spec["dns"]["resolvers"]
        .as_sequence_mut()
        .unwrap()
        .reverse();
    spec["compose"]["networks"]
        .as_sequence_mut()
        .unwrap()
        .reverse();
    let tmp = tempfile::tempdir().unwrap();
    let shuffled = tmp.path().join("shuffled.yaml");
    fs::write(&shuffled, serde_yaml::to_string(&spec).unwrap()).unwrap();

    let a = generate(&spec_path(CASES[0].1), "all", &tmp.path().join("a"));
    let b = generate(&shuffled, "all", &tmp.path().join("b"));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(
        read_tree(&tmp.path().join("a")),
        read_tree(&tmp.path().join("b"))
    );
}

#[test]
fn stdout_lists_every_file_and_the_policy_hash_is_the_hash_of_their_sums() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = generate_case("sealed", "all", &out);
    let text = run.stdout_text();
    assert!(
        text.ends_with("}\n") && text.contains("\n  \"files\": ["),
        "{text}"
    );
    let json = run.json();
    assert_eq!(json["schema"], "stellaops.netpolicy-files/v1");
    assert_eq!(json["mode"], "sealed");

    let files = read_tree(&out);
    let listed = json["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len());
    let mut sums = String::new();
    for (entry, (rel, bytes)) in listed.iter().zip(&files) {
        let sha = hex::encode(Sha256::digest(bytes));
        assert_eq!(entry["path"], rel.as_str());
        assert_eq!(entry["sha256"], sha.as_str());
        assert_eq!(entry["bytes"], bytes.len());
        sums.push_str(&format!("{sha}  {rel}\n"));
    }
    let expected = format!("sha256:{}", hex::encode(Sha256::digest(sums.as_bytes())));
    assert_eq!(json["policyHash"], expected.as_str());

    // The recipe in docs/netpolicy-gen.md gives the same value with coreutils alone.
    let sh = run_cmd(
        Command::new("sh")
            .arg("-c")
            .arg("cd \"$0\" && sha256sum $(find . -type f | sed 's|^\\./||' | LC_ALL=C sort) | sha256sum")
            .arg(&out),
    )
    .ok();
    let hex_only = sh.stdout_text();
    assert_eq!(
        format!("sha256:{}", hex_only.split_whitespace().next().unwrap()),
        expected
    );
}

// ---- what the generated Kubernetes objects mean ---------------------------------------

fn docs_of(out: &Path, rel: &str) -> Vec<Yaml> {
    yaml_documents(&fs::read_to_string(out.join(rel)).unwrap())
}

fn by_name(docs: &[Yaml]) -> BTreeMap<String, Yaml> {
    docs.iter()
        .map(|d| {
            (
                d["metadata"]["name"].as_str().unwrap().to_string(),
                d.clone(),
            )
        })
        .collect()
}

fn strings(v: &Yaml) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn networkpolicies_deny_by_default_and_never_allow_everything() {
    let tmp = tempfile::tempdir().unwrap();
    generate_case("sealed", "k8s", tmp.path());
    for ns in ["stellaops", "stellaops-scanners"] {
        let docs = docs_of(tmp.path(), &format!("k8s/{ns}.yaml"));
        let policies = by_name(&docs);
        assert_eq!(
            policies.keys().collect::<Vec<_>>(),
            [
                "sealed-allow-dns",
                "sealed-allow-mirror",
                "sealed-allow-object-store",
                "sealed-allow-otlp",
                "sealed-allow-same-namespace",
                "sealed-default-deny"
            ]
        );
        for doc in &docs {
            assert_eq!(doc["apiVersion"], "networking.k8s.io/v1");
            assert_eq!(doc["kind"], "NetworkPolicy");
            assert_eq!(doc["metadata"]["namespace"], ns);
            let spec = &doc["spec"];
            assert_eq!(spec["podSelector"], Yaml::Mapping(Default::default()));
            let types = strings(&spec["policyTypes"]);
            if let Some(egress) = spec.get("egress") {
                // Without Egress in policyTypes the rules would be ignored; an empty rule
                // (`egress: [{}]`) or one without peers would allow every destination.
                assert!(types.contains(&"Egress".to_string()), "{doc:?}");
                for rule in egress.as_sequence().unwrap() {
                    let to = rule["to"]
                        .as_sequence()
                        .expect("every egress rule has `to`");
                    assert!(!to.is_empty(), "{doc:?}");
                    for peer in to {
                        assert!(peer.as_mapping().is_some_and(|m| !m.is_empty()), "{doc:?}");
                    }
                }
            }
            if let Some(ingress) = spec.get("ingress") {
                assert!(types.contains(&"Ingress".to_string()), "{doc:?}");
                assert!(!ingress.as_sequence().unwrap().is_empty());
            }
        }

        let deny = &policies["sealed-default-deny"]["spec"];
        assert_eq!(strings(&deny["policyTypes"]), ["Ingress", "Egress"]);
        assert!(deny.get("egress").is_none() && deny.get("ingress").is_none());

        let dns = &policies["sealed-allow-dns"]["spec"]["egress"][0];
        let peers = dns["to"].as_sequence().unwrap();
        // Namespace AND pod selector in one peer.
        assert_eq!(
            peers[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "kube-system"
        );
        assert_eq!(
            peers[0]["podSelector"]["matchLabels"]["k8s-app"],
            "kube-dns"
        );
        assert!(peers[1..]
            .iter()
            .all(|p| p.get("podSelector").is_none() && p.get("namespaceSelector").is_none()));
        let blocks: Vec<&str> = peers[1..]
            .iter()
            .map(|p| p["ipBlock"]["cidr"].as_str().unwrap())
            .collect();
        assert_eq!(
            blocks,
            ["169.254.20.10/32", "10.96.0.10/32", "fd00:96::a/128"]
        );
        let ports: Vec<(&str, u64)> = dns["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| (p["protocol"].as_str().unwrap(), p["port"].as_u64().unwrap()))
            .collect();
        assert_eq!(ports, [("UDP", 53), ("TCP", 53)]);

        let mirror = &policies["sealed-allow-mirror"]["spec"]["egress"][0];
        assert_eq!(mirror["to"][0]["ipBlock"]["cidr"], "10.20.1.0/24");
        assert_eq!(
            strings(&mirror["to"][0]["ipBlock"]["except"]),
            ["10.20.1.128/25"]
        );
        assert_eq!(mirror["ports"][1]["endPort"].as_u64(), Some(8443));
    }
}

/// True for the places Cilium reads an empty selector as "all endpoints in the namespace".
fn empty_selector_allowed(path: &str) -> bool {
    path.ends_with(".endpointSelector")
        || path.contains(".fromEndpoints[")
        || path.contains(".toEndpoints[")
}

fn walk_yaml(path: &str, v: &Yaml, visit: &mut dyn FnMut(&str, &Yaml)) {
    visit(path, v);
    match v {
        Yaml::Mapping(m) => {
            for (k, child) in m {
                walk_yaml(&format!("{path}.{}", k.as_str().unwrap()), child, visit);
            }
        }
        Yaml::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                walk_yaml(&format!("{path}[{i}]"), child, visit);
            }
        }
        _ => {}
    }
}

#[test]
fn cilium_policies_enable_default_deny_and_have_no_empty_sections() {
    for (case, _) in CASES {
        let tmp = tempfile::tempdir().unwrap();
        generate_case(case, "cilium", tmp.path());
        let files = read_tree(tmp.path());
        assert!(files.contains_key("cilium/clusterwide-default-deny.yaml"));
        for rel in files.keys() {
            for doc in docs_of(tmp.path(), rel) {
                assert_eq!(doc["apiVersion"], "cilium.io/v2", "{rel}");
                let kind = doc["kind"].as_str().unwrap();
                assert!(
                    kind == "CiliumNetworkPolicy" || kind == "CiliumClusterwideNetworkPolicy",
                    "{rel}: {kind}"
                );
                assert_eq!(
                    doc["metadata"].get("namespace").is_some(),
                    kind == "CiliumNetworkPolicy",
                    "{rel}"
                );
                let spec = &doc["spec"];
                assert_eq!(
                    spec["enableDefaultDeny"]["egress"],
                    Yaml::Bool(true),
                    "{rel}"
                );
                walk_yaml("spec", spec, &mut |path, v| {
                    let empty = match v {
                        Yaml::Sequence(s) => s.is_empty(),
                        Yaml::Mapping(m) => m.is_empty() && !empty_selector_allowed(path),
                        _ => false,
                    };
                    assert!(
                        !empty,
                        "{rel}: `{path}` is empty: Cilium would treat it as inert"
                    );
                });
                for rule in spec["egress"].as_sequence().unwrap() {
                    let peers = ["toEndpoints", "toEntities", "toCIDRSet"]
                        .iter()
                        .filter(|k| rule.get(**k).is_some())
                        .count();
                    assert_eq!(
                        peers, 1,
                        "{rel}: every egress rule names its peers: {rule:?}"
                    );
                }
            }
        }
        let clusterwide = &docs_of(tmp.path(), "cilium/clusterwide-default-deny.yaml")[0];
        let exprs = clusterwide["spec"]["endpointSelector"]["matchExpressions"]
            .as_sequence()
            .unwrap();
        assert_eq!(exprs[0]["operator"], "Exists");
        assert_eq!(exprs[1]["operator"], "NotIn");
        assert!(strings(&exprs[1]["values"]).contains(&"kube-system".to_string()));
    }
    // The namespace policy carries the allow-list as toCIDRSet with except.
    let tmp = tempfile::tempdir().unwrap();
    generate_case("sealed", "cilium", tmp.path());
    let ns = &docs_of(tmp.path(), "cilium/stellaops.yaml")[0];
    let sets: Vec<&Yaml> = ns["spec"]["egress"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("toCIDRSet"))
        .collect();
    assert!(sets
        .iter()
        .any(|s| s[0]["cidr"] == "10.20.1.0/24" && strings(&s[0]["except"]) == ["10.20.1.128/25"]));
}

#[test]
fn calico_policy_denies_by_default_outside_system_namespaces_and_allows_dns() {
    let tmp = tempfile::tempdir().unwrap();
    generate_case("sealed", "calico", tmp.path());
    let docs = docs_of(tmp.path(), "calico/global-default-deny.yaml");
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["apiVersion"], "projectcalico.org/v3");
    assert_eq!(doc["kind"], "GlobalNetworkPolicy");
    let spec = &doc["spec"];
    assert_eq!(strings(&spec["types"]), ["Ingress", "Egress"]);
    assert!(
        spec["order"].as_u64().unwrap() > 1000,
        "after Kubernetes policies"
    );
    assert!(spec.get("ingress").is_none());
    let selector = spec["namespaceSelector"].as_str().unwrap();
    assert!(
        selector.starts_with("projectcalico.org/name not in {"),
        "{selector}"
    );
    assert!(selector.contains("'kube-system'"), "{selector}");
    let rules = spec["egress"].as_sequence().unwrap();
    let mut seen = Vec::new();
    for rule in rules {
        assert_eq!(rule["action"], "Allow");
        let ports: Vec<u64> = rule["destination"]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        assert_eq!(ports, [53]);
        seen.push(rule["protocol"].as_str().unwrap().to_string());
    }
    assert!(seen.contains(&"UDP".to_string()) && seen.contains(&"TCP".to_string()));
    assert!(rules
        .iter()
        .any(|r| r["destination"]["selector"] == "k8s-app == 'kube-dns'"
            && r["destination"]["namespaceSelector"] == "projectcalico.org/name == 'kube-system'"));
}

// ---- the host rules -------------------------------------------------------------------

#[test]
fn nftables_table_runs_before_docker_and_drops_the_rest_on_both_families() {
    let tmp = tempfile::tempdir().unwrap();
    generate_case("sealed", "nftables", tmp.path());
    let text = fs::read_to_string(tmp.path().join("nftables/sealed-egress.nft")).unwrap();
    assert!(text.contains("table inet sealed_egress {"));
    assert!(text.contains("type filter hook forward priority filter - 1; policy accept;"));
    assert!(text.contains("iifname { \"br-scanners\", \"br-stellaops\" } jump from_compose"));
    let chain: Vec<&str> = text
        .split("chain from_compose {")
        .nth(1)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "}")
        .collect();
    assert_eq!(chain[0], "ct state established,related accept");
    assert!(chain[1].starts_with("iifname \"br-scanners\" oifname \"br-scanners\" accept"));
    let n = chain.len();
    assert!(chain[n - 2].starts_with("meta nfproto ipv4 counter name \"dropped_ipv4\" drop"));
    assert!(chain[n - 1].starts_with("meta nfproto ipv6 counter name \"dropped_ipv6\" drop"));
    // Every rule in between only accepts, and only towards an allow-listed destination.
    for rule in &chain[3..n - 2] {
        assert!(
            rule.starts_with("ip daddr ") || rule.starts_with("ip6 daddr "),
            "{rule}"
        );
        assert!(rule.contains(" accept comment "), "{rule}");
    }
    // The mirror's except is cut out of its cidr.
    assert!(text.contains("ip daddr 10.20.1.0/25 tcp dport 8440-8443 accept"));
    assert!(!text.contains("10.20.1.0/24"));

    let unit =
        fs::read_to_string(tmp.path().join("nftables/sealed-egress-nftables.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/sbin/nft -f /etc/netpolicy-gen/nftables/sealed-egress.nft")
    );
    assert!(unit.contains("Before=network-pre.target docker.service"));
}

#[test]
fn iptables_files_use_own_chains_and_the_unit_reapplies_them() {
    let tmp = tempfile::tempdir().unwrap();
    generate_case("sealed", "iptables", tmp.path());
    for (rel, family_rule) in [
        (
            "iptables/sealed-egress.v4.rules",
            "-d 10.20.0.5/32 -p tcp -m tcp --dport 9000",
        ),
        (
            "iptables/sealed-egress.v6.rules",
            "-d fd00:20::/64 -p tcp -m tcp --dport 4317",
        ),
    ] {
        let text = fs::read_to_string(tmp.path().join(rel)).unwrap();
        let rules: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(rules[0], "*filter", "{rel}");
        assert_eq!(rules[rules.len() - 1], "COMMIT", "{rel}");
        assert!(rules.contains(&"-F SEALED-EGRESS") && rules.contains(&"-F SEALED-FROM-COMPOSE"));
        assert!(text.contains(family_rule), "{rel}");
        // Never touches DOCKER-USER itself (the apply script does, once) and never ACCEPTs.
        assert!(
            !text.contains("DOCKER-USER -") && !text.contains("-j ACCEPT"),
            "{rel}"
        );
        assert_eq!(
            rules[rules.len() - 2],
            "-A SEALED-FROM-COMPOSE -m comment --comment \"sealed: everything else\" -j DROP"
        );
    }
    let v4 = fs::read_to_string(tmp.path().join("iptables/sealed-egress.v4.rules")).unwrap();
    assert!(!v4.contains("fd00:"), "no IPv6 address in the IPv4 file");
    let v6 = fs::read_to_string(tmp.path().join("iptables/sealed-egress.v6.rules")).unwrap();
    assert!(!v6.contains("10.20."), "no IPv4 address in the IPv6 file");

    let unit =
        fs::read_to_string(tmp.path().join("iptables/sealed-egress-iptables.service")).unwrap();
    for line in [
        "ExecStart=/bin/sh /etc/netpolicy-gen/iptables/apply.sh",
        "PartOf=docker.service firewalld.service",
        "ReloadPropagatedFrom=firewalld.service",
        "WantedBy=multi-user.target docker.service",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "unit lacks `{line}`:\n{unit}"
        );
    }
    let compose = docs_of(tmp.path(), "compose/compose.override.yaml");
    assert_eq!(
        compose[0]["networks"]["stellaops"]["driver_opts"]["com.docker.network.bridge.name"],
        "br-stellaops"
    );
    assert_eq!(
        compose[0]["networks"]["scanners"]["ipam"]["config"][0]["subnet"],
        "172.28.1.0/24"
    );
}

// ---- refusals --------------------------------------------------------------------------

/// Runs generate on spec `text`; returns (exit code, stderr, whether --out was created).
fn generate_text(text: &str) -> (Option<i32>, String, bool) {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec.yaml");
    fs::write(&spec, text).unwrap();
    let out = tmp.path().join("out");
    let run = netpolicy_gen(&[
        "generate",
        "--spec",
        spec.to_str().unwrap(),
        "--target",
        "all",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.stdout.is_empty(), "nothing on stdout when refusing");
    let stderr = run.stderr.replace(spec.to_str().unwrap(), "SPEC");
    (run.code, stderr, out.exists())
}

#[test]
fn spec_errors_name_the_file_and_line_and_write_nothing() {
    let base = "mode: sealed\nnamespaces: [stellaops]\n";
    let cases = [
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    protocol: TCP\n",
            6,
            "unknown field `protocol`",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    except:\n      - 10.1.0.0/16\n      - 192.168.0.0/16\n",
            8,
            "allow[0].except[1]: except 192.168.0.0/16 is outside cidr 10.0.0.0/8",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    except: [\"fd00::/8\"]\n",
            6,
            "mixed address family",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    ports:\n      - port: 8443\n        endPort: 8080\n",
            8,
            "allow[0].ports[0].endPort: endPort 8080 is below port 8443",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    ports: [{port: 0}]\n",
            6,
            "port 0 is out of range 1-65535",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.0/8\n    ports: [{port: 65536}]\n",
            6,
            "port 65536 is out of range 1-65535",
        ),
        (
            "allow:\n  - name: a\n    cidr: 10.0.0.1/8\n",
            5,
            "has host bits set (the network is 10.0.0.0/8)",
        ),
        ("allow:\n  - name: a\n    cidr: 10.0.0/8\n", 5, "is not a CIDR"),
        (
            "allow:\n  - {name: a, cidr: 10.0.0.0/8}\n  - {name: a, cidr: 10.1.0.0/16}\n",
            5,
            "allow[1].name: name `a` is used by an earlier entry",
        ),
        (
            "compose:\n  networks:\n    - name: n\n      bridge: br-this-is-too-long\n      subnet: 172.28.0.0/24\n",
            6,
            "Linux interface names have at most 15",
        ),
        (
            "compose:\n  networks:\n    - {name: a, bridge: br-a, subnet: 172.28.0.0/24}\n    - {name: b, bridge: br-b, subnet: 172.28.0.128/25}\n",
            6,
            "overlaps network `a`",
        ),
        ("ntp:\n  servers: [10.0.0.1]\n", 3, "constrained mode only"),
    ];
    for (tail, line, needle) in cases {
        let (code, stderr, out_exists) = generate_text(&format!("{base}{tail}"));
        assert_eq!(code, Some(2), "{tail}\n{stderr}");
        let prefix = format!("netpolicy-gen: error: `SPEC`:{line}: ");
        assert!(
            stderr.starts_with(&prefix),
            "want `{prefix}…`, got: {stderr}"
        );
        assert!(stderr.contains(needle), "want `{needle}` in: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!out_exists, "nothing may be written for a bad spec");
    }
}

#[test]
fn connected_mode_and_missing_inputs_are_refused() {
    let (code, stderr, out) = generate_text("mode: connected\nnamespaces: [a]\n");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("mode is `connected`"), "{stderr}");
    assert!(!out);

    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec.yaml");
    fs::write(&spec, "mode: sealed\nnamespaces: [a]\n").unwrap();
    for (target, needle) in [
        ("nftables", "target nftables needs `compose.networks`"),
        ("iptables", "target iptables needs `compose.networks`"),
    ] {
        let run = netpolicy_gen(&[
            "generate",
            "--spec",
            spec.to_str().unwrap(),
            "--target",
            target,
            "--out",
            tmp.path().join("out").to_str().unwrap(),
        ]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains(needle), "{}", run.stderr);
    }
    fs::write(
        &spec,
        "mode: sealed\ncompose:\n  networks: [{name: a, bridge: br-a, subnet: 172.28.0.0/24}]\n",
    )
    .unwrap();
    let run = netpolicy_gen(&[
        "generate",
        "--spec",
        spec.to_str().unwrap(),
        "--target",
        "k8s",
        "--out",
        tmp.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("target k8s needs `namespaces`"),
        "{}",
        run.stderr
    );

    // `all` writes what the spec has inputs for and says what it skipped.
    let run = netpolicy_gen(&[
        "generate",
        "--spec",
        spec.to_str().unwrap(),
        "--target",
        "all",
        "--out",
        tmp.path().join("out").to_str().unwrap(),
    ])
    .ok();
    assert!(
        run.stderr.contains("no NetworkPolicy written"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("out/k8s").exists());
    assert!(tmp.path().join("out/nftables/sealed-egress.nft").is_file());
}

#[test]
fn stale_files_are_named_and_left_alone_and_no_temporary_file_remains() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(out.join("k8s")).unwrap();
    fs::write(out.join("k8s/old-namespace.yaml"), "old\n").unwrap();
    fs::write(out.join("README"), "mine\n").unwrap();
    let run = generate(&spec_path(CASES[0].1), "k8s", &out);
    assert!(
        run.stderr
            .contains("`k8s/old-namespace.yaml` was not written by this run"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read(out.join("k8s/old-namespace.yaml")).unwrap(),
        b"old\n"
    );
    assert_eq!(fs::read(out.join("README")).unwrap(), b"mine\n");
    let names: Vec<String> = read_tree(&out).into_keys().collect();
    assert!(
        names.iter().all(|n| !n.contains(".netpolicy-gen.")),
        "{names:?}"
    );
    // A second run replaces the files in place.
    let again = generate(&spec_path(CASES[0].1), "k8s", &out);
    assert_eq!(run.stdout, again.stdout);
}

#[test]
fn a_symbolic_link_in_out_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("k8s")).unwrap();
    let run = netpolicy_gen(&[
        "generate",
        "--spec",
        spec_path(CASES[0].1).to_str().unwrap(),
        "--target",
        "k8s",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert!(fs::read_dir(&elsewhere).unwrap().next().is_none());
}

#[test]
fn the_spec_can_come_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let output = Command::new(BIN)
        .args(["generate", "--spec", "-", "--target", "all", "--out"])
        .arg(&out)
        .stdin(fs::File::open(spec_path(CASES[0].1)).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let from_file = generate(&spec_path(CASES[0].1), "all", &tmp.path().join("b"));
    assert_eq!(output.stdout, from_file.stdout);
    let json: Json = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["target"], "all");
}
