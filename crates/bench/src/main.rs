//! The `rampart-bench` binary; see the library's documentation and `docs/performance.md`.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    rampart_bench::cli::main(rampart_bench::cli::Cli::parse())
}
