//! Loads arbitrary text as `get-account-authorization-details` output and, when it
//! loads, analyses the account: neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use muster_policy::{analyze_account, load_authorization_details, AnalysisOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(loaded) = load_authorization_details(text) {
        let _ = analyze_account(&loaded.account, &AnalysisOptions::default());
    }
});
