//! The REST API: axum routers, one file per resource, thin handlers.

mod admin;
pub mod assets;
mod collaborations;
mod dev;
pub mod extract;
mod flow;
mod guard;
pub use guard::{MAX_HEADERS, MAX_URI_BYTES};
mod health;
mod message_ops;
mod messages;
mod moderation;
mod notifications;
pub mod openapi;
mod payments;
mod platform;
mod reach;

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, delete, get, post, put},
};
use http::{HeaderValue, Method, header};
use tower_http::{
    cors::{AllowHeaders, AllowOrigin, Any, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

use crate::{
    app::AppState,
    error::AppError,
    metrics::{HttpLabels, RouteLabels},
};

pub fn router(app: AppState) -> Router {
    let mut api = Router::new()
        .route("/api/messages/conversations", get(messages::list_conversations))
        .route("/api/messages/conversations/{id}/messages", get(messages::history))
        .route("/api/messages/conversations/{id}/seen", post(messages::mark_seen))
        .route("/api/messages/conversations/{id}/context", get(messages::context))
        .route("/api/messages/send", post(messages::send))
        .route("/api/messages/unread-count", get(messages::unread_count))
        .route("/api/messages/direct-connect", post(messages::direct_connect))
        .route("/api/messages/direct-connections", get(messages::direct_connections))
        .route("/api/messages/conversations/{id}/button-click", post(flow::button_click))
        .route("/api/messages/conversations/{id}/text-input", post(flow::text_input))
        .route("/api/campaigns", post(collaborations::create_campaign).get(collaborations::list_campaigns))
        .route("/api/campaigns/{id}", get(collaborations::get_campaign))
        .route("/api/campaigns/{id}/requests", get(collaborations::campaign_requests))
        .route("/api/campaigns/automated/initialize", post(collaborations::initialize_campaign))
        .route("/api/campaigns/automated/verify-payment", post(payments::verify))
        .route("/api/bids", post(collaborations::create_bid).get(collaborations::list_bids))
        .route("/api/bids/{id}", get(collaborations::get_bid))
        .route("/api/bids/{id}/requests", get(collaborations::bid_requests))
        .route("/api/bids/automated/initialize", post(collaborations::initialize_bid))
        .route("/api/bids/automated/verify-payment", post(payments::verify))
        .route("/api/requests", post(collaborations::apply))
        .route("/api/payments/config", get(payments::config))
        .route("/api/payments/verify", post(payments::verify))
        .route("/api/webhooks/razorpay", post(payments::webhook))
        .route("/webhook/razorpay", post(payments::webhook))
        .route("/api/notifications", get(notifications::list))
        .route("/api/notifications/unread-count", get(notifications::unread_count))
        .route("/api/notifications/mark-all-read", post(notifications::mark_all_read))
        .route("/api/notifications/{id}/read", post(notifications::read))
        .route("/api/notifications/{id}", delete(notifications::delete))
        .route("/api/platform/notifications", post(platform::notify))
        .route("/api/platform/conversations/{id}/system-messages", post(platform::system_message))
        .route("/api/platform/wallets/{user_id}/credit", post(platform::credit))
        .route("/api/messages/conversations/{id}/settings", put(messages::settings))
        .route("/api/messages/quota", get(messages::quota))
        .route("/api/messages/conversations/{id}/archive", post(message_ops::archive))
        .route("/api/messages/conversations/{id}/unarchive", post(message_ops::unarchive))
        .route("/api/messages/conversations/{id}/mute", post(message_ops::mute))
        .route("/api/messages/conversations/{id}/unmute", post(message_ops::unmute))
        .route("/api/messages/conversations/{id}/leave", delete(message_ops::leave))
        .route("/api/messages/search", get(message_ops::search))
        .route("/api/messages/{id}", put(message_ops::edit).delete(message_ops::delete))
        .route("/api/messages/{id}/reactions", post(message_ops::add_reaction))
        .route("/api/messages/{id}/reactions/{emoji}", delete(message_ops::remove_reaction))
        .route("/api/admin/webhooks/deliveries", get(admin::webhook_deliveries))
        .route("/api/admin/webhooks/deliveries/{id}/replay", post(admin::replay_delivery))
        .route("/api/messages/{id}/flag", post(moderation::flag_message))
        .route("/api/users/{id}/report", post(moderation::report_user))
        .route("/api/admin/users/{id}/ban", post(admin::ban))
        .route("/api/admin/users/{id}/unban", post(admin::unban))
        .route("/api/admin/flags", get(admin::flags))
        .route("/api/admin/flags/{id}/resolve", post(admin::resolve_flag))
        .route("/api/admin/analytics", get(admin::analytics))
        .route("/api/admin/audit", get(admin::audit))
        .route("/api/devices", post(reach::register_device).get(reach::list_devices))
        .route("/api/devices/{token}", delete(reach::remove_device))
        .route("/api/me/preferences", get(reach::preferences).put(reach::set_preferences));
    if !app.settings.is_production() {
        api = api.route("/api/dev/token", post(dev::token));
    }
    if app.payments.gateway.is_sandbox() {
        api = api.route("/api/payments/sandbox/pay", post(payments::sandbox_pay));
    }
    // Unknown API paths answer in the envelope instead of reaching the static files.
    let api = api.route("/api/{*rest}", any(api_not_found));

    let api = api
        .route("/api/docs", get(assets::docs))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/asyncapi.json", get(openapi::asyncapi_json));
    let pages = match &app.settings.static_dir {
        Some(dir) => Router::new()
            .route_service("/admin", ServeFile::new(dir.join("admin.html")))
            .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))),
        None => Router::new().route("/admin", get(assets::admin)).fallback(assets::serve),
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/unsubscribe", get(reach::unsubscribe_page).post(reach::unsubscribe))
        .merge(api)
        .merge(pages)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), guard::guard))
        .layer(middleware::from_fn_with_state(app.clone(), record_request))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| req.uri().path().to_string());
            let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("http", method = %req.method(), route, request_id)
        }))
        // Outermost: every request has an id (the caller's, or a new one),
        // in the trace span above and echoed in the response.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(app)
}

/// The whole HTTP service: CORS, then Socket.IO (which takes its own path),
/// then the router. A WebSocket handshake is copied first, so the socket
/// does not keep hyper's 16 KiB read buffer alive for its whole life.
pub fn service<L, B>(app: &AppState, router: Router, socket_io: L) -> HttpService
where
    L: tower::Layer<Router>,
    L::Service: tower::Service<Request, Response = http::Response<B>, Error = std::convert::Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    <L::Service as tower::Service<Request>>::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Default + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let stack = tower::ServiceBuilder::new()
        .map_response(|res: http::Response<B>| res.map(axum::body::Body::new))
        .map_request(compact_handshake)
        .layer(cors(app))
        .service(socket_io.layer(router));
    tower::util::BoxCloneSyncService::new(stack)
}

pub type HttpService = tower::util::BoxCloneSyncService<Request, Response, std::convert::Infallible>;

/// Rebuilds a Socket.IO request from owned copies of its URI and headers:
/// the originals are slices of the connection's read buffer, and the socket
/// keeps its handshake for as long as it lives.
fn compact_handshake(req: Request) -> Request {
    if !req.uri().path().starts_with("/socket.io") {
        return req;
    }
    let (parts, body) = req.into_parts();
    let mut fresh = Request::new(body);
    *fresh.method_mut() = parts.method;
    *fresh.version_mut() = parts.version;
    *fresh.uri_mut() = parts.uri.to_string().parse().unwrap_or(parts.uri);
    let headers = fresh.headers_mut();
    headers.reserve(parts.headers.len());
    for (name, value) in parts.headers.iter() {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            headers.append(name, value);
        }
    }
    *fresh.extensions_mut() = parts.extensions;
    fresh
}

/// The header that carries a request's id.
const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// A known path with another method: the envelope, with `Allow` kept by axum.
async fn method_not_allowed() -> Response {
    let mut response =
        AppError::new(crate::error::ErrorCode::NotFound, "This route does not take that method").into_response();
    *response.status_mut() = http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

async fn api_not_found() -> Response {
    AppError::new(crate::error::ErrorCode::NotFound, "No such API route").into_response()
}

/// Counts requests by matched route (never the raw path, which holds ids).
async fn record_request(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    app.metrics
        .http_seconds
        .get_or_create(&RouteLabels { route: route.clone(), method: method.clone() })
        .observe(started.elapsed().as_secs_f64());
    app.metrics.http_requests.get_or_create(&HttpLabels { route, method, status: response.status().as_u16() }).inc();
    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "request finished");
    response
}

fn cors(app: &AppState) -> CorsLayer {
    // Any header a client asks for (socket.io-client's `extraHeaders`), and the
    // headers a page may want to read back.
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([header::RETRY_AFTER, REQUEST_ID]);
    let origins: Vec<HeaderValue> = app.settings.cors_origins.iter().filter_map(|o| o.parse().ok()).collect();
    if !origins.is_empty() {
        // Named origins may send cookies: a load balancer's sticky-session
        // cookie keeps a polling client on one node.
        layer.allow_origin(AllowOrigin::list(origins)).allow_credentials(true)
    } else if app.settings.is_production() {
        // Same-origin only unless CORS_ORIGIN says otherwise.
        layer.allow_origin(AllowOrigin::list([]))
    } else {
        layer.allow_origin(Any)
    }
}
