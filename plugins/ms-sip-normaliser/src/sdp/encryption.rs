//! SRTP for the Microsoft side ([MS-SDPEXT]): Lync signals SDES-SRTP on `RTP/AVP` with
//! `a=encryption:required|optional|rejected` and only uses AES_CM_128_HMAC_SHA1_80.

use super::crypto::{Crypto, LYNC_SUITE};
use super::lines::{drop_lines, remove_lines, Line, MediaSection};
use super::{Encryption, SdpReject};

/// Refusal when the Microsoft side requires SRTP and a stream offers none it can use.
const NO_USABLE_SRTP: &str = "the Microsoft side requires encryption and the offer has no SRTP \
                              (a=crypto AES_CM_128_HMAC_SHA1_80)";

/// Refusal when the standards side insists on SRTP and the Microsoft side will not do it.
const SRTP_REJECTED: &str =
    "the standards side requires SRTP and the Microsoft side rejects encryption";

/// Applies the Microsoft side's encryption policy to one active audio/video section.
pub fn apply_policy(
    section: &mut MediaSection<'_>,
    policy: Encryption,
    changes: &mut Vec<String>,
) -> Result<(), SdpReject> {
    match policy {
        Encryption::Rejected => reject_srtp(section, changes),
        Encryption::Required | Encryption::Optional => offer_lync_srtp(section, policy, changes),
    }
}

fn is_srtp_proto(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/SAVP") || proto.eq_ignore_ascii_case("RTP/SAVPF")
}

fn crypto_of<'l>(line: &'l Line<'_>) -> Option<Crypto<'l>> {
    let attribute = line.attribute().filter(|a| a.is("crypto"))?;
    Crypto::parse(attribute.value_or_empty())
}

/// A crypto line Lync can use: the _80 suite with a readable inline key.
fn is_usable(line: &Line<'_>) -> bool {
    crypto_of(line).is_some_and(|crypto| crypto.is_lync_suite() && crypto.first_key().is_some())
}

fn reject_srtp(section: &mut MediaSection<'_>, changes: &mut Vec<String>) -> Result<(), SdpReject> {
    if is_srtp_proto(section.proto()) {
        return Err(SdpReject::NotAcceptable(SRTP_REJECTED.to_owned()));
    }
    let removed = drop_lines(&mut section.lines, |line| line.is_attribute("crypto"));
    if removed > 0 {
        changes.push(format!(
            "removed {removed} a=crypto lines from {}: the Microsoft side rejects encryption",
            section.label()
        ));
    }
    set_encryption_attribute(section, "rejected", changes);
    Ok(())
}

fn offer_lync_srtp(
    section: &mut MediaSection<'_>,
    policy: Encryption,
    changes: &mut Vec<String>,
) -> Result<(), SdpReject> {
    let scope = section.label();
    let usable = section.lines.iter().filter(|line| is_usable(line)).count();
    if usable == 0 {
        if policy == Encryption::Required {
            return Err(SdpReject::NotAcceptable(NO_USABLE_SRTP.to_owned()));
        }
        if is_srtp_proto(section.proto()) {
            return Err(SdpReject::NotAcceptable(format!(
                "the standards side requires SRTP and {scope} has no {LYNC_SUITE} key, the only \
                 suite the Microsoft side supports"
            )));
        }
    }
    let removed = remove_lines(&mut section.lines, |line| {
        line.is_attribute("crypto") && !is_usable(line)
    });
    for line in &removed {
        let text = String::from_utf8_lossy(line.bytes());
        let what = text.strip_prefix("a=").unwrap_or(&text);
        let outcome = if usable == 0 {
            "; this stream goes unencrypted"
        } else {
            ""
        };
        // The first two space-separated fields (`crypto:<tag> <suite>`).
        let fields = what
            .match_indices(' ')
            .nth(1)
            .map_or(what, |(end, _)| &what[..end]);
        changes.push(format!(
            "removed a={fields} from {scope}: the Microsoft side only supports {LYNC_SUITE} with an inline key{outcome}"
        ));
    }
    rewrite_keys_for_lync(section, changes);
    if is_srtp_proto(section.proto()) {
        let old = section.proto().to_owned();
        section.set_proto("RTP/AVP");
        changes.push(format!(
            "changed {scope} proto {old} to RTP/AVP: Lync signals SRTP on RTP/AVP with a=encryption ([MS-SDPEXT])"
        ));
    }
    let value = if policy == Encryption::Required {
        "required"
    } else {
        "optional"
    };
    set_encryption_attribute(section, value, changes);
    Ok(())
}

/// Writes each usable crypto line in Lync's form (lifetime added, MKI and session params dropped).
fn rewrite_keys_for_lync(section: &mut MediaSection<'_>, changes: &mut Vec<String>) {
    let scope = section.label();
    for line in section.lines.iter_mut() {
        let Some(crypto) = crypto_of(line) else {
            continue;
        };
        let Some((rewritten, what)) = crypto.lync_form() else {
            continue;
        };
        if rewritten.as_bytes() == line.bytes() {
            continue;
        }
        let what = if what.is_empty() {
            "normalised".to_owned()
        } else {
            what.join(", ")
        };
        changes.push(format!(
            "rewrote a=crypto:{} in {scope} for Lync ({what})",
            crypto.tag
        ));
        *line = Line::Rewritten(rewritten);
    }
}

/// Makes the section say `a=encryption:<value>`: replaces a different one, or adds one after
/// the last `a=crypto` line (or at the end of the section).
fn set_encryption_attribute(
    section: &mut MediaSection<'_>,
    value: &str,
    changes: &mut Vec<String>,
) {
    let scope = section.label();
    let wanted = format!("a=encryption:{value}");
    let existing = section
        .lines
        .iter()
        .position(|line| line.is_attribute("encryption"));
    if let Some(index) = existing {
        let line = &mut section.lines[index];
        let current = line
            .attribute()
            .map(|a| a.value_or_empty().trim())
            .unwrap_or_default();
        if !current.eq_ignore_ascii_case(value) {
            changes.push(format!(
                "changed a=encryption:{current} to {wanted} in {scope}"
            ));
            *line = Line::Rewritten(wanted);
        }
        return;
    }
    let after_last_crypto = section
        .lines
        .iter()
        .rposition(|line| line.is_attribute("crypto"))
        .map_or(section.lines.len(), |index| index + 1);
    changes.push(format!(
        "added {wanted} to {scope}: the Microsoft side's encryption policy"
    ));
    section
        .lines
        .insert(after_last_crypto, Line::Rewritten(wanted));
}
