//! Token verification, shared by the REST extractor and the socket connect
//! middleware: the token alone decides who the caller is.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    config::JwtSettings,
    domain::users::{Identity, Role, is_valid_user_id},
    error::AppError,
};

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

#[derive(Deserialize)]
struct Claims {
    id: Option<Value>,
    sub: Option<Value>,
    role: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<Value>,
    #[serde(rename = "type")]
    token_type: Option<String>,
}

pub struct Verifier {
    hmac: (DecodingKey, Validation),
    public: Option<(DecodingKey, Validation)>,
    signing: EncodingKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("JWT_PUBLIC_KEY is neither an RSA nor an EC public key in PEM form")]
    BadPublicKey,
}

impl Verifier {
    pub fn new(settings: &JwtSettings) -> Result<Self, KeyError> {
        let secret = settings.secret.expose().as_bytes();
        let public = match &settings.public_key_pem {
            None => None,
            Some(pem) => {
                let pem = pem.expose().as_bytes();
                let (key, alg) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
                    (key, Algorithm::RS256)
                } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
                    (key, Algorithm::ES256)
                } else {
                    return Err(KeyError::BadPublicKey);
                };
                Some((key, validation(alg)))
            }
        };
        Ok(Self {
            hmac: (DecodingKey::from_secret(secret), validation(Algorithm::HS256)),
            public,
            signing: EncodingKey::from_secret(secret),
        })
    }

    /// Verifies a token and returns who it names. Every failure is the same
    /// `UNAUTHORIZED`: a client learns nothing about why.
    pub fn verify(&self, token: &str) -> Result<Identity, AppError> {
        let token = strip_bearer(token.trim()).trim();
        let header = jsonwebtoken::decode_header(token).map_err(|_| AppError::unauthorized())?;
        let (key, validation) = match header.alg {
            Algorithm::HS256 => &self.hmac,
            Algorithm::RS256 | Algorithm::ES256 => self.public.as_ref().ok_or_else(AppError::unauthorized)?,
            _ => return Err(AppError::unauthorized()),
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, validation).map_err(|e| {
            tracing::debug!(reason = %e, "token refused");
            AppError::unauthorized()
        })?;
        identity_from(data.claims).ok_or_else(AppError::unauthorized)
    }

    /// Signs an HS256 token (development tokens and tests).
    pub fn issue(&self, identity: &Identity, ttl_secs: i64) -> Result<String, AppError> {
        #[derive(Serialize)]
        struct Out<'a> {
            id: &'a str,
            role: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
            exp: i64,
            iat: i64,
        }
        let now = chrono::Utc::now().timestamp();
        let claims = Out {
            id: &identity.user_id,
            role: identity.role.as_str(),
            name: identity.name.as_deref(),
            exp: now + ttl_secs,
            iat: now,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.signing).map_err(AppError::internal)
    }
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp"]);
    v
}

fn identity_from(claims: Claims) -> Option<Identity> {
    if claims.token_type.as_deref() == Some("refresh") {
        return None;
    }
    let user_id = claims.id.or(claims.sub).and_then(|v| scalar_string(&v))?;
    if !is_valid_user_id(&user_id) {
        return None;
    }
    Some(Identity {
        user_id,
        role: Role::parse(&without_nul(claims.role.unwrap_or_default())),
        name: claims.name.map(without_nul).filter(|s| !s.trim().is_empty()),
        email: claims.email.map(without_nul).filter(|s| !s.trim().is_empty()),
        phone: claims.phone.as_ref().and_then(scalar_string).map(without_nul),
    })
}

/// Profile claims are kept as the platform signed them, less any NUL, which
/// PostgreSQL cannot store (a signed token is never refused for its name).
fn without_nul(s: String) -> String {
    if s.contains('\0') { s.replace('\0', "") } else { s }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The token of an HTTP request: `Authorization: Bearer <jwt>`.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = strip_bearer(value).trim();
    (!token.is_empty()).then_some(token)
}

/// The credentials after a `Bearer` scheme word, in any case (HTTP auth
/// schemes are case-insensitive); a value without the word is kept whole.
pub fn strip_bearer(value: &str) -> &str {
    match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => &value[7..],
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use serde_json::json;

    fn verifier() -> Verifier {
        Verifier::new(&JwtSettings {
            secret: Secret::new("test-secret"),
            secret_generated: false,
            public_key_pem: None,
        })
        .unwrap()
    }

    fn sign(claims: Value, secret: &str) -> String {
        jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    fn exp(offset: i64) -> i64 {
        chrono::Utc::now().timestamp() + offset
    }

    #[test]
    fn accepts_id_or_sub_and_reads_the_role() {
        let v = verifier();
        let a = v.verify(&sign(json!({"id": "u1", "role": "influencer", "exp": exp(60)}), "test-secret")).unwrap();
        assert_eq!(a.user_id, "u1");
        assert_eq!(a.role, Role::Influencer);
        let b = v.verify(&sign(json!({"sub": 42, "role": "brand_owner", "exp": exp(60)}), "test-secret")).unwrap();
        assert_eq!(b.user_id, "42");
        assert_eq!(b.role, Role::BrandOwner);
    }

    #[test]
    fn refuses_expired_wrong_secret_refresh_missing_exp_and_bad_ids() {
        let v = verifier();
        for (claims, secret) in [
            (json!({"id": "u1", "exp": exp(-3600)}), "test-secret"),
            (json!({"id": "u1", "exp": exp(60)}), "other-secret"),
            (json!({"id": "u1", "exp": exp(60), "type": "refresh"}), "test-secret"),
            (json!({"id": "u1"}), "test-secret"),
            (json!({"id": "a b", "exp": exp(60)}), "test-secret"),
            (json!({"id": "x".repeat(65), "exp": exp(60)}), "test-secret"),
            (json!({"exp": exp(60)}), "test-secret"),
        ] {
            let err = v.verify(&sign(claims.clone(), secret)).unwrap_err();
            assert_eq!(err.code, crate::error::ErrorCode::Unauthorized, "{claims}");
        }
        assert!(v.verify("not-a-token").is_err());
    }

    #[test]
    fn the_bearer_scheme_word_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "BeArEr abc", "abc"] {
            assert_eq!(strip_bearer(value), "abc", "{value}");
        }
        assert_eq!(strip_bearer("Bearerabc"), "Bearerabc");
    }

    #[test]
    fn issued_tokens_verify() {
        let v = verifier();
        let identity = Identity {
            user_id: "demo".into(),
            role: Role::BrandOwner,
            name: Some("Demo".into()),
            email: None,
            phone: None,
        };
        let token = v.issue(&identity, 60).unwrap();
        assert_eq!(v.verify(&format!("Bearer {token}")).unwrap(), identity);
    }

    /// A throw-away P-256 key pair, made for this test only.
    const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJ6ZuVIF+ANlzRwl0\nKkfOwZf0gCfJWzblkCVqiaN8wnKhRANCAAT+BcC1p8X4KhvA+m6TsaUd3596WVc+\n37BBz2rMGXbF3r4kJ/OyVXcENiXcQgZD0ZRni+KJLmQ4OYLAoHLcxcH0\n-----END PRIVATE KEY-----";
    const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/gXAtafF+CobwPpuk7GlHd+fellX\nPt+wQc9qzBl2xd6+JCfzslV3BDYl3EIGQ9GUZ4viiS5kODmCwKBy3MXB9A==\n-----END PUBLIC KEY-----";

    #[test]
    fn es256_tokens_verify_with_the_public_key_beside_hs256() {
        let v = Verifier::new(&JwtSettings {
            secret: Secret::new("test-secret"),
            secret_generated: false,
            public_key_pem: Some(Secret::new(EC_PUBLIC)),
        })
        .unwrap();
        let claims = json!({"id": "ec-user", "role": "brand_owner", "exp": exp(60)});
        let key = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap();
        assert_eq!(v.verify(&token).unwrap().user_id, "ec-user");
        assert_eq!(
            v.verify(&sign(json!({"id": "hs-user", "exp": exp(60)}), "test-secret")).unwrap().user_id,
            "hs-user"
        );
        // A changed payload breaks the signature.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        parts[1] = sign(json!({"id": "someone-else", "exp": exp(60)}), "x").split('.').nth(1).unwrap().to_string();
        assert!(v.verify(&parts.join(".")).is_err());
        // Without a public key, ES256 tokens are refused.
        assert!(verifier().verify(&token).is_err());
    }
}
