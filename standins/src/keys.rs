//! Test credentials generated when first used: an RSA service account for
//! FCM and a P-256 .p8 key for APNs. One key of each kind per test process
//! (RSA generation is slow); nothing is stored in the repository.

use std::sync::OnceLock;

use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rand_core::OsRng;
use rsa::RsaPrivateKey;
use serde_json::json;

struct PemPair {
    private: String,
    public: String,
}

fn rsa_pair() -> &'static PemPair {
    static PAIR: OnceLock<PemPair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let key = RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key generation");
        PemPair {
            private: key.to_pkcs8_pem(LineEnding::LF).expect("RSA private PEM").to_string(),
            public: key.to_public_key().to_public_key_pem(LineEnding::LF).expect("RSA public PEM"),
        }
    })
}

fn p256_pair() -> &'static PemPair {
    static PAIR: OnceLock<PemPair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let key = p256::SecretKey::random(&mut OsRng);
        PemPair {
            private: key.to_pkcs8_pem(LineEnding::LF).expect("P-256 private PEM").to_string(),
            public: key.public_key().to_public_key_pem(LineEnding::LF).expect("P-256 public PEM"),
        }
    })
}

/// A Google service account as its JSON key file describes it.
#[derive(Clone, Debug)]
pub struct TestServiceAccount {
    pub client_email: String,
    pub project_id: String,
    pub private_key_id: String,
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub token_uri: String,
}

impl TestServiceAccount {
    pub fn generate(token_uri: &str) -> Self {
        let pair = rsa_pair();
        Self {
            client_email: "parley-push@parley-test.iam.gserviceaccount.com".into(),
            project_id: "parley-test".into(),
            private_key_id: "0123456789abcdef0123456789abcdef01234567".into(),
            private_key_pem: pair.private.clone(),
            public_key_pem: pair.public.clone(),
            token_uri: token_uri.into(),
        }
    }

    /// The key file's JSON, as `FCM_SERVICE_ACCOUNT_JSON` holds it.
    pub fn json(&self) -> String {
        json!({
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
        })
        .to_string()
    }
}

/// An APNs signing key as Apple hands it out (.p8, PKCS#8 PEM) with its ids.
#[derive(Clone, Debug)]
pub struct TestApnsKey {
    pub p8_pem: String,
    pub public_key_pem: String,
    pub key_id: String,
    pub team_id: String,
}

impl TestApnsKey {
    pub fn generate() -> Self {
        let pair = p256_pair();
        Self {
            p8_pem: pair.private.clone(),
            public_key_pem: pair.public.clone(),
            key_id: "PARLEYKEY1".into(),
            team_id: "PARLEYTEAM".into(),
        }
    }
}
