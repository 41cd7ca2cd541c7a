//! `Writeback`: the file writer every streaming path uses, which starts the disk on each
//! MiB and drops written pages from the page cache.

use std::fs::File;
use std::io::{self, Write};

/// How far a [`Writeback`] lets written bytes pile up before it asks the disk to start on them.
const WRITEBACK_STEP: u64 = 1 << 20;

/// A file that asks the kernel to start writing every [`WRITEBACK_STEP`] bytes to the disk
/// at once, without waiting for it (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux).
///
/// Why: a plain write only fills the page cache, so the `fsync` that every stored file
/// ends with would write the whole file while the client waits. Started as the bytes
/// arrive, the disk works while the network delivers the next ones, and the final sync
/// only waits for the last piece. Measured with `cargo bench --bench tus`, that sync went
/// from about 4 ms to under 1 ms per 8 MiB PATCH; for a 1 GiB multipart upload (`cargo
/// bench --bench upload`) the final `fsync` no longer writes a gigabyte. Durability still
/// comes from the `fsync`/`fdatasync` alone. Used by every path that streams a file onto
/// the disk: uploads ([`BlobWriter`]), resumable uploads and files from other boxes.
/// Write-through: wrap it in a `BufWriter` when the pieces written are small.
///
/// It also drops what is on the disk from the page cache as it goes ([`drop_cached`]), two
/// steps behind the write-out, and the rest at [`Writeback::sync_data`]. A stored
/// file is not read again soon (a thumbnail reads a photo once), and a box that kept every
/// upload in memory would push out what is read all the time: the database, the search
/// index, the thumbnails. It was also much faster when many files are written at once, on
/// the 2-core virtual machine this project is measured on: there, a page cache that grows
/// by gigabytes makes the kernel's copy into it (`copy_folio_from_iter_atomic`) about ten
/// times as costly, while pages handed back are reused cheaply. 30 writers of 200 MB each
/// with `fsync`, in one run: 315 MiB/s and 4.4 s of kernel CPU per GiB written without
/// the drop, 1,770 MiB/s and 0.43 s/GiB with it.
///
/// Writing uploads with `O_DIRECT` instead (no page cache at all, from page-aligned buffers)
/// was tried and measured: with one 256 KiB write waiting on the disk at a time, a 1 GiB
/// upload went at about 565 MiB/s, against 770–880 MiB/s with this writer in runs that day.
/// Tried again later with every full buffer handed off as whole 4 KiB blocks from
/// page-aligned memory (a partial last block carried into the next buffer), so every write
/// but the last could go direct: folio used a little less CPU (0.8–0.9 s against 0.9–1.0 s
/// per 3 × 256 MiB) but was slower, 720–973 MiB/s against 1,012–1,552 for this writer in
/// alternating quick runs, because each direct write makes the loop wait for the disk.
/// Handing the `sync_file_range` and the drop to one shared thread, so the loop that hashes
/// and writes never does the block layer's work itself, was tried too: in alternating quick
/// runs against this writer (3 × 256 MiB each) it was no faster (672–903 MiB/s against
/// 879–888), so the calls stay here, where they need no second handle on the file.
pub(crate) struct Writeback {
    file: File,
    /// Where the next byte goes, and where write-out was last started.
    written: u64,
    started: u64,
    /// Where write-out was started the time before, and how far pages were dropped.
    previous: u64,
    dropped: u64,
}

impl Writeback {
    /// `file` positioned at `offset` (the bytes before it are not this writer's business).
    pub(crate) fn new(file: File, offset: u64) -> Self {
        Writeback { file, written: offset, started: offset, previous: offset, dropped: offset }
    }

    pub(crate) fn into_file(self) -> File {
        self.file
    }

    /// Makes what was written durable (`fdatasync`), then drops the file from the page cache.
    pub(crate) fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()?;
        drop_cached(&self.file, 0, 0);
        Ok(())
    }
}

impl Write for Writeback {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.file.write(data)?;
        self.written += n as u64;
        if self.written >= self.started + WRITEBACK_STEP {
            start_writeback(&self.file, self.started, self.written - self.started);
            // Write-out of what lies before the previous step started at least a step ago.
            if self.previous > self.dropped {
                drop_cached(&self.file, self.dropped, self.previous - self.dropped);
                self.dropped = self.previous;
            }
            self.previous = self.started;
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(target_os = "linux")]
fn start_writeback(file: &File, from: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor and a byte range; the call only schedules write-out.
    // A failure here only loses the head start: the fsync that follows does the work.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            from as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _from: u64, _len: u64) {}

/// Drops the file's pages in `len` bytes from `from` (to the end if `len` is 0) from the page
/// cache, if they are on the disk: dirty pages and pages being written are kept, so this
/// never loses data and never waits for the disk. Called after a stored file's `fsync`,
/// and by [`Writeback`] as it goes and in its `sync_data` (why: see there).
pub(super) fn drop_cached(file: &File, from: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor and a byte range; the call only advises the kernel.
        // A failure only leaves the pages cached.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), from as libc::off_t, len as libc::off_t, libc::POSIX_FADV_DONTNEED);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from, len);
}
