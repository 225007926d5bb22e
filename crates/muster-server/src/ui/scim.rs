//! The SCIM connection test on a SCIM integration's page: it reads the server's
//! `/ServiceProviderConfig` and shows what the server supports, or why it failed.

use super::render::{page, PageError};
use crate::extract::IntegrationRef;
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;

pub(crate) async fn test_connection(
    State(state): State<AppState>,
    IntegrationRef(id): IntegrationRef,
) -> Result<Response, PageError> {
    let tenant = state.muster.default_tenant();
    let integration = state.muster.find_integration(tenant, &id).await?;
    let outcome = state.muster.test_scim_connection(tenant, &integration.id.to_string()).await;
    let (summary, failure) = match outcome {
        Ok(summary) => (Some(summary), None),
        Err(error) => {
            tracing::info!(integration_id = %integration.id, %error, "SCIM connection test failed");
            (None, Some(error.to_string()))
        }
    };
    page(
        &state.pages,
        "scim_test.html",
        context! { integration_id => integration.id.to_string(), summary, failure },
    )
}
