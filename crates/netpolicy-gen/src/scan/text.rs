//! Recognising endpoints in one line of configuration text: URLs, addresses, `host:port`,
//! image registries and the values of endpoint-named keys, with the key each belongs to.

use super::Kind;
use serde::Serialize;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// The syntax of a file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
    Toml,
    Ini,
    Env,
    Unknown,
}

impl Syntax {
    /// `*.yaml`/`*.yml`, `*.json`, `*.toml`, `*.ini`/`*.cfg`/`*.conf`, `*.env`, `.env` and
    /// `.env.*`.
    pub fn of(path: &Path) -> Syntax {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name == ".env" || name.starts_with(".env.") {
            return Syntax::Env;
        }
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("yaml" | "yml") => Syntax::Yaml,
            Some("json") => Syntax::Json,
            Some("toml") => Syntax::Toml,
            Some("ini" | "cfg" | "conf") => Syntax::Ini,
            Some("env") => Syntax::Env,
            _ => Syntax::Unknown,
        }
    }
}

/// How an endpoint was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// The host of `scheme://host`.
    Url,
    /// `name.tld:port`.
    HostPort,
    /// The registry of a container image reference.
    Image,
    /// The value of a key named for an endpoint.
    Key,
    /// An IP address or network anywhere outside a comment.
    Address,
}

/// An endpoint found on a line, before the allow-list is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1-based, in characters.
    pub column: usize,
    pub kind: Kind,
    pub value: String,
    pub context: Context,
    pub key: Option<String>,
}

/// The keys enclosing the current line, by indentation (YAML, pretty JSON, multi-line TOML
/// arrays).
#[derive(Debug, Default)]
pub struct KeyScope {
    stack: Vec<(usize, String)>,
}

/// Words that make a key name an endpoint (`DB_HOST`, `serverUrl`, `upstreams`, …).
const ENDPOINT_WORDS: &[&str] = &[
    "addr",
    "address",
    "addresses",
    "authority",
    "broker",
    "brokers",
    "domain",
    "domains",
    "dsn",
    "endpoint",
    "endpoints",
    "fqdn",
    "host",
    "hostname",
    "hostnames",
    "hosts",
    "issuer",
    "mirror",
    "mirrors",
    "nameserver",
    "nameservers",
    "ntp",
    "origin",
    "origins",
    "peer",
    "peers",
    "proxy",
    "registries",
    "registry",
    "remote",
    "remotes",
    "resolver",
    "resolvers",
    "server",
    "servers",
    "smtp",
    "target",
    "targets",
    "upstream",
    "upstreams",
    "uri",
    "uris",
    "url",
    "urls",
    "webhook",
];

/// Last labels that are file extensions, never delegated top-level domains.
const NOT_TLDS: &[&str] = &[
    "bak", "cfg", "conf", "crt", "csv", "env", "gz", "html", "ini", "json", "lock", "log", "pem",
    "tar", "tgz", "tmp", "toml", "txt", "xml", "yaml", "yml",
];

/// True for a host name: dot-separated labels of letters, digits and `-` (not at either end),
/// 1-63 characters each, 253 in all.
pub fn is_dns_name(s: &str) -> bool {
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

/// True for a name with at least two labels whose last label could be a top-level domain
/// (letters only, two or more, not a file extension).
fn is_qualified_name(s: &str) -> bool {
    let Some((_, tld)) = s.rsplit_once('.') else {
        return false;
    };
    is_dns_name(s)
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && !NOT_TLDS.contains(&tld.to_ascii_lowercase().as_str())
}

/// Splits a key into lowercase words: `DB_HOST` → db, host; `serverUrl` → server, url.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// What a key says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRole {
    Endpoint,
    Image,
    /// Helm's `image.repository`: an image reference that may name its registry, or leave
    /// it to a sibling `registry` key (so no registry is *not* docker.io).
    Repository,
    Version,
    /// `NO_PROXY`: names that are *not* sent through the proxy.
    NoProxy,
    Other,
}

fn role(key: &str) -> KeyRole {
    let words = key_words(key);
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("no") && has("proxy") {
        KeyRole::NoProxy
    } else if has("version") {
        KeyRole::Version
    } else if words.last().is_some_and(|w| w == "image") {
        KeyRole::Image
    } else if words.last().is_some_and(|w| w == "repository") {
        KeyRole::Repository
    } else if words.iter().any(|w| ENDPOINT_WORDS.contains(&w.as_str())) {
        KeyRole::Endpoint
    } else {
        KeyRole::Other
    }
}

/// A key on the line: where its value starts (byte offset) and the key.
#[derive(Debug, Clone)]
struct KeyMark {
    start: usize,
    value_at: usize,
    key: String,
}

/// The line without its comment (`#`, or `;` in INI, after a blank or at the start, outside
/// quotes); JSON has no comments.
fn strip_comment(line: &str, syntax: Syntax) -> &str {
    if syntax == Syntax::Json {
        return line;
    }
    let mut quote: Option<char> = None;
    let mut prev_blank = true;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if (c == '#' || (c == ';' && syntax == Syntax::Ini)) && prev_blank => {
                return &line[..i]
            }
            None if c == '"' || (c == '\'' && prev_blank) => quote = Some(c),
            None => {}
        }
        prev_blank = c == ' ' || c == '\t';
    }
    line
}

/// The keys written on the line.
fn key_marks(line: &str, syntax: Syntax) -> Vec<KeyMark> {
    let bytes = line.as_bytes();
    let mut marks = Vec::new();
    match syntax {
        Syntax::Yaml | Syntax::Json => {
            let mut quote: Option<u8> = None;
            let mut quote_start = 0;
            let mut last_quoted: Option<(usize, usize)> = None;
            for (i, &b) in bytes.iter().enumerate() {
                match quote {
                    Some(q) if b == q => {
                        quote = None;
                        last_quoted = Some((quote_start, i));
                        continue;
                    }
                    Some(_) => continue,
                    None if b == b'"' || b == b'\'' => {
                        quote = Some(b);
                        quote_start = i;
                        continue;
                    }
                    None => {}
                }
                if b != b':' || !bytes.get(i + 1).is_none_or(|n| *n == b' ' || *n == b'\t') {
                    continue;
                }
                let (start, key) = match last_quoted {
                    Some((s, e)) if e + 1 == i => (s, &line[s + 1..e]),
                    _ => {
                        let start = line[..i]
                            .rfind([' ', '\t', '{', ',', '['])
                            .map_or(0, |p| p + 1);
                        (start, &line[start..i])
                    }
                };
                if !key.is_empty() && key != "-" {
                    marks.push(KeyMark {
                        start,
                        value_at: i + 1,
                        key: key.to_string(),
                    });
                }
            }
        }
        Syntax::Toml | Syntax::Ini | Syntax::Env => {
            let mut quote: Option<u8> = None;
            for (i, &b) in bytes.iter().enumerate() {
                match quote {
                    Some(q) if b == q => quote = None,
                    Some(_) => {}
                    None if b == b'"' || b == b'\'' => quote = Some(b),
                    None if b == b'='
                        && bytes.get(i + 1) != Some(&b'=')
                        && i > 0
                        && bytes[i - 1] != b'=' =>
                    {
                        let before = line[..i].trim_end();
                        let start = before.rfind([' ', '\t', '{', ',']).map_or(0, |p| p + 1);
                        let key = before[start..].trim_matches(|c| c == '"' || c == '\'');
                        if !key.is_empty() {
                            marks.push(KeyMark {
                                start,
                                value_at: i + 1,
                                key: key.to_string(),
                            });
                        }
                        if syntax != Syntax::Toml {
                            break;
                        }
                    }
                    None => {}
                }
            }
        }
        Syntax::Unknown => {}
    }
    marks
}

impl KeyScope {
    /// Updates the scope with `line` (comment already stripped); returns the enclosing key.
    fn update(&mut self, line: &str, syntax: Syntax, marks: &[KeyMark]) -> Option<String> {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            return self.stack.last().map(|(_, k)| k.clone());
        }
        if matches!(syntax, Syntax::Toml | Syntax::Ini)
            && trimmed.starts_with('[')
            && marks.is_empty()
        {
            self.stack.clear();
            return None;
        }
        let indent = line.len() - trimmed.len();
        let item = trimmed == "-" || trimmed.starts_with("- ");
        let leading = marks.first().filter(|m| {
            let before = line[..m.start].trim();
            before.is_empty() || before == "-" || before == "{" || before == "\""
        });
        match leading {
            Some(mark) => {
                let at = mark.start;
                while self.stack.last().is_some_and(|(i, _)| *i >= at) {
                    self.stack.pop();
                }
                let parent = self.stack.last().map(|(_, k)| k.clone());
                self.stack.push((at, mark.key.clone()));
                parent
            }
            None => {
                while self
                    .stack
                    .last()
                    .is_some_and(|(i, _)| *i > indent || (*i == indent && !item))
                {
                    self.stack.pop();
                }
                self.stack.last().map(|(_, k)| k.clone())
            }
        }
    }
}

/// The endpoints of one line. `scope` carries the enclosing keys from line to line.
pub fn candidates(line: &str, syntax: Syntax, scope: &mut KeyScope) -> Vec<Candidate> {
    let trimmed = line.trim_start();
    let full_comment = match syntax {
        Syntax::Json => false,
        Syntax::Ini => trimmed.starts_with('#') || trimmed.starts_with(';'),
        _ => trimmed.starts_with('#'),
    };
    if full_comment {
        return Vec::new();
    }
    let content = strip_comment(line, syntax);
    let marks = key_marks(content, syntax);
    let parent = scope.update(content, syntax, &marks);
    // The key a byte offset belongs to: the last key before it on the line, else the
    // enclosing one.
    let key_at = |at: usize| -> Option<String> {
        marks
            .iter()
            .rev()
            .find(|m| m.value_at <= at)
            .map(|m| m.key.clone())
            .or_else(|| parent.clone())
    };
    let mut found: Vec<(usize, usize, Candidate)> = Vec::new();
    let column = |at: usize| content[..at].chars().count() + 1;
    let taken = |found: &[(usize, usize, Candidate)], s: usize, e: usize| {
        found.iter().any(|(a, b, _)| s < *b && *a < e)
    };

    // 1. URLs.
    let mut search = 0;
    while let Some(p) = content[search..].find("://") {
        let sep = search + p;
        search = sep + 3;
        let scheme_start = content[..sep]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        if scheme_start == sep
            || !content[scheme_start..].starts_with(|c: char| c.is_ascii_alphabetic())
        {
            continue;
        }
        let rest = &content[sep + 3..];
        let end = rest
            .find(|c: char| "/?#\"'` \t,;<>(){}|\\".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let host_part = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host_offset = sep + 3 + (authority.len() - host_part.len());
        let host = if let Some(v6) = host_part.strip_prefix('[') {
            v6.split_once(']').map(|(h, _)| h).unwrap_or("")
        } else {
            host_part.split(':').next().unwrap_or("")
        };
        let url_end = sep + 3 + end;
        if host.is_empty() || host.contains(['$', '%', '{']) {
            found.push((scheme_start, url_end, skip()));
            continue;
        }
        let host_lower = host.trim_end_matches('.').to_ascii_lowercase();
        let kind =
            if host_lower.parse::<Ipv4Addr>().is_ok() || host_lower.parse::<Ipv6Addr>().is_ok() {
                Some(Kind::Ip)
            } else if is_dns_name(&host_lower) {
                Some(Kind::Host)
            } else {
                None
            };
        let candidate = match kind {
            Some(kind) => Candidate {
                column: column(host_offset),
                kind,
                value: host_lower,
                context: Context::Url,
                key: key_at(scheme_start),
            },
            None => skip(),
        };
        found.push((scheme_start, url_end, candidate));
    }

    // 2. IPv4 addresses and networks.
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let boundary_before = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'.' | b'_'));
        if !bytes[i].is_ascii_digit() || !boundary_before {
            i += 1;
            continue;
        }
        let Some((addr, mut end)) = ipv4_at(content, i) else {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                i += 1;
            }
            continue;
        };
        let mut value = addr.to_string();
        let mut kind = Kind::Ip;
        if let Some(prefix) = prefix_at(content, end, 32) {
            value = format!("{addr}/{}", prefix.0);
            kind = Kind::Cidr;
            end = prefix.1;
        }
        let start = i;
        i = end;
        if taken(&found, start, end) {
            continue;
        }
        // A dotted quad that is a version is not an address: the value of a `*version*` key,
        // or an image tag (`name:1.2.3.4`, no blank before the colon).
        let key = key_at(start);
        let tag = start >= 2
            && bytes[start - 1] == b':'
            && bytes[start - 2].is_ascii_alphanumeric()
            && !content[..start - 1].ends_with(|c: char| c.is_ascii_digit());
        let is_version = key.as_deref().is_some_and(|k| role(k) == KeyRole::Version) || tag;
        let candidate = if is_version {
            skip()
        } else {
            Candidate {
                column: column(start),
                kind,
                value,
                context: Context::Address,
                key,
            }
        };
        found.push((start, end, candidate));
    }

    // 3. IPv6 addresses and networks.
    let mut i = 0;
    while i < bytes.len() {
        let is_v6 = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
        if !is_v6(bytes[i])
            || (i > 0
                && (bytes[i - 1].is_ascii_alphanumeric()
                    || matches!(bytes[i - 1], b':' | b'.' | b'_' | b'-')))
        {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && is_v6(bytes[end]) {
            end += 1;
        }
        i = end.max(start + 1);
        let after_ok = end == bytes.len()
            || !(bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'-' | b'%'));
        let run = content[start..end].trim_end_matches(['.', ':']);
        let run = if content[start..end].ends_with("::") {
            &content[start..end]
        } else {
            run
        };
        if !after_ok || run.matches(':').count() < 2 {
            continue;
        }
        let Ok(addr) = run.parse::<Ipv6Addr>() else {
            continue;
        };
        let mut stop = start + run.len();
        let mut value = addr.to_string();
        let mut kind = Kind::Ip;
        if let Some((prefix, e)) = prefix_at(content, stop, 128) {
            value = format!("{addr}/{prefix}");
            kind = Kind::Cidr;
            stop = e;
        }
        if taken(&found, start, stop) {
            continue;
        }
        let key = key_at(start);
        found.push((
            start,
            stop,
            Candidate {
                column: column(start),
                kind,
                value,
                context: Context::Address,
                key,
            },
        ));
    }

    // 4. Words: `name.tld:port`, image registries, endpoint-key values.
    let word_char = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '.' | '-' | '_' | ':' | '/' | '@' | '$' | '{' | '}')
    };
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in content.char_indices() {
        match (word_char(c), word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = word_start {
        words.push((s, content.len()));
    }
    for (start, end) in words {
        let piece = &content[start..end];
        // A YAML/JSON key itself is not a value.
        if marks.iter().any(|m| m.start <= start && end <= m.value_at) {
            continue;
        }
        let key = key_at(start);
        let key_role = key.as_deref().map_or(KeyRole::Other, role);
        // An image reference is read whole, even when its tag looks like an address.
        let in_url = found
            .iter()
            .any(|(a, b, c)| start < *b && *a < end && c.context == Context::Url);
        let image_like = matches!(key_role, KeyRole::Image | KeyRole::Repository);
        if image_like && !in_url && !piece.contains(['$', '{']) {
            let registry = image_registry(piece).filter(|r| {
                key_role == KeyRole::Image || r != "docker.io" || piece.starts_with("docker.io/")
            });
            if let Some(registry) = registry {
                // A registry given by address was reported as an address already.
                if registry.parse::<Ipv4Addr>().is_ok() {
                    continue;
                }
                found.push((
                    start,
                    end,
                    Candidate {
                        column: column(start),
                        kind: Kind::Host,
                        value: registry,
                        context: Context::Image,
                        key,
                    },
                ));
                continue;
            }
        }
        if taken(&found, start, end) {
            continue;
        }
        // name.tld:port
        if let Some((name, port)) = piece.split_once(':') {
            let port = port.split('/').next().unwrap_or("");
            let name = name.trim_end_matches('.');
            if !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && !name.contains('@')
                && is_qualified_name(name)
            {
                found.push((
                    start,
                    end,
                    Candidate {
                        column: column(start),
                        kind: Kind::Host,
                        value: name.to_ascii_lowercase(),
                        context: Context::HostPort,
                        key,
                    },
                ));
                continue;
            }
        }
        if key_role == KeyRole::Endpoint && !piece.contains(['@', '/', '$', '{']) {
            let name = piece.split(':').next().unwrap_or("").trim_end_matches('.');
            if is_qualified_name(name) {
                found.push((
                    start,
                    end,
                    Candidate {
                        column: column(start),
                        kind: Kind::Host,
                        value: name.to_ascii_lowercase(),
                        context: Context::Key,
                        key,
                    },
                ));
            }
        }
    }

    let mut out: Vec<Candidate> = found
        .into_iter()
        .map(|(_, _, c)| c)
        .filter(|c| !c.value.is_empty())
        .collect();
    out.sort_by_key(|c| c.column);
    out
}

/// A placeholder that claims its span without reporting anything.
fn skip() -> Candidate {
    Candidate {
        column: 0,
        kind: Kind::Host,
        value: String::new(),
        context: Context::Address,
        key: None,
    }
}

/// An IPv4 address in canonical dotted-quad form at byte `i`, and where it ends.
fn ipv4_at(s: &str, i: usize) -> Option<(Ipv4Addr, usize)> {
    let bytes = s.as_bytes();
    let mut octets = [0u8; 4];
    let mut p = i;
    for (n, octet) in octets.iter_mut().enumerate() {
        let begin = p;
        while p < bytes.len() && bytes[p].is_ascii_digit() && p - begin < 4 {
            p += 1;
        }
        let digits = &s[begin..p];
        if digits.is_empty() || digits.len() > 3 || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        *octet = digits.parse().ok()?;
        if n < 3 {
            if bytes.get(p) != Some(&b'.') {
                return None;
            }
            p += 1;
        }
    }
    // Not followed by more of a name or number (`1.2.3.4.5`, `1.2.3.4a`).
    let next = bytes.get(p).copied();
    let after = bytes.get(p + 1).copied();
    if next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        || (next == Some(b'.') && after.is_some_and(|b| b.is_ascii_alphanumeric()))
    {
        return None;
    }
    Some((Ipv4Addr::from(octets), p))
}

/// `/N` (N ≤ `max`) at byte `i`, and where it ends.
fn prefix_at(s: &str, i: usize, max: u8) -> Option<(u8, usize)> {
    let rest = s.get(i..)?.strip_prefix('/')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let next = rest[digits.len()..].chars().next();
    if next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
        return None;
    }
    let n: u8 = digits.parse().ok()?;
    (n <= max).then_some((n, i + 1 + digits.len()))
}

/// The registry a container image reference pulls from (Docker's rule: the first path
/// component when it holds a `.` or `:` or is `localhost`, else `docker.io`); `None` when
/// `s` is not an image reference.
fn image_registry(s: &str) -> Option<String> {
    let name = s.split('@').next()?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b':'))
    {
        return None;
    }
    match name.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            let host = first.split(':').next()?.to_ascii_lowercase();
            (is_dns_name(&host) || host.parse::<Ipv4Addr>().is_ok()).then_some(host)
        }
        _ => {
            // `name[:tag]` or `org/name[:tag]` from Docker Hub.
            let repo = name.split(':').next()?;
            (!repo.is_empty()
                && repo.split('/').all(|c| {
                    !c.is_empty()
                        && c.bytes().all(|b| {
                            b.is_ascii_lowercase()
                                || b.is_ascii_digit()
                                || matches!(b, b'.' | b'-' | b'_')
                        })
                }))
            .then(|| "docker.io".to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, syntax: Syntax) -> Vec<(usize, usize, String, Context, Option<String>)> {
        let mut scope = KeyScope::default();
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            for c in candidates(line, syntax, &mut scope) {
                out.push((n + 1, c.column, c.value, c.context, c.key));
            }
        }
        out
    }

    fn values(text: &str, syntax: Syntax) -> Vec<String> {
        scan(text, syntax).into_iter().map(|c| c.2).collect()
    }

    #[test]
    fn urls_give_their_host_with_line_and_column() {
        let got = scan(
            "a: 1\nmirror: \"https://user:pw@Mirror.Example.org:8443/feeds?x=1\"\n",
            Syntax::Yaml,
        );
        assert_eq!(
            got,
            vec![(
                2,
                26,
                "mirror.example.org".into(),
                Context::Url,
                Some("mirror".into())
            )]
        );
        assert_eq!(
            values("u: http://[fd00::5]:80/x", Syntax::Yaml),
            vec!["fd00::5"]
        );
        assert_eq!(
            values("u: http://10.1.2.3:80/x", Syntax::Yaml),
            vec!["10.1.2.3"]
        );
        // No host, or a template: nothing.
        assert!(values("u: file:///srv/offline", Syntax::Yaml).is_empty());
        assert!(values("u: https://${HOST}/x", Syntax::Yaml).is_empty());
    }

    #[test]
    fn addresses_are_found_anywhere_but_in_comments() {
        assert_eq!(
            values("DNS=10.96.0.10,fd00:96::a # 8.8.8.8\n", Syntax::Env),
            vec!["10.96.0.10", "fd00:96::a"]
        );
        assert!(values("# upstream 8.8.8.8\n", Syntax::Yaml).is_empty());
        assert!(values("; 8.8.8.8\n", Syntax::Ini).is_empty());
        assert_eq!(
            values("{\"a\": \"1.1.1.1\"} \n", Syntax::Json),
            vec!["1.1.1.1"]
        );
        assert_eq!(
            values("nets: [10.0.0.0/8]", Syntax::Yaml),
            vec!["10.0.0.0/8"]
        );
        assert_eq!(
            values("n: 2001:db8::/32", Syntax::Yaml),
            vec!["2001:db8::/32"]
        );
        // A quoted `#` is not a comment.
        assert_eq!(values("a: \"x #1 9.9.9.9\"", Syntax::Yaml), vec!["9.9.9.9"]);
    }

    #[test]
    fn things_that_only_look_like_addresses_are_not() {
        for text in [
            "version: 1.2.3.4",
            "appVersion: \"10.0.0.1\"",
            "image: app:1.2.3.4",
            "x: 1.2.3.4.5",
            "x: 1.2.3.400",
            "x: 01.2.3.4",
            "at: 12:30:45",
            "mac: aa:bb:cc:dd:ee:ff",
            "x: v1.2.3.4",
        ] {
            let got = values(text, Syntax::Yaml);
            assert!(got.iter().all(|v| v == "docker.io"), "{text}: {got:?}");
        }
    }

    #[test]
    fn host_names_need_an_endpoint_context() {
        // Endpoint keys, including lists under them and camelCase / SCREAMING_CASE names.
        let yaml = "db:\n  host: db.corp.example.net\nupstreamServers:\n  - a.ntp.org\n  - b.ntp.org:123\nname: web.frontend\nlabels:\n  app.kubernetes.io/name: x\n";
        assert_eq!(
            scan(yaml, Syntax::Yaml)
                .into_iter()
                .map(|c| (c.0, c.2, c.3))
                .collect::<Vec<_>>(),
            vec![
                (2, "db.corp.example.net".into(), Context::Key),
                (4, "a.ntp.org".into(), Context::Key),
                (5, "b.ntp.org".into(), Context::HostPort),
            ]
        );
        assert_eq!(
            values("DB_HOST=pg.internal.corp", Syntax::Env),
            vec!["pg.internal.corp"]
        );
        assert_eq!(
            values("[s]\nserver = ntp.site.lan", Syntax::Ini),
            vec!["ntp.site.lan"]
        );
        assert_eq!(
            values("endpoint = \"s3.eu-west-1.amazonaws.com\"", Syntax::Toml),
            vec!["s3.eu-west-1.amazonaws.com"]
        );
        // `name.tld:port` anywhere.
        assert_eq!(
            values("args: [--peer=etcd.corp.io:2379]", Syntax::Yaml),
            vec!["etcd.corp.io"]
        );
        // NO_PROXY lists names that bypass the proxy; file names are not hosts.
        assert!(values("NO_PROXY=.svc,registry.corp.io", Syntax::Env).is_empty());
        assert!(values("server: config.yaml", Syntax::Yaml).is_empty());
    }

    #[test]
    fn image_references_name_their_registry() {
        assert_eq!(
            scan(
                "    image: registry.sealed.local/stellaops/scanner:2026.11.0",
                Syntax::Yaml
            )
            .into_iter()
            .map(|c| (c.2, c.3))
            .collect::<Vec<_>>(),
            vec![("registry.sealed.local".into(), Context::Image)]
        );
        assert_eq!(values("image: nginx:1.25", Syntax::Yaml), vec!["docker.io"]);
        assert_eq!(
            values("image: localhost:5000/x", Syntax::Yaml),
            vec!["localhost"]
        );
        assert_eq!(
            values("image:\n  repository: quay.io/org/app", Syntax::Yaml),
            vec!["quay.io"]
        );
        // Helm's split form: the registry is a sibling key, not Docker Hub.
        assert_eq!(
            values(
                "image:\n  registry: r.corp.io\n  repository: org/app",
                Syntax::Yaml
            ),
            vec!["r.corp.io"]
        );
        assert!(values("image: \"{{ .Values.image }}\"", Syntax::Yaml).is_empty());
    }

    #[test]
    fn keys_come_from_the_line_or_the_enclosing_block() {
        let got = scan(
            "{\n  \"servers\": [\n    \"ntp.a.org\"\n  ],\n  \"x\": \"ntp.b.org\"\n}\n",
            Syntax::Json,
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].4.as_deref(), Some("servers"));
    }

    #[test]
    fn syntax_from_file_names() {
        assert_eq!(Syntax::of(Path::new("a/.env")), Syntax::Env);
        assert_eq!(Syntax::of(Path::new(".env.production")), Syntax::Env);
        assert_eq!(Syntax::of(Path::new("x.YML")), Syntax::Yaml);
        assert_eq!(Syntax::of(Path::new("app.conf")), Syntax::Ini);
        assert_eq!(Syntax::of(Path::new("Makefile")), Syntax::Unknown);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the characters the scanner cares about, and some that are several bytes.
    fn config_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("http://".to_string()),
                Just("[".to_string()),
                Just("]".to_string()),
                Just("::".to_string()),
                Just("image: ".to_string()),
                Just("host=".to_string()),
                Just("# ".to_string()),
                Just("\"".to_string()),
                Just("'".to_string()),
                Just("é".to_string()),
                Just("名".to_string()),
                "[0-9a-f.:/@ ${}=,-]{0,12}",
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn candidates_never_panic_and_columns_point_into_the_line(lines in proptest::collection::vec(config_text(), 1..6)) {
            for syntax in [Syntax::Yaml, Syntax::Json, Syntax::Toml, Syntax::Ini, Syntax::Env] {
                let mut scope = KeyScope::default();
                for line in &lines {
                    for c in candidates(line, syntax, &mut scope) {
                        prop_assert!(c.column >= 1 && c.column <= line.chars().count() + 1);
                        prop_assert!(!c.value.is_empty());
                    }
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(line in "\\PC{0,80}") {
            let mut scope = KeyScope::default();
            for syntax in [Syntax::Yaml, Syntax::Json, Syntax::Toml, Syntax::Ini, Syntax::Env] {
                let _ = candidates(&line, syntax, &mut scope);
            }
        }
    }
}
