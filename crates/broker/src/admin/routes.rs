//! The admin listener's routes, in one table: [`ROUTES`] is what `docs/api/openapi.yaml`
//! must describe (a test compares them), and [`router`] serves exactly those. GET routes
//! answer HEAD too; an unknown path is 404 and a known path with another method 405, both
//! as JSON errors.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use axum::Router;

use super::error::ApiError;
use super::{config, connections, console, events, groups, node, records, security, streams};
use crate::state::Shared;

/// Every route: (method, path), paths in OpenAPI's `{param}` form.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/node"),
    ("GET", "/api/v1/streams"),
    ("POST", "/api/v1/streams"),
    ("GET", "/api/v1/streams/{name}"),
    ("PATCH", "/api/v1/streams/{name}"),
    ("DELETE", "/api/v1/streams/{name}"),
    (
        "GET",
        "/api/v1/streams/{name}/partitions/{partition}/records",
    ),
    (
        "POST",
        "/api/v1/streams/{name}/partitions/{partition}/records",
    ),
    ("GET", "/api/v1/groups"),
    ("GET", "/api/v1/groups/{name}"),
    ("DELETE", "/api/v1/groups/{name}"),
    ("PATCH", "/api/v1/groups/{name}/offsets"),
    ("GET", "/api/v1/connections"),
    ("DELETE", "/api/v1/connections/{id}"),
    ("GET", "/api/v1/config"),
    ("POST", "/api/v1/config/reload"),
    ("GET", "/api/v1/cluster"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{name}"),
    ("PATCH", "/api/v1/users/{name}"),
    ("DELETE", "/api/v1/users/{name}"),
    ("GET", "/api/v1/acls"),
    ("POST", "/api/v1/acls"),
    ("DELETE", "/api/v1/acls"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{name}"),
];

/// The admin API, and the console's pages and files.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let body_limit = shared.config.load().admin.max_request_body_bytes as usize;
    let mut router = Router::new();
    for page in console::PAGES {
        router = router.route(page, get(console::page));
    }
    for (index, (path, _, _)) in console::ASSETS.iter().enumerate() {
        let serve =
            move |request: axum::http::HeaderMap| async move { console::asset(index, &request) };
        router = router.route(path, get(serve));
    }
    router
        .route("/health", get(node::health))
        .route("/metrics", get(node::metrics))
        .route("/api/v1/node", get(node::node))
        .route("/api/v1/streams", get(streams::list).post(streams::create))
        .route(
            "/api/v1/streams/{name}",
            get(streams::describe)
                .patch(streams::alter)
                .delete(streams::delete),
        )
        .route(
            "/api/v1/streams/{name}/partitions/{partition}/records",
            get(records::page).post(records::produce),
        )
        .route("/api/v1/groups", get(groups::list))
        .route(
            "/api/v1/groups/{name}",
            get(groups::describe).delete(groups::delete),
        )
        .route(
            "/api/v1/groups/{name}/offsets",
            axum::routing::patch(groups::reset),
        )
        .route("/api/v1/connections", get(connections::list))
        .route(
            "/api/v1/connections/{id}",
            axum::routing::delete(connections::close),
        )
        .route("/api/v1/config", get(config::show))
        .route("/api/v1/config/reload", post(config::reload))
        .route("/api/v1/cluster", get(node::cluster))
        .route("/api/v1/events", get(events::events))
        .route(
            "/api/v1/users",
            get(security::users).post(security::add_user),
        )
        .route(
            "/api/v1/users/{name}",
            get(security::user)
                .patch(security::change_user)
                .delete(security::remove_user),
        )
        .route(
            "/api/v1/acls",
            get(security::acls)
                .post(security::add_acls)
                .delete(security::remove_acls),
        )
        .route(
            "/api/v1/tokens",
            get(security::tokens).post(security::add_token),
        )
        .route(
            "/api/v1/tokens/{name}",
            axum::routing::delete(security::revoke_token),
        )
        .fallback(|uri: Uri| async move { ApiError::no_route(uri.path()) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this resource does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(shared)
}

/// What a connection over `admin.max_connections` gets: 503 to every request, then closed.
pub(crate) fn refusal() -> Router {
    Router::new().fallback(|| async {
        let mut response = axum::response::IntoResponse::into_response(ApiError::from_code(
            memstream_protocol::ErrorCode::TooManyConnections,
            "too many admin connections (admin.max_connections); retry later",
        ));
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        response
    })
}
