//! Users, password hashes and permissions, as RabbitMQ keeps them.

use crate::definitions::{PermissionDef, UserDef};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ++ SHA-256(salt ++ password)).
pub fn hash_password(password: &str, salt: [u8; 4]) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    let mut out = salt.to_vec();
    out.extend_from_slice(&h.finalize());
    STANDARD.encode(out)
}

/// Checks a password against a stored hash.
pub fn password_matches(stored_hash: &str, password: &str) -> bool {
    let Ok(raw) = STANDARD.decode(stored_hash) else {
        return false;
    };
    if raw.len() != 4 + 32 {
        return false;
    }
    let salt = [raw[0], raw[1], raw[2], raw[3]];
    hash_password(password, salt) == stored_hash
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Configure,
    Write,
    Read,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Configure => "configure",
            Access::Write => "write",
            Access::Read => "read",
        }
    }
}

/// A permission regex as RabbitMQ applies it: anchored at the start only when
/// the pattern says so (Erlang `re:run`). Empty matches nothing.
pub fn permission_allows(pattern: &str, resource: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    match regex_lite::Regex::new(pattern) {
        Ok(re) => re.is_match(resource),
        Err(_) => false,
    }
}

pub fn user_def(name: &str, password: &str, tags: &[&str], salt: [u8; 4]) -> UserDef {
    UserDef {
        name: name.to_string(),
        password_hash: hash_password(password, salt),
        hashing_algorithm: "rabbit_password_hashing_sha256".to_string(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

pub fn full_permissions(user: &str, vhost: &str) -> PermissionDef {
    PermissionDef {
        user: user.to_string(),
        vhost: vhost.to_string(),
        configure: ".*".to_string(),
        write: ".*".to_string(),
        read: ".*".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        let h = hash_password("guest", [1, 2, 3, 4]);
        assert!(password_matches(&h, "guest"));
        assert!(!password_matches(&h, "wrong"));
        assert!(!password_matches("not base64!", "guest"));
    }

    #[test]
    fn permissions_are_regexes() {
        assert!(permission_allows(".*", "anything"));
        assert!(permission_allows("^amq\\.gen.*", "amq.gen-x"));
        assert!(!permission_allows("^amq\\.gen.*", "q"));
        assert!(!permission_allows("", "q"));
    }
}
