//! Browser glue for keeping and sharing scenarios: localStorage, the URL fragment,
//! downloads and file uploads. Every failure comes back as text for the status line;
//! a browser that refuses storage or downloads degrades, it does not break the page.

use crate::share;
use std::cell::RefCell;
use warren_core::scenario::{self, Scenario};
use wasm_bindgen::JsCast;

const STORAGE_KEY: &str = "warren.playground.scenario";

thread_local! {
    /// The last export's object URL, revoked (on drop) when the next export replaces it:
    /// revoking right after `click()` can cancel the download in some browsers.
    static LAST_EXPORT: RefCell<Option<gloo::file::ObjectUrl>> = const { RefCell::new(None) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The scenario to open: a shared link first, then the autosave, then the example.
pub fn initial() -> (Scenario, String) {
    let hash = location_hash();
    match share::decode(&hash) {
        Ok(Some(s)) => return (s, "Opened the scenario from the link.".to_string()),
        Ok(None) => {}
        Err(e) => {
            return (
                crate::example::work_queue(),
                format!("Could not open the link: {e}"),
            )
        }
    }
    let saved = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    if let Some(text) = saved {
        match scenario::parse(&text) {
            Ok(s) => return (s, "Restored your last scenario.".to_string()),
            Err(e) => {
                return (
                    crate::example::work_queue(),
                    format!("The saved scenario could not be read ({e}); opened the example."),
                )
            }
        }
    }
    (
        crate::example::work_queue(),
        "Press Step to run the work-queue example one task at a time.".to_string(),
    )
}

/// The scenario as the pretty JSON that Export writes and `warren scenario run` reads.
pub fn to_json(s: &Scenario) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default()
}

/// Autosaves, and drops a shared-link fragment that no longer matches what is shown
/// (otherwise reloading would bring back the shared version and lose later edits).
pub fn autosave(s: &Scenario) {
    if let Some(storage) = storage() {
        // Quota errors are ignored: losing the autosave must not stop editing.
        let _ = storage.set_item(STORAGE_KEY, &to_json(s));
    }
    let hash = location_hash();
    if !hash.is_empty() && hash.trim_start_matches('#') != share::encode(s) {
        set_fragment(None);
    }
}

/// Replaces the URL's fragment without adding a history entry or reloading.
fn set_fragment(fragment: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(history) = window.history() else {
        return;
    };
    let location = window.location();
    let base = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    let url = match fragment {
        Some(f) => format!("{base}#{f}"),
        None => base,
    };
    let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
}

/// Puts the scenario in the URL fragment and returns the full link.
pub fn share(s: &Scenario) -> Result<String, String> {
    let fragment = share::encode(s);
    set_fragment(Some(&fragment));
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .ok_or_else(|| "the browser did not give the page's address".to_string())
}

/// Downloads the scenario as `<name>.json`.
pub fn export(s: &Scenario) -> Result<(), String> {
    let document = gloo::utils::document();
    let blob = gloo::file::Blob::new_with_options(to_json(s).as_str(), Some("application/json"));
    let url = gloo::file::ObjectUrl::from(blob);
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "could not create a download link".to_string())?
        .dyn_into()
        .map_err(|_| "could not create a download link".to_string())?;
    anchor.set_href(&url);
    let name: String = s
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = if name.is_empty() {
        "scenario".to_string()
    } else {
        name
    };
    anchor.set_download(&format!("{name}.json"));
    anchor.click();
    LAST_EXPORT.with(|last| *last.borrow_mut() = Some(url));
    Ok(())
}
