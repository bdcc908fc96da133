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

thread_local! {
    /// The scenario the URL fragment holds (as the reducer keeps it, layout pinned),
    /// so autosave can drop a fragment that no longer matches what is shown.
    static LINKED: RefCell<Option<Scenario>> = const { RefCell::new(None) };
    /// A `z=` link is being inflated: the fragment must stay until it is read.
    static LINK_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn remember_link(s: &Scenario) {
    let mut s = s.clone();
    crate::model::pin_layout(&mut s);
    LINKED.with(|l| *l.borrow_mut() = Some(s));
}

/// The scenario to open: a plain shared link first, then the autosave, then the
/// example. A compressed (`z=`) link is opened right after, by [`open_packed_link`].
pub fn initial() -> (Scenario, String) {
    let hash = location_hash();
    match share::read(&hash) {
        Ok(Some(share::Link::Plain(s))) => {
            remember_link(&s);
            return (*s, "Opened the scenario from the link.".to_string());
        }
        Ok(Some(share::Link::Packed(_))) => LINK_PENDING.with(|p| p.set(true)),
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

/// Inflates a `z=` link in the URL, if there is one: `None` without one.
pub async fn open_packed_link() -> Option<Result<Scenario, String>> {
    let Ok(Some(share::Link::Packed(bytes))) = share::read(&location_hash()) else {
        return None;
    };
    let opened = match deflate(&bytes, false).await {
        Ok(json) => share::from_json(json),
        Err(e) => Err(format!("the link is damaged ({e})")),
    };
    if let Ok(s) = &opened {
        remember_link(s);
    }
    LINK_PENDING.with(|p| p.set(false));
    Some(opened)
}

/// Compresses (`compress`) or inflates raw DEFLATE with the browser's
/// `CompressionStream`/`DecompressionStream`, reading at most `share::MAX_JSON` bytes.
pub async fn deflate(bytes: &[u8], compress: bool) -> Result<Vec<u8>, String> {
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{ReadableStreamDefaultReader, ReadableWritablePair};
    let failed = |_| "the browser could not (de)compress it".to_string();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let input = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(failed)?;
    // Built through Reflect: web-sys has these classes only behind its unstable-API cfg.
    // The stream is itself the {readable, writable} pair that pipeThrough takes.
    let class = if compress {
        "CompressionStream"
    } else {
        "DecompressionStream"
    };
    let constructor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &class.into())
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| format!("this browser has no {class}"))?;
    let pair: ReadableWritablePair =
        js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(&"deflate-raw".into()))
            .map_err(failed)?
            .unchecked_into();
    let reader: ReadableStreamDefaultReader = input
        .stream()
        .pipe_through(&pair)
        .get_reader()
        .dyn_into()
        .map_err(|_| "no stream reader".to_string())?;
    let mut out = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| "not valid DEFLATE data".to_string())?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map_err(failed)?;
        if done.is_truthy() {
            return Ok(out);
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(failed)?;
        out.extend(js_sys::Uint8Array::new(&value).to_vec());
        if out.len() > share::MAX_JSON {
            let _ = reader.cancel();
            return Err("the linked scenario is too large".to_string());
        }
    }
}

/// The scenario as the pretty JSON that Export writes and `warren scenario run` reads.
pub fn to_json(s: &Scenario) -> String {
    pretty(&serde_json::to_string(s).unwrap_or_default())
}

/// Indents compact JSON the way `serde_json::to_string_pretty` does. Why by hand:
/// `to_string_pretty` instantiates every `Serialize` of the scenario's types a second
/// time for its formatter (share links need the compact one), about 6 KB gzipped of
/// wasm; re-indenting the compact text is a few hundred bytes.
pub fn pretty(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    // Empty containers stay `{}` and `[]`.
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

/// Autosaves, and drops a shared-link fragment that no longer matches what is shown
/// (otherwise reloading would bring back the shared version and lose later edits).
pub fn autosave(s: &Scenario) {
    if let Some(storage) = storage() {
        // Quota errors are ignored: losing the autosave must not stop editing.
        let _ = storage.set_item(STORAGE_KEY, &to_json(s));
    }
    let shown = LINKED.with(|l| l.borrow().as_ref() == Some(s));
    if !location_hash().is_empty() && !shown && !LINK_PENDING.with(|p| p.get()) {
        LINKED.with(|l| l.borrow_mut().take());
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

/// Puts the scenario in the URL fragment (compressed) and returns the full link.
pub async fn share(s: &Scenario) -> Result<String, String> {
    let packed = deflate(share::json(s).as_bytes(), true).await?;
    set_fragment(Some(&share::packed_fragment(&packed)));
    remember_link(s);
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .ok_or_else(|| "the browser did not give the page's address".to_string())
}

/// Downloads the scenario as `<name>.json`.
pub fn export(s: &Scenario) -> Result<(), String> {
    download(&s.name, ".json", "application/json", &to_json(s))
}

/// Downloads the scenario with expectations from its run (see `testgen`) as
/// `<name>.test.json`, a file `warren scenario check` passes.
pub fn export_test(s: &Scenario) -> Result<usize, String> {
    let tested = crate::testgen::with_expectations(s)?;
    download(&s.name, ".test.json", "application/json", &to_json(&tested))?;
    Ok(tested.expect.len())
}

/// Downloads the scenario as `<name>.py`, a Python program that replays it
/// against a real broker with pika (see `warren_core::scenario::pika`). The
/// program's runtime is fetched from `pika_runtime.py` next to the page (as
/// the tutorials are) rather than linked into the wasm, which keeps the
/// bundle within its size budget.
pub async fn export_pika(s: &Scenario) -> Result<(), String> {
    let runtime = fetch_text("pika_runtime.py", None).await?;
    let script = warren_core::scenario::pika::to_pika_with(s, &runtime);
    download(&s.name, ".py", "text/x-python", &script)
}

/// Saves `text` as `<name><extension>` through a temporary link.
fn download(name: &str, extension: &str, mime: &str, text: &str) -> Result<(), String> {
    let document = gloo::utils::document();
    let blob = gloo::file::Blob::new_with_options(text, Some(mime));
    let url = gloo::file::ObjectUrl::from(blob);
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "could not create a download link".to_string())?
        .dyn_into()
        .map_err(|_| "could not create a download link".to_string())?;
    anchor.set_href(&url);
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = if name.is_empty() { "scenario" } else { &name };
    anchor.set_download(&format!("{name}{extension}"));
    anchor.click();
    LAST_EXPORT.with(|last| *last.borrow_mut() = Some(url));
    Ok(())
}

/// GETs `url` as text; with `auth` (base64 of `user:password`) as HTTP basic auth,
/// which the management API needs.
pub async fn fetch_text(url: &str, auth: Option<&str>) -> Result<String, String> {
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let failed = |what: &str| format!("could not load {url}: {what}");
    let init = web_sys::RequestInit::new();
    if let Some(auth) = auth {
        let headers = web_sys::Headers::new().map_err(|_| failed("no headers"))?;
        let _ = headers.set("Authorization", &format!("Basic {auth}"));
        init.set_headers(&headers);
    }
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| failed("network error"))?
        .dyn_into()
        .map_err(|_| failed("not a response"))?;
    if !response.ok() {
        return Err(failed(&format!("HTTP {}", response.status())));
    }
    let text = JsFuture::from(response.text().map_err(|_| failed("no body"))?)
        .await
        .map_err(|_| failed("body not readable"))?;
    text.as_string().ok_or_else(|| failed("body is not text"))
}

/// Where a warren server says to ask whether the page is live: the `warren-live`
/// meta tag that `warren serve` puts in the page it serves.
pub fn live_meta() -> Option<String> {
    gloo::utils::document()
        .query_selector("meta[name=\"warren-live\"]")
        .ok()
        .flatten()?
        .get_attribute("content")
}

/// Records, once, the time from navigation start to the first render of the app
/// (`window.warrenReady`, in ms): the e2e test reads it as time to interactive.
pub fn mark_ready() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let now = window.performance().map_or(0.0, |p| p.now());
    let _ = js_sys::Reflect::set(&window, &"warrenReady".into(), &now.into());
}

#[cfg(test)]
mod tests {
    #[test]
    fn pretty_matches_serde_json() {
        let mut s = crate::example::work_queue();
        s.description = "quotes \" and \\ and {braces}, [brackets]: colons, ünïcode".to_string();
        crate::model::pin_layout(&mut s);
        let s = crate::testgen::with_expectations(&s).unwrap();
        assert_eq!(
            super::to_json(&s),
            serde_json::to_string_pretty(&s).unwrap()
        );
    }
}
