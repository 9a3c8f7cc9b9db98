//! Ed25519 public keys as trust roots and reports carry them: PEM SubjectPublicKeyInfo in, the
//! same PEM out, and a stable `sha256:<hex>` fingerprint of the raw key for people and reports.

use crate::digest::{sha256, sha256_prefixed};
use crate::FormatError;
use ed25519_dalek::pkcs8::spki::der::pem::{self, LineEnding};
use ed25519_dalek::pkcs8::spki::der::Decode as _;
use ed25519_dalek::pkcs8::spki::{EncodePublicKey as _, ObjectIdentifier, SubjectPublicKeyInfoRef};
use ed25519_dalek::VerifyingKey;

/// PEM label of a SubjectPublicKeyInfo.
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// `id-Ed25519` (RFC 8410): the only algorithm a trust root may name.
pub const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Length of a raw Ed25519 public key.
pub const PUBLIC_KEY_LENGTH: usize = 32;

/// Parses a PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`) holding an Ed25519 key.
///
/// Refuses other labels (a private key pasted by mistake is named as such), other algorithms,
/// points that are not on the curve and small-order ("weak") keys, for which a signature can
/// verify over many messages.
pub fn parse_public_key_pem(text: &str) -> Result<VerifyingKey, FormatError> {
    let (label, der) = pem::decode_vec(text.trim().as_bytes()).map_err(|e| {
        invalid(format!(
            "not a PEM public key (expected `-----BEGIN {PUBLIC_KEY_LABEL}-----`): {e}"
        ))
    })?;
    if label != PUBLIC_KEY_LABEL {
        let hint = if label.contains("PRIVATE KEY") {
            "; this is a private key, give the public key (`.pub`) instead"
        } else {
            ""
        };
        return Err(invalid(format!(
            "PEM label is `{label}`, expected `{PUBLIC_KEY_LABEL}`{hint}"
        )));
    }
    parse_public_key_der(&der)
}

/// Parses a DER SubjectPublicKeyInfo holding an Ed25519 key; see [`parse_public_key_pem`].
pub fn parse_public_key_der(der: &[u8]) -> Result<VerifyingKey, FormatError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|e| invalid(format!("not a DER SubjectPublicKeyInfo: {e}")))?;
    if spki.algorithm.oid != ED25519_OID {
        return Err(invalid(format!(
            "algorithm {} is not Ed25519 ({ED25519_OID})",
            spki.algorithm.oid
        )));
    }
    if spki.algorithm.parameters.is_some() {
        return Err(invalid(
            "Ed25519 algorithm identifier must not carry parameters (RFC 8410)".to_owned(),
        ));
    }
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("public key bit string has unused bits".to_owned()))?;
    let raw: &[u8; PUBLIC_KEY_LENGTH] = raw.try_into().map_err(|_| {
        invalid(format!(
            "Ed25519 public key is {} bytes, expected {PUBLIC_KEY_LENGTH}",
            raw.len()
        ))
    })?;
    public_key_from_bytes(raw)
}

/// An Ed25519 public key from its 32 raw bytes, refusing invalid points and weak keys.
pub fn public_key_from_bytes(raw: &[u8; PUBLIC_KEY_LENGTH]) -> Result<VerifyingKey, FormatError> {
    let key = VerifyingKey::from_bytes(raw)
        .map_err(|_| invalid("not a valid Ed25519 curve point".to_owned()))?;
    if key.is_weak() {
        return Err(invalid(
            "small-order (weak) Ed25519 key: signatures under it prove nothing".to_owned(),
        ));
    }
    Ok(key)
}

/// The PEM SubjectPublicKeyInfo of a key, `\n` line endings, with a trailing newline.
pub fn encode_public_key_pem(key: &VerifyingKey) -> String {
    // Encoding a fixed-size, valid key into PEM cannot fail; the fallback keeps this infallible
    // without a panic path and writes the same bytes.
    key.to_public_key_pem(LineEnding::LF)
        .unwrap_or_else(|_| manual_pem(key))
}

fn manual_pem(key: &VerifyingKey) -> String {
    use base64::Engine as _;
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(key.as_bytes());
    format!(
        "-----BEGIN {PUBLIC_KEY_LABEL}-----\n{}\n-----END {PUBLIC_KEY_LABEL}-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

/// `sha256:<hex>` of the 32 raw key bytes: the identity of a key in reports and on screen.
///
/// Unlike a `keyid`, which is only a label, two keys have the same fingerprint exactly when they
/// are the same key.
pub fn fingerprint(key: &VerifyingKey) -> String {
    sha256_prefixed(&sha256(key.as_bytes()))
}

/// Lowercase hex of the 32 raw key bytes.
pub fn raw_hex(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

fn invalid(reason: String) -> FormatError {
    FormatError::InvalidPublicKey { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    /// PEM SPKI of arbitrary 32 bytes, valid key or not.
    fn pem_of_raw(raw: &[u8; 32]) -> String {
        use base64::Engine as _;
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(raw);
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    #[test]
    fn pem_round_trips_and_matches_the_rfc_8410_layout() {
        let k = key(7);
        let pem = encode_public_key_pem(&k);
        assert_eq!(pem, manual_pem(&k));
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
        assert_eq!(parse_public_key_pem(&pem).unwrap(), k);
        // Surrounding whitespace, as YAML or JSON editors leave it, is fine.
        assert_eq!(
            parse_public_key_pem(&format!("\n  {pem}\n")).unwrap_or_else(|e| panic!("{e}")),
            k
        );
    }

    #[test]
    fn rfc_8410_example_key_parses() {
        // RFC 8410 §10.1.
        let pem = "-----BEGIN PUBLIC KEY-----\n\
                   MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
                   -----END PUBLIC KEY-----\n";
        let k = parse_public_key_pem(pem).unwrap();
        assert_eq!(
            raw_hex(&k),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
    }

    #[test]
    fn fingerprint_is_sha256_of_the_raw_key() {
        let k = key(1);
        let expected = format!("sha256:{}", hex::encode(sha256(k.as_bytes())));
        assert_eq!(fingerprint(&k), expected);
        assert_ne!(fingerprint(&k), fingerprint(&key(2)));
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point and a point of order 8: both decompress, both are weak.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let order_8 = [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ];
        for raw in [identity, order_8, [0u8; 32]] {
            let err = parse_public_key_pem(&pem_of_raw(&raw)).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("small-order") || message.contains("curve point"),
                "{message}"
            );
        }
        let err = public_key_from_bytes(&identity).unwrap_err();
        assert!(err.to_string().contains("small-order"), "{err}");
    }

    #[test]
    fn other_algorithms_and_labels_are_refused() {
        // An EC P-256 public key (id-ecPublicKey, prime256v1).
        let p256 = "-----BEGIN PUBLIC KEY-----\n\
            MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+uoW+99XwWF2Dep4yll3EvIotGam\n\
            sAuHUWKL0XiEPQrcVVKScQcBl7bxPfUcfpIfSkdCe/0V8+75mFg4jrD6lg==\n\
            -----END PUBLIC KEY-----\n";
        let err = parse_public_key_pem(p256).unwrap_err().to_string();
        assert!(
            err.contains("1.2.840.10045.2.1") && err.contains("not Ed25519"),
            "{err}"
        );

        let private = "-----BEGIN PRIVATE KEY-----\n\
            MC4CAQAwBQYDK2VwBCIEIAs6Ow1fCZS3i83LR1f6zBPqFphL6Ejub0F8P94eG837\n\
            -----END PRIVATE KEY-----\n";
        let err = parse_public_key_pem(private).unwrap_err().to_string();
        assert!(err.contains("private key"), "{err}");

        assert!(parse_public_key_pem("MCowBQYDK2VwAyEA").is_err());
        assert!(parse_public_key_pem("").is_err());
        // X25519 (1.3.101.110) is a different algorithm with the same key length.
        let mut x25519 = pem_of_raw(key(3).as_bytes());
        x25519 = x25519.replace("MCowBQYDK2VwAyEA", "MCowBQYDK2VuAyEA");
        let err = parse_public_key_pem(&x25519).unwrap_err().to_string();
        assert!(err.contains("1.3.101.110"), "{err}");
    }

    #[test]
    fn trailing_der_bytes_are_refused() {
        let k = key(4);
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(k.as_bytes());
        assert!(parse_public_key_der(&der).is_ok());
        der.push(0);
        assert!(parse_public_key_der(&der).is_err());
    }
}
