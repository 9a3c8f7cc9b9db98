//! Reusable byte buffers handed between the pipeline's threads: a chunk goes back to its
//! pool when the last thread holding it lets go, so memory stays flat however large the
//! archive is.

use crossbeam_channel::{Receiver, Sender};
use std::ops::Deref;
use std::sync::Arc;

/// Buffers of one size, recycled.
#[derive(Debug, Clone)]
pub struct Pool {
    home: Sender<Vec<u8>>,
    spare: Receiver<Vec<u8>>,
    size: usize,
}

impl Pool {
    /// A pool of `size`-byte buffers that keeps at most `keep` spare ones.
    pub fn new(size: usize, keep: usize) -> Self {
        let (home, spare) = crossbeam_channel::bounded(keep);
        Self { home, spare, size }
    }

    /// A spare buffer, or a new one when none is spare. Never blocks: how many buffers are
    /// alive at once is bounded by the bounded channels between the threads, not here, so a
    /// thread that stopped early can never leave another waiting for a buffer.
    pub fn take(&self) -> Vec<u8> {
        self.spare.try_recv().unwrap_or_else(|_| vec![0; self.size])
    }

    /// Freezes the first `len` bytes of `buffer` into a chunk that returns to this pool.
    pub fn chunk(&self, buffer: Vec<u8>, len: usize) -> Arc<Chunk> {
        Arc::new(Chunk {
            len: len.min(buffer.len()),
            data: buffer,
            home: Some(self.home.clone()),
        })
    }
}

/// Bytes shared between threads; returns its buffer to its pool when dropped.
#[derive(Debug)]
pub struct Chunk {
    data: Vec<u8>,
    len: usize,
    home: Option<Sender<Vec<u8>>>,
}

impl Chunk {
    /// A chunk that belongs to no pool (tests, small inputs).
    pub fn detached(bytes: Vec<u8>) -> Arc<Chunk> {
        Arc::new(Chunk {
            len: bytes.len(),
            data: bytes,
            home: None,
        })
    }
}

impl Deref for Chunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

/// A shared chunk seen as bytes (for readers generic over `AsRef<[u8]>`).
#[derive(Debug, Clone)]
pub struct Shared(pub Arc<Chunk>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Some(home) = self.home.take() {
            // A full pool just lets the buffer go.
            let _ = home.try_send(std::mem::take(&mut self.data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_when_the_last_holder_drops() {
        let pool = Pool::new(16, 2);
        let mut buffer = pool.take();
        buffer[..3].copy_from_slice(b"abc");
        let chunk = pool.chunk(buffer, 3);
        let other = Arc::clone(&chunk);
        assert_eq!(&**chunk, b"abc");
        drop(chunk);
        assert!(pool.spare.is_empty());
        drop(other);
        assert_eq!(pool.spare.len(), 1);
        assert_eq!(pool.take().len(), 16);
    }
}
