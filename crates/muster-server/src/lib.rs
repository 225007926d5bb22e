//! Muster's HTTP server: the REST API under `/api/v1` with its OpenAPI document, the
//! server-rendered web UI, its static assets and `/healthz`.
//!
//! There is no sign-in yet: every request acts on [`Muster::default_tenant`]. The binary
//! binds to 127.0.0.1 by default for that reason.

mod api;
mod assets;
mod error;
mod extract;
mod layers;
mod paths;
mod ui;

pub use api::openapi_document;

use axum::Router;
use muster_service::Muster;
use std::future::Future;
use std::sync::Arc;

/// Shared state of every handler: the application, the compiled page templates and the
/// OpenAPI document.
#[derive(Clone)]
pub(crate) struct AppState {
    pub muster: Muster,
    pub pages: Arc<ui::Pages>,
    pub openapi: Arc<utoipa::openapi::OpenApi>,
}

/// Builds the whole HTTP surface: API, UI, assets and `/healthz`, with request ids,
/// tracing and security headers on every response.
pub fn router(muster: Muster) -> Router {
    let pages = Arc::new(ui::Pages::new());
    let state = AppState {
        muster,
        pages: pages.clone(),
        openapi: Arc::new(openapi_document()),
    };
    let routes = Router::new()
        .merge(api::router())
        .merge(ui::router())
        .merge(assets::router())
        .fallback(ui::not_found)
        .method_not_allowed_fallback(ui::method_not_allowed)
        .with_state(state);
    layers::apply(routes, pages)
}

/// Serves `router(muster)` on `listener` until `shutdown` completes, then lets requests
/// in flight finish.
pub async fn serve(
    muster: Muster,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "HTTP server listening");
    }
    axum::serve(listener, router(muster))
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("HTTP server stopped");
    Ok(())
}
