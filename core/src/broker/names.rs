//! Sharing of what messages repeat: routing keys and empty property sets.
//! A queued message then costs little more than its body, however many
//! messages carry the same routing key.

use crate::types::BasicProperties;
use std::collections::HashSet;
use std::sync::Arc;

/// How many distinct routing keys are kept for sharing; keys beyond that are
/// simply allocated per message.
const MAX_KEYS: usize = 16_384;

#[derive(Clone, Debug)]
pub(crate) struct Names {
    keys: HashSet<Arc<str>>,
    empty: Arc<BasicProperties>,
    default_exchange: Arc<str>,
}

impl Default for Names {
    fn default() -> Self {
        Names {
            keys: HashSet::new(),
            empty: Arc::new(BasicProperties::default()),
            default_exchange: Arc::from(""),
        }
    }
}

impl Names {
    pub fn routing_key(&mut self, key: &str) -> Arc<str> {
        if let Some(k) = self.keys.get(key) {
            return k.clone();
        }
        let k: Arc<str> = Arc::from(key);
        if self.keys.len() < MAX_KEYS {
            self.keys.insert(k.clone());
        }
        k
    }

    pub fn properties(&self, p: BasicProperties) -> Arc<BasicProperties> {
        if p == *self.empty {
            self.empty.clone()
        } else {
            Arc::new(p)
        }
    }

    pub fn default_exchange(&self) -> Arc<str> {
        self.default_exchange.clone()
    }
}
