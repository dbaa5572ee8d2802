//! Who speaks MS-SIP: a configured peer by address, else the signs a Microsoft endpoint or server
//! leaves on every message ([MS-SIPRE] §2.2: the `epid` parameter, `opaque=user:epid` GRUU Contacts,
//! `ms-keep-alive`; Microsoft's User-Agent/Server product tokens).

use sip_interop_abi::sip::{kind, Message, NameAddr};

/// Product tokens Microsoft clients and servers put in User-Agent / Server.
const PRODUCT_TOKENS: &[&str] = &["UCCAPI/", "OC/", "RTC/", "RTCC/", "MediationServer"];

/// Why a message looks like MS-SIP, or `None` when it shows no sign of it.
pub fn microsoft_sign(m: &Message<'_>) -> Option<String> {
    for k in [kind::USER_AGENT, kind::SERVER] {
        if let Some(v) = m.first_value(k) {
            if let Some(t) = PRODUCT_TOKENS.iter().find(|t| contains_token(v, t)) {
                let name = if k == kind::USER_AGENT {
                    "User-Agent"
                } else {
                    "Server"
                };
                return Some(format!(
                    "{name} has the Microsoft product token {}",
                    t.trim_end_matches('/')
                ));
            }
        }
    }
    for (k, name) in [(kind::FROM, "From"), (kind::TO, "To")] {
        if let Some(Ok(na)) = m.first_value(k).map(NameAddr::parse) {
            if na.param("epid").is_some() {
                return Some(format!("{name} carries an epid parameter"));
            }
        }
    }
    for c in m.contacts().flatten() {
        if c.param("epid").is_some() || c.uri_str.contains("opaque=user:epid") {
            return Some("Contact is a Microsoft GRUU (opaque=user:epid)".into());
        }
    }
    if m.header("ms-keep-alive").is_some() {
        return Some("ms-keep-alive header".into());
    }
    None
}

fn contains_token(value: &str, token: &str) -> bool {
    // "OC/" must not match "MOC/" inside another product: require a boundary before it.
    let mut from = 0;
    while let Some(i) = value[from..].find(token) {
        let at = from + i;
        if at == 0 || !value.as_bytes()[at - 1].is_ascii_alphanumeric() {
            return true;
        }
        from = at + token.len();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(extra: &str) -> Vec<u8> {
        format!("INVITE sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.net>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n").into_bytes()
    }

    #[test]
    fn microsoft_product_tokens_and_parameters_are_signs() {
        for (extra, why) in [
            (
                "User-Agent: UCCAPI/16.0.13328.20130 OC/16.0.13328.20130 (Skype for Business)\r\n",
                "UCCAPI",
            ),
            ("Server: RTCC/6.0.0.0 MediationServer\r\n", "RTCC"),
            (
                "Contact: <sip:alice@example.com;opaque=user:epid:AbCd;gruu>\r\n",
                "GRUU",
            ),
            ("ms-keep-alive: UAC;hop-hop=yes\r\n", "ms-keep-alive"),
        ] {
            let b = msg(extra);
            let m = Message::parse(&b).unwrap();
            let sign = microsoft_sign(&m).unwrap_or_default();
            assert!(sign.contains(why), "{extra} → {sign}");
        }
        let b = msg("").replace_from();
        let m = Message::parse(&b).unwrap();
        assert!(microsoft_sign(&m).unwrap().contains("epid"));
    }

    #[test]
    fn standard_messages_show_no_sign() {
        for extra in [
            "User-Agent: Cisco-CUCM12.5\r\n",
            "User-Agent: PolycomVVX-VVX_411-UA/6.3.1\r\n",
            "Server: MOC/2.0 lookalike\r\n",
            "",
        ] {
            let b = msg(extra);
            let m = Message::parse(&b).unwrap();
            assert_eq!(microsoft_sign(&m), None, "{extra}");
        }
    }

    trait ReplaceFrom {
        fn replace_from(self) -> Vec<u8>;
    }
    impl ReplaceFrom for Vec<u8> {
        fn replace_from(self) -> Vec<u8> {
            String::from_utf8(self)
                .unwrap()
                .replace(";tag=1", ";tag=1;epid=01010101")
                .into_bytes()
        }
    }
}
