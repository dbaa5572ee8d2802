//! Standards side → Microsoft: no hold in an initial offer, SRTP the way Lync signals it.

use super::encryption::apply_policy;
use super::hold::take_off_hold;
use super::lines::Sdp;
use super::{MicrosoftOptions, Rewritten, SdpReject};

/// Rewrites a standards-based SDP for a Microsoft (Lync / Skype for Business) peer: takes an
/// initial offer off hold, and applies the Microsoft side's encryption policy to every active
/// audio/video stream (Lync-form `a=crypto`, `RTP/AVP`, `a=encryption:…`). Fails with
/// `NotAcceptable` when the two sides' SRTP demands cannot both be met.
pub fn to_microsoft(sdp: &[u8], opts: &MicrosoftOptions) -> Result<Rewritten, SdpReject> {
    let mut doc = Sdp::parse(sdp)?;
    let mut changes = Vec::new();
    if opts.initial_offer {
        take_off_hold(&mut doc, &mut changes);
    }
    for section in &mut doc.media {
        let audio_or_video = section.is_media("audio") || section.is_media("video");
        if audio_or_video && section.is_active() {
            apply_policy(section, opts.encryption, &mut changes)?;
        }
    }
    Ok(Rewritten {
        sdp: doc.to_bytes(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::samples::{
        assert_crlf_only, has_line, CISCO_SRTP_OFFER, HOLD_INITIAL_OFFER, LYNC_IM_OFFER,
    };
    use crate::sdp::Encryption;

    fn opts(encryption: Encryption, initial_offer: bool) -> MicrosoftOptions {
        MicrosoftOptions {
            encryption,
            initial_offer,
        }
    }

    fn rewrite(sdp: &str, options: MicrosoftOptions) -> (String, Vec<String>) {
        let out = to_microsoft(sdp.as_bytes(), &options).unwrap();
        (String::from_utf8(out.sdp).unwrap(), out.changes)
    }

    /// The Cisco offer as Lync should see it, with `policy` as the a=encryption value.
    fn cisco_for_lync(policy: &str) -> String {
        format!(
            "v=0\r\no=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.10.10.5\r\ns=SIP Call\r\nc=IN IP4 10.10.20.7\r\n\
b=TIAS:64000\r\nb=AS:64\r\nt=0 0\r\nm=audio 24580 RTP/AVP 0 8 101\r\nb=TIAS:64000\r\na=ptime:20\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n\
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31\r\n\
a=encryption:{policy}\r\na=sendrecv\r\n"
        )
    }

    #[test]
    fn cisco_srtp_offer_becomes_lync_optional_srtp() {
        let (out, changes) = rewrite(CISCO_SRTP_OFFER, opts(Encryption::Optional, true));
        assert_eq!(out, cisco_for_lync("optional"));
        assert_eq!(
            changes,
            vec![
                "removed a=crypto:1 AES_256_CM_HMAC_SHA1_80 from m=audio: the Microsoft side only \
                 supports AES_CM_128_HMAC_SHA1_80 with an inline key",
                "removed a=crypto:4 AES_CM_128_HMAC_SHA1_32 from m=audio: the Microsoft side only \
                 supports AES_CM_128_HMAC_SHA1_80 with an inline key",
                "rewrote a=crypto:2 in m=audio for Lync (removed MKI, dropped session parameters)",
                "rewrote a=crypto:3 in m=audio for Lync (added lifetime |2^31)",
                "changed m=audio proto RTP/SAVP to RTP/AVP: Lync signals SRTP on RTP/AVP with \
                 a=encryption ([MS-SDPEXT])",
                "added a=encryption:optional to m=audio: the Microsoft side's encryption policy",
            ]
        );
    }

    #[test]
    fn cisco_srtp_offer_becomes_lync_required_srtp() {
        let (out, _) = rewrite(CISCO_SRTP_OFFER, opts(Encryption::Required, false));
        assert_eq!(out, cisco_for_lync("required"));
    }

    #[test]
    fn cisco_srtp_offer_against_rejecting_lync_is_not_acceptable() {
        assert_eq!(
            to_microsoft(
                CISCO_SRTP_OFFER.as_bytes(),
                &opts(Encryption::Rejected, true)
            ),
            Err(SdpReject::NotAcceptable(
                "the standards side requires SRTP and the Microsoft side rejects encryption"
                    .to_owned()
            ))
        );
    }

    #[test]
    fn plain_rtp_offer_under_each_policy() {
        let plain = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\nm=video 0 RTP/AVP 96\r\n";
        assert_eq!(
            to_microsoft(plain.as_bytes(), &opts(Encryption::Required, true)),
            Err(SdpReject::NotAcceptable(
                "the Microsoft side requires encryption and the offer has no SRTP \
                 (a=crypto AES_CM_128_HMAC_SHA1_80)"
                    .to_owned()
            ))
        );
        let (out, _) = rewrite(plain, opts(Encryption::Rejected, true));
        assert_eq!(
            out,
            plain.replace(
                "a=rtpmap:0 PCMU/8000\r\n",
                "a=rtpmap:0 PCMU/8000\r\na=encryption:rejected\r\n"
            )
        );
        let (out, _) = rewrite(plain, opts(Encryption::Optional, true));
        assert!(has_line(&out, "a=encryption:optional"));
        // The disabled video stream is left alone.
        assert!(out.ends_with("m=video 0 RTP/AVP 96\r\n"));
    }

    #[test]
    fn only_other_suites_under_optional() {
        let aes256 = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n\
a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:bw1H9f+Sv0bXkHkU4RXXzw4d6Hf0SWn7lU6oV2u8eYr9WzQmA8XQkH4T6wXU3A==\r\n";
        let (out, changes) = rewrite(aes256, opts(Encryption::Optional, false));
        assert!(!out.contains("a=crypto"));
        assert!(has_line(&out, "a=encryption:optional"));
        assert!(changes[0].ends_with("; this stream goes unencrypted"));
        let savp = aes256.replace("RTP/AVP", "RTP/SAVP");
        assert!(matches!(
            to_microsoft(savp.as_bytes(), &opts(Encryption::Optional, false)),
            Err(SdpReject::NotAcceptable(text)) if text.contains("standards side requires SRTP")
        ));
        assert!(matches!(
            to_microsoft(aes256.as_bytes(), &opts(Encryption::Required, false)),
            Err(SdpReject::NotAcceptable(_))
        ));
    }

    #[test]
    fn initial_offer_is_taken_off_hold() {
        let (out, changes) = rewrite(HOLD_INITIAL_OFFER, opts(Encryption::Rejected, true));
        assert_crlf_only(&out);
        assert_eq!(
            out,
            "v=0\r\no=pbx 4711 4711 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=encryption:rejected\r\n"
        );
        assert!(changes.contains(
            &"removed a=sendonly from the session level: an initial offer to Lync must not be on \
              hold (sendrecv implied)"
                .to_owned()
        ));
        assert!(changes.contains(
            &"removed a=inactive from m=audio: an initial offer to Lync must not be on hold \
              (sendrecv implied)"
                .to_owned()
        ));
    }

    #[test]
    fn hold_in_a_re_invite_is_kept() {
        let (out, _) = rewrite(HOLD_INITIAL_OFFER, opts(Encryption::Rejected, false));
        assert!(has_line(&out, "a=sendonly"));
        assert!(has_line(&out, "a=inactive"));
        assert!(has_line(&out, "c=IN IP4 0.0.0.0"));
    }

    #[test]
    fn zero_origin_leaves_zero_connection_and_says_so() {
        let sdp = HOLD_INITIAL_OFFER.replace("IN IP4 203.0.113.9", "IN IP4 0.0.0.0");
        let (out, changes) = rewrite(&sdp, opts(Encryption::Rejected, true));
        assert!(has_line(&out, "c=IN IP4 0.0.0.0"));
        assert!(changes.contains(
            &"left c=IN IP4 0.0.0.0 at the session level: the o= line has no usable IPv4 address either"
                .to_owned()
        ));
    }

    #[test]
    fn im_session_passes_untouched_even_when_encryption_is_required() {
        let (out, changes) = rewrite(LYNC_IM_OFFER, opts(Encryption::Required, true));
        assert_eq!(out, LYNC_IM_OFFER);
        assert!(changes.is_empty());
    }
}
