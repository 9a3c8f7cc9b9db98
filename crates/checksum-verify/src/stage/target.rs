//! Where `--to` points: a `file://` folder or an `s3://bucket/prefix`, and the rules for
//! reaching S3 (an explicit `--endpoint`, credentials from the usual `AWS_*` variables, plain
//! HTTP only to loopback unless allowed).

use super::s3::S3Config;
use std::net::IpAddr;
use std::path::PathBuf;

/// The store named by `--to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local folder (absolute).
    Local { root: PathBuf },
    /// A bucket and a key prefix (no leading or trailing `/`, may be empty).
    S3 { bucket: String, prefix: String },
}

/// Why `--to`, `--endpoint` or the S3 settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// `--to` is not a URL this tool writes to.
    #[error("--to `{url}`: {reason}")]
    Url { url: String, reason: &'static str },
    /// `--endpoint` is not usable.
    #[error("--endpoint `{endpoint}`: {reason}")]
    Endpoint {
        endpoint: String,
        reason: &'static str,
    },
    /// An S3 store without an endpoint: in sealed mode no default endpoint is contacted.
    #[error(
        "--to `{url}`: an s3:// store needs --endpoint URL (no default endpoint is contacted)"
    )]
    NoEndpoint { url: String },
    /// `--endpoint` given for a local store.
    #[error("--endpoint is only used with an s3:// store, not `{url}`")]
    EndpointWithoutS3 { url: String },
    /// A credential variable is not set.
    #[error("{variable} is not set: an s3:// store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (credentials are never fetched from the network)")]
    MissingCredential { variable: &'static str },
}

/// Parses `--to`.
pub fn parse_target(url: &str) -> Result<Target, TargetError> {
    let bad = |reason| TargetError::Url {
        url: url.to_owned(),
        reason,
    };
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !valid_bucket(bucket) {
            return Err(bad(
                "the bucket name must be 3 to 63 characters of a-z, 0-9, `.` and `-`",
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() && prefix.split('/').any(|s| !valid_key_segment(s)) {
            return Err(bad(
                "the prefix must be `/`-separated names, none empty, `.` or `..`, without control characters",
            ));
        }
        return Ok(Target::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        });
    }
    if let Some(rest) = url.strip_prefix("file://") {
        // The URL parser would resolve `..` silently; a store path says what it means.
        if rest
            .split('/')
            .any(|s| s == ".." || s == "." || s.eq_ignore_ascii_case("%2e%2e"))
        {
            return Err(bad("the path must not contain `.` or `..`"));
        }
        let parsed = url::Url::parse(url).map_err(|_| bad("not a valid file:// URL"))?;
        match parsed.host_str() {
            None | Some("") | Some("localhost") => {}
            Some(_) => return Err(bad("a file:// URL names a local folder: no host")),
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad("a file:// URL has no query or fragment"));
        }
        let root = parsed
            .to_file_path()
            .map_err(|()| bad("not an absolute local path"))?;
        return Ok(Target::Local { root });
    }
    Err(bad("expected file:///path or s3://bucket/prefix"))
}

/// Reads an environment variable (a parameter so that tests need not touch the process's).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Everything needed to reach an S3 store: `--endpoint`, `--allow-http` and the `AWS_*`
/// variables read through `env`.
pub fn s3_config(
    bucket: &str,
    prefix: &str,
    endpoint: &str,
    allow_http: bool,
    env: EnvLookup<'_>,
) -> Result<S3Config, TargetError> {
    let bad = |reason| TargetError::Endpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(endpoint).map_err(|_| bad("not a valid URL"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err(bad("no host")),
    };
    let plain = match parsed.scheme() {
        "https" => false,
        "http" => true,
        _ => return Err(bad("expected http:// or https://")),
    };
    if plain && !loopback && !allow_http {
        return Err(bad(
            "plain http is only used to a loopback address; use https or pass --allow-http",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || parsed.path() != "/" {
        return Err(bad("expected scheme://host[:port] only"));
    }
    let nonempty = |name: &str| env(name).filter(|v| !v.is_empty());
    let access_key_id = nonempty("AWS_ACCESS_KEY_ID").ok_or(TargetError::MissingCredential {
        variable: "AWS_ACCESS_KEY_ID",
    })?;
    let secret_access_key =
        nonempty("AWS_SECRET_ACCESS_KEY").ok_or(TargetError::MissingCredential {
            variable: "AWS_SECRET_ACCESS_KEY",
        })?;
    let region = nonempty("AWS_REGION")
        .or_else(|| nonempty("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".to_owned());
    Ok(S3Config {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint: endpoint.trim_end_matches('/').to_owned(),
        allow_http: plain,
        region,
        access_key_id,
        secret_access_key,
        session_token: nonempty("AWS_SESSION_TOKEN"),
    })
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
}

/// One `/`-separated segment of an object key: not empty, `.` or `..`, no control
/// characters, no `/`, no backslash (which some stores and tools read as a separator).
pub fn valid_key_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    const KEYS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "GK0123"),
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
    ];

    #[test]
    fn file_and_s3_urls_parse() {
        assert_eq!(
            parse_target("file:///srv/offline").unwrap(),
            Target::Local {
                root: PathBuf::from("/srv/offline")
            }
        );
        assert_eq!(
            parse_target("file://localhost/srv/my%20store/").unwrap(),
            Target::Local {
                root: PathBuf::from("/srv/my store/")
            }
        );
        assert_eq!(
            parse_target("s3://offline-bundles/site-a/stage/").unwrap(),
            Target::S3 {
                bucket: "offline-bundles".to_owned(),
                prefix: "site-a/stage".to_owned()
            }
        );
        assert_eq!(
            parse_target("s3://bundles").unwrap(),
            Target::S3 {
                bucket: "bundles".to_owned(),
                prefix: String::new()
            }
        );
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for url in [
            "/srv/offline",
            "file://otherhost/srv",
            "file:relative",
            "file:/srv/offline",
            "file:///srv/../etc",
            "s3://UPPER/x",
            "s3://ab/x",
            "s3://bucket/a//b",
            "s3://bucket/a/../b",
            "https://example.invalid/bucket",
        ] {
            let err = parse_target(url).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("--to `{url}`: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn plain_http_is_for_loopback_only_unless_allowed() {
        let env = env(&KEYS);
        for endpoint in [
            "http://127.0.0.1:3900",
            "http://[::1]:3900",
            "http://localhost:3900/",
            "https://s3.site.internal",
        ] {
            s3_config("b", "", endpoint, false, &env).unwrap();
        }
        let err = s3_config("b", "", "http://10.0.0.5:3900", false, &env).unwrap_err();
        assert!(err.to_string().contains("--allow-http"), "{err}");
        let config = s3_config("b", "", "http://10.0.0.5:3900", true, &env).unwrap();
        assert!(config.allow_http);
        for endpoint in [
            "ftp://host",
            "http://user:pw@127.0.0.1:3900",
            "http://127.0.0.1:3900/bucket",
        ] {
            assert!(
                s3_config("b", "", endpoint, false, &env).is_err(),
                "{endpoint}"
            );
        }
    }

    #[test]
    fn credentials_come_from_the_environment_and_never_print() {
        let config = s3_config(
            "b",
            "p",
            "http://127.0.0.1:3900",
            false,
            &env(&[KEYS[0], KEYS[1], ("AWS_REGION", "garage")]),
        )
        .unwrap();
        assert_eq!(config.region, "garage");
        assert!(!format!("{config:?}").contains("s3cr3t"));
        let err =
            s3_config("b", "p", "http://127.0.0.1:3900", false, &env(&KEYS[..1])).unwrap_err();
        assert_eq!(
            err,
            TargetError::MissingCredential {
                variable: "AWS_SECRET_ACCESS_KEY"
            }
        );
        let config = s3_config("b", "p", "http://127.0.0.1:3900", false, &env(&KEYS)).unwrap();
        assert_eq!(config.region, "us-east-1");
    }
}
