//! Templates, their filters, and the error type of UI handlers.

use crate::paths;
use crate::error::ApiError;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value};
use muster_service::analysis::html::quoted_code_html;
use muster_service::ServiceError;
use serde::Serialize;

/// Every template, compiled into the binary. Names end in `.html`, which turns on
/// minijinja's HTML auto-escaping for them.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("integrations.html", include_str!("../../templates/integrations.html")),
    ("integration_row.html", include_str!("../../templates/integration_row.html")),
    ("integration_form.html", include_str!("../../templates/integration_form.html")),
    ("integration.html", include_str!("../../templates/integration.html")),
    ("sync_panel.html", include_str!("../../templates/sync_panel.html")),
    ("inventory.html", include_str!("../../templates/inventory.html")),
    ("remove.html", include_str!("../../templates/remove.html")),
    ("entity.html", include_str!("../../templates/entity.html")),
    ("uploads.html", include_str!("../../templates/uploads.html")),
    ("upload_result.html", include_str!("../../templates/upload_result.html")),
    ("employees.html", include_str!("../../templates/employees.html")),
    ("identities.html", include_str!("../../templates/identities.html")),
    ("api_keys.html", include_str!("../../templates/api_keys.html")),
    ("api_key_revoke.html", include_str!("../../templates/api_key_revoke.html")),
    ("scim_test.html", include_str!("../../templates/scim_test.html")),
];

/// The compiled templates.
pub(crate) struct Pages {
    env: Environment<'static>,
}

impl Pages {
    pub fn new() -> Pages {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The `every_template_compiles` test catches a broken template. One that slips
            // through fails only the pages that use it.
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(template = name, %error, "template does not compile");
            }
        }
        env.add_filter("datetime", datetime);
        env.add_filter("status_class", status_class);
        // Safe to insert unescaped: every character but `/` is percent-encoded.
        env.add_filter("integration_path", |id: String| Value::from_safe_string(paths::integration_page(&id)));
        env.add_filter("entity_path", |id: String| Value::from_safe_string(paths::entity_page(&id)));
        env.add_filter("quoted_code", |text: String| Value::from_safe_string(quoted_code_html(&text)));
        env.add_global("asset_version", crate::assets::ASSET_VERSION.as_str());
        env.add_global("version", env!("CARGO_PKG_VERSION"));
        Pages { env }
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// Renders an error page, falling back to plain text if even that fails.
    pub fn render_error(&self, status: StatusCode, title: &str, message: &str) -> String {
        let context = minijinja::context! { status => status.as_u16(), title, message };
        self.render("error.html", context).unwrap_or_else(|error| {
            tracing::error!(%error, "error page cannot be rendered");
            format!("{} {title}: {message}", status.as_u16())
        })
    }
}

/// An error shown as a page. Handlers return it as a marker in the response's extensions;
/// [`crate::layers`] renders it with the templates, which handlers' errors cannot reach.
#[derive(Clone, Debug)]
pub(crate) struct ErrorPage {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, title: &str, message: impl Into<String>) -> ErrorPage {
        ErrorPage {
            status,
            title: title.to_string(),
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ErrorPage {
        ErrorPage::new(StatusCode::NOT_FOUND, "Not found", message)
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Why a UI handler failed: an [`ApiError`] shown as a page. Internal errors keep the
/// API's treatment: the cause is logged and the page quotes only the request id.
#[derive(Debug)]
pub(crate) struct PageError(ApiError);

impl PageError {
    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError(ApiError::bad_request("request.invalid", message))
    }
}

impl From<FormRejection> for PageError {
    fn from(rejection: FormRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PageError(ApiError::body_too_large())
        } else {
            PageError::bad_request(rejection.body_text())
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        PageError(error.into())
    }
}

impl From<minijinja::Error> for PageError {
    fn from(error: minijinja::Error) -> Self {
        PageError(ApiError::internal("template.render_failed", format!("{error:#}")))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            return self.0.into_response();
        }
        let title = status.canonical_reason().unwrap_or("Error");
        ErrorPage::new(status, title, upper_first(self.0.message())).into_response()
    }
}

/// Renders a page template into a response.
pub(crate) fn page(pages: &Pages, name: &str, context: impl Serialize) -> Result<Response, PageError> {
    Ok(Html(pages.render(name, context)?).into_response())
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Formats an RFC 3339 timestamp as `2026-01-05 14:03:22 UTC`, or returns `None` when
/// `text` is not one.
pub(crate) fn display_timestamp(text: &str) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|at| at.to_offset(time::UtcOffset::UTC).format(&format).ok())
}

/// Formats a stored timestamp for a page; other text passes through unchanged.
fn datetime(value: Option<String>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    display_timestamp(&value).unwrap_or(value)
}

/// Picks the badge colour of an integration status or sync run state.
fn status_class(value: String) -> &'static str {
    match value.as_str() {
        "Connected" | "succeeded" => "ok",
        "Syncing" | "Queued" | "queued" | "running" => "busy",
        "Pending" => "neutral",
        _ => "error",
    }
}


#[cfg(test)]
#[expect(clippy::panic, reason = "a test fails at the first broken step")]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|error| panic!("{name}: {error:#}"));
        }
    }

    #[test]
    fn datetime_formats_rfc3339() {
        assert_eq!(datetime(Some("2026-01-05T14:03:22.123Z".into())), "2026-01-05 14:03:22 UTC");
        assert_eq!(datetime(Some("yesterday".into())), "yesterday");
        assert_eq!(datetime(None), "");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class("Connected".into()), "ok");
        assert_eq!(status_class("Access denied".into()), "error");
        assert_eq!(status_class("queued".into()), "busy");
        assert_eq!(status_class("Pending".into()), "neutral");
    }
}
