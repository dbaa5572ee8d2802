//! CSeq header values.

use super::error::SyntaxError;
use super::method::Method;
use super::tokens::{is_lws, parse_u32, trim_lws};

/// `CSeq: <seq> <method>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number (must fit 32 bits).
    pub seq: u32,
    /// Method token.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value; LWS (including folds) between the parts is allowed.
    pub fn parse(s: &'a str) -> Result<CSeq<'a>, SyntaxError> {
        const E: &str = "CSeq";
        let s = trim_lws(s);
        let n = s
            .bytes()
            .position(is_lws)
            .ok_or(SyntaxError::new(E, "missing method"))?;
        let seq = parse_u32(&s[..n]).ok_or(SyntaxError::new(
            E,
            "sequence number is not a 32-bit decimal",
        ))?;
        let method = Method::parse(trim_lws(&s[n..])).map_err(|e| e.in_header(E))?;
        Ok(CSeq { seq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        assert_eq!(
            CSeq::parse("0009\r\n  INVITE").unwrap(),
            CSeq {
                seq: 9,
                method: Method::Invite
            }
        );
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("x INVITE").is_err());
        assert_eq!(
            CSeq::parse("4294967295 FOO").unwrap().method,
            Method::Extension("FOO")
        );
    }
}
