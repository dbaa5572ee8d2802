//! Quick questions about an SDP, answered by scanning its lines (no full parse, never fails).
//!
//! Lines are looked at as bytes first; only a line that can answer the question is checked
//! for UTF-8 (a line that is not UTF-8 never counts).

use memchr::memchr;

use super::lines::{media_and_proto, split_lines};

/// The name of an `a=<name>[:<value>]` line, as bytes.
fn attribute_name(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"a=")?;
    Some(memchr(b':', rest).map_or(rest, |colon| &rest[..colon]))
}

/// Whether `line` is an `a=<name>` line (name compared case-insensitively) that is UTF-8.
fn is_attribute(line: &[u8], name: &str) -> bool {
    attribute_name(line).is_some_and(|found| found.eq_ignore_ascii_case(name.as_bytes()))
        && std::str::from_utf8(line).is_ok()
}

/// The media type and proto of a well-formed `m=` line.
fn m_line(line: &[u8]) -> Option<(&str, &str)> {
    if !line.starts_with(b"m=") {
        return None;
    }
    std::str::from_utf8(line).ok().and_then(media_and_proto)
}

/// Whether `text` ends with `suffix` (ASCII case-insensitive).
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// An IM-session offer: an `m=message <port> sip null` line (Lync IM INVITE, [MS-SIPRE]).
pub fn is_im_session(sdp: &[u8]) -> bool {
    split_lines(sdp).filter_map(m_line).any(|(media, proto)| {
        media.eq_ignore_ascii_case("message") && proto.eq_ignore_ascii_case("sip")
    })
}

/// An ICE update after connectivity checks: an offer carrying `a=remote-candidates`
/// (RFC 5245 §9.1.2.2) or MS `a=x-candidate`-only updates; used to answer Lync's post-check
/// re-INVITE locally.
pub fn is_ice_update(sdp: &[u8]) -> bool {
    let (mut candidate, mut x_candidate) = (false, false);
    for line in split_lines(sdp) {
        if is_attribute(line, "remote-candidates") {
            return true;
        }
        candidate = candidate || is_attribute(line, "candidate");
        x_candidate = x_candidate || is_attribute(line, "x-candidate");
    }
    x_candidate && !candidate
}

/// Whether the SDP offers SRTP (any a=crypto line, or an RTP/SAVP / RTP/SAVPF proto).
pub fn offers_srtp(sdp: &[u8]) -> bool {
    split_lines(sdp).any(|line| {
        is_attribute(line, "crypto")
            || m_line(line).is_some_and(|(_, proto)| {
                ends_with_ignore_case(proto, "RTP/SAVP")
                    || ends_with_ignore_case(proto, "RTP/SAVPF")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::samples::{
        CISCO_SRTP_OFFER, ICE_UPDATE_OFFER, LYNC_2013_AUDIO_VIDEO_OFFER, LYNC_IM_OFFER,
    };

    #[test]
    fn im_session_is_m_message_sip() {
        assert!(is_im_session(LYNC_IM_OFFER.as_bytes()));
        assert!(!is_im_session(LYNC_2013_AUDIO_VIDEO_OFFER.as_bytes()));
        assert!(!is_im_session(b"v=0\r\nm=message 5060 TCP/MSRP *\r\n"));
    }

    #[test]
    fn ice_update_needs_remote_candidates_or_x_candidate_only() {
        assert!(is_ice_update(ICE_UPDATE_OFFER.as_bytes()));
        assert!(!is_ice_update(LYNC_2013_AUDIO_VIDEO_OFFER.as_bytes()));
        assert!(is_ice_update(
            b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=x-candidate:abc 1 def UDP 0.9 10.0.0.1 1\r\n"
        ));
        assert!(!is_ice_update(LYNC_IM_OFFER.as_bytes()));
    }

    #[test]
    fn srtp_is_a_crypto_line_or_a_savp_proto() {
        assert!(offers_srtp(CISCO_SRTP_OFFER.as_bytes()));
        assert!(offers_srtp(LYNC_2013_AUDIO_VIDEO_OFFER.as_bytes()));
        assert!(offers_srtp(b"v=0\nm=audio 1 RTP/SAVPF 0\n"));
        assert!(!offers_srtp(ICE_UPDATE_OFFER.as_bytes()));
        assert!(!offers_srtp(LYNC_IM_OFFER.as_bytes()));
    }
}
