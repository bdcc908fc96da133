//! Exchanges, their bindings, and how each type picks destinations.

use crate::headers_match::headers_match;
use crate::topic::TopicTrie;
use crate::types::FieldTable;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeKind {
    Direct,
    Fanout,
    Topic,
    Headers,
}

impl ExchangeKind {
    pub fn parse(s: &str) -> Option<ExchangeKind> {
        Some(match s {
            "direct" => ExchangeKind::Direct,
            "fanout" => ExchangeKind::Fanout,
            "topic" => ExchangeKind::Topic,
            "headers" => ExchangeKind::Headers,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Direct => "direct",
            ExchangeKind::Fanout => "fanout",
            ExchangeKind::Topic => "topic",
            ExchangeKind::Headers => "headers",
        }
    }
}

/// Where a binding leads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dest {
    Queue(Arc<str>),
    Exchange(Arc<str>),
}

impl Dest {
    pub fn name(&self) -> &str {
        match self {
            Dest::Queue(n) | Dest::Exchange(n) => n,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Dest::Queue(_) => "queue",
            Dest::Exchange(_) => "exchange",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub dest: Dest,
    pub routing_key: Arc<str>,
    /// Kept as declared; compared sorted.
    pub arguments: FieldTable,
}

#[derive(Clone, Debug)]
pub struct Exchange {
    pub name: Arc<str>,
    pub kind: ExchangeKind,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: FieldTable,
    /// Messages published to it, and their copies that reached queues.
    pub stats: crate::stats::ExchangeStats,
    /// Bindings in the order they were made (what listings show). Slots of
    /// removed bindings are `None` so the indices in the indexes stay valid.
    slots: Vec<Option<Binding>>,
    live: usize,
    direct: HashMap<Arc<str>, Vec<usize>>,
    topic: TopicTrie,
}

impl Exchange {
    pub fn new(
        name: &str,
        kind: ExchangeKind,
        durable: bool,
        auto_delete: bool,
        internal: bool,
        arguments: FieldTable,
    ) -> Exchange {
        Exchange {
            name: name.into(),
            kind,
            durable,
            auto_delete,
            internal,
            arguments,
            stats: Default::default(),
            slots: Vec::new(),
            live: 0,
            direct: HashMap::new(),
            topic: TopicTrie::default(),
        }
    }

    /// The `alternate-exchange` argument, if set.
    pub fn alternate(&self) -> Option<&str> {
        self.arguments
            .get("alternate-exchange")
            .and_then(|v| v.as_str())
    }

    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.slots.iter().flatten()
    }

    pub fn binding_count(&self) -> usize {
        self.live
    }

    fn find(&self, dest: &Dest, key: &str, args: &FieldTable) -> Option<usize> {
        let sorted = args.sorted();
        self.slots.iter().position(|b| {
            b.as_ref().is_some_and(|b| {
                b.dest == *dest && &*b.routing_key == key && b.arguments.sorted() == sorted
            })
        })
    }

    /// Adds a binding; false if an identical one exists.
    pub fn bind(&mut self, dest: Dest, key: &str, args: FieldTable) -> bool {
        if self.find(&dest, key, &args).is_some() {
            return false;
        }
        let i = self.slots.len();
        let key: Arc<str> = key.into();
        match self.kind {
            ExchangeKind::Direct => self.direct.entry(key.clone()).or_default().push(i),
            ExchangeKind::Topic => self.topic.insert(&key, i),
            ExchangeKind::Fanout | ExchangeKind::Headers => {}
        }
        self.slots.push(Some(Binding {
            dest,
            routing_key: key,
            arguments: args,
        }));
        self.live += 1;
        true
    }

    /// Removes a binding; false if there was none.
    pub fn unbind(&mut self, dest: &Dest, key: &str, args: &FieldTable) -> bool {
        let Some(i) = self.find(dest, key, args) else {
            return false;
        };
        self.detach(i);
        true
    }

    fn detach(&mut self, i: usize) {
        let Some(b) = self.slots[i].take() else {
            return;
        };
        self.live -= 1;
        match self.kind {
            ExchangeKind::Direct => {
                if let Some(v) = self.direct.get_mut(&b.routing_key) {
                    v.retain(|x| *x != i);
                    if v.is_empty() {
                        self.direct.remove(&b.routing_key);
                    }
                }
            }
            ExchangeKind::Topic => self.topic.remove(&b.routing_key, i),
            _ => {}
        }
        if self.live == 0 {
            // Reset so a long-lived exchange with churning bindings doesn't grow.
            self.slots.clear();
            self.direct.clear();
            self.topic = TopicTrie::default();
        }
    }

    /// Removes every binding to `dest`; returns how many went.
    pub fn unbind_dest(&mut self, dest: &Dest) -> Vec<Binding> {
        let idx: Vec<usize> = (0..self.slots.len())
            .filter(|i| self.slots[*i].as_ref().is_some_and(|b| b.dest == *dest))
            .collect();
        let gone = idx
            .iter()
            .filter_map(|i| self.slots[*i].clone())
            .collect::<Vec<_>>();
        for i in idx {
            self.detach(i);
        }
        gone
    }

    /// Bindings whose destination matches for `keys` (routing key plus CC/BCC).
    /// Each matching binding index once, in binding order.
    pub fn route(&self, keys: &[&str], headers: Option<&FieldTable>, out: &mut Vec<usize>) {
        let start = out.len();
        match self.kind {
            ExchangeKind::Fanout => {
                out.extend((0..self.slots.len()).filter(|i| self.slots[*i].is_some()));
                return;
            }
            ExchangeKind::Headers => {
                out.extend((0..self.slots.len()).filter(|i| {
                    self.slots[*i]
                        .as_ref()
                        .is_some_and(|b| headers_match(&b.arguments, headers))
                }));
                return;
            }
            ExchangeKind::Direct => {
                for k in keys {
                    if let Some(v) = self.direct.get(*k) {
                        out.extend_from_slice(v);
                    }
                }
            }
            ExchangeKind::Topic => {
                for k in keys {
                    self.topic.route(k, &mut |i| out.push(i));
                }
            }
        }
        if out.len() - start > 1 {
            out[start..].sort_unstable();
            let mut w = start + 1;
            for r in start + 1..out.len() {
                if out[r] != out[w - 1] {
                    out[w] = out[r];
                    w += 1;
                }
            }
            out.truncate(w);
        }
    }

    /// The binding at an index returned by [`Exchange::route`].
    pub fn binding(&self, i: usize) -> Option<&Binding> {
        self.slots.get(i).and_then(|b| b.as_ref())
    }
}
