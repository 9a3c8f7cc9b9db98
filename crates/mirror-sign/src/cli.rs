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
codes: 0 ok, 1 the check ran and failed (threshold not met, rotation refused, chain broken, a key \
out of date, audit log tampered), 2 usage, input or I/O error."
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
    /// Make, rotate and verify trust roots.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// The key rotation schedule of a trust root.
    #[command(subcommand)]
    Keys(KeysCommand),
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

/// `mirror-sign trust …`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Print a new, unsigned trust root (stellaops.trust/v1) for its key holders to sign.
    #[command(
        long_about = "Print a new, unsigned trust root (stellaops.trust/v1, pretty JSON with \
sorted keys) on stdout, checked with the same rules as every verifier. Each --key is a public \
key file (`.pub`); its keyid is the file name without extension, or ID in `--key ID=PATH`. Keys \
are written sorted by keyid, so the output does not depend on the order of the flags. Each \
root key holder then signs it on their own machine with `mirror-sign sign --key K`. With \
--from ROOT the document starts from that root's keys (kept with their windows, owners and \
revocations: keys are revoked, never deleted), its threshold and its version + 1. New keys' \
window: --not-before [default: --now, else SOURCE_DATE_EPOCH, else the clock: the only \
wall-clock default, a timestamp written, never a verdict] to --not-after [default: 365 days \
later]. Exit 0 when printed, 2 when the flags or keys cannot make a valid root."
    )]
    Init(TrustInitArgs),
    /// Accept a new trust root only when a threshold of the old root's keys and of its own signed it.
    #[command(
        long_about = "Judge replacing the trust root --from by --to, and print a \
stellaops.rotation-report/v1 on stdout. The new root is accepted when the old root is signed \
by a threshold of its own keys, the new root's envelope by a threshold of the OLD root's keys \
AND a threshold of the NEW root's keys (distinct public keys), its version is higher, and it \
is not expired at --now. An expired old root still hands over: its keys are counted as of its \
last instant in force (its `expires`). Exit 0 accepted, 1 refused, 2 unusable input."
    )]
    Rotate(TrustRotateArgs),
    /// Walk a chain of trust roots from a pinned first one; report the root to trust.
    #[command(
        long_about = "Walk from the pinned root through each ROOT in order with the rules of \
`trust rotate` (versions must rise at each step and may skip numbers; intermediate roots may \
have expired) and print a stellaops.trust-chain-report/v1 on stdout, naming the trusted root \
when every step is accepted and the last root is in force at --now. The walk stops at the \
first refused step. Exit 0 trusted, 1 not, 2 unusable input."
    )]
    Verify(TrustVerifyArgs),
}

/// `mirror-sign trust init`.
#[derive(Debug, Args)]
pub struct TrustInitArgs {
    /// How many distinct keys must sign [default with --from: its threshold]
    #[arg(long, value_name = "K", required_unless_present = "from")]
    pub threshold: Option<u32>,

    /// A public key file, keyid = its file name without extension, or ID=PATH (repeat per key)
    #[arg(
        long = "key",
        value_name = "[ID=]PUB",
        required_unless_present = "from"
    )]
    pub keys: Vec<String>,

    /// When the root expires: RFC 3339, or a duration after --not-before (365d, 12mo)
    #[arg(long, value_name = "TIME")]
    pub expires: String,

    /// The root's version [default: 1, or the --from root's version + 1]
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,

    /// Who holds a key, as ID=NAME (repeatable) [default: the keyid]
    #[arg(long = "owner", value_name = "ID=NAME")]
    pub owners: Vec<String>,

    /// Start of the new keys' window (RFC 3339) [default: --now, else SOURCE_DATE_EPOCH, else the clock]
    #[arg(long, value_name = "TIME")]
    pub not_before: Option<String>,

    /// End of the new keys' window: RFC 3339, or a duration after --not-before [default: 365d]
    #[arg(long, value_name = "TIME")]
    pub not_after: Option<String>,

    /// The current time (RFC 3339), used only as the default --not-before
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Start from this signed root: keep its keys, threshold and version + 1
    #[arg(long, value_name = "ROOT")]
    pub from: Option<PathBuf>,

    /// Mark the key with this keyid revoked: kept in the root, never counted (repeatable)
    #[arg(long = "revoke", value_name = "ID")]
    pub revoke: Vec<String>,
}

/// `mirror-sign trust rotate`.
#[derive(Debug, Args)]
pub struct TrustRotateArgs {
    /// The trust root in use (signed envelope).
    #[arg(long, value_name = "OLD")]
    pub from: PathBuf,

    /// The new trust root (signed envelope).
    #[arg(long, value_name = "NEW")]
    pub to: PathBuf,

    /// The instant to judge expiry and key windows at (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    #[command(flatten)]
    pub audit: AuditOptions,
}

/// `mirror-sign trust verify`.
#[derive(Debug, Args)]
pub struct TrustVerifyArgs {
    /// The first root, trusted because it was pinned (installed by hand).
    #[arg(long, value_name = "ROOT")]
    pub pinned: PathBuf,

    /// The roots that followed it, in order.
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,

    /// The instant to judge expiry and key windows at (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// `mirror-sign keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every key's age, replace-by date and status; JSON on stdout, warnings on stderr.
    #[command(
        long_about = "List every key of the trust root (a signed envelope, or the unsigned \
document `trust init` prints): keyid, owner, fingerprint, window, age, replace-by date (the \
earlier of notAfter and notBefore + --max-age), days left, and status ok, warn (replace-by \
within --warn), expired, revoked, not-yet-valid or too-old (older than --max-age). Prints a \
stellaops.key-status/v1 on stdout and one line per key needing attention on stderr. \
Signatures are not checked. Durations: a whole number and h, d, w, mo (30 days) or y (365 \
days). Exit 0 when the root is not expired and every key that is not revoked is ok or warn, 1 \
otherwise, 2 unusable input."
    )]
    Status(KeysStatusArgs),
}

/// `mirror-sign keys status`.
#[derive(Debug, Args)]
pub struct KeysStatusArgs {
    /// The trust root: a signed envelope or the unsigned document.
    #[arg(long, value_name = "ROOT")]
    pub trust: PathBuf,

    /// The instant to judge at (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Longest a key may live from its notBefore (12 months).
    #[arg(long, value_name = "DURATION", default_value = "365d", value_parser = crate::key_status::parse_duration)]
    pub max_age: i64,

    /// Warn this long before a key must be replaced or the root expires (2 months).
    #[arg(long, value_name = "DURATION", default_value = "60d", value_parser = crate::key_status::parse_duration)]
    pub warn: i64,
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
