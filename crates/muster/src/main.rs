//! The `muster` binary: command-line parsing and dispatch. Each subcommand lives in
//! `commands/`; the work itself is done by `muster-service` and `muster-server`.

mod cli;
mod commands;
mod html_report;
mod output;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// The allocator, mimalloc instead of the system's. Imports and syncs allocate and free many
/// small strings from several threads, and in a profile of a PostgreSQL import glibc's
/// allocator took about 40% of Muster's CPU time (BENCHMARKS.md, CSV import).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if !matches!(cli.command, cli::Command::Serve(_)) {
        restore_default_sigpipe();
    }
    init_logging(&cli);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Lets a closed pipe end the process quietly, as it does for other command-line tools
/// (`muster integration list | head -1`), instead of a panic in `println!`. A sync cut
/// short this way is marked failed once its lease expires.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called at the start of `main`, before any other thread exists; resetting a
    // signal disposition to its default has no other precondition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Logs go to stderr. `serve` logs at info by default, other commands only warnings, so
/// their standard output stays clean for scripts. `MUSTER_LOG` (tracing's filter syntax)
/// overrides both.
fn init_logging(cli: &cli::Cli) {
    let default_level = match cli.command {
        cli::Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MUSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
