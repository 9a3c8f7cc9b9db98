//! Where verified entry bytes go while a bundle streams: nowhere for a plain verify, an
//! object store for `stage`. The verifier drives a sink; the sink never decides a verdict.

use offline_formats::manifest::FileEntry;

/// Receives every regular-file entry of an archive that the manifest lists, as it streams,
/// and is told afterwards whether the bytes matched the manifest.
pub trait EntrySink {
    /// Error type of the sink (an I/O or store error: the run stops with exit 2).
    type Error: std::error::Error + Send + Sync + 'static;

    /// A listed entry begins; `entry` is its manifest line. Return `false` to have its
    /// bytes not delivered (e.g. the object is already stored with the right digest).
    fn begin(&mut self, entry: &FileEntry) -> Result<bool, Self::Error>;

    /// More bytes of the current entry, in order.
    fn data(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// The current entry ended; `verified` is true only when its size and every checked
    /// digest matched the manifest. A sink must make the object visible only when true.
    fn finish(&mut self, verified: bool) -> Result<(), Self::Error>;
}

/// The sink of a plain verification: takes nothing.
#[derive(Debug, Default)]
pub struct Discard;

impl EntrySink for Discard {
    type Error = std::convert::Infallible;

    fn begin(&mut self, _entry: &FileEntry) -> Result<bool, Self::Error> {
        Ok(false)
    }

    fn data(&mut self, _bytes: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }

    fn finish(&mut self, _verified: bool) -> Result<(), Self::Error> {
        Ok(())
    }
}
