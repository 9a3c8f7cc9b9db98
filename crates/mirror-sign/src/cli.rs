//! Command-line interface of `mirror-sign`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keys, DSSE signatures and K-of-N approvals for air-gapped bundles.
#[derive(Debug, Parser)]
#[command(
    name = "mirror-sign",
    version,
    about = "Ed25519 keys, DSSE signatures and K-of-N approvals for air-gapped bundles",
    long_about = "Ed25519 keys, DSSE signatures and K-of-N approvals for air-gapped bundles. \
Approvers each sign a bundle manifest with their own key (`sign`, or `approve` then `combine` \
when they sit at different places); `verify` counts the distinct public keys of a trust root \
that signed. Documents are read on stdin and written on stdout; messages go to stderr. Exit \
codes: 0 ok, 1 the check ran and failed (threshold not met), 2 usage, input or I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make an Ed25519 key pair: DIR/ID.key (PKCS#8, mode 0600) and DIR/ID.pub (PEM SPKI).
    #[command(
        long_about = "Make an Ed25519 key pair: DIR/ID.key, the private key as PKCS#8 \
PEM created with mode 0600 (encrypted PKCS#8, PBES2 with PBKDF2-SHA256 and AES-256-CBC, when a \
passphrase is given), and DIR/ID.pub, the public key as PEM SubjectPublicKeyInfo. Refuses to \
overwrite either file. Prints {keyid, publicKey, fingerprint, privateKeyFile, publicKeyFile, \
encrypted} as JSON on stdout; the private key is never printed."
    )]
    Keygen(KeygenArgs),
    /// Print the public key of a key file.
    Pub(PubArgs),
    /// Sign a manifest (new envelope) or add a signature to an envelope; stdin to stdout.
    #[command(
        long_about = "Sign what is on stdin and write the envelope on stdout. A manifest \
(a JSON document with `schema` stellaops.bundle/v1 or stellaops.trust/v1) is wrapped in a new \
DSSE envelope whose payload is its RFC 8785 canonical JSON; an envelope (a document with \
`payloadType`) gets one more signature and its payload is never changed. Signing an envelope \
that this key already signed changes nothing. Approvers chain: \
`mirror-sign sign --key a.key < m.json | mirror-sign sign --key b.key > env.json`."
    )]
    Sign(SignArgs),
    /// Make a detached approval of the envelope on stdin (to `combine` later).
    #[command(
        long_about = "Sign the payload of the envelope on stdin and write a detached \
approval (stellaops.approval/v1: payloadType, payloadDigest, keyid, sig) on stdout, for an \
approver who is not in the chain of `sign`. `mirror-sign combine` adds approvals to the \
envelope."
    )]
    Approve(SignArgs),
    /// Add detached approvals to an envelope.
    #[command(
        long_about = "Add the signature of each approval to ENVELOPE and write the \
envelope on stdout (or to -o FILE, replaced only when complete, so `-o ENVELOPE` updates it \
in place). Refuses an approval made over another payload or payloadType. Signatures are \
checked by `verify`, not here: an approval carries no public key."
    )]
    Combine(CombineArgs),
    /// Count the signatures of an envelope against a trust root; JSON report on stdout.
    #[command(
        long_about = "Verify the envelope on stdin (or ENVELOPE) against the trust root \
ROOT, itself an envelope signed by a threshold of its own keys. A signature counts when a \
distinct public key of the root that is not revoked and inside its notBefore/notAfter window \
verifies it over PAE (strict Ed25519). Prints a stellaops.threshold-report/v1 on stdout. Exit \
0 when the threshold is met, 1 when it is not (or the root is expired or not signed by a \
threshold of its own keys), 2 when an input is unusable."
    )]
    Verify(VerifyArgs),
    /// The same as `verify`, written for people.
    Status(VerifyArgs),
    /// Write SHA256SUMS and SHA256SUMS.sig for OpenBSD `signify -C` from a manifest on stdin.
    #[command(
        long_about = "Read a bundle manifest on stdin and write, in --out DIR, SHA256SUMS (BSD \
tag lines `SHA256 (path) = hex`: the archive named in the manifest, then every file) and \
SHA256SUMS.sig, the same text signed in OpenBSD signify's embedded form. A sealed site with \
only signify checks the archive and the extracted files with \
`signify -C -p KEY.pub -x SHA256SUMS.sig` (KEY.pub from `mirror-sign pub --format signify`). \
Prints the written paths as JSON on stdout."
    )]
    Sums(SumsArgs),
    /// Write a DSSE-wrapped in-toto Statement v1 for a bundle archive (manifest on stdin).
    #[command(
        long_about = "Read a bundle manifest on stdin, hash --archive (streamed, refusing an \
archive whose name, size or sha256 differ from the manifest's `archive` member) and write a \
DSSE envelope (payloadType application/vnd.in-toto+json) holding an in-toto Statement v1: the \
archive as subject, and a predicate naming the manifest digest, bundleId, generation, \
producer, creation time, kind, file count and Merkle root."
    )]
    Attest(AttestArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// Where `sign`, `approve`, `combine` and `verify` record what they did.
#[derive(Debug, Args, Clone, Default)]
pub struct AuditOptions {
    /// Append one hash-chained JSON line per action to FILE (locked, so several processes may share it).
    #[arg(long, value_name = "FILE", env = "MIRROR_SIGN_AUDIT")]
    pub audit: Option<PathBuf>,

    /// Who is acting, for the audit log [default: $USER, else $LOGNAME, else the uid]
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
}

/// `mirror-sign sums`.
#[derive(Debug, Args)]
pub struct SumsArgs {
    #[command(flatten)]
    pub sign: SignArgs,

    /// Folder to write SHA256SUMS and SHA256SUMS.sig into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// `mirror-sign attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    #[command(flatten)]
    pub sign: SignArgs,

    /// The bundle archive the manifest describes.
    #[arg(long, value_name = "BUNDLE.tar.gz")]
    pub archive: PathBuf,
}

/// `mirror-sign audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no line of an audit log was edited, deleted, inserted or reordered.
    Verify {
        /// The audit log.
        #[arg(value_name = "FILE")]
        file: PathBuf,

        /// A `head` recorded earlier (`sha256:…`): also proves every line up to it unchanged.
        #[arg(long, value_name = "DIGEST")]
        checkpoint: Option<String>,
    },
}

/// Where a passphrase comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct PassphraseArgs {
    /// Read the passphrase from the first line of FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    pub passphrase_file: Option<PathBuf>,

    /// Read the passphrase from the environment variable VAR [default: MIRROR_SIGN_PASSPHRASE]
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

/// `mirror-sign keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Label of the key: the file names and the keyid in signatures and trust roots.
    #[arg(long, value_name = "ID")]
    pub key_id: String,

    /// Folder to write ID.key and ID.pub into (made, mode 0700, if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Formats of `mirror-sign pub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PubFormat {
    /// PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    Pem,
    /// Lowercase hex of the 32 raw key bytes.
    Raw,
    /// OpenBSD signify public key file (for `signify -V`/`-C -p`).
    Signify,
}

/// `mirror-sign pub`.
#[derive(Debug, Args)]
pub struct PubArgs {
    /// Private key file (PKCS#8 PEM), or a public key file.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PubFormat::Pem)]
    pub format: PubFormat,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// `mirror-sign sign` and `mirror-sign approve`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key file (PKCS#8 PEM, mode 0600 or stricter).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,

    /// keyid written with the signature [default: the key file name without extension]
    #[arg(long, value_name = "ID")]
    pub key_id: Option<String>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,

    #[command(flatten)]
    pub audit: AuditOptions,
}

/// `mirror-sign combine`.
#[derive(Debug, Args)]
pub struct CombineArgs {
    /// The envelope to add signatures to.
    #[arg(value_name = "ENVELOPE")]
    pub envelope: PathBuf,

    /// Approvals made with `mirror-sign approve`.
    #[arg(value_name = "APPROVAL", required = true)]
    pub approvals: Vec<PathBuf>,

    /// Write the envelope to FILE (replaced only when complete) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub audit: AuditOptions,
}

/// `mirror-sign verify` and `mirror-sign status`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Trust root envelope (payloadType application/vnd.stellaops.trust+json;version=1).
    #[arg(long, value_name = "ROOT")]
    pub trust: PathBuf,

    /// The instant to judge key windows and root expiry at (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// payloadType the envelope must carry: `mirror`, `trust` or a full media type
    /// [default: mirror]
    #[arg(long, value_name = "TYPE")]
    pub payload_type: Option<String>,

    /// The envelope; `-` is stdin.
    #[arg(value_name = "ENVELOPE", default_value = "-")]
    pub envelope: PathBuf,

    #[command(flatten)]
    pub audit: AuditOptions,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
