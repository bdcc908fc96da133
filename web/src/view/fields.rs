//! Form fields for the side panel. A text field keeps what the user typed when it is
//! refused and shows the reason next to it, so bad input is explained, never applied
//! and never a panic. Edits are committed on `change` (blur or Enter), giving one undo
//! step per field edit rather than one per keystroke.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Applies a typed value; `Err` is the reason it was refused, shown beside the field.
pub type Commit = Callback<String, Result<(), String>>;

#[derive(Properties, PartialEq)]
pub struct TextProps {
    pub label: AttrValue,
    pub value: AttrValue,
    pub on_commit: Commit,
    #[prop_or_default]
    pub hint: AttrValue,
    #[prop_or_default]
    pub numeric: bool,
}

#[component]
pub fn TextField(props: &TextProps) -> Html {
    let draft = use_state(|| None::<(String, String)>);
    let onchange = {
        let draft = draft.clone();
        let commit = props.on_commit.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let text = input.value();
            match commit.emit(text.clone()) {
                Ok(()) => draft.set(None),
                Err(reason) => draft.set(Some((text, reason))),
            }
        })
    };
    let (value, error) = match &*draft {
        Some((text, reason)) => (AttrValue::from(text.clone()), Some(reason.clone())),
        None => (props.value.clone(), None),
    };
    html! {
        <label class="field">
            <span class="field-label">{ props.label.clone() }</span>
            <input
                type="text"
                inputmode={ props.numeric.then_some("numeric") }
                aria-label={ props.label.clone() }
                aria-invalid={ if error.is_some() { "true" } else { "false" } }
                placeholder={ props.hint.clone() }
                {value}
                {onchange}
            />
            if let Some(reason) = error {
                <span class="field-error" role="alert">{ reason }</span>
            }
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct CheckProps {
    pub label: AttrValue,
    pub checked: bool,
    pub on_commit: Commit,
    #[prop_or_default]
    pub disabled: bool,
}

#[component]
pub fn CheckField(props: &CheckProps) -> Html {
    let error = use_state(|| None::<String>);
    let onchange = {
        let error = error.clone();
        let commit = props.on_commit.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let wanted = input.checked();
            match commit.emit(wanted.to_string()) {
                Ok(()) => error.set(None),
                Err(reason) => {
                    input.set_checked(!wanted);
                    error.set(Some(reason));
                }
            }
        })
    };
    html! {
        <label class="field check">
            <input type="checkbox" aria-label={ props.label.clone() } checked={props.checked}
                disabled={props.disabled} {onchange} />
            <span class="field-label">{ props.label.clone() }</span>
            if let Some(reason) = (*error).clone() {
                <span class="field-error" role="alert">{ reason }</span>
            }
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectProps {
    pub label: AttrValue,
    pub value: AttrValue,
    /// (value, text shown)
    pub options: Vec<(String, String)>,
    pub on_commit: Commit,
}

#[component]
pub fn SelectField(props: &SelectProps) -> Html {
    let error = use_state(|| None::<String>);
    let onchange = {
        let error = error.clone();
        let commit = props.on_commit.clone();
        Callback::from(move |e: Event| {
            let Some(select) = e.target_dyn_into::<HtmlSelectElement>() else {
                return;
            };
            match commit.emit(select.value()) {
                Ok(()) => error.set(None),
                Err(reason) => error.set(Some(reason)),
            }
        })
    };
    html! {
        <label class="field">
            <span class="field-label">{ props.label.clone() }</span>
            <select aria-label={ props.label.clone() } {onchange}>
                { for props.options.iter().map(|(value, text)| html! {
                    <option value={value.clone()} selected={ *value == *props.value }>{ text.clone() }</option>
                }) }
            </select>
            if let Some(reason) = (*error).clone() {
                <span class="field-error" role="alert">{ reason }</span>
            }
        </label>
    }
}

/// Turns a `"true"`/`"false"` commit (from [`CheckField`]) back into a bool.
pub fn flag(text: &str) -> bool {
    text == "true"
}
