//! TwiML responses: the XML documents a webhook answers with.

/// The content type to send TwiML with.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Escapes text for XML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// An empty response: Twilio sends nothing back.
pub fn empty() -> String {
    format!("{HEAD}<Response/>")
}

/// A response that replies to the sender with one text message.
pub fn message(body: &str) -> String {
    format!(
        "{HEAD}<Response><Message>{}</Message></Response>",
        escape(body)
    )
}

/// A voice response that greets the caller (in `language`, e.g. `en-US` or `es-US`) and places them in the
/// hotline's queue named `queue`.
pub fn enqueue(greeting: &str, language: &str, queue: &str) -> String {
    format!(
        "{HEAD}<Response><Say language=\"{}\">{}</Say><Enqueue>{}</Enqueue></Response>",
        escape(language),
        escape(greeting),
        escape(queue)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn the_empty_response_is_a_bare_response_element() {
        assert_eq!(
            empty(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
        );
    }

    #[rstest]
    #[case::plain("Hello", "<Message>Hello</Message>")]
    #[case::markup(
        "<b>&\"'</b>",
        "<Message>&lt;b&gt;&amp;&quot;&apos;&lt;/b&gt;</Message>"
    )]
    #[case::injection(
        "</Message><Redirect>x</Redirect>",
        "<Message>&lt;/Message&gt;&lt;Redirect&gt;x&lt;/Redirect&gt;</Message>"
    )]
    #[case::control("a\u{0}b", "<Message>ab</Message>")]
    fn a_message_reply_is_escaped(#[case] body: &str, #[case] expected: &str) {
        assert!(message(body).contains(expected), "{}", message(body));
    }

    #[test]
    fn a_voice_answer_greets_and_enqueues() {
        let x = enqueue("Thank you for calling & holding.", "en-US", "hotline-1");
        assert!(x.ends_with(
            "<Response><Say language=\"en-US\">Thank you for calling &amp; holding.</Say><Enqueue>hotline-1</Enqueue></Response>"
        ));
    }
}
