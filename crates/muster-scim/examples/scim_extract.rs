//! Reads a SCIM server with the connector and prints what it found and how long it took.
//! Used by `bench/scim_sync.sh`.
//!
//! Usage: `scim_extract BASE_URL` with the bearer token in `SCIM_TOKEN`.

use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::args()
        .nth(1)
        .ok_or("usage: scim_extract BASE_URL (token in SCIM_TOKEN)")?;
    let token = std::env::var("SCIM_TOKEN").map_err(|_| "set SCIM_TOKEN to the bearer token")?;
    let endpoint = muster_scim::ScimEndpoint {
        base_url,
        auth: muster_scim::ScimAuth::Bearer(token),
        extra_headers: Vec::new(),
    };

    let started = Instant::now();
    let inventory =
        muster_scim::extract(&endpoint, &muster_scim::ScimOptions::default(), &|_| {}).await?;
    let elapsed = started.elapsed();

    println!(
        "{} entities, {} relations, {} warnings in {:.3} s",
        inventory.entities.len(),
        inventory.relations.len(),
        inventory.warnings.len(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
