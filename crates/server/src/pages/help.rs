//! What every help-seeker page shares (web chat, tip form): the language, the quick exit to the neutral
//! site, and the safety notice, rendered by `templates/help_base.html`.
//!
//! These pages set no cookie of their own, use no storage, load nothing from another site, and are
//! `no-store` with their assets (see [`crate::web`]), so the browser keeps as little of a visit as it can.

use crate::config::Settings;
use lantern_channels::i18n::{Text, t};
use lantern_channels::keywords::Lang;

/// The chrome of a help-seeker page.
#[derive(Debug, Clone)]
pub struct HelpChrome {
    /// The page's language (`en`, `es`).
    pub lang: &'static str,
    /// Where the quick exit goes.
    pub neutral_url: String,
    /// The quick exit button's label.
    pub exit_label: &'static str,
    /// The hint that Escape leaves too.
    pub exit_hint: &'static str,
    /// The notice about browser history and safer devices.
    pub notice: &'static str,
    /// The other language's code, link and name (in that language).
    pub other_lang: &'static str,
    /// The same page in the other language.
    pub other_lang_href: String,
    /// "Español" or "English".
    pub other_lang_label: &'static str,
}

impl HelpChrome {
    /// The chrome for a page at `path` (e.g. `/chat`) in `lang`; the other language is `path?lang=..`.
    pub fn new(settings: &Settings, lang: Lang, path: &str) -> HelpChrome {
        let (other, label) = match lang {
            Lang::En => (Lang::Es, "Español"),
            Lang::Es => (Lang::En, "English"),
        };
        HelpChrome {
            lang: lang.code(),
            neutral_url: settings.help_pages.neutral_url.clone(),
            exit_label: t(lang, Text::QuickExit),
            exit_hint: t(lang, Text::QuickExitHint),
            notice: t(lang, Text::SafetyNotice),
            other_lang: other.code(),
            other_lang_href: format!("{path}?lang={}", other.code()),
            other_lang_label: label,
        }
    }
}

/// The language a help-seeker asked for (`lang=es`), English otherwise.
pub fn lang_of(query: Option<&str>) -> Lang {
    match query {
        Some(q) if q.eq_ignore_ascii_case("es") => Lang::Es,
        _ => Lang::En,
    }
}
