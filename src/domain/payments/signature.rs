//! Razorpay signatures: hex HMAC-SHA256, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn keyed(secret: &str) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// `hex(HMAC_SHA256(secret, message))`.
pub fn sign(secret: &str, message: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC of `message`; the comparison takes
/// the same time wherever the first difference is.
pub fn verify(secret: &str, message: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac = keyed(secret);
    mac.update(message);
    mac.verify_slice(&expected).is_ok()
}

/// The checkout signature: over `order_id|payment_id` with the key secret.
pub fn checkout_message(order_id: &str, payment_id: &str) -> Vec<u8> {
    format!("{order_id}|{payment_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_hmac_and_rejects_tampering() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = sign("secret", &checkout_message("order_1", "pay_1"));
        assert!(verify("secret", &checkout_message("order_1", "pay_1"), &sig));
        assert!(!verify("secret", &checkout_message("order_1", "pay_2"), &sig));
        assert!(!verify("other", &checkout_message("order_1", "pay_1"), &sig));
        assert!(!verify("secret", b"x", "not hex"));
        assert!(!verify("secret", b"x", ""));
    }
}
