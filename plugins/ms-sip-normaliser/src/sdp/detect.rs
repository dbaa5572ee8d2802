//! Quick questions about an SDP, answered by scanning its lines (no full parse, never fails).

use super::lines::{split_lines, Attribute, MediaFields};

fn texts(sdp: &[u8]) -> impl Iterator<Item = &str> {
    split_lines(sdp).filter_map(|line| std::str::from_utf8(line).ok())
}

/// An IM-session offer: an `m=message <port> sip null` line (Lync IM INVITE, [MS-SIPRE]).
pub fn is_im_session(sdp: &[u8]) -> bool {
    texts(sdp).filter_map(MediaFields::parse).any(|fields| {
        fields.media.eq_ignore_ascii_case("message") && fields.proto.eq_ignore_ascii_case("sip")
    })
}

/// An ICE update after connectivity checks: an offer carrying `a=remote-candidates`
/// (RFC 5245 §9.1.2.2) or MS `a=x-candidate`-only updates; used to answer Lync's post-check
/// re-INVITE locally.
pub fn is_ice_update(sdp: &[u8]) -> bool {
    let (mut candidate, mut x_candidate) = (false, false);
    for attribute in texts(sdp).filter_map(Attribute::parse) {
        if attribute.is("remote-candidates") {
            return true;
        }
        candidate |= attribute.is("candidate");
        x_candidate |= attribute.is("x-candidate");
    }
    x_candidate && !candidate
}

/// Whether the SDP offers SRTP (any a=crypto line, or an RTP/SAVP / RTP/SAVPF proto).
pub fn offers_srtp(sdp: &[u8]) -> bool {
    texts(sdp).any(|text| {
        Attribute::parse(text).is_some_and(|attribute| attribute.is("crypto"))
            || MediaFields::parse(text).is_some_and(|fields| {
                let proto = fields.proto.to_ascii_uppercase();
                proto.ends_with("RTP/SAVP") || proto.ends_with("RTP/SAVPF")
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
