//! A queue's ready messages, in order, stored compactly.
//!
//! Why not a `VecDeque<Entry>`: a queue can hold millions of messages, and the
//! memory goal is 64 bytes per queued message beyond its body, the shared
//! [`Message`] allocation included. So each ready message is a 16-byte slot
//! (the message pointer and its position), and what only a returned message
//! has (the redelivered flag, a quorum queue's delivery count) sits in a side
//! table keyed by position, which is empty while nothing was returned. The
//! deque grows by a quarter rather than doubling, and gives memory back when
//! it drains, so its unused capacity stays a small share of what it holds.
//!
//! A priority queue (`x-max-priority`) has one deque per priority level and
//! serves the highest non-empty level first, FIFO within a level, as
//! RabbitMQ's priority queues do; every other queue has one level.

use super::Entry;
use crate::message::Message;
use std::collections::{HashMap, VecDeque};

/// One ready message: the shared message and its position in the queue.
#[derive(Clone, Debug)]
struct Slot {
    message: Message,
    seq: u64,
}

/// What a message that came back to the queue carries besides its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Returned {
    redelivered: bool,
    delivery_count: u32,
}

/// Ready messages in delivery order, with their body bytes counted.
#[derive(Clone, Debug)]
pub struct ReadyList {
    /// Index = priority level; one level unless the queue has priorities.
    levels: Vec<VecDeque<Slot>>,
    returned: HashMap<u64, Returned>,
    len: usize,
    bytes: usize,
    /// The persistent messages among them and their body bytes, for a durable
    /// queue ([`ReadyList::counting_persistent`]): the management API reports
    /// them, and counting as messages come and go costs a property scan each,
    /// where walking a queue of millions on every request cost tens of ms.
    persistent: Option<(usize, usize)>,
}

impl Default for ReadyList {
    fn default() -> Self {
        ReadyList::with_max_priority(0)
    }
}

/// Smallest growth step, so small queues do not reallocate on every push.
const MIN_GROWTH: usize = 16;

impl ReadyList {
    /// A list for a queue whose `x-max-priority` is `max` (0: no priorities).
    pub fn with_max_priority(max: u8) -> ReadyList {
        ReadyList {
            levels: vec![VecDeque::new(); usize::from(max) + 1],
            returned: HashMap::new(),
            len: 0,
            bytes: 0,
            persistent: None,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Body bytes of the ready messages (for `x-max-length-bytes`).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The same list, keeping count of its persistent messages from now on.
    pub fn counting_persistent(mut self) -> ReadyList {
        self.persistent = Some(self.count_persistent());
        self
    }

    /// How many ready messages are persistent and their body bytes, if this
    /// list counts them.
    pub fn persistent(&self) -> Option<(usize, usize)> {
        self.persistent
    }

    fn count_persistent(&self) -> (usize, usize) {
        self.levels
            .iter()
            .flat_map(|l| l.iter())
            .filter(|s| s.message.persistent())
            .fold((0, 0), |(n, b), s| (n + 1, b + s.message.body_size()))
    }

    /// The message at the head (of the highest non-empty level), if any.
    pub fn front(&self) -> Option<&Message> {
        self.head_level()
            .and_then(|l| self.levels.get(l))
            .and_then(|d| d.front())
            .map(|s| &s.message)
    }

    pub fn push_back(&mut self, e: Entry) {
        let l = self.level_of(&e.message);
        let slot = self.store(e);
        Self::make_room(&mut self.levels[l]);
        self.levels[l].push_back(slot);
    }

    /// Inserts at index `at` of the message's level (clamped to its length).
    pub fn insert(&mut self, at: usize, e: Entry) {
        let l = self.level_of(&e.message);
        self.insert_into(l, at, e);
    }

    /// Inserts at the place its `seq` says (a classic queue's requeue): after
    /// every message of its level with a lower position.
    pub fn insert_in_order(&mut self, e: Entry) {
        let l = self.level_of(&e.message);
        let at = self.levels[l].partition_point(|s| s.seq < e.seq);
        self.insert_into(l, at, e);
    }

    fn insert_into(&mut self, l: usize, at: usize, e: Entry) {
        let slot = self.store(e);
        let level = &mut self.levels[l];
        Self::make_room(level);
        level.insert(at.min(level.len()), slot);
    }

    pub fn pop_front(&mut self) -> Option<Entry> {
        let l = self.head_level()?;
        let level = &mut self.levels[l];
        let slot = level.pop_front()?;
        Self::give_back_room(level);
        if self.returned.is_empty() && self.returned.capacity() > 64 {
            self.returned.shrink_to_fit();
        }
        Some(self.load(slot))
    }

    /// Every ready message, head first, as entries (copies: for inspection).
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.levels
            .iter()
            .rev()
            .flat_map(|l| l.iter())
            .map(|s| self.entry_of(s))
    }

    /// Keeps only the messages `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&Message) -> bool) {
        let mut dropped = Vec::new();
        for level in &mut self.levels {
            level.retain(|s| {
                let k = keep(&s.message);
                if !k {
                    dropped.push(s.seq);
                }
                k
            });
            Self::give_back_room(level);
        }
        for seq in dropped {
            self.returned.remove(&seq);
        }
        self.len = self.levels.iter().map(VecDeque::len).sum();
        self.bytes = self
            .levels
            .iter()
            .flat_map(|l| l.iter())
            .map(|s| s.message.body_size())
            .sum();
        if self.persistent.is_some() {
            self.persistent = Some(self.count_persistent());
        }
    }

    pub fn clear(&mut self) {
        let counting = self.persistent.is_some();
        *self = ReadyList::with_max_priority(self.max_priority());
        if counting {
            self.persistent = Some((0, 0));
        }
    }

    fn max_priority(&self) -> u8 {
        u8::try_from(self.levels.len().saturating_sub(1)).unwrap_or(u8::MAX)
    }

    /// The level a message goes to: its `priority`, clamped to the queue's
    /// maximum (RabbitMQ treats a higher one as the maximum).
    fn level_of(&self, m: &Message) -> usize {
        match self.levels.len() {
            1 => 0,
            n => usize::from(m.priority()).min(n - 1),
        }
    }

    fn head_level(&self) -> Option<usize> {
        (0..self.levels.len())
            .rev()
            .find(|&l| !self.levels[l].is_empty())
    }

    fn store(&mut self, e: Entry) -> Slot {
        self.len += 1;
        let size = e.message.body_size();
        self.bytes += size;
        if let Some((n, b)) = &mut self.persistent {
            if e.message.persistent() {
                *n += 1;
                *b += size;
            }
        }
        if e.redelivered || e.delivery_count > 0 {
            self.returned.insert(
                e.seq,
                Returned {
                    redelivered: e.redelivered,
                    delivery_count: e.delivery_count,
                },
            );
        }
        Slot {
            message: e.message,
            seq: e.seq,
        }
    }

    fn load(&mut self, slot: Slot) -> Entry {
        self.len -= 1;
        let size = slot.message.body_size();
        self.bytes -= size;
        if let Some((n, b)) = &mut self.persistent {
            if slot.message.persistent() {
                *n -= 1;
                *b -= size;
            }
        }
        let r = if self.returned.is_empty() {
            None
        } else {
            self.returned.remove(&slot.seq)
        };
        Entry {
            message: slot.message,
            seq: slot.seq,
            redelivered: r.is_some_and(|r| r.redelivered),
            delivery_count: r.map_or(0, |r| r.delivery_count),
        }
    }

    fn entry_of(&self, s: &Slot) -> Entry {
        let r = self.returned.get(&s.seq);
        Entry {
            message: s.message.clone(),
            seq: s.seq,
            redelivered: r.is_some_and(|r| r.redelivered),
            delivery_count: r.map_or(0, |r| r.delivery_count),
        }
    }

    /// Grows by a quarter when full (amortized O(1) like doubling, with at
    /// most a quarter of the capacity unused).
    fn make_room(level: &mut VecDeque<Slot>) {
        let (len, cap) = (level.len(), level.capacity());
        if len == cap {
            level.reserve_exact((len / 4).max(MIN_GROWTH));
        }
    }

    /// Shrinks once three quarters of the capacity are unused, to twice what
    /// is held (so a queue at a steady size does not shrink and grow again).
    fn give_back_room(level: &mut VecDeque<Slot>) {
        let (len, cap) = (level.len(), level.capacity());
        if cap > 4 * MIN_GROWTH && len < cap / 4 {
            level.shrink_to(2 * len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::BasicProperties;

    fn entry(seq: u64) -> Entry {
        Entry {
            message: Message::new(seq, 0, "", "q", &BasicProperties::default(), &[1, 2, 3]),
            seq,
            redelivered: false,
            delivery_count: 0,
        }
    }

    fn persistent_entry(seq: u64, body: &[u8]) -> Entry {
        let props = BasicProperties {
            delivery_mode: Some(2),
            ..BasicProperties::default()
        };
        Entry {
            message: Message::new(seq, 0, "", "q", &props, body),
            seq,
            redelivered: false,
            delivery_count: 0,
        }
    }

    #[test]
    fn a_counting_list_keeps_its_persistent_count_through_every_change() {
        let mut r = ReadyList::default().counting_persistent();
        r.push_back(persistent_entry(0, b"ab"));
        r.push_back(entry(1));
        r.push_back(persistent_entry(2, b"abcd"));
        assert_eq!(r.persistent(), Some((2, 6)));
        let head = r.pop_front().expect("head");
        assert_eq!(head.seq, 0);
        assert_eq!(r.persistent(), Some((1, 4)));
        r.insert_in_order(head);
        assert_eq!(r.persistent(), Some((2, 6)));
        r.retain(|m| m.body().len() != 4);
        assert_eq!(r.persistent(), Some((1, 2)));
        r.clear();
        assert_eq!(r.persistent(), Some((0, 0)));
        r.push_back(persistent_entry(3, b"x"));
        assert_eq!(r.persistent(), Some((1, 1)));
        // A list that does not count says so.
        let mut plain = ReadyList::default();
        plain.push_back(persistent_entry(0, b"ab"));
        assert_eq!(plain.persistent(), None);
    }

    #[test]
    fn returned_marks_come_back_with_the_message() {
        let mut r = ReadyList::default();
        r.push_back(entry(0));
        let mut e = entry(1);
        e.redelivered = true;
        e.delivery_count = 3;
        r.push_back(e);
        assert_eq!(r.bytes(), 6);
        let seen: Vec<(u64, bool, u32)> = r
            .iter()
            .map(|e| (e.seq, e.redelivered, e.delivery_count))
            .collect();
        assert_eq!(seen, vec![(0, false, 0), (1, true, 3)]);
        let first = r.pop_front().expect("first");
        assert!(!first.redelivered);
        let second = r.pop_front().expect("second");
        assert_eq!((second.redelivered, second.delivery_count), (true, 3));
        assert!(r.returned.is_empty() && r.is_empty() && r.bytes() == 0);
    }

    #[test]
    fn insert_in_order_goes_between_lower_and_higher_positions() {
        let mut r = ReadyList::default();
        for s in [0, 2, 5] {
            r.push_back(entry(s));
        }
        r.insert_in_order(entry(3));
        r.insert_in_order(entry(9));
        let order: Vec<u64> = r.iter().map(|e| e.seq).collect();
        assert_eq!(order, vec![0, 2, 3, 5, 9]);
    }

    #[test]
    fn capacity_stays_within_a_quarter_of_the_length_and_shrinks_when_drained() {
        let mut r = ReadyList::default();
        for s in 0..100_000 {
            r.push_back(entry(s));
            let (len, cap) = (r.levels[0].len(), r.levels[0].capacity());
            assert!(
                cap <= len + (len / 4).max(MIN_GROWTH),
                "len {len} cap {cap}"
            );
        }
        while r.len() > 10 {
            r.pop_front();
        }
        assert!(
            r.levels[0].capacity() <= 4 * MIN_GROWTH,
            "{}",
            r.levels[0].capacity()
        );
    }

    fn with_priority(seq: u64, priority: Option<u8>) -> Entry {
        let props = BasicProperties {
            priority,
            ..BasicProperties::default()
        };
        Entry::new(Message::new(seq, 0, "", "q", &props, b"x"), seq)
    }

    #[test]
    fn priorities_go_first_fifo_within_a_level_and_clamp_to_the_maximum() {
        let mut r = ReadyList::with_max_priority(10);
        for (seq, p) in [
            (0, Some(1)),
            (1, Some(5)),
            (2, Some(9)),
            (3, None),
            (4, Some(5)),
            (5, Some(20)),
        ] {
            r.push_back(with_priority(seq, p));
        }
        let order: Vec<u64> = r.iter().map(|e| e.seq).collect();
        assert_eq!(order, vec![5, 2, 1, 4, 0, 3]);
        assert_eq!(r.front().map(Message::id), Some(5));
        let first = r.pop_front().expect("head");
        let second = r.pop_front().expect("next");
        assert_eq!((first.seq, second.seq), (5, 2));
        // A requeue goes back to its place in its level.
        r.insert_in_order(second);
        r.insert_in_order(first);
        let order: Vec<u64> = r.iter().map(|e| e.seq).collect();
        assert_eq!(order, vec![5, 2, 1, 4, 0, 3]);
        assert_eq!(r.len(), 6);
        r.clear();
        assert!(r.is_empty());
        r.push_back(with_priority(9, Some(3)));
        r.push_back(with_priority(10, Some(7)));
        assert_eq!(
            r.pop_front().map(|e| e.seq),
            Some(10),
            "still a priority list"
        );
    }

    #[test]
    fn without_max_priority_the_priority_property_is_ignored() {
        let mut r = ReadyList::default();
        r.push_back(with_priority(0, Some(1)));
        r.push_back(with_priority(1, Some(9)));
        let order: Vec<u64> = r.iter().map(|e| e.seq).collect();
        assert_eq!(order, vec![0, 1]);
    }

    #[test]
    fn retain_drops_marks_and_bytes_of_what_it_removes() {
        let mut r = ReadyList::default();
        for s in 0..4 {
            let mut e = entry(s);
            e.redelivered = s % 2 == 1;
            r.push_back(e);
        }
        r.retain(|m| m.id() < 2);
        assert_eq!(r.len(), 2);
        assert_eq!(r.bytes(), 6);
        assert_eq!(r.returned.len(), 1);
    }
}
