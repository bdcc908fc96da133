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

/// A permission pattern, compiled once. RabbitMQ's patterns are regexes
/// (Erlang `re:run`, anchored only where the pattern says so) and that is what
/// this is with the `regex` feature, on by default. The playground leaves the
/// feature out to stay small: a simulation's only user is guest with `.*`, so
/// there `.*` matches everything and any other pattern matches literally.
/// An empty pattern matches nothing, as in RabbitMQ.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    #[cfg(feature = "regex")]
    re: Option<regex_lite::Regex>,
}

impl Pattern {
    pub fn new(source: &str) -> Pattern {
        Pattern {
            source: source.to_string(),
            #[cfg(feature = "regex")]
            re: regex_lite::Regex::new(source).ok(),
        }
    }

    pub fn allows(&self, resource: &str) -> bool {
        if self.source == ".*" {
            return true;
        }
        if self.source.is_empty() {
            return false;
        }
        #[cfg(feature = "regex")]
        return self.re.as_ref().is_some_and(|r| r.is_match(resource));
        #[cfg(not(feature = "regex"))]
        return self.source == resource;
    }
}

/// Whether a permission pattern allows a resource name.
pub fn permission_allows(pattern: &str, resource: &str) -> bool {
    Pattern::new(pattern).allows(resource)
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
