//! The web console: a single-page app in plain HTML, CSS and JavaScript, embedded in the
//! binary (`crates/broker/console/`; no build step, no CDN: the files served are the
//! sources). Every page route ([`PAGES`]) serves `index.html`, which routes on the path in
//! the browser, so each page deep-links and reloads; the app reads the REST API and the
//! live view (`/api/v1/events`) with the credentials the user gives it.
//!
//! Responses carry an ETag (304 on `If-None-Match`), `Cache-Control: no-cache` (revalidate,
//! so an upgraded server's console is used at once) and a Content-Security-Policy that
//! allows only this origin's scripts, styles and API (no inline script anywhere).

use std::sync::LazyLock;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The console's page routes, in the router's `{param}` form.
pub(crate) const PAGES: &[&str] = &[
    "/",
    "/streams",
    "/streams/{name}",
    "/groups",
    "/groups/{name}",
    "/connections",
    "/config",
];

/// The console's static files: (path, content type, contents).
pub(crate) const ASSETS: &[(&str, &str, &str)] = &[
    (
        "/console/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "/console/ui.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/ui.js"),
    ),
    (
        "/console/pages.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/pages.js"),
    ),
    (
        "/console/browser.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/browser.js"),
    ),
    (
        "/console/app.css",
        "text/css; charset=utf-8",
        include_str!("../../console/app.css"),
    ),
];

const INDEX: &str = include_str!("../../console/index.html");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// An ETag per file, from its contents (CRC-32C: a cache key, not a signature).
fn etag(contents: &str) -> HeaderValue {
    let tag = format!(
        "\"{:08x}-{:x}\"",
        crc32c::crc32c(contents.as_bytes()),
        contents.len()
    );
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

static INDEX_TAG: LazyLock<HeaderValue> = LazyLock::new(|| etag(INDEX));
static ASSET_TAGS: LazyLock<Vec<HeaderValue>> =
    LazyLock::new(|| ASSETS.iter().map(|(_, _, c)| etag(c)).collect());

fn file(
    request: &HeaderMap,
    content_type: &'static str,
    tag: &HeaderValue,
    body: &'static str,
) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::ETAG, tag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if request.get(header::IF_NONE_MATCH) == Some(tag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, body).into_response()
}

/// A page route: the app, which routes on the path itself.
pub(crate) async fn page(request: HeaderMap) -> Response {
    file(&request, "text/html; charset=utf-8", &INDEX_TAG, INDEX)
}

/// `ASSETS[index]`.
pub(crate) fn asset(index: usize, request: &HeaderMap) -> Response {
    let (_, content_type, contents) = ASSETS[index];
    file(request, content_type, &ASSET_TAGS[index], contents)
}
