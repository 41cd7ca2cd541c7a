// glibc's malloc serialised folio's threads on its arena locks under load (a fifth of the
// pages benchmark's CPU was in malloc and free, much of it waiting); mimalloc keeps a heap
// per thread. Only the binary chooses it: the library, its tests and the fuzz targets keep
// the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    folio::cli::main()
}
