//! The tutorial browser: the list of lessons, a lesson's text beside its scenario in
//! the diagram, the English/中文 switch, a guided mode that walks the lesson one section
//! at a time, and predict-then-reveal questions.
//!
//! Lesson files are fetched from `dist/tutorials/` (copied there by `cargo xtask web`)
//! when a lesson is opened, so the lessons cost the wasm nothing (see `web/build.rs`).

use crate::lessons::{self, Block, Lang, Span, LESSONS};
use crate::state::{AppState, Msg};
use std::collections::{BTreeMap, BTreeSet};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

const LANG_KEY: &str = "warren.playground.lang";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The language chosen last time (English when none was, or storage is refused).
fn saved_lang() -> Lang {
    storage()
        .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
        .map_or(Lang::En, |c| Lang::from_code(&c))
}

/// Picks the English or the Chinese text of the interface.
fn tr(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// GETs a file next to the page as text.
async fn fetch_text(url: String) -> Result<String, String> {
    crate::io::fetch_text(&url, None).await
}

fn inline(text: &str) -> Html {
    html! {
        { for lessons::spans(text).into_iter().map(|s| match s {
            Span::Text(t) => html! { { t } },
            Span::Code(t) => html! { <code>{ t }</code> },
            Span::Strong(t) => html! { <strong>{ t }</strong> },
            Span::Em(t) => html! { <em>{ t }</em> },
            // Lesson links are relative to the repository, not the page: shown as text.
            Span::Link(t, _) => html! { <span class="link">{ t }</span> },
        }) }
    }
}

#[derive(Clone, Default, PartialEq)]
struct Answers {
    drafts: BTreeMap<usize, String>,
    revealed: BTreeSet<usize>,
}

#[derive(Properties, PartialEq)]
pub struct LessonProps {
    pub state: UseReducerHandle<AppState>,
    pub on_close: Callback<()>,
}

#[component]
pub fn Tutorials(props: &LessonProps) -> Html {
    let state = props.state.clone();
    let open = use_state(|| None::<usize>);
    let lang = use_state(saved_lang);
    let text = use_state(|| None::<Result<String, String>>);
    let guided = use_state(|| false);
    let section = use_state(|| 0usize);
    let answers = use_state(Answers::default);

    // Fetch the text whenever the lesson or the language changes.
    {
        let text = text.clone();
        use_effect_with((*open, *lang), move |&(open, lang)| {
            if let Some(lesson) = open.and_then(|i| LESSONS.get(i)) {
                text.set(None);
                let url = lesson.text_url(lang);
                wasm_bindgen_futures::spawn_local(async move {
                    text.set(Some(fetch_text(url).await));
                });
            }
        });
    }

    let choose = {
        let (open, state, answers, section) = (
            open.clone(),
            state.clone(),
            answers.clone(),
            section.clone(),
        );
        move |i: usize| {
            let (open, state, answers, section) = (
                open.clone(),
                state.clone(),
                answers.clone(),
                section.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                let Some(lesson) = LESSONS.get(i) else { return };
                open.set(Some(i));
                answers.set(Answers::default());
                section.set(0);
                let state = state.clone();
                let url = lesson.scenario_url();
                let title = lesson.title_en;
                wasm_bindgen_futures::spawn_local(async move {
                    let msg = match fetch_text(url).await {
                        Err(e) => Msg::Status(e),
                        Ok(json) => match warren_core::scenario::parse(&json) {
                            Ok(s) => Msg::Load(
                                s,
                                format!("Opened {title}: step through it, stop at each question."),
                            ),
                            Err(e) => Msg::Status(format!("The lesson's scenario is invalid {e}")),
                        },
                    };
                    state.dispatch(msg);
                });
            })
        }
    };
    let set_lang = |l: Lang| {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(s) = storage() {
                // A refused write only means the choice is not remembered.
                let _ = s.set_item(LANG_KEY, l.code());
            }
            lang.set(l);
        })
    };
    let l = *lang;
    let switch = html! {
        <div class="lang" role="group" aria-label="Language">
            <button onclick={set_lang(Lang::En)} aria-pressed={(l == Lang::En).to_string()}>{ "English" }</button>
            <button onclick={set_lang(Lang::Zh)} aria-pressed={(l == Lang::Zh).to_string()}>{ "中文" }</button>
        </div>
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let head = html! {
        <div class="lesson-head">
            <h2>{ tr(l, "Tutorials", "教程") }</h2>
            { switch }
            <button onclick={close} aria-label="Close tutorials">{ "×" }</button>
        </div>
    };

    let Some(current) = (*open).and_then(|i| LESSONS.get(i)) else {
        return html! {
            <aside class="lesson" aria-label="Tutorials">
                { head }
                <ol class="lesson-list">
                    { for LESSONS.iter().enumerate().map(|(i, lesson)| html! {
                        <li><button class="link-button" onclick={choose(i)}>{ lesson.title(l) }</button></li>
                    }) }
                </ol>
            </aside>
        };
    };

    let back = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(None))
    };
    let body = match &*text {
        None => html! { <p class="note">{ tr(l, "Loading…", "加载中……") }</p> },
        Some(Err(e)) => html! { <p class="note" role="alert">{ e.clone() }</p> },
        Some(Ok(md)) => {
            let sections = lessons::parse(md);
            let ctx = Ctx {
                state: state.clone(),
                answers: answers.clone(),
                lang: l,
            };
            if *guided {
                let at = (*section).min(sections.len().saturating_sub(1));
                let blocked = sections.get(at).is_some_and(|s| {
                    lessons::questions(s)
                        .iter()
                        .any(|q| !answers.revealed.contains(q))
                });
                let go = |to: usize| {
                    let section = section.clone();
                    Callback::from(move |_: MouseEvent| section.set(to))
                };
                html! {
                    <>
                        { for sections.get(at).into_iter().flatten().map(|b| ctx.block(b)) }
                        <div class="guide" role="toolbar" aria-label="Guide">
                            <button onclick={go(at.saturating_sub(1))} disabled={at == 0}>{ tr(l, "Previous", "上一节") }</button>
                            <span>{ format!("{} / {}", at + 1, sections.len()) }</span>
                            <button onclick={go(at + 1)} disabled={blocked || at + 1 >= sections.len()}>{ tr(l, "Next", "下一节") }</button>
                            if blocked {
                                <span class="note small">{ tr(l, "Answer the questions to go on.", "先回答问题再继续。") }</span>
                            }
                        </div>
                    </>
                }
            } else {
                html! { { for sections.iter().flatten().map(|b| ctx.block(b)) } }
            }
        }
    };
    let toggle_guided = {
        let (guided, section) = (guided.clone(), section.clone());
        Callback::from(move |_: MouseEvent| {
            guided.set(!*guided);
            section.set(0);
        })
    };
    html! {
        <aside class="lesson" aria-label="Tutorials">
            { head }
            <div class="lesson-tools">
                <button onclick={back}>{ tr(l, "All lessons", "全部课程") }</button>
                <button onclick={toggle_guided} aria-pressed={guided.to_string()}>{ tr(l, "Guided", "引导模式") }</button>
            </div>
            <article class="lesson-text" aria-label={current.title(l)} lang={l.code()}>
                { body }
            </article>
        </aside>
    }
}

/// What rendering a block needs: questions read and write the answers, and "run to
/// see it" drives the simulation.
struct Ctx {
    state: UseReducerHandle<AppState>,
    answers: UseStateHandle<Answers>,
    lang: Lang,
}

impl Ctx {
    fn block(&self, b: &Block) -> Html {
        match b {
            Block::Heading(1, t) => html! { <h3 class="lesson-title">{ inline(t) }</h3> },
            Block::Heading(_, t) => html! { <h4>{ inline(t) }</h4> },
            Block::Para(t) => html! { <p>{ inline(t) }</p> },
            Block::Code(t) => html! { <pre><code>{ t.clone() }</code></pre> },
            Block::List { ordered, items } => {
                let items = items.iter().map(|i| html! { <li>{ inline(i) }</li> });
                if *ordered {
                    html! { <ol>{ for items }</ol> }
                } else {
                    html! { <ul>{ for items }</ul> }
                }
            }
            Block::Quote(inner) => {
                html! { <blockquote>{ for inner.iter().map(|b| self.block(b)) }</blockquote> }
            }
            Block::Table(rows) => html! {
                <table class="lesson-table">
                    { for rows.iter().enumerate().map(|(r, row)| html! {
                        <tr>{ for row.iter().map(|c| if r == 0 {
                            html! { <th>{ inline(c) }</th> }
                        } else {
                            html! { <td>{ inline(c) }</td> }
                        }) }</tr>
                    }) }
                </table>
            },
            Block::Question {
                index,
                text,
                answer,
            } => self.question(*index, text, answer),
        }
    }

    fn question(&self, index: usize, text: &str, answer: &str) -> Html {
        let l = self.lang;
        let draft = self.answers.drafts.get(&index).cloned().unwrap_or_default();
        let revealed = self.answers.revealed.contains(&index);
        let label = format!("{} {}", tr(l, "Question", "问题"), index + 1);
        let oninput = {
            let answers = self.answers.clone();
            Callback::from(move |e: InputEvent| {
                if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                    let mut a = (*answers).clone();
                    a.drafts.insert(index, area.value());
                    answers.set(a);
                }
            })
        };
        let reveal = {
            let answers = self.answers.clone();
            Callback::from(move |_: MouseEvent| {
                let mut a = (*answers).clone();
                a.revealed.insert(index);
                answers.set(a);
            })
        };
        let time = lessons::time_in(text);
        let run = {
            let state = self.state.clone();
            // Just past the moment the question names, so everything due then has run.
            Callback::from(move |_: MouseEvent| {
                state.dispatch(Msg::RunUntil(time.unwrap_or(u64::MAX)))
            })
        };
        let run_label = match (time, l) {
            (Some(t), Lang::En) => format!("Run to t = {t} ms"),
            (Some(t), Lang::Zh) => format!("运行到 {t} 毫秒"),
            (None, _) => tr(l, "Run to the end", "运行到结束").to_string(),
        };
        html! {
            <div class="question" role="group" aria-label={label}>
                <p><strong>{ tr(l, "Question: ", "问题：") }</strong>{ inline(text) }</p>
                if revealed {
                    <p class="prediction"><strong>{ tr(l, "Your prediction: ", "你的预测：") }</strong>{ draft }</p>
                    <div class="answer" role="note" aria-label={tr(l, "Answer", "答案")}>
                        <p><strong>{ tr(l, "Answer: ", "答案：") }</strong>{ inline(answer) }</p>
                    </div>
                    <p class="note small">{ tr(l, "Now step the simulation and check: ", "现在单步运行模拟器来验证：") }
                        <button onclick={run}>{ run_label }</button>
                    </p>
                } else {
                    <textarea aria-label={tr(l, "Your prediction", "你的预测")} rows="2" value={draft.clone()} {oninput} />
                    <button onclick={reveal} disabled={draft.trim().is_empty()}>{ tr(l, "Reveal the answer", "揭晓答案") }</button>
                }
            </div>
        }
    }
}
