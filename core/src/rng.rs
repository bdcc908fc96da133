//! The core's only source of randomness: a seeded SplitMix64, so the same seed
//! gives the same server-generated names on every platform.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `prefix-` followed by 16 random bytes in unpadded base64url (22 characters),
    /// the shape of RabbitMQ's `amq.gen-` queue names and `amq.ctag-` consumer tags.
    pub fn name(&mut self, prefix: &str) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_look_like_rabbitmqs() {
        let mut r = Rng::new(7);
        let n = r.name("amq.gen");
        assert!(n.starts_with("amq.gen-"));
        assert_eq!(n.len(), "amq.gen-".len() + 22);
        assert!(n["amq.gen-".len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(n, r.name("amq.gen"));
        assert_eq!(Rng::new(7).name("amq.gen"), n, "same seed, same name");
    }
}
