//! Lantern's web application: the JSON API under `/api/v1`, the staff pages, operations endpoints.
//!
//! [`router`] builds the application from a state; [`serve`] runs it on an already bound listener until
//! a shutdown future completes, so tests bind `127.0.0.1:0` and read the port back.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod chat;
pub mod client_address;
pub mod config;
pub mod dashboard;
pub mod directory;
pub mod error;
pub mod intake;
pub mod linkage;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod routes;
pub mod sms;
pub mod state;
pub mod statistics;
pub mod tips;
pub mod voice;
pub mod web;
pub mod webhooks;

pub use config::Settings;
pub use state::AppState;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The whole application, every route behind the guard of its table entry.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new();
    for spec in routes::table() {
        let access = spec.access;
        let guarded = (spec.handler)().route_layer(middleware::from_fn_with_state(
            state.clone(),
            move |State(s): State<AppState>, req: Request, next: Next| {
                auth::guard(s, access, req, next)
            },
        ));
        app = app.route(spec.path, guarded);
    }
    app.fallback(ops::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(2 << 20))
        .layer(middleware::from_fn_with_state(state.clone(), web::observe))
        .layer(middleware::from_fn(web::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            axum::response::IntoResponse::into_response(error::AppError::Internal(anyhow::anyhow!(
                "handler panicked"
            )))
        }))
        .with_state(state)
}

async fn method_not_allowed() -> error::AppError {
    error::AppError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "this address does not accept that method",
    )
}

/// Serves the application on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = linkage::job::spawn_worker(state.clone());
    let preload = tokio::spawn(preload_dashboards(state.clone()));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    preload.abort();
    worker.abort();
    served
}

/// Reads every hotline's dashboard figures into memory as the server starts, one hotline at a time in
/// the background, so that the first question after a start does not wait for a whole read (seconds at
/// a national hotline's size). A question that comes first waits for the same read, never a second one.
async fn preload_dashboards(state: AppState) {
    let hotlines = match state.store.list_hotlines().await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "dashboard figures not preloaded");
            return;
        }
    };
    for h in hotlines {
        if let Err(e) = state.dashboard.figures(&state.store, &h.id).await {
            tracing::warn!(hotline.id = %h.id, error = format!("{e:#}"), "dashboard figures not preloaded");
        }
    }
}
