//! Reading stored files, wherever they are: streamed for downloads and peers (a `Range` is a
//! seek in the folder, a ranged `GET` on a bucket), as a blocking reader for bundles, backups
//! and previews, and as a file on the box's disk for the decoders that need one (thumbnails,
//! text extraction).

use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{BlobError, BlobHash, BlobStore, map_io, remove_quietly};

/// A stored file's size and a blocking reader of it.
pub type SizedReader = (u64, Box<dyn Read + Send>);

/// Bytes read from disk at a time for a stream.
const CHUNK: usize = 256 * 1024;

impl BlobStore {
    /// The size of a stored file that a row names with `recorded` bytes, or `None` when it is
    /// not here (yet). A name is the hash of the content, so on a bucket a file that is there
    /// has the size its row says, and no `HEAD` is needed: a video seek is one request to the
    /// store, not two. In the folder, the file's own size.
    pub async fn size_as_recorded(&self, hash: &BlobHash, recorded: u64) -> Result<Option<u64>, BlobError> {
        if self.bucket().is_some() {
            return Ok(self.contains(hash).then_some(recorded));
        }
        file_size(tokio::fs::metadata(self.path(hash)).await)
    }

    /// The size of a stored file, or `None` when it is not here (a `HEAD` on a bucket).
    /// Blocking: call it off the async threads.
    pub fn size_now(&self, hash: &BlobHash) -> Result<Option<u64>, BlobError> {
        if let Some(bucket) = self.bucket() {
            if !self.contains(hash) {
                return Ok(None);
            }
            return Ok(bucket.head_blocking(hash)?.map(|(size, _)| size));
        }
        file_size(std::fs::metadata(self.path(hash)))
    }

    /// The bytes `start..start + len` of a stored file, as they are read. The caller knows the
    /// size (from [`size_as_recorded`](Self::size_as_recorded)) and asks only for bytes inside
    /// it.
    pub async fn stream(
        &self,
        hash: &BlobHash,
        start: u64,
        len: u64,
    ) -> Result<BoxStream<'static, io::Result<Bytes>>, BlobError> {
        if let Some(bucket) = self.bucket() {
            if len == 0 {
                return Ok(futures_util::stream::empty().boxed());
            }
            return bucket.stream(hash, start, len).await;
        }
        let mut file = tokio::fs::File::open(self.path(hash)).await.map_err(map_io)?;
        file.seek(io::SeekFrom::Start(start)).await.map_err(map_io)?;
        Ok(tokio_util::io::ReaderStream::with_capacity(file.take(len), CHUNK).boxed())
    }

    /// A stored file's size and a blocking reader of all of it, or `None` when it is not
    /// here. Blocking: call it off the async threads.
    pub fn reader(&self, hash: &BlobHash) -> Result<Option<SizedReader>, BlobError> {
        if let Some(bucket) = self.bucket() {
            if !self.contains(hash) {
                return Ok(None);
            }
            return bucket.reader_blocking(hash);
        }
        match File::open(self.path(hash)) {
            Ok(file) => {
                let size = file.metadata().map_err(map_io)?.len();
                Ok(Some((size, Box::new(file))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(map_io(e)),
        }
    }

    /// A stored file's size and its first `len` bytes (fewer when it is shorter), or `None`
    /// when it is not here. Blocking.
    pub fn head_of(&self, hash: &BlobHash, len: usize) -> Result<Option<(u64, Vec<u8>)>, BlobError> {
        let Some((size, reader)) = self.reader(hash)? else { return Ok(None) };
        let mut head = Vec::with_capacity(len);
        reader.take(len as u64).read_to_end(&mut head).map_err(map_io)?;
        Ok(Some((size, head)))
    }

    /// A stored file as a file on the box's disk, for decoders that seek (images, PDFs,
    /// office files): the stored file itself in the folder store, a temporary copy in
    /// `blobs/tmp/` from a bucket (deleted when dropped, and at the next start if folio dies
    /// first). `None` when it is not here. Blocking.
    pub fn local_copy(&self, hash: &BlobHash) -> Result<Option<LocalCopy>, BlobError> {
        if self.bucket().is_none() {
            let path = self.path(hash);
            return Ok(path.is_file().then_some(LocalCopy { path, temporary: false }));
        }
        let Some((_, mut reader)) = self.reader(hash)? else { return Ok(None) };
        let path = self.inner.tmp.join(format!("{:032x}.copy", rand::random::<u128>()));
        let copy = LocalCopy { path, temporary: true };
        let mut file = private_file(&copy.path).map_err(map_io)?;
        io::copy(&mut reader, &mut file).map_err(map_io)?;
        Ok(Some(copy))
    }
}

/// A file's size from its metadata: `None` when it is not there or not a file.
fn file_size(meta: io::Result<std::fs::Metadata>) -> Result<Option<u64>, BlobError> {
    match meta {
        Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(map_io(e)),
    }
}

/// A new file readable by folio only, as every copy of students' work is.
pub(super) fn private_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// A stored file on the box's disk; see [`BlobStore::local_copy`].
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    temporary: bool,
}

impl Deref for LocalCopy {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            remove_quietly(&self.path);
        }
    }
}
