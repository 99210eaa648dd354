//! English and Spanish texts of the help-seeker pages (web chat and tip form).

use crate::keywords::Lang;

/// A text shown on a help-seeker page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Text {
    /// The pre-chat question about the language.
    ChooseLanguage,
    /// The pre-chat safety question.
    SafeToChatQuestion,
    /// Answer: yes.
    AnswerYes,
    /// Answer: no.
    AnswerNo,
    /// Answer: not sure.
    AnswerUnsure,
    /// Button that starts the chat.
    StartChat,
    /// Queue position; `{position}` is replaced by the number.
    QueuePosition,
    /// Shown when an advocate joins.
    AdvocateJoined,
    /// Shown when the chat ends.
    ChatEnded,
    /// Shown while reconnecting.
    Reconnecting,
    /// The safety notice about browser history and safer devices.
    SafetyNotice,
    /// The quick exit button's label.
    QuickExit,
    /// The hint that Escape also leaves the page.
    QuickExitHint,
    /// Placeholder of the message box.
    MessagePlaceholder,
    /// The send button.
    Send,
    /// The spoken greeting before a caller is placed in the queue (TwiML `<Say>`).
    VoiceGreeting,
}

/// Every text, for completeness checks and for rendering a whole page's strings at once.
pub const ALL: &[Text] = &[
    Text::ChooseLanguage,
    Text::SafeToChatQuestion,
    Text::AnswerYes,
    Text::AnswerNo,
    Text::AnswerUnsure,
    Text::StartChat,
    Text::QueuePosition,
    Text::AdvocateJoined,
    Text::ChatEnded,
    Text::Reconnecting,
    Text::SafetyNotice,
    Text::QuickExit,
    Text::QuickExitHint,
    Text::MessagePlaceholder,
    Text::Send,
    Text::VoiceGreeting,
];

/// The text in the given language.
pub fn t(lang: Lang, text: Text) -> &'static str {
    use Text::*;
    match (lang, text) {
        (Lang::En, ChooseLanguage) => "Which language would you like to chat in?",
        (Lang::Es, ChooseLanguage) => "¿En qué idioma desea chatear?",
        (Lang::En, SafeToChatQuestion) => "Are you in a safe place to chat?",
        (Lang::Es, SafeToChatQuestion) => "¿Está en un lugar seguro para chatear?",
        (Lang::En, AnswerYes) => "Yes",
        (Lang::Es, AnswerYes) => "Sí",
        (Lang::En, AnswerNo) => "No",
        (Lang::Es, AnswerNo) => "No",
        (Lang::En, AnswerUnsure) => "I'm not sure",
        (Lang::Es, AnswerUnsure) => "No lo sé",
        (Lang::En, StartChat) => "Start chat",
        (Lang::Es, StartChat) => "Iniciar chat",
        (Lang::En, QueuePosition) => {
            "You are number {position} in line. An advocate will be with you soon."
        }
        (Lang::Es, QueuePosition) => {
            "Usted es el número {position} en la fila. Un/a asesor/a le atenderá pronto."
        }
        (Lang::En, AdvocateJoined) => "An advocate has joined the chat.",
        (Lang::Es, AdvocateJoined) => "Un/a asesor/a se ha unido al chat.",
        (Lang::En, ChatEnded) => "The chat has ended. You can start a new one at any time.",
        (Lang::Es, ChatEnded) => {
            "El chat ha terminado. Puede iniciar uno nuevo en cualquier momento."
        }
        (Lang::En, Reconnecting) => "Reconnecting… your messages are kept.",
        (Lang::Es, Reconnecting) => "Reconectando… sus mensajes se conservan.",
        (Lang::En, SafetyNotice) => {
            "Your browser may keep a record of sites you visit. If someone watches your phone or computer, use a \
             device they cannot reach (a friend's phone, a library computer) or a private window, and clear your \
             history afterwards. Press Quick exit or Escape to leave this page at once."
        }
        (Lang::Es, SafetyNotice) => {
            "Su navegador puede guardar un registro de los sitios que visita. Si alguien vigila su teléfono o su \
             computadora, use un dispositivo al que esa persona no tenga acceso (el teléfono de una amistad, una \
             computadora de la biblioteca) o una ventana privada, y borre su historial después. Pulse Salida rápida \
             o Escape para salir de esta página de inmediato."
        }
        (Lang::En, QuickExit) => "Quick exit",
        (Lang::Es, QuickExit) => "Salida rápida",
        (Lang::En, QuickExitHint) => "Press Escape to leave this page at once.",
        (Lang::Es, QuickExitHint) => "Pulse Escape para salir de esta página de inmediato.",
        (Lang::En, MessagePlaceholder) => "Type your message",
        (Lang::Es, MessagePlaceholder) => "Escriba su mensaje",
        (Lang::En, Send) => "Send",
        (Lang::Es, Send) => "Enviar",
        (Lang::En, VoiceGreeting) => {
            "Thank you for calling. Please stay on the line; an advocate will answer soon."
        }
        (Lang::Es, VoiceGreeting) => {
            "Gracias por llamar. Por favor, no cuelgue; un/a asesor/a le atenderá pronto."
        }
    }
}

/// The language tag for TwiML `<Say>` in this language.
pub fn voice_language(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en-US",
        Lang::Es => "es-US",
    }
}

/// The queue position text with the number filled in.
pub fn queue_position(lang: Lang, position: usize) -> String {
    t(lang, Text::QueuePosition).replace("{position}", &position.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn every_text_exists_in_both_languages_and_differs_where_it_should() {
        for &text in ALL {
            let (en, es) = (t(Lang::En, text), t(Lang::Es, text));
            assert!(!en.is_empty() && !es.is_empty(), "{text:?}");
            if text != Text::AnswerNo {
                assert_ne!(en, es, "{text:?} is not translated");
            }
        }
    }

    #[rstest]
    #[case::en(Lang::En, "You are number 3 in line")]
    #[case::es(Lang::Es, "Usted es el número 3 en la fila")]
    fn the_queue_position_is_filled_in(#[case] lang: Lang, #[case] expected: &str) {
        assert!(queue_position(lang, 3).starts_with(expected));
    }

    #[rstest]
    #[case::en(Lang::En, "history")]
    #[case::es(Lang::Es, "historial")]
    fn the_safety_notice_mentions_history_and_escape(#[case] lang: Lang, #[case] word: &str) {
        let notice = t(lang, Text::SafetyNotice);
        assert!(notice.contains(word) && notice.contains("Escape"));
    }
}
