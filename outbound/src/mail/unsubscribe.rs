//! Tokens for the digest's unsubscribe link: the user id and an HMAC of it,
//! so a one-click POST from a mail client can turn the user's email
//! preference off without a session, and nobody can forge one for another user.

use hmac::Mac;

use crate::mac::{HmacSha256, hmac_sha256};

fn mac(secret: &[u8], user_id: &str) -> HmacSha256 {
    hmac_sha256(secret, &[b"parley-email-unsubscribe:", user_id.as_bytes()])
}

/// `hex(user id) . hex(HMAC-SHA256(secret, purpose + user id))`: URL-safe as it is.
pub fn token(secret: &[u8], user_id: &str) -> String {
    format!("{}.{}", hex::encode(user_id), hex::encode(mac(secret, user_id).finalize().into_bytes()))
}

/// The user id a genuine token was made for; `None` for anything else.
pub fn verify(secret: &[u8], token: &str) -> Option<String> {
    let (id, signature) = token.split_once('.')?;
    let user_id = String::from_utf8(hex::decode(id).ok()?).ok()?;
    let signature = hex::decode(signature).ok()?;
    mac(secret, &user_id).verify_slice(&signature).ok()?;
    Some(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user() {
        let token = token(b"k", "user-42");
        assert_eq!(verify(b"k", &token).as_deref(), Some("user-42"));
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.'));
    }

    #[test]
    fn a_token_for_another_user_or_key_is_refused() {
        let good = token(b"k", "user-42");
        let (_, signature) = good.split_once('.').unwrap();
        let forged = format!("{}.{signature}", hex::encode("user-43"));
        assert_eq!(verify(b"k", &forged), None);
        assert_eq!(verify(b"other", &good), None);
        assert_eq!(verify(b"k", "garbage"), None);
        assert_eq!(verify(b"k", "zz.zz"), None);
    }
}
