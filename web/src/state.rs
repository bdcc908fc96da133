//! The playground's whole state and its reducer (driven by Yew's `use_reducer`).
//!
//! Scenarios and simulations are kept behind `Rc` so that the reducer's copy-on-write
//! costs pointer copies, not deep clones, even with long undo and rewind histories.
//! Rewind works by snapshot: the core's `Simulation` is `Clone`, so "Back" is popping
//! the previous snapshot, exact by construction.

use crate::model::NodeId;
use std::rc::Rc;
use warren_core::scenario::{Action, Scenario, Step};
use warren_core::sim::{Simulation, TraceLine};
use yew::Reducible;

/// What the side panel shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Node(NodeId),
    /// `topology.bindings[i]`.
    Binding(usize),
}

/// Which message the detail view shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// The `index`-th ready message of a queue (as `Broker::peek_messages` lists them).
    Queued { queue: String, index: usize },
    /// A trace line (a client's delivery or get), by its index in the trace.
    Trace(usize),
}

/// Undo keeps this many scenarios; older ones are dropped.
const MAX_UNDO: usize = 200;

#[derive(Clone)]
pub struct AppState {
    /// Bumped by every change, so equality (for Yew props) is one comparison.
    pub revision: u64,
    pub scenario: Rc<Scenario>,
    pub past: Vec<Rc<Scenario>>,
    pub future: Vec<Rc<Scenario>>,
    pub sim: Rc<Simulation>,
    /// The simulation before each step taken since the last reset, oldest first.
    pub snapshots: Vec<Rc<Simulation>>,
    /// Snapshots after the current one, nearest last: kept when the timeline is scrubbed
    /// back, so scrubbing forward again is a pop rather than a re-run.
    pub ahead: Vec<Rc<Simulation>>,
    /// How many trace lines are revealed: Step shows one more line (broker event or
    /// client observation), running the next task only when all of `sim`'s are shown.
    /// `sim` is always the snapshot that produced line `shown - 1`.
    pub shown: usize,
    /// The message shown in the detail view, if any.
    pub detail: Option<Detail>,
    pub playing: bool,
    /// Steps per second while playing.
    pub speed: u32,
    pub selected: Option<Selection>,
    /// One line of feedback: what an action did or why it could not.
    pub status: String,
}

impl PartialEq for AppState {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
    }
}

pub enum Msg {
    /// A new scenario from an edit: recorded for undo, and the run restarts.
    Edit {
        scenario: Scenario,
        select: Option<Selection>,
        status: String,
    },
    /// A node moved while dragging: layout only, so neither history nor the run change.
    Move(NodeId, f64, f64),
    /// A drag ended after moving: record the scenario from before it for undo.
    Moved(Rc<Scenario>),
    /// A scenario from a file, a link or storage: replaces everything (undoable).
    Load(Scenario, String),
    Step,
    Back,
    /// Moves along the timeline to the snapshot with this index (0 = the start).
    Seek(usize),
    /// Steps until the virtual clock passes this time (for "run to see it").
    RunUntil(u64),
    /// Adds a step at the current time to the script and replays the run up to now, so
    /// the action happens in the live run and is also saved with the scenario.
    Inject(Step),
    ShowDetail(Option<Detail>),
    Reset,
    TogglePlay,
    SetSpeed(u32),
    Select(Option<Selection>),
    Undo,
    Redo,
    Status(String),
}

impl AppState {
    pub fn new(mut scenario: Scenario, status: String) -> AppState {
        crate::model::pin_layout(&mut scenario);
        let sim = Rc::new(Simulation::new(scenario.clone()));
        AppState {
            revision: 0,
            scenario: Rc::new(scenario),
            past: Vec::new(),
            future: Vec::new(),
            sim,
            snapshots: Vec::new(),
            ahead: Vec::new(),
            shown: 0,
            detail: None,
            playing: false,
            speed: 4,
            selected: None,
            status,
        }
    }

    /// Whether every line is shown and the simulation has nothing left to do.
    pub fn finished(&self) -> bool {
        self.shown >= self.sim.trace().len()
            && self.ahead.is_empty()
            && self.sim.next_time().is_none()
    }

    /// The revealed trace lines: the last one (at the cursor) is the fresh one.
    pub fn lines(&self) -> &[TraceLine] {
        &self.sim.trace()[..self.shown]
    }

    /// Where the run is on the timeline, and how long the known timeline is.
    pub fn position(&self) -> (usize, usize) {
        let at = self.snapshots.len();
        (at, at + self.ahead.len())
    }

    fn reset_run(&mut self) {
        self.sim = Rc::new(Simulation::new((*self.scenario).clone()));
        self.snapshots.clear();
        self.ahead.clear();
        self.shown = 0;
        self.detail = None;
        self.playing = false;
    }

    /// Shows one more trace line, running tasks (or re-using remembered snapshots)
    /// only when every line of the current one is shown.
    fn reveal(&mut self) -> bool {
        // Bounded: tasks that log nothing are run through, a run that never logs is not.
        for _ in 0..10_000 {
            if self.shown < self.sim.trace().len() {
                self.shown += 1;
                return true;
            }
            if !self.step() {
                return false;
            }
        }
        false
    }

    /// Hides the line at the cursor, restoring the previous snapshot when the cursor
    /// crosses back before the first line the current one produced.
    fn unreveal(&mut self) -> bool {
        if self.shown == 0 {
            return false;
        }
        self.shown -= 1;
        while self
            .snapshots
            .last()
            .is_some_and(|p| p.trace().len() >= self.shown)
        {
            self.back();
        }
        true
    }

    /// Shows every line of the current snapshot (after a jump along the timeline).
    fn show_all(&mut self) {
        self.shown = self.sim.trace().len();
    }

    /// One task forward: the remembered next snapshot if scrubbed back, else a new step.
    fn step(&mut self) -> bool {
        if let Some(next) = self.ahead.pop() {
            self.snapshots.push(std::mem::replace(&mut self.sim, next));
            return true;
        }
        let mut next = (*self.sim).clone();
        if next.step() {
            self.snapshots
                .push(std::mem::replace(&mut self.sim, Rc::new(next)));
            true
        } else {
            false
        }
    }

    fn back(&mut self) -> bool {
        match self.snapshots.pop() {
            Some(previous) => {
                self.ahead.push(std::mem::replace(&mut self.sim, previous));
                true
            }
            None => false,
        }
    }

    /// Puts `step` into the script after every step due at or before it, then rebuilds
    /// the run and replays it to the current time (the simulation is deterministic, so
    /// the replay is the same run plus the new step). Recorded for undo like an edit.
    fn inject(&mut self, step: Step) {
        let now = self.sim.now();
        let mut scenario = (*self.scenario).clone();
        let at = scenario
            .script
            .iter()
            .position(|s| s.at > step.at)
            .unwrap_or(scenario.script.len());
        scenario.script.insert(at, step);
        self.replace(scenario);
        while self.sim.next_time().is_some_and(|t| t <= now) {
            if !self.step() {
                break;
            }
        }
        self.show_all();
    }

    fn replace(&mut self, mut scenario: Scenario) {
        crate::model::pin_layout(&mut scenario);
        self.past.push(self.scenario.clone());
        if self.past.len() > MAX_UNDO {
            self.past.remove(0);
        }
        self.future.clear();
        self.scenario = Rc::new(scenario);
        self.reset_run();
    }

    /// Drops a selection that the scenario no longer has.
    fn keep_selection_valid(&mut self) {
        let valid = match &self.selected {
            None => true,
            Some(Selection::Binding(i)) => *i < self.scenario.topology.bindings.len(),
            Some(Selection::Node(id)) => crate::model::nodes(&self.scenario)
                .iter()
                .any(|n| &n.id == id),
        };
        if !valid {
            self.selected = None;
        }
    }
}

impl Reducible for AppState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        s.revision += 1;
        match msg {
            Msg::Edit {
                scenario,
                select,
                status,
            } => {
                if scenario != *s.scenario {
                    s.replace(scenario);
                }
                if select.is_some() {
                    s.selected = select;
                }
                s.status = status;
            }
            Msg::Move(id, x, y) => {
                let mut scenario = (*s.scenario).clone();
                crate::model::set_position(&mut scenario, &id, x.max(0.0), y.max(0.0));
                s.scenario = Rc::new(scenario);
            }
            Msg::Moved(before) => {
                s.past.push(before);
                s.future.clear();
            }
            Msg::Load(scenario, status) => {
                s.replace(scenario);
                s.selected = None;
                s.status = status;
            }
            Msg::Step => {
                if s.reveal() {
                    s.status = format!("t = {} ms", s.sim.now());
                } else {
                    s.playing = false;
                    s.status = "The scenario has run to its end.".to_string();
                }
            }
            Msg::Back => {
                if s.unreveal() {
                    s.status = format!("back to t = {} ms", s.sim.now());
                }
                s.playing = false;
            }
            Msg::Seek(index) => {
                while s.snapshots.len() > index && s.back() {}
                while s.snapshots.len() < index && !s.ahead.is_empty() && s.step() {}
                s.show_all();
                s.playing = false;
                s.status = format!("t = {} ms", s.sim.now());
            }
            Msg::RunUntil(t) => {
                // Bounded, so a scenario that never ends cannot hang the page.
                for _ in 0..100_000 {
                    if s.sim.next_time().is_none_or(|n| n > t) || !s.step() {
                        break;
                    }
                }
                s.show_all();
                s.playing = false;
                s.status = format!("Ran to t = {} ms.", s.sim.now());
            }
            Msg::Inject(step) => {
                let what = match (&step.action, &step.client) {
                    (Action::Restart, _) => "The broker restarted".to_string(),
                    (_, Some(client)) => format!("{client}'s connection was killed"),
                    _ => "A step was added".to_string(),
                };
                let at = step.at;
                s.inject(step);
                s.status = format!("{what} at t = {at} ms (added to the script).");
            }
            Msg::ShowDetail(detail) => s.detail = detail,
            Msg::Reset => {
                s.reset_run();
                s.status = "Reset to the start of the scenario.".to_string();
            }
            Msg::TogglePlay => s.playing = !s.playing && !s.finished(),
            Msg::SetSpeed(speed) => s.speed = speed.clamp(1, 50),
            Msg::Select(selected) => s.selected = selected,
            Msg::Undo => {
                if let Some(previous) = s.past.pop() {
                    s.future.push(s.scenario.clone());
                    s.scenario = previous;
                    s.reset_run();
                    s.status = "Undone.".to_string();
                }
            }
            Msg::Redo => {
                if let Some(next) = s.future.pop() {
                    s.past.push(s.scenario.clone());
                    s.scenario = next;
                    s.reset_run();
                    s.status = "Redone.".to_string();
                }
            }
            Msg::Status(status) => s.status = status,
        }
        s.keep_selection_valid();
        Rc::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(state: Rc<AppState>, msg: Msg) -> Rc<AppState> {
        state.reduce(msg)
    }

    #[test]
    fn step_shows_one_line_and_back_hides_it() {
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        for _ in 0..40 {
            let (lines, steps) = (st.shown, st.snapshots.len());
            let before = st.sim.broker().queues();
            st = reduce(st, Msg::Step);
            assert_eq!(st.shown, lines + 1, "one line per Step");
            let tasks = st.snapshots.len();
            assert!(tasks >= steps, "a task runs only when the lines run out");
            let after = st.sim.broker().queues();
            st = reduce(st, Msg::Back);
            assert_eq!(st.shown, lines);
            assert_eq!(st.snapshots.len(), steps);
            assert_eq!(
                st.sim.broker().queues(),
                before,
                "figures of the line's snapshot"
            );
            st = reduce(st, Msg::Step);
            assert_eq!(st.sim.broker().queues(), after);
            assert_eq!(st.snapshots.len(), tasks);
        }
        // Several lines per task: the figures are those of the task that logged the line.
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        st = reduce(st, Msg::Step);
        let first = st.sim.trace().len();
        assert!(first > 1, "the setup task logs several lines");
        for _ in 1..first {
            st = reduce(st, Msg::Step);
            assert_eq!(st.snapshots.len(), 1);
        }
        st = reduce(st, Msg::Step);
        assert!(st.snapshots.len() > 1);
        while st.shown > 0 {
            st = reduce(st, Msg::Back);
        }
        assert!(st.snapshots.is_empty());
        assert_eq!(st.sim.trace().len(), 0);
    }

    #[test]
    fn the_timeline_goes_back_and_forth_over_the_same_snapshots() {
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        while st.snapshots.len() < 8 {
            st = reduce(st, Msg::Step);
        }
        st = reduce(st, Msg::Seek(8));
        let end = st.sim.trace().len();
        assert_eq!(st.shown, end);
        st = reduce(st, Msg::Seek(3));
        assert_eq!(st.position(), (3, 8));
        assert_eq!(st.shown, st.sim.trace().len());
        st = reduce(st, Msg::Seek(8));
        assert_eq!(st.sim.trace().len(), end);
    }

    #[test]
    fn killing_a_consumer_is_recorded_and_happens_in_the_live_run() {
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        st = reduce(st, Msg::RunUntil(150));
        let now = st.sim.now();
        let steps = st.scenario.script.len();
        st = reduce(
            st,
            Msg::Inject(Step {
                at: now,
                client: Some("C1".to_string()),
                action: Action::Crash,
            }),
        );
        assert_eq!(st.scenario.script.len(), steps + 1);
        assert_eq!(st.sim.now(), now);
        assert!(st
            .sim
            .trace()
            .iter()
            .any(|l| l.render().contains("the client crashed")));
        assert!(!st.past.is_empty(), "undoable");
    }

    #[test]
    fn edits_reset_the_run_and_undo_redo_walk_history() {
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        st = reduce(st, Msg::Step);
        let mut edited = (*st.scenario).clone();
        crate::edit::add_queue(&mut edited);
        st = reduce(
            st,
            Msg::Edit {
                scenario: edited.clone(),
                select: None,
                status: String::new(),
            },
        );
        assert!(st.snapshots.is_empty());
        st = reduce(st, Msg::Undo);
        assert_eq!(st.scenario.topology.queues.len(), 1);
        st = reduce(st, Msg::Redo);
        assert_eq!(st.scenario.topology, edited.topology);
    }
}
