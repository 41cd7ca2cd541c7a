// glibc's malloc serialised folio's threads on its arena locks under load (a fifth of the
// pages benchmark's CPU was in malloc and free, much of it waiting); mimalloc keeps a heap
// per thread. Only the binary chooses it: the library, its tests and the fuzz targets keep
// the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_transparent_huge_pages();
    folio::cli::main()
}

/// mimalloc asks the kernel for transparent huge pages for its arenas, and a 2 MiB huge page
/// is resident whole once any of it is used: the free space around the few objects a page
/// of the heap still holds after a burst stayed resident with it. Without them, the same
/// 16 clients × 40 searches at 120,000 pieces left 33–38 MB anonymous instead of 52–65 MB
/// (four runs each). This is what mimalloc itself does with `MIMALLOC_ALLOW_THP=0`, done
/// here so it needs no environment; mapped files (the index) are not affected.
fn no_transparent_huge_pages() {
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
