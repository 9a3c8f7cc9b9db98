//! `mirror-sign keygen` and `mirror-sign pub`, and how every command loads a key: file modes,
//! refusal to overwrite, encrypted PKCS#8 read back by OpenSSL, wrong passphrases.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test binary: a failed expectation is a failed test"
)]

mod support;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use std::fs;
use support::*;

const PASSPHRASE: &str = "correct horse battery staple";

fn openssl() -> std::path::PathBuf {
    require_tool("openssl", "openssl")
}

#[test]
fn keygen_writes_a_0600_private_key_and_a_public_key_whatever_the_umask() {
    let fx = Fixture::new();
    // A permissive umask must not widen the private key's mode.
    let run = run(command("/bin/sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" keygen --key-id alice-2026 --out \"$1\"")
        .arg(BIN)
        .arg(fx.path("keys")))
    .ok();
    let key = fx.path("keys/alice-2026.key");
    let public = fx.path("keys/alice-2026.pub");
    assert_eq!(mode_of(&key), 0o600);
    assert_eq!(mode_of(&public), 0o644);
    assert_eq!(mode_of(&fx.path("keys")), 0o700, "a made folder is private");

    let out = run.json();
    let public_pem = fs::read_to_string(&public).unwrap();
    assert_eq!(out["keyid"], "alice-2026");
    assert_eq!(out["publicKey"], public_pem.as_str());
    assert_eq!(out["encrypted"], false);
    assert_eq!(out["privateKeyFile"], key.display().to_string());
    assert_eq!(out["publicKeyFile"], public.display().to_string());
    let raw = run_ok_stdout(&["pub", "--format", "raw", "--key"], &key);
    let raw = hex::decode(raw.trim()).unwrap();
    assert_eq!(
        out["fingerprint"],
        format!("sha256:{}", hex::encode(Sha256::digest(&raw)))
    );
    let private = fs::read_to_string(&key).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let secret_line = private.lines().nth(1).unwrap();
    assert!(!run.stdout_text().contains(secret_line));
    assert!(!run.stderr.contains(secret_line));
    assert!(!run.stdout_text().contains("PRIVATE KEY"));
}

fn run_ok_stdout(args: &[&str], key: &std::path::Path) -> String {
    run(mirror_sign().args(args).arg(key)).ok().stdout_text()
}

#[test]
fn keygen_refuses_to_overwrite_and_writes_nothing() {
    let fx = Fixture::new();
    fx.keygen("alice");
    let key_before = fx.read("alice.key");
    let pub_before = fx.read("alice.pub");
    run(mirror_sign()
        .args(["keygen", "--key-id", "alice", "--out"])
        .arg(fx.dir()))
    .code(2)
    .stderr_has(&["mirror-sign: error: ", "alice.key", "already exists"]);
    assert_eq!(fx.read("alice.key"), key_before);
    assert_eq!(fx.read("alice.pub"), pub_before);

    // Only the public half exists: the private key is not written either.
    fx.write("bob.pub", b"keep me\n");
    run(mirror_sign()
        .args(["keygen", "--key-id", "bob", "--out"])
        .arg(fx.dir()))
    .code(2)
    .stderr_has(&["bob.pub", "already exists"]);
    assert!(!fx.path("bob.key").exists());
    assert_eq!(fx.read("bob.pub"), b"keep me\n");

    // Only the private half exists.
    fx.write("carol.key", b"keep me\n");
    run(mirror_sign()
        .args(["keygen", "--key-id", "carol", "--out"])
        .arg(fx.dir()))
    .code(2)
    .stderr_has(&["carol.key"]);
    assert!(!fx.path("carol.pub").exists());
}

#[test]
fn keygen_refuses_key_ids_that_are_not_plain_file_names() {
    let fx = Fixture::new();
    for id in ["../escape", ".hidden", "a/b", "", "two words"] {
        run(mirror_sign()
            .args(["keygen", "--key-id", id, "--out"])
            .arg(fx.path("keys")))
        .code(2)
        .stderr_has(&["key id"]);
    }
    assert!(!fx.path("keys").exists(), "nothing was made");
    assert!(!fx.path("escape.key").exists());
}

#[test]
fn openssl_reads_our_keys_and_we_read_openssls() {
    let openssl = openssl();
    let fx = Fixture::new();
    let key = fx.keygen("alice");
    let public = fx.path("alice.pub");
    run(command(&openssl).args(["pkey", "-noout", "-in"]).arg(&key)).ok();
    run(command(&openssl)
        .args(["pkey", "-pubin", "-noout", "-in"])
        .arg(&public))
    .ok();
    let derived = run(command(&openssl).args(["pkey", "-pubout", "-in"]).arg(&key)).ok();
    assert_eq!(derived.stdout, fx.read("alice.pub"));

    // A key made by OpenSSL, plain and encrypted, is read by every command.
    let plain = fx.path("ossl.key");
    run(command(&openssl)
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&plain))
    .ok();
    set_mode(&plain, 0o600);
    let expected = run(command(&openssl)
        .args(["pkey", "-pubout", "-in"])
        .arg(&plain))
    .ok()
    .stdout;
    assert_eq!(
        run_ok_stdout(&["pub", "--key"], &plain).as_bytes(),
        expected
    );

    let encrypted = fx.path("ossl-enc.key");
    run(command(&openssl)
        .args(["genpkey", "-algorithm", "ed25519", "-aes-256-cbc", "-pass"])
        .arg(format!("pass:{PASSPHRASE}"))
        .arg("-out")
        .arg(&encrypted))
    .ok();
    set_mode(&encrypted, 0o600);
    let expected = run(command(&openssl)
        .args(["pkey", "-pubout", "-passin"])
        .arg(format!("pass:{PASSPHRASE}"))
        .arg("-in")
        .arg(&encrypted))
    .ok()
    .stdout;
    let ours = run(mirror_sign()
        .args(["pub", "--key"])
        .arg(&encrypted)
        .env("MIRROR_SIGN_PASSPHRASE", PASSPHRASE))
    .ok();
    assert_eq!(ours.stdout, expected);
}

#[test]
fn encrypted_key_round_trip() {
    let openssl = openssl();
    let fx = Fixture::new();
    let pass_file = fx.write("pass.txt", format!("{PASSPHRASE}\n").as_bytes());
    let out = run(mirror_sign()
        .args(["keygen", "--key-id", "bob", "--out"])
        .arg(fx.dir())
        .arg("--passphrase-file")
        .arg(&pass_file))
    .ok();
    assert_eq!(out.json()["encrypted"], true);
    assert!(!out.stdout_text().contains(PASSPHRASE));
    let key = fx.path("bob.key");
    assert_eq!(mode_of(&key), 0o600);
    let text = fs::read_to_string(&key).unwrap();
    assert!(
        text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
        "{text}"
    );

    // Standard encrypted PKCS#8: OpenSSL decrypts it with the passphrase (without the newline
    // of the file) and finds the same public key.
    run(command(&openssl)
        .args(["pkey", "-noout", "-passin"])
        .arg(format!("pass:{PASSPHRASE}"))
        .arg("-in")
        .arg(&key))
    .ok();
    let derived = run(command(&openssl)
        .args(["pkey", "-pubout", "-passin"])
        .arg(format!("pass:{PASSPHRASE}"))
        .arg("-in")
        .arg(&key))
    .ok();
    assert_eq!(derived.stdout, fx.read("bob.pub"));
    let listing = run(command(&openssl).args(["asn1parse", "-in"]).arg(&key))
        .ok()
        .stdout_text();
    for algorithm in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
        assert!(
            listing.contains(algorithm),
            "{algorithm} not in:\n{listing}"
        );
    }

    // Each way of giving the passphrase opens it.
    let public = fx.read("bob.pub");
    let by_file = run(mirror_sign()
        .args(["pub", "--key"])
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&pass_file))
    .ok();
    assert_eq!(by_file.stdout, public);
    let by_var = run(mirror_sign()
        .args(["pub", "--passphrase-env", "APPROVER_PASS", "--key"])
        .arg(&key)
        .env("APPROVER_PASS", PASSPHRASE))
    .ok();
    assert_eq!(by_var.stdout, public);
    let by_default_var = run(mirror_sign()
        .args(["pub", "--key"])
        .arg(&key)
        .env("MIRROR_SIGN_PASSPHRASE", PASSPHRASE))
    .ok();
    assert_eq!(by_default_var.stdout, public);

    // And it signs.
    let signed = run_with_stdin(
        mirror_sign()
            .args(["sign", "--key"])
            .arg(&key)
            .env("MIRROR_SIGN_PASSPHRASE", PASSPHRASE),
        &to_json(&manifest("enc")),
    )
    .ok();
    assert_eq!(signed.envelope().signatures.len(), 1);
}

#[test]
fn a_wrong_or_missing_passphrase_is_a_clear_error() {
    let fx = Fixture::new();
    run(mirror_sign()
        .args(["keygen", "--key-id", "bob", "--out"])
        .arg(fx.dir())
        .env("MIRROR_SIGN_PASSPHRASE", PASSPHRASE))
    .ok();
    let key = fx.path("bob.key");
    let input = to_json(&manifest("x"));
    let wrong = run_with_stdin(
        mirror_sign()
            .args(["sign", "--key"])
            .arg(&key)
            .env("MIRROR_SIGN_PASSPHRASE", "not the passphrase"),
        &input,
    )
    .code(2)
    .stderr_has(&["mirror-sign: error: ", "bob.key", "wrong passphrase"]);
    assert!(wrong.stdout.is_empty());
    assert!(!wrong.stderr.contains("not the passphrase"));

    run_with_stdin(mirror_sign().args(["sign", "--key"]).arg(&key), &input)
        .code(2)
        .stderr_has(&["bob.key", "encrypted", "--passphrase-file"]);

    run(mirror_sign()
        .args([
            "pub",
            "--passphrase-env",
            "UNSET_VARIABLE_FOR_TEST",
            "--key",
        ])
        .arg(&key))
    .code(2)
    .stderr_has(&["UNSET_VARIABLE_FOR_TEST", "not set"]);

    let empty = fx.write("empty.txt", b"\n");
    run(mirror_sign()
        .args(["pub", "--key"])
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&empty))
    .code(2)
    .stderr_has(&["empty"]);
}

#[test]
fn a_private_key_others_can_read_is_refused() {
    let fx = Fixture::new();
    let key = fx.keygen("alice");
    let input = to_json(&manifest("x"));
    for mode in [0o644, 0o640, 0o604, 0o660, 0o602] {
        set_mode(&key, mode);
        let refused = run_with_stdin(mirror_sign().args(["sign", "--key"]).arg(&key), &input)
            .code(2)
            .stderr_has(&[
                "alice.key",
                "accessible by group or others",
                &format!("mode {mode:04o}"),
                "chmod 600",
            ]);
        assert!(refused.stdout.is_empty());
        run(mirror_sign().args(["pub", "--key"]).arg(&key)).code(2);
    }
    for mode in [0o600, 0o400] {
        set_mode(&key, mode);
        run_with_stdin(mirror_sign().args(["sign", "--key"]).arg(&key), &input).ok();
    }
    // A public key file is public: its mode does not matter, and it cannot sign.
    let public = fx.path("alice.pub");
    run(mirror_sign().args(["pub", "--key"]).arg(&public)).ok();
    run_with_stdin(mirror_sign().args(["sign", "--key"]).arg(&public), &input)
        .code(2)
        .stderr_has(&["is a public key"]);
}

#[test]
fn pub_prints_pem_raw_and_signify() {
    let fx = Fixture::new();
    let key = fx.seeded_key("alice", 1);
    let pem = run_ok_stdout(&["pub", "--key"], &key);
    assert_eq!(pem, fx.public_pem("alice"));
    assert_eq!(
        run_ok_stdout(&["pub", "--format", "pem", "--key"], &key),
        pem
    );

    let raw = run_ok_stdout(&["pub", "--format", "raw", "--key"], &key);
    let expected = hex::encode(signing_key(1).verifying_key().as_bytes());
    assert_eq!(raw, format!("{expected}\n"));

    let signify = run_ok_stdout(&["pub", "--format", "signify", "--key"], &key);
    let lines: Vec<&str> = signify.lines().collect();
    assert_eq!(lines.len(), 2, "{signify}");
    assert_eq!(lines[0], "untrusted comment: mirror-sign public key alice");
    let bytes = STANDARD.decode(lines[1]).unwrap();
    assert_eq!(bytes.len(), 42);
    assert_eq!(&bytes[..2], b"Ed");
    assert_eq!(&bytes[10..], signing_key(1).verifying_key().as_bytes());

    // The same from the public key file.
    assert_eq!(run_ok_stdout(&["pub", "--key"], &fx.path("alice.pub")), pem);
    run(mirror_sign()
        .args(["pub", "--format", "ssh", "--key"])
        .arg(&key))
    .code(2);
}

#[test]
fn files_that_are_not_ed25519_keys_are_refused() {
    let openssl = openssl();
    let fx = Fixture::new();
    let ec = fx.path("ec.key");
    run(command(&openssl)
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&ec))
    .ok();
    set_mode(&ec, 0o600);
    run(mirror_sign().args(["pub", "--key"]).arg(&ec))
        .code(2)
        .stderr_has(&["ec.key", "not Ed25519"]);

    let junk = fx.write(
        "junk.key",
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA alice\n",
    );
    set_mode(&junk, 0o600);
    run(mirror_sign().args(["pub", "--key"]).arg(&junk))
        .code(2)
        .stderr_has(&["junk.key", "not a PEM key file"]);
    run(mirror_sign()
        .args(["pub", "--key"])
        .arg(fx.path("missing.key")))
    .code(2)
    .stderr_has(&["missing.key"]);
}
