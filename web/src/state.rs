//! The playground's whole state and its reducer (driven by Yew's `use_reducer`).
//!
//! Scenarios and simulations are kept behind `Rc` so that the reducer's copy-on-write
//! costs pointer copies, not deep clones, even with long undo and rewind histories.
//! Rewind works by snapshot: the core's `Simulation` is `Clone`, so "Back" is popping
//! the previous snapshot, exact by construction.

use crate::model::NodeId;
use std::rc::Rc;
use warren_core::scenario::Scenario;
use warren_core::sim::Simulation;
use yew::Reducible;

/// What the side panel shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Node(NodeId),
    /// `topology.bindings[i]`.
    Binding(usize),
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
            playing: false,
            speed: 4,
            selected: None,
            status,
        }
    }

    /// Whether the simulation has nothing left to do.
    pub fn finished(&self) -> bool {
        self.sim.next_time().is_none()
    }

    /// The trace lines added by the latest step (empty right after a reset).
    pub fn new_lines(&self) -> usize {
        let before = self.snapshots.last().map_or(0, |s| s.trace().len());
        self.sim.trace().len().saturating_sub(before)
    }

    fn reset_run(&mut self) {
        self.sim = Rc::new(Simulation::new((*self.scenario).clone()));
        self.snapshots.clear();
        self.playing = false;
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
                let mut next = (*s.sim).clone();
                if next.step() {
                    s.snapshots.push(s.sim.clone());
                    s.sim = Rc::new(next);
                    s.status = format!("t = {} ms", s.sim.now());
                } else {
                    s.playing = false;
                    s.status = "The scenario has run to its end.".to_string();
                }
            }
            Msg::Back => {
                if let Some(previous) = s.snapshots.pop() {
                    s.sim = previous;
                    s.status = format!("back to t = {} ms", s.sim.now());
                }
                s.playing = false;
            }
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
    fn back_restores_the_exact_previous_snapshot() {
        let mut st = Rc::new(AppState::new(crate::example::work_queue(), String::new()));
        for _ in 0..5 {
            st = reduce(st, Msg::Step);
        }
        let figures = |st: &AppState| st.sim.broker().queues();
        let before = figures(&st);
        let lines = st.sim.trace().len();
        st = reduce(st, Msg::Step);
        st = reduce(st, Msg::Back);
        assert_eq!(figures(&st), before);
        assert_eq!(st.sim.trace().len(), lines);
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
