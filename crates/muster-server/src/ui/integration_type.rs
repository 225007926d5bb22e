//! The Add form after a change of application or extraction type: the same form, with
//! the fields that type needs. htmx swaps it in when a select changes; without
//! JavaScript the chooser's Apply button loads it.

use super::form::{error_summary, TypeChoice};
use super::render::{page, PageError};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::Response;
use minijinja::context;
use std::collections::BTreeMap;

pub(crate) async fn choose(
    State(state): State<AppState>,
    Query(choice): Query<TypeChoice>,
) -> Result<Response, PageError> {
    let errors: BTreeMap<String, String> = BTreeMap::new();
    let error_list = error_summary(&errors);
    page(
        &state.pages,
        "integration_form.html",
        context! {
            nav => "integrations",
            action => "/integrations",
            integration => (),
            values => choice.values(),
            errors,
            error_list,
        },
    )
}
