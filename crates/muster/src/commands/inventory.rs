//! `muster entities list|show` and `muster sync-runs list`.

use super::describe;
use crate::cli::{EntitiesCommand, OutputFormat, SyncRunsCommand};
use crate::output::{self, or_dash, print_fields, Table};
use muster_service::analysis::PrincipalReport;
use muster_service::{EntityDetail, EntityFilter, EntityPage, Muster, RelatedEntity, SyncRun};
use std::process::ExitCode;

pub async fn run_entities(muster: &Muster, command: EntitiesCommand, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    match command {
        EntitiesCommand::List(args) => {
            let integration = match &args.integration {
                Some(id_or_name) => Some(muster.find_integration(tenant, id_or_name).await.map_err(describe)?.id),
                None => None,
            };
            let entity_type = match args.entity_type.as_deref() {
                Some(text) => Some(text.parse().map_err(|message: String| anyhow::anyhow!(message))?),
                None => None,
            };
            let filter = EntityFilter {
                integration,
                entity_type,
                source_type: args.source_type,
                search: args.search,
                limit: args.limit,
                offset: args.offset,
            };
            let page = muster.list_entities(tenant, filter).await.map_err(describe)?;
            output::print(format, &page, print_entity_page)?;
        }
        EntitiesCommand::Show { id } => {
            let detail = muster.entity(tenant, &id).await.map_err(describe)?;
            let findings = muster
                .entity_findings(tenant, &detail.entity.id)
                .await
                .map_err(describe)?;
            let shown = EntityWithFindings { detail, findings };
            output::print(format, &shown, print_entity)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_sync_runs(muster: &Muster, command: SyncRunsCommand, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let tenant = muster.default_tenant();
    match command {
        SyncRunsCommand::List { integration, limit } => {
            let runs = muster
                .list_sync_runs(tenant, integration.as_deref(), limit)
                .await
                .map_err(describe)?;
            output::print(format, &runs, print_runs)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entity_page(page: &EntityPage) {
    let mut table = Table::new(&["ID", "TYPE", "SOURCE TYPE", "NAME", "SOURCE ID"]);
    for entity in &page.items {
        table.row(vec![
            entity.id.to_string(),
            entity.entity_type.to_string(),
            entity.source_type.clone(),
            entity.name.clone(),
            entity.source_id.clone(),
        ]);
    }
    let shown = page.items.len() as u64;
    if shown == 0 {
        if page.total == 0 {
            println!("No entities: sync an integration first (muster sync NAME).");
        } else {
            println!("No entities at offset {}: there are {} in all.", page.offset, page.total);
        }
        return;
    }
    table.print();
    let first = u64::from(page.offset) + 1;
    println!("{first}-{} of {} entities", u64::from(page.offset) + shown, page.total);
}

/// An entity as `entities show` prints it: the detail and, for an AWS user or role, the
/// policy findings stored with its snapshot.
#[derive(serde::Serialize)]
struct EntityWithFindings {
    #[serde(flatten)]
    detail: EntityDetail,
    findings: Option<PrincipalReport>,
}

fn print_entity(shown: &EntityWithFindings) {
    let detail = &shown.detail;
    let entity = &detail.entity;
    print_fields(&[
        ("ID", entity.id.to_string()),
        ("Name", entity.name.clone()),
        ("Type", entity.entity_type.to_string()),
        ("Source type", entity.source_type.clone()),
        ("Source ID", entity.source_id.clone()),
        ("Integration", entity.integration_id.to_string()),
        ("Snapshot", entity.snapshot_id.to_string()),
    ]);
    println!();
    println!("Metadata:");
    println!(
        "{}",
        serde_json::to_string_pretty(&entity.metadata).unwrap_or_else(|_| entity.metadata.to_string())
    );
    if let Some(findings) = &shown.findings {
        println!();
        println!("What it can do:");
        for line in findings.findings.iter().chain(&findings.access) {
            println!("  - {}", line.text);
            for statement in &line.statements {
                let name = match &statement.sid {
                    Some(sid) => format!("statement `{sid}`"),
                    None => format!("statement {}", statement.number),
                };
                println!("      {name} of {}: {}", statement.policy, statement.text);
            }
        }
    }
    print_related("Has access through / is reached from (parents)", &detail.parents);
    print_related("Has access to (children)", &detail.children);
}

fn print_related(title: &str, related: &[RelatedEntity]) {
    println!();
    println!("{title}: {}", related.len());
    if related.is_empty() {
        return;
    }
    let mut table = Table::new(&["PRIVILEGE", "ALLOW", "TYPE", "SOURCE TYPE", "NAME", "ID"]);
    for other in related {
        table.row(vec![
            other.privilege_name.clone(),
            if other.privilege_value { "yes" } else { "deny" }.to_string(),
            other.entity_type.to_string(),
            other.source_type.clone(),
            other.name.clone(),
            other.id.to_string(),
        ]);
    }
    table.print();
}

fn print_runs(runs: &Vec<SyncRun>) {
    if runs.is_empty() {
        println!("No sync runs yet.");
        return;
    }
    let mut table = Table::new(&["RUN", "INTEGRATION", "STATE", "TRIGGER", "STARTED", "FINISHED", "MESSAGE"]);
    for run in runs {
        table.row(vec![
            run.id.to_string(),
            run.integration_id.to_string(),
            run.state.to_string(),
            run.trigger.clone(),
            or_dash(run.started_at.as_deref()),
            or_dash(run.finished_at.as_deref()),
            run.message.clone(),
        ]);
    }
    table.print();
}
