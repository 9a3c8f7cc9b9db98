//! `netpolicy-gen generate`: the policies for every target from one spec, written atomically,
//! and the list of files written (with a `policyHash` over them) on stdout.
//!
//! Every generator is a pure function from a checked [`Spec`] to files in memory: sorted
//! inputs, no clock, no environment, so the same spec always gives the same bytes. YAML is
//! emitted by serde_yaml from typed structs, so it is valid YAML whatever the names hold.

pub mod calico;
pub mod cilium;
pub mod host;
pub mod iptables;
pub mod k8s;
pub mod nftables;
pub mod output;

use crate::error::NetpolicyError;
use crate::spec::{Mode, Spec};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

pub use output::{policy_hash, write_files, FileEntry, GenerateReport, GENERATE_SCHEMA};

/// Which policies to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Target {
    /// Kubernetes NetworkPolicy, per namespace.
    K8s,
    /// CiliumClusterwideNetworkPolicy default deny and a CiliumNetworkPolicy per namespace.
    Cilium,
    /// A Calico GlobalNetworkPolicy default deny.
    Calico,
    /// An nftables `inet` table for the compose bridges, a systemd unit, a compose override.
    Nftables,
    /// iptables-restore and ip6tables-restore files for DOCKER-USER, an apply script, a
    /// systemd unit, a compose override.
    Iptables,
    /// Everything above that the spec has inputs for.
    All,
}

impl Target {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::K8s => "k8s",
            Target::Cilium => "cilium",
            Target::Calico => "calico",
            Target::Nftables => "nftables",
            Target::Iptables => "iptables",
            Target::All => "all",
        }
    }
}

/// Options of `netpolicy-gen generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The spec (YAML; `-` reads stdin).
    #[arg(long, value_name = "FILE")]
    pub spec: PathBuf,
    /// What to generate.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Target,
    /// The folder to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// A generated file, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative path with `/` separators.
    pub path: String,
    pub contents: Vec<u8>,
    /// True for scripts (mode 0755); everything else is 0644.
    pub executable: bool,
}

impl GeneratedFile {
    fn text(path: impl Into<String>, contents: String) -> Self {
        GeneratedFile {
            path: path.into(),
            contents: contents.into_bytes(),
            executable: false,
        }
    }

    fn script(path: impl Into<String>, contents: String) -> Self {
        GeneratedFile {
            path: path.into(),
            contents: contents.into_bytes(),
            executable: true,
        }
    }
}

/// Runs `netpolicy-gen generate`.
pub fn run(
    args: &GenerateArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, NetpolicyError> {
    let spec = Spec::load(&args.spec)?;
    let (files, notes) = generate(&spec, args.target)?;
    for note in &notes {
        let _ = writeln!(
            stderr,
            "{}: note: {}",
            crate::TOOL,
            tool_cli::sanitize(note)
        );
    }
    let entries = write_files(&args.out, &files)?;
    for stale in output::stale_files(&args.out, &files) {
        let _ = writeln!(
            stderr,
            "{}: note: `{}` was not written by this run (left as it was)",
            crate::TOOL,
            tool_cli::sanitize(&stale)
        );
    }
    let report = GenerateReport::new(spec.mode, args.target, entries);
    let json = offline_formats::jcs::to_pretty_vec(&report)
        .map_err(|e| NetpolicyError::Internal(format!("generate report: {e}")))?;
    tool_cli::write_data(stdout, &json);
    Ok(0)
}

/// Builds every file for `target`, sorted by path; also returns notes for people (targets
/// `all` skipped for lack of input).
pub fn generate(
    spec: &Spec,
    target: Target,
) -> Result<(Vec<GeneratedFile>, Vec<String>), NetpolicyError> {
    if spec.mode == Mode::Connected {
        return Err(NetpolicyError::Usage(
            "the spec's mode is `connected` (egress open): there is nothing to seal; generate \
             takes a sealed or constrained spec"
                .to_string(),
        ));
    }
    let has_namespaces = !spec.namespaces.is_empty();
    let has_networks = !spec.compose.networks.is_empty();
    let mut notes = Vec::new();
    let mut files: BTreeMap<String, GeneratedFile> = BTreeMap::new();
    let mut add = |generated: Vec<GeneratedFile>| {
        for f in generated {
            // The compose override is shared by nftables and iptables: the same bytes.
            files.insert(f.path.clone(), f);
        }
    };
    let wants = |t: Target| target == t || target == Target::All;

    if wants(Target::K8s) {
        if has_namespaces {
            add(k8s::generate(spec)?);
        } else if target == Target::K8s {
            return Err(no_input("k8s", "namespaces"));
        } else {
            notes.push("the spec names no namespaces: no NetworkPolicy written".to_string());
        }
    }
    if wants(Target::Cilium) {
        add(cilium::generate(spec)?);
    }
    if wants(Target::Calico) {
        add(calico::generate(spec)?);
    }
    for (t, gen) in [
        (
            Target::Nftables,
            nftables::generate as fn(&Spec) -> Result<Vec<GeneratedFile>, NetpolicyError>,
        ),
        (Target::Iptables, iptables::generate),
    ] {
        if !wants(t) {
            continue;
        }
        if has_networks {
            add(gen(spec)?);
        } else if target == t {
            return Err(no_input(t.as_str(), "compose.networks"));
        } else {
            notes.push(format!(
                "the spec names no compose networks: no {} rules written",
                t.as_str()
            ));
        }
    }
    Ok((files.into_values().collect(), notes))
}

fn no_input(target: &str, what: &str) -> NetpolicyError {
    NetpolicyError::Usage(format!(
        "target {target} needs `{what}` in the spec, and it has none"
    ))
}

/// The comment every generated file starts with (after a shebang, if any).
pub(crate) fn header(comment: &str, spec: &Spec, what: &str) -> String {
    format!(
        "{comment} {what}\n{comment} Generated by netpolicy-gen (mode: {}); do not edit: change the spec and run\n{comment} `netpolicy-gen generate` again.\n",
        spec.mode.as_str()
    )
}

/// Serializes Kubernetes objects as one multi-document YAML file after `header`.
pub(crate) fn yaml_documents<T: Serialize>(
    header: String,
    docs: &[T],
) -> Result<String, NetpolicyError> {
    let mut out = header;
    for doc in docs {
        out.push_str("---\n");
        let text = serde_yaml::to_string(doc)
            .map_err(|e| NetpolicyError::Internal(format!("yaml: {e}")))?;
        out.push_str(&text);
    }
    Ok(out)
}

/// `app.kubernetes.io/managed-by: netpolicy-gen`, the label on every object we write.
pub(crate) fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "netpolicy-gen".to_string(),
    )])
}

/// The compose override that pins every network's Linux bridge name, so the host rules
/// (which match bridges by name) keep matching after `docker compose down && up`.
pub(crate) fn compose_override(spec: &Spec) -> Result<GeneratedFile, NetpolicyError> {
    #[derive(Serialize)]
    struct Override {
        networks: BTreeMap<String, Network>,
    }
    #[derive(Serialize)]
    struct Network {
        driver: &'static str,
        driver_opts: BTreeMap<&'static str, String>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        enable_ipv6: bool,
        ipam: Ipam,
    }
    #[derive(Serialize)]
    struct Ipam {
        config: Vec<Subnet>,
    }
    #[derive(Serialize)]
    struct Subnet {
        subnet: String,
    }
    let networks = spec
        .compose
        .networks
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                Network {
                    driver: "bridge",
                    driver_opts: BTreeMap::from([(
                        "com.docker.network.bridge.name",
                        n.bridge.clone(),
                    )]),
                    enable_ipv6: n.subnet.addr().is_ipv6(),
                    ipam: Ipam {
                        config: vec![Subnet {
                            subnet: n.subnet.to_string(),
                        }],
                    },
                },
            )
        })
        .collect();
    let mut text = header(
        "#",
        spec,
        "Compose override: pins each network's Linux bridge name so the sealed-egress rules keep matching.\n# Use with: docker compose -f compose.yaml -f compose.override.yaml up -d",
    );
    text.push_str(
        &serde_yaml::to_string(&Override { networks })
            .map_err(|e| NetpolicyError::Internal(format!("yaml: {e}")))?,
    );
    Ok(GeneratedFile::text("compose/compose.override.yaml", text))
}

/// Where the host files are installed; the systemd units and apply script refer to it.
pub const INSTALL_DIR: &str = "/etc/netpolicy-gen";
