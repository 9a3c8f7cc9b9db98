//! The digests a run checks (`--algo`), hashing bytes once with each, comparing in constant
//! time, and hashing many files on several threads.

use offline_formats::digest::{ct_eq, parse_hex32};
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Read buffer of one hashing worker: large enough that a read is a few system calls per
/// MiB, small enough that every worker's buffer together stays far below the RSS bar.
const READ_BUFFER: usize = 256 * 1024;

/// `--algo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlgoArg {
    /// SHA-256 only.
    Sha256,
    /// BLAKE3 only.
    Blake3,
    /// SHA-256 and BLAKE3.
    Both,
}

/// One digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algo {
    Sha256,
    Blake3,
}

impl Algo {
    /// The name used in reports (`sha256:<hex>`) and messages.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Blake3 => "blake3",
        }
    }
}

/// Which digests are computed and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algos {
    pub sha256: bool,
    pub blake3: bool,
}

impl Algos {
    /// Both digests.
    pub const BOTH: Algos = Algos {
        sha256: true,
        blake3: true,
    };

    /// The digests `--algo` names; without it, every digest the manifest carries (a bundle
    /// manifest carries both), SHA-256 first.
    pub fn from_arg(arg: Option<AlgoArg>) -> Algos {
        match arg {
            Some(AlgoArg::Sha256) => Algos::only(Algo::Sha256),
            Some(AlgoArg::Blake3) => Algos::only(Algo::Blake3),
            Some(AlgoArg::Both) | None => Algos::BOTH,
        }
    }

    /// One digest.
    pub fn only(algo: Algo) -> Algos {
        Algos {
            sha256: algo == Algo::Sha256,
            blake3: algo == Algo::Blake3,
        }
    }

    /// The selected algorithms in the order they are compared (SHA-256 first).
    pub fn list(self) -> impl Iterator<Item = Algo> {
        [
            self.sha256.then_some(Algo::Sha256),
            self.blake3.then_some(Algo::Blake3),
        ]
        .into_iter()
        .flatten()
    }
}

/// Hashes one byte stream with the selected digests.
#[derive(Debug, Clone)]
pub struct ContentHasher {
    sha256: Option<Sha256>,
    blake3: Option<blake3::Hasher>,
    size: u64,
}

/// The digests of one byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentDigests {
    pub sha256: Option<[u8; 32]>,
    pub blake3: Option<[u8; 32]>,
    pub size: u64,
}

impl ContentHasher {
    /// A hasher that has seen nothing.
    pub fn new(algos: Algos) -> Self {
        Self {
            sha256: algos.sha256.then(Sha256::new),
            blake3: algos.blake3.then(blake3::Hasher::new),
            size: 0,
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.blake3 {
            h.update(bytes);
        }
        self.size += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Finishes every digest.
    pub fn finish(self) -> ContentDigests {
        ContentDigests {
            sha256: self.sha256.map(|h| h.finalize().into()),
            blake3: self.blake3.map(|h| *h.finalize().as_bytes()),
            size: self.size,
        }
    }
}

impl ContentDigests {
    /// The digest computed with `algo`, if it was.
    pub fn get(&self, algo: Algo) -> Option<&[u8; 32]> {
        match algo {
            Algo::Sha256 => self.sha256.as_ref(),
            Algo::Blake3 => self.blake3.as_ref(),
        }
    }
}

/// A digest that differs from the one expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestMismatch {
    /// `<algo>:<hex>` expected.
    pub expected: String,
    /// `<algo>:<hex>` computed.
    pub actual: String,
}

/// Compares `digests` with the expected lowercase hex digests, in constant time, SHA-256
/// first; returns the first that differs. An expected value that is not 64 hex digits never
/// matches (manifests are checked for that before anything is hashed).
pub fn compare(
    digests: &ContentDigests,
    expected: impl Fn(Algo) -> Option<[u8; 32]>,
) -> Option<DigestMismatch> {
    for algo in [Algo::Sha256, Algo::Blake3] {
        let Some(actual) = digests.get(algo) else {
            continue;
        };
        let want = expected(algo);
        let matches = want.is_some_and(|want| ct_eq(&want, actual));
        if !matches {
            return Some(DigestMismatch {
                expected: want.map_or_else(
                    || format!("{}:(not a digest)", algo.name()),
                    |w| format!("{}:{}", algo.name(), hex::encode(w)),
                ),
                actual: format!("{}:{}", algo.name(), hex::encode(actual)),
            });
        }
    }
    None
}

/// Parses a manifest's hex digest, `None` when it is not 64 lowercase hex digits.
pub fn parse_digest(hex_digest: &str) -> Option<[u8; 32]> {
    parse_hex32(hex_digest).ok()
}

/// A file to hash.
#[derive(Debug, Clone)]
pub struct FileJob {
    /// Where to read it.
    pub path: PathBuf,
    /// Its size when listed, used only to hash the largest files first.
    pub size_hint: u64,
}

/// Hashes every file with `algos` on `jobs` threads, largest first (so that one big file
/// does not start last and leave the other threads idle), and returns the results in the
/// order of `files`. Each file is read once, front to back, through one buffer per thread.
pub fn hash_files(files: &[FileJob], algos: Algos, jobs: usize) -> Vec<io::Result<ContentDigests>> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[b].size_hint.cmp(&files[a].size_hint).then(a.cmp(&b)));
    let jobs = jobs.clamp(1, files.len().max(1));
    if jobs == 1 {
        let mut buffer = vec![0u8; READ_BUFFER];
        let mut results: Vec<Option<io::Result<ContentDigests>>> =
            (0..files.len()).map(|_| None).collect();
        for &i in &order {
            results[i] = Some(hash_file(&files[i], algos, &mut buffer));
        }
        return results.into_iter().map(finished).collect();
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, order) = (&next, &order);
            scope.spawn(move || {
                let mut buffer = vec![0u8; READ_BUFFER];
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    if tx
                        .send((i, hash_file(&files[i], algos, &mut buffer)))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    drop(tx);
    let mut results: Vec<Option<io::Result<ContentDigests>>> =
        (0..files.len()).map(|_| None).collect();
    for (i, result) in rx {
        results[i] = Some(result);
    }
    results.into_iter().map(finished).collect()
}

fn finished(result: Option<io::Result<ContentDigests>>) -> io::Result<ContentDigests> {
    result.unwrap_or_else(|| Err(io::Error::other("a hashing thread stopped early")))
}

fn hash_file(job: &FileJob, algos: Algos, buffer: &mut [u8]) -> io::Result<ContentDigests> {
    let mut file = File::open(&job.path)?;
    let mut hasher = ContentHasher::new(algos);
    loop {
        let n = match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_BLAKE3: &str = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85";

    #[test]
    fn known_vectors_and_selection() {
        let mut h = ContentHasher::new(Algos::BOTH);
        h.update(b"ab");
        h.update(b"c");
        let d = h.finish();
        assert_eq!(hex::encode(d.sha256.unwrap()), ABC_SHA256);
        assert_eq!(hex::encode(d.blake3.unwrap()), ABC_BLAKE3);
        assert_eq!(d.size, 3);
        let only = {
            let mut h = ContentHasher::new(Algos::only(Algo::Blake3));
            h.update(b"abc");
            h.finish()
        };
        assert!(only.sha256.is_none());
        assert_eq!(Algos::from_arg(None), Algos::BOTH);
        assert_eq!(
            Algos::BOTH.list().collect::<Vec<_>>(),
            [Algo::Sha256, Algo::Blake3]
        );
    }

    #[test]
    fn compare_names_the_first_differing_digest() {
        let mut h = ContentHasher::new(Algos::BOTH);
        h.update(b"abc");
        let d = h.finish();
        let good = |a: Algo| {
            parse_digest(match a {
                Algo::Sha256 => ABC_SHA256,
                Algo::Blake3 => ABC_BLAKE3,
            })
        };
        assert_eq!(compare(&d, good), None);
        let bad_blake3 = |a: Algo| match a {
            Algo::Sha256 => parse_digest(ABC_SHA256),
            Algo::Blake3 => Some([0; 32]),
        };
        let m = compare(&d, bad_blake3).unwrap();
        assert_eq!(m.actual, format!("blake3:{ABC_BLAKE3}"));
        assert_eq!(m.expected, format!("blake3:{}", "00".repeat(32)));
        assert!(compare(&d, |_| None)
            .unwrap()
            .expected
            .contains("not a digest"));
    }

    #[test]
    fn parallel_and_serial_hashing_agree() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<FileJob> = (0..9usize)
            .map(|i| {
                let path = dir.path().join(format!("f{i}"));
                std::fs::write(&path, vec![i as u8; i * 300_000]).unwrap();
                FileJob {
                    path,
                    size_hint: (i * 300_000) as u64,
                }
            })
            .chain([FileJob {
                path: dir.path().join("absent"),
                size_hint: 0,
            }])
            .collect();
        let serial = hash_files(&files, Algos::BOTH, 1);
        let parallel = hash_files(&files, Algos::BOTH, 4);
        assert_eq!(serial.len(), 10);
        for (s, p) in serial.iter().zip(&parallel).take(9) {
            assert_eq!(s.as_ref().unwrap(), p.as_ref().unwrap());
        }
        assert_eq!(serial[8].as_ref().unwrap().size, 8 * 300_000);
        assert!(serial[9].is_err() && parallel[9].is_err());
    }
}
