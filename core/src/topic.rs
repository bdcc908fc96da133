//! Topic exchange matching with RabbitMQ's word semantics: keys and patterns are
//! split on `.`; `*` matches exactly one word, `#` zero or more; the empty key is
//! zero words; empty words (`a..b`) are words like any other.
//!
//! [`TopicTrie`] is what the exchange routes with (one walk for all bindings);
//! [`matches`] is the plain definition, used for explanations and as the
//! reference the trie is property-tested against.

use std::collections::HashMap;

/// Splits a key or pattern into words. `""` is zero words.
pub fn words(s: &str) -> Vec<&str> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split('.').collect()
    }
}

/// Whether `pattern` matches `key`, straight from the definition.
pub fn matches(pattern: &str, key: &str) -> bool {
    explain(pattern, key).is_some()
}

/// If `pattern` matches `key`, what each pattern word took: for every pattern
/// word, the key words it consumed (one for a literal or `*`, any number for `#`).
pub fn explain<'k>(pattern: &str, key: &'k str) -> Option<Vec<(String, Vec<&'k str>)>> {
    let p = words(pattern);
    let k = words(key);
    let mut took = Vec::with_capacity(p.len());
    if explain_from(&p, &k, &mut took) {
        Some(took)
    } else {
        None
    }
}

fn explain_from<'k>(p: &[&str], k: &[&'k str], took: &mut Vec<(String, Vec<&'k str>)>) -> bool {
    let Some((first, rest)) = p.split_first() else {
        return k.is_empty();
    };
    match *first {
        "#" => {
            for n in 0..=k.len() {
                took.push(("#".to_string(), k[..n].to_vec()));
                if explain_from(rest, &k[n..], took) {
                    return true;
                }
                took.pop();
            }
            false
        }
        word => match k.split_first() {
            Some((kw, krest)) if word == "*" || word == *kw => {
                took.push((word.to_string(), vec![*kw]));
                if explain_from(rest, krest, took) {
                    return true;
                }
                took.pop();
                false
            }
            _ => false,
        },
    }
}

/// One node of the trie: literal children, a `*` child, a `#` child, and the
/// destinations whose pattern ends here.
#[derive(Clone, Debug, Default)]
struct Node {
    children: HashMap<Box<str>, usize>,
    star: Option<usize>,
    hash: Option<usize>,
    dests: Vec<usize>,
}

/// A trie of topic patterns mapping to destination indices (chosen by the caller).
#[derive(Clone, Debug)]
pub struct TopicTrie {
    nodes: Vec<Node>,
}

impl Default for TopicTrie {
    fn default() -> Self {
        TopicTrie {
            nodes: vec![Node::default()],
        }
    }
}

impl TopicTrie {
    pub fn insert(&mut self, pattern: &str, dest: usize) {
        let mut at = 0;
        for w in words(pattern) {
            let next = match w {
                "*" => self.nodes[at].star,
                "#" => self.nodes[at].hash,
                _ => self.nodes[at].children.get(w).copied(),
            };
            at = match next {
                Some(n) => n,
                None => {
                    let n = self.nodes.len();
                    self.nodes.push(Node::default());
                    match w {
                        "*" => self.nodes[at].star = Some(n),
                        "#" => self.nodes[at].hash = Some(n),
                        _ => {
                            self.nodes[at].children.insert(w.into(), n);
                        }
                    }
                    n
                }
            };
        }
        if !self.nodes[at].dests.contains(&dest) {
            self.nodes[at].dests.push(dest);
        }
    }

    pub fn remove(&mut self, pattern: &str, dest: usize) {
        let mut at = 0;
        for w in words(pattern) {
            let next = match w {
                "*" => self.nodes[at].star,
                "#" => self.nodes[at].hash,
                _ => self.nodes[at].children.get(w).copied(),
            };
            match next {
                Some(n) => at = n,
                None => return,
            }
        }
        self.nodes[at].dests.retain(|d| *d != dest);
    }

    /// Calls `found` with every destination whose pattern matches `key`
    /// (possibly more than once; callers deduplicate).
    pub fn route(&self, key: &str, found: &mut impl FnMut(usize)) {
        // Split without allocating for short keys.
        let mut buf: [&str; 16] = [""; 16];
        let mut n = 0;
        let mut spill = Vec::new();
        if !key.is_empty() {
            for w in key.split('.') {
                if n < buf.len() {
                    buf[n] = w;
                } else {
                    if spill.is_empty() {
                        spill.extend_from_slice(&buf);
                    }
                    spill.push(w);
                }
                n += 1;
            }
        }
        let ws: &[&str] = if spill.is_empty() { &buf[..n] } else { &spill };
        self.walk(0, ws, found);
    }

    fn walk(&self, at: usize, ws: &[&str], found: &mut impl FnMut(usize)) {
        let node = &self.nodes[at];
        if let Some(h) = node.hash {
            // `#` takes 0..=all remaining words.
            for skip in 0..=ws.len() {
                self.walk(h, &ws[skip..], found);
            }
        }
        match ws.split_first() {
            None => node.dests.iter().for_each(|d| found(*d)),
            Some((w, rest)) => {
                if let Some(&c) = node.children.get(*w) {
                    self.walk(c, rest, found);
                }
                if let Some(s) = node.star {
                    self.walk(s, rest, found);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seeds_examples() {
        assert!(matches("kern.*", "kern.critical"));
        assert!(matches("*.critical", "kern.critical"));
        assert!(matches("lqz.*", "lqz.dd"));
        assert!(!matches("lqz.*", "lqz.dd.xxx"), "* is exactly one word");
        assert!(matches("lqz.#", "lqz.dd.xxx"));
        assert!(matches("lqz.#", "lqz"), "# may be zero words");
        assert!(!matches("lqz.*", "lqz"));
        assert!(matches("*.django.*", "mysql.django.info"));
        assert!(matches("#", ""));
        assert!(!matches("*", ""));
        assert!(matches("a.#.b", "a.b"));
        assert!(matches("a.#.b", "a.x.y.b"));
        assert!(matches("a..b", "a..b"), "empty words are words");
        assert!(matches("a.*.b", "a..b"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
    }

    #[test]
    fn explanation_says_what_each_wildcard_took() {
        let e = explain("kern.*", "kern.critical").unwrap();
        assert_eq!(e[1], ("*".to_string(), vec!["critical"]));
        let e = explain("lqz.#", "lqz.dd.xxx").unwrap();
        assert_eq!(e[1], ("#".to_string(), vec!["dd", "xxx"]));
    }

    fn route_all(t: &TopicTrie, key: &str) -> Vec<usize> {
        let mut v = Vec::new();
        t.route(key, &mut |d| v.push(d));
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn trie_remove() {
        let mut t = TopicTrie::default();
        t.insert("a.*", 1);
        t.insert("a.#", 2);
        assert_eq!(route_all(&t, "a.b"), vec![1, 2]);
        t.remove("a.*", 1);
        assert_eq!(route_all(&t, "a.b"), vec![2]);
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just(String::new())
        ]
    }

    fn pattern_word() -> impl Strategy<Value = String> {
        prop_oneof![word(), Just("*".to_string()), Just("#".to_string())]
    }

    proptest! {
        #[test]
        fn trie_agrees_with_definition(
            patterns in proptest::collection::vec(proptest::collection::vec(pattern_word(), 0..5), 1..8),
            key in proptest::collection::vec(word(), 0..6),
        ) {
            let key = key.join(".");
            let patterns: Vec<String> = patterns.iter().map(|p| p.join(".")).collect();
            let mut t = TopicTrie::default();
            for (i, p) in patterns.iter().enumerate() {
                t.insert(p, i);
            }
            let want: Vec<usize> = patterns.iter().enumerate()
                .filter(|(_, p)| matches(p, &key)).map(|(i, _)| i).collect();
            prop_assert_eq!(route_all(&t, &key), want);
        }

        #[test]
        fn reference_matcher_agrees_with_regex_reading(
            pattern in proptest::collection::vec(pattern_word(), 0..5),
            key in proptest::collection::vec(word(), 0..6),
        ) {
            // A second, independent reading: dynamic programming over words.
            let p: Vec<&str> = pattern.iter().map(String::as_str).collect();
            let k: Vec<&str> = key.iter().map(String::as_str).collect();
            let (p, k) = (if pattern.join(".").is_empty() { vec![] } else { p },
                          if key.join(".").is_empty() { vec![] } else { k });
            let mut dp = vec![vec![false; k.len() + 1]; p.len() + 1];
            dp[0][0] = true;
            for i in 1..=p.len() {
                for j in 0..=k.len() {
                    dp[i][j] = match p[i - 1] {
                        "#" => dp[i - 1][j] || (j > 0 && dp[i][j - 1]),
                        "*" => j > 0 && dp[i - 1][j - 1],
                        w => j > 0 && k[j - 1] == w && dp[i - 1][j - 1],
                    };
                }
            }
            prop_assert_eq!(matches(&pattern.join("."), &key.join(".")), dp[p.len()][k.len()]);
        }
    }
}
