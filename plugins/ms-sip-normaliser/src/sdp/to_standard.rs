//! Microsoft → standards side: drop what only Microsoft endpoints understand.

use super::crypto::Crypto;
use super::ice::{keep_rfc5245_ice, remove_all_ice};
use super::lines::{drop_lines, remove_lines, Line, MediaSection, Sdp};
use super::ms_attributes::remove_microsoft_attributes;
use super::ms_codecs::remove_microsoft_codecs;
use super::{Rewritten, SdpReject, StandardOptions};

/// Why an SDP with only disabled streams is refused.
const NO_MEDIA_LEFT: &str = "no media left after removing Microsoft-only streams and codecs";

/// Rewrites a Microsoft (Lync / Skype for Business) SDP for a standards-based peer: removes
/// Microsoft-only attributes and codecs, disables `m=applicationsharing`, removes ICE (or only
/// the Microsoft forms of it when `opts.target_ice`), prefers MKI-free SRTP keys and signals
/// `RTP/SAVP` when Lync marked encryption required. Fails with `NotAcceptable` when no stream
/// with a non-zero port is left.
pub fn to_standard(sdp: &[u8], opts: &StandardOptions) -> Result<Rewritten, SdpReject> {
    let mut doc = Sdp::parse(sdp)?;
    let mut changes = Vec::new();
    let session_required = encryption_required(&doc.session);
    remove_microsoft_attributes(&mut doc.session, "the session level", &mut changes);
    filter_ice(&mut doc.session, "the session level", opts, &mut changes);
    for section in &mut doc.media {
        if section.is_media("applicationsharing") {
            disable_application_sharing(section, &mut changes);
            continue;
        }
        let required = encryption_required(&section.lines).or(session_required) == Some(true);
        let scope = section.label();
        remove_microsoft_attributes(&mut section.lines, &scope, &mut changes);
        remove_microsoft_codecs(section, &mut changes);
        filter_ice(&mut section.lines, &scope, opts, &mut changes);
        prefer_keys_without_mki(section, &mut changes);
        if required {
            signal_mandatory_srtp(section, &mut changes);
        }
    }
    if !doc.media.iter().any(MediaSection::is_active) {
        return Err(SdpReject::NotAcceptable(NO_MEDIA_LEFT.to_owned()));
    }
    Ok(Rewritten {
        sdp: doc.to_bytes(),
        changes,
    })
}

/// Whether the first `a=encryption` among `lines` says `required` (case-insensitive);
/// `None` without an `a=encryption` line.
fn encryption_required(lines: &[Line<'_>]) -> Option<bool> {
    lines.iter().find_map(|line| {
        let attribute = line.attribute().filter(|a| a.is("encryption"))?;
        Some(
            attribute
                .value_or_empty()
                .trim()
                .eq_ignore_ascii_case("required"),
        )
    })
}

fn filter_ice(
    lines: &mut Vec<Line<'_>>,
    scope: &str,
    opts: &StandardOptions,
    changes: &mut Vec<String>,
) {
    if opts.target_ice {
        keep_rfc5245_ice(lines, scope, changes);
    } else {
        remove_all_ice(lines, scope, changes);
    }
}

/// `m=applicationsharing` (Microsoft desktop sharing): port 0, attribute lines removed.
fn disable_application_sharing(section: &mut MediaSection<'_>, changes: &mut Vec<String>) {
    if !section.is_active() {
        return;
    }
    section.set_port_zero();
    let removed = drop_lines(&mut section.lines, |line| line.bytes().starts_with(b"a="));
    changes.push(format!(
        "disabled m=applicationsharing (port 0, {removed} attribute lines removed): Microsoft \
         desktop sharing has no standard equivalent"
    ));
}

/// With several `a=crypto` lines, some with an MKI and some without: keep only those without.
fn prefer_keys_without_mki(section: &mut MediaSection<'_>, changes: &mut Vec<String>) {
    let (mut crypto_count, mut mki_count) = (0, 0);
    for crypto in section.lines.iter().filter_map(crypto_of) {
        crypto_count += 1;
        mki_count += usize::from(crypto.has_mki());
    }
    if mki_count == 0 || mki_count == crypto_count {
        return;
    }
    let removed = remove_lines(&mut section.lines, |line| {
        crypto_of(line).is_some_and(|crypto| crypto.has_mki())
    });
    let scope = section.label();
    for line in &removed {
        if let Some(crypto) = crypto_of(line) {
            changes.push(format!(
                "removed a=crypto:{} from {scope}: its key has an MKI and a key without MKI is also offered",
                crypto.tag
            ));
        }
    }
}

/// `a=encryption:required` + `a=crypto` on `RTP/AVP(F)`: say SRTP the standard way (`RTP/SAVP(F)`).
fn signal_mandatory_srtp(section: &mut MediaSection<'_>, changes: &mut Vec<String>) {
    if !section.lines.iter().any(|line| line.is_attribute("crypto")) {
        return;
    }
    let secure = if section.proto().eq_ignore_ascii_case("RTP/AVP") {
        "RTP/SAVP"
    } else if section.proto().eq_ignore_ascii_case("RTP/AVPF") {
        "RTP/SAVPF"
    } else {
        return;
    };
    let old = section.proto().to_owned();
    section.set_proto(secure);
    changes.push(format!(
        "changed {} proto {old} to {secure}: Lync marked SRTP required (a=encryption:required)",
        section.label()
    ));
}

fn crypto_of<'l>(line: &'l Line<'_>) -> Option<Crypto<'l>> {
    let attribute = line.attribute().filter(|a| a.is("crypto"))?;
    Crypto::parse(attribute.value_or_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::samples::{
        assert_crlf_only, assert_kept_in_order, has_line, lines_of, LYNC_2013_AUDIO_VIDEO_OFFER,
        LYNC_APPLICATION_SHARING_OFFER,
    };

    const NO_ICE: StandardOptions = StandardOptions { target_ice: false };
    const ICE: StandardOptions = StandardOptions { target_ice: true };

    fn rewrite(sdp: &str, opts: &StandardOptions) -> (String, Vec<String>) {
        let out = to_standard(sdp.as_bytes(), opts).unwrap();
        (String::from_utf8(out.sdp).unwrap(), out.changes)
    }

    #[test]
    fn lync_offer_loses_microsoft_attributes_and_keeps_the_rest_byte_exact() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &NO_ICE);
        assert_crlf_only(&out);
        for gone in [
            "a=x-devicecaps:",
            "a=x-ssrc-range:",
            "a=x-caps:",
            "a=x-source:",
            "a=x-mediabw:",
            "a=label:main-",
            "a=cryptoscale:",
            "a=encryption:",
            "a=rtcp-fb:* x-message",
        ] {
            assert!(!out.contains(gone), "{gone} should be gone:\n{out}");
        }
        for kept in [
            "v=0",
            "o=- 0 1 IN IP4 192.168.1.20",
            "s=session",
            "c=IN IP4 192.168.1.20",
            "b=CT:99980",
            "t=0 0",
            "a=rtcp-rsize",
            "a=maxptime:200",
            "a=rtcp:19853",
            "a=rtcp-fb:* nack",
            "a=x-vendor-unknown:keep me",
            "a=label:1",
            "a=ptime:20",
        ] {
            assert!(has_line(&out, kept), "{kept} should be kept:\n{out}");
        }
        assert_kept_in_order(LYNC_2013_AUDIO_VIDEO_OFFER, &out);
        assert!(changes.contains(
            &"removed a=x-ssrc-range from m=audio (Microsoft-only attribute)".to_owned()
        ));
        assert!(changes.contains(
            &"removed a=x-devicecaps from the session level (Microsoft-only attribute)".to_owned()
        ));
        assert!(changes.contains(
            &"removed a=x-caps from m=video (Microsoft-only attribute, 2 lines)".to_owned()
        ));
    }

    #[test]
    fn lync_offer_loses_microsoft_codecs_but_keeps_mono_g722() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &NO_ICE);
        assert!(has_line(
            &out,
            "m=audio 19852 RTP/AVP 104 9 112 0 103 8 116 97 13 118 101"
        ));
        for gone in [
            "a=rtpmap:117 ",
            "a=rtpmap:114 ",
            "a=fmtp:114 ",
            "a=rtpmap:111 ",
            "a=fmtp:111 ",
            "a=rtpmap:115 ",
            "a=fmtp:115 ",
        ] {
            assert!(!out.contains(gone), "{gone} should be gone:\n{out}");
        }
        assert!(has_line(&out, "a=rtpmap:9 G722/8000"));
        assert!(has_line(&out, "a=fmtp:104 useinbandfec=1; usedtx=0"));
        assert!(changes.contains(
            &"removed codec x-msrta/16000 (payload 114) from m=audio: Microsoft-only".to_owned()
        ));
        assert!(changes.contains(
            &"removed codec G722/8000/2 (payload 117) from m=audio: Microsoft-only".to_owned()
        ));
    }

    #[test]
    fn video_with_only_microsoft_codecs_gets_port_zero() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &NO_ICE);
        assert!(has_line(&out, "m=video 0 RTP/AVP 122"), "{out}");
        assert!(!out.contains("a=rtpmap:12"));
        assert!(!out.contains("a=fmtp:122"));
        assert!(!out.contains("a=rtcp-fb:122"));
        assert!(has_line(&out, "a=rtcp:2343"));
        assert!(changes
            .iter()
            .any(|c| c.starts_with("m=video has no codec left") && c.contains("port set to 0")));
    }

    #[test]
    fn without_target_ice_every_ice_line_goes() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &NO_ICE);
        for gone in [
            "a=candidate",
            "a=ice-",
            "a=x-candidate",
            "a=remote-candidates",
        ] {
            assert!(!out.contains(gone), "{gone} should be gone:\n{out}");
        }
        assert!(changes.iter().any(|c| c.starts_with(
            "removed ICE from m=audio (8 lines: a=ice-ufrag, a=ice-pwd, a=candidate)"
        )));
    }

    #[test]
    fn with_target_ice_only_rfc5245_udp_candidates_stay_byte_exact() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &ICE);
        let candidates: Vec<&str> = lines_of(&out)
            .filter(|line| line.starts_with("a=candidate") || line.starts_with("a=ice-"))
            .collect();
        assert_eq!(
            candidates,
            vec![
                "a=ice-ufrag:bTWd",
                "a=ice-pwd:mOLsLYXuPhrT3WZGMY3hmMHq",
                "a=candidate:1 1 UDP 2130706431 192.168.1.20 19852 typ host ",
                "a=candidate:1 2 UDP 2130705918 192.168.1.20 19853 typ host ",
                "a=ice-ufrag:Vd1q",
                "a=ice-pwd:tZtNlvS5yKbD5ZK9zLXq2n1Q",
                "a=candidate:1 1 UDP 2130706431 192.168.1.20 2342 typ host ",
            ]
        );
        assert!(changes.contains(
            &"removed 2 draft-6 ICE candidates from m=audio (Microsoft pre-RFC 5245 form)"
                .to_owned()
        ));
        assert!(changes.contains(
            &"removed 2 TCP-ACT/TCP-PASS ICE candidates from m=audio (Microsoft TCP candidates)"
                .to_owned()
        ));
    }

    #[test]
    fn crypto_with_mki_goes_when_a_key_without_mki_exists() {
        let (out, changes) = rewrite(LYNC_2013_AUDIO_VIDEO_OFFER, &NO_ICE);
        assert!(!out.contains("a=crypto:2 "));
        assert!(has_line(
            &out,
            "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:2Ip0MPPVdu7s5RZH/zvqVsSrfCr35A5qtHDy+1jk|2^31"
        ));
        // The video section has a single key (with MKI): it stays.
        assert!(has_line(
            &out,
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:9uVu6QJnBo9n0VNH3dpaQ5AE2lT4xS0bbLmGjwGZ|2^31|1:1"
        ));
        assert!(changes.contains(
            &"removed a=crypto:2 from m=audio: its key has an MKI and a key without MKI is also offered"
                .to_owned()
        ));
        // encryption:optional keeps RTP/AVP.
        assert!(!out.contains("RTP/SAVP"));
    }

    #[test]
    fn encryption_required_turns_rtp_avp_into_rtp_savp() {
        let required =
            LYNC_2013_AUDIO_VIDEO_OFFER.replace("a=encryption:optional", "a=encryption:required");
        let (out, changes) = rewrite(&required, &NO_ICE);
        assert!(has_line(
            &out,
            "m=audio 19852 RTP/SAVP 104 9 112 0 103 8 116 97 13 118 101"
        ));
        assert!(has_line(&out, "m=video 0 RTP/SAVP 122"));
        assert!(changes.contains(
            &"changed m=audio proto RTP/AVP to RTP/SAVP: Lync marked SRTP required (a=encryption:required)"
                .to_owned()
        ));
    }

    #[test]
    fn application_sharing_only_is_not_acceptable() {
        assert_eq!(
            to_standard(LYNC_APPLICATION_SHARING_OFFER.as_bytes(), &NO_ICE),
            Err(SdpReject::NotAcceptable(
                "no media left after removing Microsoft-only streams and codecs".to_owned()
            ))
        );
    }

    #[test]
    fn application_sharing_next_to_audio_is_disabled_and_audio_stays() {
        let sdp = "v=0\r\no=- 0 1 IN IP4 10.0.0.1\r\ns=session\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
m=applicationsharing 6000 TCP/RTP/AVP 127\r\na=setup:active\r\na=rtpmap:127 x-data/90000\r\n";
        let (out, changes) = rewrite(sdp, &NO_ICE);
        assert_eq!(
            out,
            "v=0\r\no=- 0 1 IN IP4 10.0.0.1\r\ns=session\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\nm=applicationsharing 0 TCP/RTP/AVP 127\r\n"
        );
        assert_eq!(
            changes,
            vec![
                "disabled m=applicationsharing (port 0, 2 attribute lines removed): Microsoft \
                  desktop sharing has no standard equivalent"
            ]
        );
    }

    #[test]
    fn standard_sdp_passes_unchanged_and_lf_input_comes_out_crlf() {
        let sdp = "v=0\no=bob 1 1 IN IP4 198.51.100.2\ns=-\nc=IN IP4 198.51.100.2\nt=0 0\n\
m=audio 7000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=sendrecv\n";
        let (out, changes) = rewrite(sdp, &NO_ICE);
        assert_eq!(out, sdp.replace('\n', "\r\n"));
        assert!(changes.is_empty());
    }

    #[test]
    fn malformed_sdp_is_reported() {
        assert!(matches!(
            to_standard(b"m=audio 1 RTP/AVP 0\r\n", &NO_ICE),
            Err(SdpReject::Malformed(_))
        ));
        assert!(matches!(
            to_standard(b"v=0\r\nm=audio RTP/AVP 0\r\n", &NO_ICE),
            Err(SdpReject::Malformed(_))
        ));
    }
}
