//! Loads a saved `aws iam get-account-authorization-details` output, analyses every
//! principal and writes the analysis as JSON: the engine's part of `muster analyze FILE
//! --output json`, for benchmarks.
//!
//! Usage: `cargo run --release -p muster-policy --example analyze_file -- FILE [OUTPUT]`
//! (OUTPUT defaults to standard output). Prints the principal and finding counts and the
//! time of each phase on standard error.

use std::io::Write;
use std::time::Instant;

use muster_policy::{analyze_account, load_authorization_details, AnalysisOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(input) = args.next() else {
        eprintln!("usage: analyze_file FILE [OUTPUT]");
        std::process::exit(2);
    };
    let output = args.next();

    let started = Instant::now();
    let text = match std::fs::read_to_string(&input) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("cannot read {input}: {error}");
            std::process::exit(1);
        }
    };
    let loaded = match load_authorization_details(&text) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{input}: {error}");
            std::process::exit(1);
        }
    };
    let loading = started.elapsed();

    let started = Instant::now();
    let analysis = analyze_account(&loaded.account, &AnalysisOptions::default());
    let analysing = started.elapsed();

    let started = Instant::now();
    let json = match serde_json::to_vec(&analysis) {
        Ok(json) => json,
        Err(error) => {
            eprintln!("cannot serialize the analysis: {error}");
            std::process::exit(1);
        }
    };
    let written = match &output {
        Some(path) => std::fs::write(path, &json),
        None => std::io::stdout().lock().write_all(&json),
    };
    if let Err(error) = written {
        eprintln!("cannot write the analysis: {error}");
        std::process::exit(1);
    }
    let writing = started.elapsed();

    let admins = analysis
        .principals
        .iter()
        .filter(|findings| findings.admin.is_some())
        .count();
    eprintln!(
        "{} principals ({admins} administrators), {} load problems; \
         load {loading:.2?}, analyse {analysing:.2?}, write {writing:.2?}",
        analysis.principals.len(),
        loaded.problems.len(),
    );

    // As `muster analyze` does, leave freeing the memory to the end of the process.
    std::mem::forget(analysis);
    std::mem::forget(loaded);
}
