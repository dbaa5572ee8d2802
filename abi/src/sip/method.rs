//! Request methods.

use super::error::SyntaxError;
use super::tokens::is_token;
use std::fmt;

/// A SIP request method. Matching is case-sensitive (RFC 3261 §7.1):
/// `invite` is an extension method, not INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// REGISTER
    Register,
    /// OPTIONS
    Options,
    /// INFO
    Info,
    /// UPDATE
    Update,
    /// PRACK
    Prack,
    /// SUBSCRIBE
    Subscribe,
    /// NOTIFY
    Notify,
    /// PUBLISH
    Publish,
    /// MESSAGE
    Message,
    /// REFER
    Refer,
    /// Any other token.
    Extension(&'a str),
}

impl<'a> Method<'a> {
    /// Maps a method token to a `Method` (no syntax check; see [`Method::parse`]).
    pub fn from_token(s: &'a str) -> Method<'a> {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "PUBLISH" => Method::Publish,
            "MESSAGE" => Method::Message,
            "REFER" => Method::Refer,
            _ => Method::Extension(s),
        }
    }

    /// Like [`Method::from_token`] but rejects non-token text.
    pub fn parse(s: &'a str) -> Result<Method<'a>, SyntaxError> {
        if is_token(s.as_bytes()) {
            Ok(Method::from_token(s))
        } else {
            Err(SyntaxError::new("method", "method is not a token"))
        }
    }

    /// The method token.
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Message => "MESSAGE",
            Method::Refer => "REFER",
            Method::Extension(s) => s,
        }
    }

    /// True for methods not in the list above.
    pub fn is_extension(&self) -> bool {
        matches!(self, Method::Extension(_))
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        assert_eq!(Method::from_token("INVITE"), Method::Invite);
        assert_eq!(Method::from_token("invite"), Method::Extension("invite"));
        assert_eq!(Method::from_token("REFER").as_str(), "REFER");
        assert!(Method::parse("RE%47IST%45R").unwrap().is_extension());
        assert!(Method::parse("A B").is_err());
    }
}
