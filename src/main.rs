//! `celegans`: read, simulate and learn the C. elegans connectome (the command line of
//! the `celegans` library).

fn main() -> std::process::ExitCode {
    celegans::cli::main()
}
