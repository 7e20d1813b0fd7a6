//! The `rampart` binary: a DynamoDB-compatible server that enforces AWS's
//! security model. `rampart serve` (the default) runs the server.
//!
//! Only this crate depends on `clap` and names the storage backends.

mod admin;
mod config;
mod explain;
mod wiring;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the request path allocates small, short-lived
/// buffers (headers, keys, JSON), and glibc spent ~20% of a GetItem's instructions on them
/// (callgrind, docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rampart: a self-hosted DynamoDB-compatible database with real security controls.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default when no command is given).
    Serve(config::ServeArgs),
    /// Inspect policies against the current state of a data directory.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Evaluate a described request and print the decision and why.
    Explain(explain::ExplainArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        Some(Command::Policy(PolicyCommand::Explain(a))) => {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("rampart: cannot start the runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            return match runtime.block_on(explain::run(a)) {
                Ok(code) => std::process::ExitCode::from(code),
                Err(e) => {
                    eprintln!("rampart: {e}");
                    std::process::ExitCode::from(2)
                }
            };
        }
        None => config::ServeArgs::parse_from_env(),
    };
    let settings = match config::Settings::resolve(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rampart: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log);
    let filter = match filter {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rampart: invalid setting log: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.worker_threads)
        // Requests are parsed and evaluated on these threads (and their blocking pool); the
        // expression parser's nesting bound is sized for this stack (only what is touched
        // is committed).
        .thread_stack_size(rampart_dynamodb::expr::WORKER_STACK)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rampart: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(wiring::run(settings)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rampart: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
