//! RFC 3261 syntax checks a proxy performs before acting on a message.

use super::error::{ParseError, SyntaxError};
use super::header_name::{canonical_name, kind};
use super::message::Message;
use super::name_addr::NameAddr;
use super::tokens::{has_lws, is_token, parse_u32, trim_lws};
use super::uri::Uri;
use super::via::Via;

const MANDATORY: [u16; 5] = [kind::TO, kind::FROM, kind::CALL_ID, kind::CSEQ, kind::VIA];
const SINGLE: [u16; 7] = [
    kind::TO,
    kind::FROM,
    kind::CALL_ID,
    kind::CSEQ,
    kind::MAX_FORWARDS,
    kind::CONTENT_LENGTH,
    kind::CONTENT_TYPE,
];

impl<'a> Message<'a> {
    /// Checks the message syntax. Requests get the status to answer with
    /// (400, or 505 for an unsupported SIP version); for responses every
    /// failure has `status: None` (drop).
    pub fn validate(&self) -> Result<(), ParseError> {
        let r = self.validate_inner();
        if self.is_request() {
            r
        } else {
            r.map_err(|e| ParseError { status: None, ..e })
        }
    }

    fn bad(&self, why: String) -> ParseError {
        ParseError::new(Some(400), why, self.start.method.start as usize)
    }

    fn syn(&self, e: SyntaxError) -> ParseError {
        self.bad(e.to_string())
    }

    fn validate_inner(&self) -> Result<(), ParseError> {
        if self.start.is_response {
            self.validate_status_line()?;
        } else {
            self.validate_request_line()?;
        }
        let mut counts = [0u16; 16];
        for e in self.header_entries() {
            if !is_token(e.name.get(self.bytes)) {
                return Err(self.bad(format!(
                    "invalid header name '{}'",
                    String::from_utf8_lossy(e.name.get(self.bytes))
                )));
            }
            if let Some(c) = counts.get_mut(e.kind as usize) {
                *c += 1;
            }
        }
        let name = |k: u16| canonical_name(k).unwrap_or("?");
        for k in MANDATORY {
            if counts[k as usize] == 0 {
                return Err(self.bad(format!("Missing {} header", name(k))));
            }
        }
        for k in SINGLE {
            if counts[k as usize] > 1 {
                return Err(self.bad(format!("Multiple {} headers", name(k))));
            }
        }
        for v in self.list_values(kind::VIA) {
            Via::parse_strict(v).map_err(|e| self.syn(e))?;
        }
        for (k, n) in [(kind::FROM, "From"), (kind::TO, "To")] {
            let v = self.first_value(k).unwrap_or_default();
            let na = NameAddr::parse_strict(v).map_err(|e| self.syn(e.in_header(n)))?;
            let _ = na;
        }
        let call_id = self.call_id().unwrap_or_default();
        if call_id.is_empty() || has_lws(call_id) {
            return Err(self.bad("invalid Call-ID".into()));
        }
        let cseq = self
            .cseq()
            .unwrap_or(Err(SyntaxError::new("CSeq", "missing")))
            .map_err(|e| self.syn(e))?;
        if let Some(m) = self.method() {
            if cseq.method != m {
                return Err(self.bad("CSeq method does not match the Request-Line method".into()));
            }
        }
        if let Some(mf) = self.max_forwards() {
            mf.map_err(|e| self.syn(e))?;
        }
        if let Some(cl) = self.content_length() {
            let cl = cl.map_err(|e| self.syn(e))?;
            if cl as usize != self.body_span().len() {
                return Err(self.bad("Content-Length does not match the body length".into()));
            }
        }
        if let Some(ct) = self.content_type() {
            let mt = trim_lws(ct.split(';').next().unwrap_or_default());
            let ok = mt.split_once('/').is_some_and(|(t, s)| {
                is_token(trim_lws(t).as_bytes()) && is_token(trim_lws(s).as_bytes())
            });
            if !ok {
                return Err(self.bad("invalid Content-Type".into()));
            }
        }
        if let Some(d) = self.first_value(kind::DATE) {
            if !is_rfc1123_gmt(d) {
                return Err(self.bad("Date is not an RFC 1123 date in GMT".into()));
            }
        }
        for c in self.list_values(kind::CONTACT) {
            NameAddr::parse_contact_strict(c).map_err(|e| self.syn(e.in_header("Contact")))?;
        }
        for (k, n) in [(kind::ROUTE, "Route"), (kind::RECORD_ROUTE, "Record-Route")] {
            for r in self.list_values(k) {
                NameAddr::parse_strict(r).map_err(|e| self.syn(e.in_header(n)))?;
            }
        }
        Ok(())
    }

    fn validate_status_line(&self) -> Result<(), ParseError> {
        if !self.version().eq_ignore_ascii_case("SIP/2.0") {
            return Err(ParseError::new(
                None,
                "unsupported SIP version in response",
                0,
            ));
        }
        if !(100..=699).contains(&self.start.status) {
            return Err(ParseError::new(None, "status code out of range", 0));
        }
        Ok(())
    }

    fn validate_request_line(&self) -> Result<(), ParseError> {
        let st = &self.start;
        let v = self.version();
        if !v.eq_ignore_ascii_case("SIP/2.0") {
            return Err(if v.len() > 4 && v[..4].eq_ignore_ascii_case("SIP/") {
                ParseError::new(
                    Some(505),
                    "Version Not Supported",
                    st.version.start as usize,
                )
            } else {
                self.bad("invalid SIP-Version".into())
            });
        }
        if !is_token(st.method.get(self.bytes)) {
            return Err(self.bad("method is not a token".into()));
        }
        let after = &self.bytes[st.version.end as usize..];
        if st.uri.start != st.method.end + 1
            || st.version.start != st.uri.end + 1
            || !(after.starts_with(b"\r\n") || after.starts_with(b"\n"))
        {
            return Err(
                self.bad("Request-Line must be 'Method SP Request-URI SP SIP-Version'".into())
            );
        }
        let uri = self.request_uri_str().unwrap_or_default();
        if uri.bytes().any(|b| b == b'<' || b == b'>' || b <= b' ') {
            return Err(self.bad("Request-URI contains '<', '>' or whitespace".into()));
        }
        match Uri::parse_strict(uri).map_err(|e| self.syn(e.in_header("Request-URI")))? {
            Uri::Sip(u) if u.headers.is_some() => {
                Err(self.bad("SIP Request-URI must not contain headers".into()))
            }
            _ => Ok(()),
        }
    }
}

/// True if `s` is an RFC 1123 date in GMT: `Sat, 15 Oct 2005 04:44:56 GMT`.
pub fn is_rfc1123_gmt(s: &str) -> bool {
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = s.as_bytes();
    let d = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 29
        && DAYS.contains(&&b[0..3])
        && &b[3..5] == b", "
        && d(5..7)
        && b[7] == b' '
        && MONTHS.contains(&&b[8..11])
        && b[11] == b' '
        && d(12..16)
        && b[16] == b' '
        && d(17..19)
        && b[19] == b':'
        && d(20..22)
        && b[22] == b':'
        && d(23..25)
        && &b[25..29] == b" GMT"
        && parse_u32(&s[17..19]).is_some_and(|h| h < 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    fn check(msg: &str) -> Result<(), ParseError> {
        Message::parse(msg.as_bytes()).unwrap().validate()
    }

    #[test]
    fn valid_and_invalid() {
        assert_eq!(check(OK), Ok(()));
        let e = check(&OK.replace("Call-ID: x@y\r\n", "")).unwrap_err();
        assert_eq!(e.status, Some(400));
        assert!(e.reason.contains("Call-ID"), "{e}");
        let e = check(&OK.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia")).unwrap_err();
        assert_eq!(e.status, Some(505));
        assert!(check(&OK.replace("1 OPTIONS", "1 INVITE")).is_err());
        assert!(check(&OK.replace("OPTIONS sip", "OPTIONS  sip")).is_err());
        assert!(check(&OK.replace("Length: 0", "Length: 3")).is_err());
        assert!(check(&OK.replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nDate: Sat, 15 Oct 2005 04:44:56 GMT\r\n"
        ))
        .is_ok());
        assert!(check(&OK.replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nDate: Fri, 01 Jan 2010 16:00:00 EST\r\n"
        ))
        .is_err());
        let resp = OK.replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 200 OK");
        assert_eq!(check(&resp), Ok(()));
        assert_eq!(
            check(&resp.replace("200 OK", "700 Huh"))
                .unwrap_err()
                .status,
            None
        );
        let e = check(
            &OK.replace("OPTIONS sip:bob@example.com SIP/2.0", "SIP/2.0 200 OK")
                .replace("To: <sip:bob@example.com>\r\n", ""),
        )
        .unwrap_err();
        assert_eq!(e.status, None);
    }

    #[test]
    fn dates() {
        assert!(is_rfc1123_gmt("Sat, 15 Oct 2005 04:44:56 GMT"));
        assert!(!is_rfc1123_gmt("Sat, 15 Oct 2005 04:44:56 EST"));
        assert!(!is_rfc1123_gmt("Sat 15 Oct 2005 04:44:56 GMT"));
    }
}
