//! `celegans`: read, simulate and learn the C. elegans connectome (the command line of
//! the `celegans` library).

/// mimalloc keeps freed pages for reuse: training allocates and frees buffers of megabytes per
/// batch, which glibc's allocator returns to the system and faults back in (GRU-32 epochs took
/// 45 ms instead of 25; the epoch benchmark in README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    celegans::cli::main()
}
