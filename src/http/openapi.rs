//! The OpenAPI document: every handler is annotated with `#[utoipa::path]`
//! and listed here; a test keeps this list equal to the router's routes.

use axum::Json;
use serde_json::Value;
use utoipa::OpenApi;

use crate::describe::{
    asyncapi,
    openapi::{self as describe, Shared},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Parley REST API", description = "The REST side of Parley. Every failure is the envelope `{success: false, message, error_code, details}`; the socket events are in /api/asyncapi.json."),
    paths(
        super::messages::list_conversations,
        super::messages::history,
        super::messages::mark_seen,
        super::messages::context,
        super::messages::send,
        super::messages::unread_count,
        super::messages::direct_connect,
        super::messages::direct_connections,
        super::flow::button_click,
        super::flow::text_input,
        super::collaborations::create_campaign,
        super::collaborations::list_campaigns,
        super::collaborations::get_campaign,
        super::collaborations::campaign_requests,
        super::collaborations::initialize_campaign,
        super::collaborations::create_bid,
        super::collaborations::list_bids,
        super::collaborations::get_bid,
        super::collaborations::bid_requests,
        super::collaborations::initialize_bid,
        super::collaborations::apply,
        super::payments::config,
        super::payments::verify,
        super::payments::webhook,
        super::payments::sandbox_pay,
        super::notifications::list,
        super::notifications::unread_count,
        super::notifications::mark_all_read,
        super::notifications::read,
        super::notifications::delete,
        super::platform::notify,
        super::platform::system_message,
        super::platform::credit,
        super::messages::settings,
        super::messages::quota,
        super::admin::webhook_deliveries,
        super::admin::replay_delivery,
        super::dev::token,
        super::health::healthz,
        super::health::readyz,
        super::health::metrics,
        super::assets::docs,
        super::message_ops::archive,
        super::message_ops::unarchive,
        super::message_ops::mute,
        super::message_ops::unmute,
        super::message_ops::leave,
        super::message_ops::edit,
        super::message_ops::delete,
        super::message_ops::add_reaction,
        super::message_ops::remove_reaction,
        super::reach::register_device,
        super::reach::list_devices,
        super::reach::remove_device,
        super::reach::preferences,
        super::reach::set_preferences,
        super::reach::unsubscribe_page,
        super::reach::unsubscribe,
        super::message_ops::search,
        super::moderation::flag_message,
        super::moderation::report_user,
        super::admin::ban,
        super::admin::unban,
        super::admin::flags,
        super::admin::resolve_flag,
        super::admin::analytics,
        super::admin::audit,
        super::assets::admin,
    ),
    components(schemas(describe::SendBody, describe::DirectConnectBody, describe::ButtonClickBody, describe::TextInputBody, describe::VerifyBody, describe::DevTokenBody)),
    modifiers(&Shared),
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| describe::finish(ApiDoc::openapi()))
}

pub async fn openapi_json() -> Json<Value> {
    Json(document().clone())
}

pub async fn asyncapi_json() -> Json<Value> {
    Json(asyncapi::document())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// `(METHOD, path)` of every `.route(...)` in the router's source.
    fn routed() -> BTreeSet<(String, String)> {
        let source = include_str!("mod.rs");
        let mut found = BTreeSet::new();
        for chunk in source.split(".route(\"").skip(1) {
            let Some((path, rest)) = chunk.split_once('"') else { continue };
            let end = rest.find(".route(").unwrap_or(rest.len()).min(rest.find(';').unwrap_or(rest.len()));
            let rest = &rest[..end];
            for method in ["get", "post", "put", "delete", "patch"] {
                if rest.contains(&format!("{method}(")) {
                    found.insert((method.to_uppercase(), path.to_string()));
                }
            }
        }
        found
    }

    fn documented() -> BTreeSet<(String, String)> {
        let mut found = BTreeSet::new();
        for (path, item) in document()["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
        found
    }

    /// A route added to the router without a `#[utoipa::path]` listed in
    /// `ApiDoc` (or the other way round) fails here.
    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let mut routed = routed();
        // The documents themselves are served, not described.
        routed.remove(&("GET".to_string(), "/api/openapi.json".to_string()));
        routed.remove(&("GET".to_string(), "/api/asyncapi.json".to_string()));
        let documented = documented();
        let missing: Vec<_> = routed.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routed).collect();
        assert!(missing.is_empty(), "routes without a description: {missing:?}");
        assert!(extra.is_empty(), "described routes the router lacks: {extra:?}");
        assert!(routed.len() > 40, "the route scan found only {}", routed.len());
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_envelope_and_both_security_schemes() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        assert!(doc["components"]["securitySchemes"]["service"].is_object());
        let send = &doc["paths"]["/api/messages/send"]["post"];
        assert_eq!(
            send["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorEnvelope"
        );
        assert_eq!(
            doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["error_code"]["enum"][0],
            "UNAUTHORIZED"
        );
    }
}
