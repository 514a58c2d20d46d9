//! Extractors whose failures are contract errors: the caller's identity,
//! JSON bodies and query strings.

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::domain::limits::Kind;
use crate::{
    auth::bearer_token,
    domain::{users::Identity, validate},
    error::AppError,
    state::AppState,
};

/// The authenticated caller. Verifies the bearer token and keeps the user
/// row in step with the token's claims.
pub struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let app = AppState::from_ref(state);
        let token = bearer_token(&parts.headers).ok_or_else(AppError::unauthorized)?;
        let who = app.verifier.verify(token)?;
        if !matches!(parts.method, http::Method::GET | http::Method::HEAD | http::Method::OPTIONS) {
            app.limiter.check(Kind::RestWrites, &who.user_id).await?;
        }
        app.users.observe(&app.db, &who).await?;
        Ok(Caller(who))
    }
}

/// A JSON body. Any content type is read as JSON; malformed JSON and
/// fields of the wrong shape are `VALIDATION_FAILED`, naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::validation("The request body is too large", json!({ "body": "must be at most 2 MiB" }))
            } else {
                AppError::validation("Could not read the request body", json!({ "body": e.body_text() }))
            }
        })?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { &bytes[..] };
        if validate::has_nul_escape(text) {
            // Find the field only on this rare path: the check above is a scan.
            validate::no_nul(&parse_json::<serde_json::Value>(text)?)?;
        }
        parse_json(text).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::validation("Malformed JSON body", json!({ "body": inner.to_string() }))
        } else {
            field_error(&path, &inner.to_string())
        }
    })
}

/// Turns a deserialisation failure into a field-named validation error.
pub fn field_error(path: &str, problem: &str) -> AppError {
    // serde reports a missing field at the parent path, naming it in the text.
    let field = problem
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map(|name| if path == "." { name.to_string() } else { format!("{path}.{name}") })
        .unwrap_or_else(|| if path == "." { "body".to_string() } else { path.to_string() });
    let problem = problem.split(" at line ").next().unwrap_or(problem).to_string();
    AppError::validation(format!("{field}: {problem}"), json!({ field: problem }))
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
