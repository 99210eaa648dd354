//! SMS keywords (DOMAIN.md §7, CTIA short-code rules) as a pure state machine.
//!
//! Only an exact single word counts, trimmed and compared case-insensitively: "STOP" is an opt-out,
//! "stop texting me" is a message for an advocate. After an opt-out nothing is ever produced automatically,
//! for any message, until an opt-in word, whose confirmation is the only automatic reply allowed.
//!
//! Spanish keywords: CTIA requires only the English words. We add `AYUDA` (help) because the help reply is
//! what a Spanish-speaking texter of a bilingual hotline asks for, and it opens a conversation, so it can
//! only help; we add no Spanish opt-out or opt-in word, since a common word like `NO`, `SI` or `PARA` sent as
//! a reply to an advocate would silence or re-open the line against the sender's intent.

use serde::{Deserialize, Serialize};

/// Whether automatic and advocate messages may be sent to a number (per sender and hotline number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptState {
    /// Messages may be sent (the default for a number never seen).
    OptedIn,
    /// The sender opted out: nothing may be sent until they opt in again.
    OptedOut,
}

/// The language of automatic replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

/// What an inbound message is, as far as keywords go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordKind {
    /// An opt-out word.
    OptOut,
    /// An opt-in word.
    OptIn,
    /// `HELP`, `INFO` or `AYUDA`.
    Help,
    /// `BEFREE`.
    BeFree,
    /// Any other text: a message for an advocate.
    Message,
}

/// Classifies a message body: the whole body, trimmed, must be one keyword (case-insensitive).
pub fn classify(body: &str) -> (KeywordKind, Lang) {
    let word = body.trim().to_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => {
            (KeywordKind::OptOut, Lang::En)
        }
        "START" | "YES" | "UNSTOP" => (KeywordKind::OptIn, Lang::En),
        "HELP" | "INFO" => (KeywordKind::Help, Lang::En),
        "AYUDA" => (KeywordKind::Help, Lang::Es),
        "BEFREE" => (KeywordKind::BeFree, Lang::En),
        _ => (KeywordKind::Message, Lang::En),
    }
}

/// The texts of the automatic replies for one hotline, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramTexts {
    /// The program's name as shown to texters (e.g. "Lantern Hotline").
    pub program_name: String,
    /// How to reach a person (e.g. "Call 1-888-555-0100 (24/7) or reply here").
    pub reach_a_person: String,
}

impl ProgramTexts {
    /// The required help reply: program name, how to reach a person, rates notice, how to stop.
    pub fn help_reply(&self, lang: Lang) -> String {
        match lang {
            Lang::En => format!(
                "{}: {}. Msg & data rates may apply. Text STOP to cancel.",
                self.program_name, self.reach_a_person
            ),
            Lang::Es => format!(
                "{}: {}. Pueden aplicarse tarifas de mensajes y datos. Msg & data rates may apply. Envíe STOP para cancelar. Text STOP to cancel.",
                self.program_name, self.reach_a_person
            ),
        }
    }

    /// The one confirmation sent after an opt-out.
    pub fn opt_out_reply(&self) -> String {
        format!(
            "{}: You are unsubscribed and will receive no more messages. Text START to resubscribe.",
            self.program_name
        )
    }

    /// The confirmation sent after an opt-in.
    pub fn opt_in_reply(&self) -> String {
        format!(
            "{}: You are subscribed again. Msg & data rates may apply. Text HELP for help, STOP to cancel.",
            self.program_name
        )
    }
}

/// What to do with one inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The automatic reply to send, if any (as TwiML `<Message>`).
    pub auto_reply: Option<String>,
    /// Whether to open (or keep) a conversation for an advocate.
    pub open_conversation: bool,
    /// What the message was.
    pub kind: KeywordKind,
}

/// The TwiML answer for a decision: a `<Message>` with the automatic reply, or an empty response.
pub fn reply_twiml(decision: &Decision) -> String {
    match &decision.auto_reply {
        Some(text) => crate::twiml::message(text),
        None => crate::twiml::empty(),
    }
}

/// Decides what an inbound message does, given the sender's opt state with this hotline number; returns the
/// new state and the decision. Pure: the caller stores the new state and sends the reply.
///
/// While opted out, only an opt-in word produces a reply (its confirmation); every other message, including
/// HELP and further opt-outs, gets no reply. A message from an opted-out sender is still delivered to an
/// advocate (`open_conversation`) only if it is a plain message or BEFREE/HELP: the person wrote in, and the
/// advocate sees the opt-out state and cannot reply.
/// While opted in, an opt-in word (`YES`, `START`) is delivered to the advocate as a message with no reply,
/// because "yes" is usually an answer to a question.
pub fn on_inbound(state: OptState, body: &str, texts: &ProgramTexts) -> (OptState, Decision) {
    let (kind, lang) = classify(body);
    let opened = matches!(
        kind,
        KeywordKind::Help | KeywordKind::BeFree | KeywordKind::Message
    );
    match (state, kind) {
        (OptState::OptedIn, KeywordKind::OptOut) => (
            OptState::OptedOut,
            Decision {
                auto_reply: Some(texts.opt_out_reply()),
                open_conversation: false,
                kind,
            },
        ),
        (OptState::OptedOut, KeywordKind::OptIn) => (
            OptState::OptedIn,
            Decision {
                auto_reply: Some(texts.opt_in_reply()),
                open_conversation: false,
                kind,
            },
        ),
        // Already opted in, "YES" is most likely an answer to an advocate: deliver it, confirm nothing.
        (OptState::OptedIn, KeywordKind::OptIn) => (
            OptState::OptedIn,
            Decision {
                auto_reply: None,
                open_conversation: true,
                kind,
            },
        ),
        (OptState::OptedOut, _) => (
            OptState::OptedOut,
            Decision {
                auto_reply: None,
                open_conversation: opened,
                kind,
            },
        ),
        (OptState::OptedIn, KeywordKind::Help) => (
            OptState::OptedIn,
            Decision {
                auto_reply: Some(texts.help_reply(lang)),
                open_conversation: true,
                kind,
            },
        ),
        (OptState::OptedIn, _) => (
            OptState::OptedIn,
            Decision {
                auto_reply: None,
                open_conversation: opened,
                kind,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    fn texts() -> ProgramTexts {
        ProgramTexts {
            program_name: "Lantern Hotline".into(),
            reach_a_person: "Call 1-888-555-0100 24/7".into(),
        }
    }

    #[rstest]
    #[case("STOP", KeywordKind::OptOut)]
    #[case("  stop \n", KeywordKind::OptOut)]
    #[case("StopAll", KeywordKind::OptOut)]
    #[case("unsubscribe", KeywordKind::OptOut)]
    #[case("CANCEL", KeywordKind::OptOut)]
    #[case("end", KeywordKind::OptOut)]
    #[case("Quit", KeywordKind::OptOut)]
    #[case("START", KeywordKind::OptIn)]
    #[case("yes", KeywordKind::OptIn)]
    #[case("UNSTOP", KeywordKind::OptIn)]
    #[case("help", KeywordKind::Help)]
    #[case("INFO", KeywordKind::Help)]
    #[case("Ayuda", KeywordKind::Help)]
    #[case("befree", KeywordKind::BeFree)]
    #[case("stop texting me", KeywordKind::Message)]
    #[case("STOP.", KeywordKind::Message)]
    #[case("help me", KeywordKind::Message)]
    #[case("", KeywordKind::Message)]
    #[case("no", KeywordKind::Message)]
    fn only_an_exact_single_word_is_a_keyword(#[case] body: &str, #[case] expected: KeywordKind) {
        assert_eq!(classify(body).0, expected);
    }

    #[rstest]
    #[case::stop(OptState::OptedIn, "STOP", OptState::OptedOut, true, false)]
    #[case::stop_again(OptState::OptedOut, "STOP", OptState::OptedOut, false, false)]
    #[case::help_after_stop(OptState::OptedOut, "HELP", OptState::OptedOut, false, true)]
    #[case::message_after_stop(
        OptState::OptedOut,
        "are you there",
        OptState::OptedOut,
        false,
        true
    )]
    #[case::start_after_stop(OptState::OptedOut, "START", OptState::OptedIn, true, false)]
    #[case::help(OptState::OptedIn, "HELP", OptState::OptedIn, true, true)]
    #[case::befree(OptState::OptedIn, "BEFREE", OptState::OptedIn, false, true)]
    #[case::message(OptState::OptedIn, "stop texting me", OptState::OptedIn, false, true)]
    #[case::yes_while_opted_in_is_an_answer(
        OptState::OptedIn,
        "yes",
        OptState::OptedIn,
        false,
        true
    )]
    fn keywords_move_the_opt_state(
        #[case] before: OptState,
        #[case] body: &str,
        #[case] after: OptState,
        #[case] replies: bool,
        #[case] opens: bool,
    ) {
        let (state, d) = on_inbound(before, body, &texts());
        assert_eq!(state, after);
        assert_eq!(d.auto_reply.is_some(), replies);
        assert_eq!(d.open_conversation, opens);
    }

    #[rstest]
    #[case::en(Lang::En)]
    #[case::es(Lang::Es)]
    fn the_help_reply_carries_every_required_element(#[case] lang: Lang) {
        let r = texts().help_reply(lang);
        for needle in [
            "Lantern Hotline",
            "1-888-555-0100",
            "Msg & data rates may apply",
            "Text STOP to cancel",
        ] {
            assert!(r.contains(needle), "{lang:?}: {r}");
        }
    }

    fn message_body() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("STOP".to_owned()),
            Just(" quit ".to_owned()),
            Just("HELP".to_owned()),
            Just("info".to_owned()),
            Just("BEFREE".to_owned()),
            Just("ayuda".to_owned()),
            Just("stop texting me".to_owned()),
            Just("START me".to_owned()),
            "[ -~]{0,20}",
        ]
    }

    #[test]
    fn the_twiml_answer_after_an_opt_out_is_empty() {
        let (state, first) = on_inbound(OptState::OptedIn, "STOP", &texts());
        assert!(reply_twiml(&first).contains("<Message>"));
        let (_, second) = on_inbound(state, "HELP", &texts());
        assert!(reply_twiml(&second).ends_with("<Response/>"));
    }

    proptest! {
        #[test]
        fn after_an_opt_out_no_non_opt_in_message_yields_an_auto_reply(bodies in proptest::collection::vec(message_body(), 0..30)) {
            let (mut state, first) = on_inbound(OptState::OptedIn, "STOP", &texts());
            prop_assert!(first.auto_reply.is_some());
            for b in bodies.iter().filter(|b| classify(b).0 != KeywordKind::OptIn) {
                let (next, d) = on_inbound(state, b, &texts());
                prop_assert_eq!(next, OptState::OptedOut);
                prop_assert!(d.auto_reply.is_none(), "replied to {:?}", b);
                state = next;
            }
        }

        #[test]
        fn the_state_after_any_sequence_is_set_by_the_last_opt_word(bodies in proptest::collection::vec(message_body(), 0..30)) {
            let mut state = OptState::OptedIn;
            let mut expected = OptState::OptedIn;
            for b in &bodies {
                match classify(b).0 {
                    KeywordKind::OptOut => expected = OptState::OptedOut,
                    KeywordKind::OptIn => expected = OptState::OptedIn,
                    _ => {}
                }
                let (next, d) = on_inbound(state, b, &texts());
                if state == OptState::OptedOut && classify(b).0 != KeywordKind::OptIn {
                    prop_assert!(d.auto_reply.is_none());
                }
                state = next;
            }
            prop_assert_eq!(state, expected);
        }
    }
}
