//! Thin layer over `sdp_types`: parse an SDP body, write it back.

use std::fmt;

pub use sdp_types::Session;

/// An SDP body could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdpError {
    /// One-line description from the SDP parser.
    pub message: String,
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid SDP: {}",
            self.message.replace(['\r', '\n'], " ")
        )
    }
}

impl std::error::Error for SdpError {}

/// Parses an SDP body.
pub fn parse_sdp(body: &[u8]) -> Result<Session, SdpError> {
    Session::parse(body).map_err(|e| SdpError {
        message: e.to_string(),
    })
}

/// Serialises a session (CRLF line endings, RFC 8866 field order).
pub fn write_sdp(session: &Session) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail.
    let _ = session.write(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LYNC: &str = "v=0\r\n\
o=- 0 1 IN IP4 192.0.2.10\r\n\
s=session\r\n\
c=IN IP4 192.0.2.10\r\n\
b=CT:99980\r\n\
t=0 0\r\n\
a=x-devicecaps:audio:send,recv;video:send,recv\r\n\
m=audio 50010 RTP/SAVP 117 104 9 0 8 101\r\n\
a=x-ssrc-range:4261548032-4261548032\r\n\
a=candidate:1 1 UDP 2130706431 192.0.2.10 50010 typ host \r\n\
a=candidate:3 1 TCP-ACT 1684798975 192.0.2.10 50010 typ srflx raddr 192.0.2.10 rport 50010 \r\n\
a=rtpmap:117 G722/8000/2\r\n\
a=rtpmap:104 SILK/16000\r\n\
a=rtpmap:9 G722/8000\r\n\
a=fmtp:101 0-16\r\n\
a=rtcp-mux\r\n\
m=applicationsharing 50020 TCP/RTP/AVP 127\r\n\
a=ice-ufrag:AbCd\r\n\
a=candidate:1 1 TCP-PASS 2120613887 192.0.2.10 50020 typ host \r\n\
a=x-applicationsharing-session-id:1\r\n\
a=rtpmap:127 x-data/90000\r\n";

    #[test]
    fn lync_round_trip() {
        let s = parse_sdp(LYNC.as_bytes()).unwrap();
        assert_eq!(s.medias.len(), 2);
        assert_eq!(s.medias[1].media, "applicationsharing");
        let out = write_sdp(&s);
        assert_eq!(String::from_utf8(out).unwrap(), LYNC);
    }

    #[test]
    fn error_is_one_line() {
        let e = parse_sdp(b"garbage").unwrap_err();
        assert!(!e.to_string().contains('\n'));
    }
}
