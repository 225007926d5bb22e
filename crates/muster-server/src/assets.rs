//! Static assets compiled into the binary: our stylesheet and the vendored htmx.
//!
//! Pages link them with `?v=<ASSET_VERSION>`, a hash of their contents, so they can be
//! cached for a year and a new binary with changed assets is still picked up at once.

use crate::AppState;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

const APP_CSS: &str = include_str!("../assets/app.css");
/// htmx 2.0.11 from the npm package `htmx.org`, licence 0BSD (`assets/vendor/htmx.LICENSE`).
const HTMX_JS: &[u8] = include_bytes!("../assets/vendor/htmx.min.js");

const CACHE_FOR_A_YEAR: &str = "public, max-age=31536000, immutable";

/// A short hash of every asset, for cache-busting links.
pub(crate) static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = DefaultHasher::new();
    APP_CSS.hash(&mut hasher);
    HTMX_JS.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
});

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/app.css", get(app_css))
        .route("/assets/vendor/htmx.min.js", get(htmx_js))
}

async fn app_css() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, CACHE_FOR_A_YEAR)],
        APP_CSS,
    )
}

async fn htmx_js() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        HTMX_JS,
    )
}
