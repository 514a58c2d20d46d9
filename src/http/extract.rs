//! Extractors whose failures are contract errors: the caller's identity,
//! JSON bodies and query strings.

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::{
    app::{AppState, session},
    auth::bearer_token,
    domain::{users::Identity, validate},
    error::AppError,
};

/// An extractor of the identity a bearer token proves, checked by one of
/// the session's functions.
macro_rules! identity {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        pub struct $name(pub Identity);

        impl<S: Send + Sync> FromRequestParts<S> for $name
        where
            AppState: FromRef<S>,
        {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
                let app = AppState::from_ref(state);
                $check(&app, bearer_token(&parts.headers)).await.map($name)
            }
        }
    };
}

identity!(
    /// The authenticated user calling: the bearer token decides.
    Caller,
    session::request
);
identity!(
    /// The platform's backend (a `service` token), for the platform API.
    Service,
    session::service
);
identity!(
    /// An administrator, for the admin routes.
    Admin,
    session::admin
);

/// A JSON body. Any content type is read as JSON; malformed JSON and
/// fields of the wrong shape are `VALIDATION_FAILED`, naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { &bytes[..] };
        if validate::has_nul_escape(text) {
            // Find the field only on this rare path: the check above is a scan.
            validate::no_nul(&parse_json::<serde_json::Value>(text)?)?;
        }
        parse_json(text).map(ApiJson)
    }
}

/// The body's bytes as sent (what a signature covers); a body over the
/// limit or cut short is `VALIDATION_FAILED` in the envelope.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::validation("The request body is too large", json!({ "body": "must be at most 2 MiB" }))
            } else {
                AppError::validation("Could not read the request body", json!({ "body": e.body_text() }))
            }
        })
    }
}

/// One JSON value and nothing after it; malformed JSON and fields of the
/// wrong shape are `VALIDATION_FAILED`, naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let malformed =
        |e: serde_json::Error| AppError::validation("Malformed JSON body", json!({ "body": e.to_string() }));
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() { malformed(inner) } else { AppError::field(&path, &inner.to_string()) }
    })?;
    // Trailing content (`{...} xyz`, two objects) is not one JSON value.
    de.end().map_err(malformed)?;
    Ok(value)
}

/// A body whose conversation (or other resource) the path names: the
/// path's id is the `key` field.
pub fn with_path_id<T: DeserializeOwned>(mut body: serde_json::Value, key: &str, id: String) -> Result<T, AppError> {
    match body.as_object_mut() {
        Some(fields) => {
            fields.insert(key.to_string(), serde_json::Value::String(id));
        }
        None => return Err(AppError::invalid_field("body", "must be a JSON object")),
    }
    serde_path_to_error::deserialize(body).map_err(|e| AppError::field(&e.path().to_string(), &e.inner().to_string()))
}

/// A query string.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| AppError::validation("Invalid query string", json!({ "query": e.body_text() })))
    }
}
