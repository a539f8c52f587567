//! Secrets and tokens: agent session tokens (random, stored hashed), visitor tokens (signed,
//! stateless), setup tokens and site keys.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frontdesk_core::{ContactId, Millis, WebsiteId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A random 256-bit token, URL-safe.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A short random key for a website's snippet.
pub fn site_key() -> String {
    let bytes: [u8; 12] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a token is stored: its SHA-256, hex. A leaked table gives no usable token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A visitor's identity: `v1.<contact>.<website>.<expires_ms>.<hmac>`. It is signed with the
/// installation's secret, so nobody can forge one, and it names the website, so it cannot be
/// replayed on another site.
#[derive(Clone)]
pub struct VisitorTokens {
    key: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorClaims {
    pub contact_id: ContactId,
    pub website_id: WebsiteId,
    pub expires_at: Millis,
}

impl VisitorTokens {
    pub fn new(secret: &str) -> Self {
        Self {
            key: secret.as_bytes().to_vec(),
        }
    }

    fn sign(&self, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn issue(&self, contact: &ContactId, website: &WebsiteId, expires_at: Millis) -> String {
        let payload = format!("v1.{contact}.{website}.{expires_at}");
        let sig = self.sign(&payload);
        format!("{payload}.{sig}")
    }

    pub fn verify(&self, token: &str, now: Millis) -> Result<VisitorClaims, TokenError> {
        if token.len() > 256 {
            return Err(TokenError::Invalid);
        }
        let (payload, sig) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        if !constant_time_eq(&self.sign(payload), sig) {
            return Err(TokenError::Invalid);
        }
        let mut parts = payload.split('.');
        let (Some("v1"), Some(c), Some(w), Some(exp), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Invalid);
        };
        let expires_at: Millis = exp.parse().map_err(|_| TokenError::Invalid)?;
        let claims = VisitorClaims {
            contact_id: ContactId::parse(c).map_err(|_| TokenError::Invalid)?,
            website_id: WebsiteId::parse(w).map_err(|_| TokenError::Invalid)?,
            expires_at,
        };
        if expires_at <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (ContactId, WebsiteId) {
        (ContactId::new(1, 1), WebsiteId::new(1, 2))
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let t = VisitorTokens::new("secret");
        let (c, w) = ids();
        let tok = t.issue(&c, &w, 1_000);
        let claims = t.verify(&tok, 999).unwrap();
        assert_eq!((claims.contact_id, claims.website_id), (c, w));
        assert_eq!(t.verify(&tok, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn forged_and_altered_tokens_fail() {
        let t = VisitorTokens::new("secret");
        let (c, w) = ids();
        let tok = t.issue(&c, &w, i64::MAX);
        assert_eq!(
            VisitorTokens::new("other").verify(&tok, 0),
            Err(TokenError::Invalid)
        );
        let other = ContactId::new(5, 5);
        let swapped = tok.replace(c.as_str(), other.as_str());
        assert_eq!(t.verify(&swapped, 0), Err(TokenError::Invalid));
        let longer = tok.replace(&format!(".{}.", i64::MAX), ".9999999999999.");
        assert_eq!(t.verify(&longer, 0), Err(TokenError::Invalid));
        for junk in ["", ".", "v1....", "a.b.c.d.e.f", &"x".repeat(10_000)] {
            assert_eq!(t.verify(junk, 0), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn token_hash_and_compare() {
        assert_eq!(hash_token("a").len(), 64);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert_ne!(random_token(), random_token());
    }
}
