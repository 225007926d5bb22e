//! The entity page: attributes, credential facts, policy findings in plain words, policy
//! documents and relations both ways.

use super::integrations::IntegrationView;
use super::metadata::{sections, summary};
use super::render::{page, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use muster_service::RelatedEntity;
use serde::Serialize;

/// One relation as the page lists it.
#[derive(Serialize)]
struct RelationView<'a> {
    #[serde(flatten)]
    entity: &'a RelatedEntity,
    /// The relation's metadata on one line.
    details: String,
}

fn relation_views(related: &[RelatedEntity]) -> Vec<RelationView<'_>> {
    related
        .iter()
        .map(|entity| RelationView {
            entity,
            details: summary(&entity.metadata),
        })
        .collect()
}

pub(crate) async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let tenant = state.muster.default_tenant();
    let detail = state.muster.entity(tenant, &id).await?;
    let findings = state.muster.entity_findings(tenant, &detail.entity.id).await?;
    let integration = state
        .muster
        .find_integration(tenant, detail.entity.integration_id.as_str())
        .await?;
    page(
        &state.pages,
        "entity.html",
        context! {
            nav => "integrations",
            integration => IntegrationView::new(&integration, false),
            entity => &detail.entity,
            metadata => sections(&detail.entity.metadata),
            parents => relation_views(&detail.parents),
            children => relation_views(&detail.children),
            findings => findings,
        },
    )
}
