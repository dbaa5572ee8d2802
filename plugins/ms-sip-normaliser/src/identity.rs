//! Identities across the boundary: phone numbers in the form each side expects (`+E.164` with
//! `user=phone` for Microsoft; `+E.164` or the international prefix for the standards side), `tel:`
//! identities as SIP URIs, and the Microsoft endpoint id (`epid`, [MS-SIPRE] §2.2.4).

use crate::config::Numbers;

/// A phone number user part: `+` and digits, or digits only (at least 7: shorter ones are
/// extensions and pass as they are). Visual separators (`-`, `.`, `(`, `)`) are not numbers here.
pub fn is_number(user: &str) -> bool {
    let digits = user.strip_prefix('+').unwrap_or(user);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (user.starts_with('+') || digits.len() >= 7)
}

/// The number as the standards side expects it, or `None` when it is already so.
pub fn number_to_standard(user: &str, n: &Numbers) -> Option<String> {
    let rest = user.strip_prefix('+')?;
    if n.standard_e164 {
        return None;
    }
    Some(format!("{}{rest}", n.international_prefix))
}

/// The number as `+E.164` for Microsoft, or `None` when it is already so or cannot be known.
pub fn number_to_microsoft(user: &str, n: &Numbers) -> Option<String> {
    if user.starts_with('+') || !is_number(user) {
        return None;
    }
    if let Some(rest) = user.strip_prefix(n.international_prefix.as_str()) {
        if rest.len() >= 7 {
            return Some(format!("+{rest}"));
        }
    }
    let cc = n.country_code.as_deref()?;
    let national = match n.national_prefix.as_deref() {
        Some(p) => user.strip_prefix(p).unwrap_or(user),
        None => user,
    };
    Some(format!("+{cc}{national}"))
}

/// A stable endpoint id for a standards-side identity: 10 hex digits from the seed and the address
/// of record, the same on every host with the same seed (so in-dialog requests match).
pub fn epid_for(seed: &str, aor: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed
        .bytes()
        .chain([0])
        .chain(aor.bytes().map(|b| b.to_ascii_lowercase()))
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:010x}", h & 0xff_ffff_ffff)
}

/// Where the URI sits in a name-addr header value: `(start, end)` byte offsets.
pub fn uri_span(value: &str) -> Option<(usize, usize)> {
    if let Some(open) = value.find('<') {
        let close = open + value[open..].find('>')?;
        return Some((open + 1, close));
    }
    // addr-spec: up to the first ';' (header parameters follow) or the end.
    let start = value.len() - value.trim_start().len();
    let end = value[start..]
        .find([';', ' ', ','])
        .map_or(value.len(), |i| start + i);
    Some((start, end))
}

/// The header parameters region of a name-addr value (after `>`, or after the addr-spec).
fn params_start(value: &str) -> Option<usize> {
    uri_span(value).map(|(_, end)| {
        if value[end..].starts_with('>') {
            end + 1
        } else {
            end
        }
    })
}

/// Remove a header parameter (`;epid=…`) from a name-addr value; returns the new value and the
/// parameter's value, or `None` when it has none.
pub fn take_header_param(value: &str, name: &str) -> Option<(String, String)> {
    let start = params_start(value)?;
    let region = &value[start..];
    let mut pos = 0;
    while let Some(i) = region[pos..].find(';') {
        let at = pos + i;
        let rest = &region[at + 1..];
        let end = rest.find(';').map_or(rest.len(), |j| j);
        let param = rest[..end].trim();
        let (pname, pval) = param.split_once('=').unwrap_or((param, ""));
        if pname.trim().eq_ignore_ascii_case(name) {
            let mut out = String::with_capacity(value.len());
            out.push_str(&value[..start + at]);
            out.push_str(&region[at + 1 + end..]);
            return Some((out, pval.trim().to_string()));
        }
        pos = at + 1;
    }
    None
}

/// Add `;name=value` to a name-addr value's header parameters.
pub fn add_header_param(value: &str, name: &str, val: &str) -> String {
    let mut v = value.to_string();
    if !v.contains('<') {
        // An addr-spec with header parameters after it would change meaning: bracket it first.
        if let Some((s, e)) = uri_span(value) {
            v = format!("{}<{}>{}", &value[..s], &value[s..e], &value[e..]);
        }
    }
    format!("{v};{name}={val}")
}

/// A SIP URI's user part and the rest: `sip:USER@host;params` → (prefix `sip:`, user, `@host…`).
pub fn split_user(uri: &str) -> Option<(&str, &str, &str)> {
    let colon = uri.find(':')?;
    let scheme = &uri[..colon];
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return None;
    }
    let rest = &uri[colon + 1..];
    let at = rest.find('@')?;
    let user = &rest[..at];
    // user;params (RFC 3261 allows ;par in the user part for telephone-subscriber): keep them aside.
    let user_only = user.split(';').next().unwrap_or(user);
    Some((
        &uri[..colon + 1],
        user_only,
        &uri[colon + 1 + user_only.len()..],
    ))
}

/// Whether a SIP URI carries `user=phone`.
pub fn has_user_phone(uri: &str) -> bool {
    uri.split(['?'])
        .next()
        .unwrap_or(uri)
        .split(';')
        .skip(1)
        .any(|p| p.trim().eq_ignore_ascii_case("user=phone"))
}

/// A phone SIP URI rewritten for the standards side, or `None` when unchanged.
pub fn uri_to_standard(uri: &str, n: &Numbers) -> Option<String> {
    let (scheme, user, rest) = split_user(uri)?;
    if !(has_user_phone(uri) || is_number(user)) {
        return None;
    }
    let new = number_to_standard(user, n)?;
    Some(format!("{scheme}{new}{rest}"))
}

/// A phone SIP URI rewritten for Microsoft: `+E.164` and `user=phone`; `None` when unchanged.
pub fn uri_to_microsoft(uri: &str, n: &Numbers) -> Option<String> {
    let (scheme, user, rest) = split_user(uri)?;
    if !(has_user_phone(uri) || is_number(user)) {
        return None;
    }
    let number = number_to_microsoft(user, n);
    let phone = has_user_phone(uri);
    if number.is_none() && phone {
        return None;
    }
    let user = number.as_deref().unwrap_or(user);
    if !user.starts_with('+') {
        // Not a number we can make E.164: leave it alone rather than mislabel it.
        return None;
    }
    let mut out = format!("{scheme}{user}{rest}");
    if !phone {
        // user=phone goes with the URI parameters, before any ?headers.
        match out.find('?') {
            Some(q) => out.insert_str(q, ";user=phone"),
            None => out.push_str(";user=phone"),
        }
    }
    Some(out)
}

/// A `tel:` URI as a SIP phone URI at `host`, the number in the standards side's form.
pub fn tel_to_sip(tel: &str, host: &str, n: &Numbers) -> Option<String> {
    let rest = tel
        .strip_prefix("tel:")
        .or_else(|| tel.strip_prefix("TEL:"))?;
    let number: String = rest
        .split(';')
        .next()
        .unwrap_or(rest)
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    if !is_number(&number) {
        return None;
    }
    let number = number_to_standard(&number, n).unwrap_or(number);
    Some(format!("sip:{number}@{host};user=phone"))
}

/// Rewrite the URI inside a name-addr value with `f`; `None` when `f` changes nothing.
pub fn rewrite_uri_in(value: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let (s, e) = uri_span(value)?;
    let new = f(&value[s..e])?;
    let mut out = String::with_capacity(value.len() + 16);
    out.push_str(&value[..s]);
    if value[..s].ends_with('<') {
        out.push_str(&new);
        out.push_str(&value[e..]);
    } else {
        // addr-spec: a URI with ;user=phone must be bracketed or the parameter reads as a header's.
        out.push('<');
        out.push_str(&new);
        out.push('>');
        out.push_str(&value[e..]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(e164: bool) -> Numbers {
        Numbers {
            standard_e164: e164,
            international_prefix: "00".into(),
            country_code: Some("49".into()),
            national_prefix: Some("0".into()),
        }
    }

    #[test]
    fn numbers_towards_microsoft_become_e164_with_user_phone() {
        let n = numbers(true);
        assert_eq!(
            uri_to_microsoft("sip:004930123456@lync.example.com", &n).as_deref(),
            Some("sip:+4930123456@lync.example.com;user=phone")
        );
        assert_eq!(
            uri_to_microsoft("sip:030123456@lync.example.com;user=phone", &n).as_deref(),
            Some("sip:+4930123456@lync.example.com;user=phone")
        );
        assert_eq!(
            uri_to_microsoft("sip:+4930123456@lync.example.com", &n).as_deref(),
            Some("sip:+4930123456@lync.example.com;user=phone")
        );
        assert_eq!(uri_to_microsoft("sip:+4930123456@x;user=phone", &n), None);
        assert_eq!(uri_to_microsoft("sip:alice@lync.example.com", &n), None);
        assert_eq!(
            uri_to_microsoft("sip:1234@lync.example.com", &n),
            None,
            "extension"
        );
        let no_cc = Numbers {
            country_code: None,
            ..numbers(true)
        };
        assert_eq!(
            uri_to_microsoft("sip:030123456@x", &no_cc),
            None,
            "unknown country"
        );
    }

    #[test]
    fn numbers_towards_the_standards_side_follow_its_format() {
        assert_eq!(
            uri_to_standard("sip:+4930123456@x;user=phone", &numbers(true)),
            None
        );
        assert_eq!(
            uri_to_standard("sip:+4930123456@x;user=phone", &numbers(false)).as_deref(),
            Some("sip:004930123456@x;user=phone")
        );
        assert_eq!(
            tel_to_sip("tel:+1-408-555-0100", "lync.example.com", &numbers(true)).as_deref(),
            Some("sip:+14085550100@lync.example.com;user=phone")
        );
        assert_eq!(
            tel_to_sip("tel:911;phone-context=x", "h", &numbers(true)),
            None
        );
    }

    #[test]
    fn epid_is_stable_per_identity_and_seed() {
        let a = epid_for("seed", "sip:bob@example.net");
        assert_eq!(a.len(), 10);
        assert_eq!(a, epid_for("seed", "SIP:Bob@Example.NET"));
        assert_ne!(a, epid_for("other", "sip:bob@example.net"));
        assert_ne!(a, epid_for("seed", "sip:carol@example.net"));
    }

    #[test]
    fn header_parameters_are_taken_and_added_outside_the_uri() {
        let v = "\"Alice\" <sip:alice@lync.example.com;opaque=x>;tag=9a;epid=01ab23cd45";
        let (out, epid) = take_header_param(v, "epid").unwrap();
        assert_eq!(
            out,
            "\"Alice\" <sip:alice@lync.example.com;opaque=x>;tag=9a"
        );
        assert_eq!(epid, "01ab23cd45");
        assert_eq!(take_header_param(&out, "epid"), None);
        assert_eq!(
            take_header_param("<sip:a@b;epid=1>", "epid"),
            None,
            "a URI parameter is not a header parameter"
        );
        assert_eq!(
            add_header_param("sip:bob@example.net;tag=1", "epid", "ff"),
            "<sip:bob@example.net>;tag=1;epid=ff"
        );
        assert_eq!(
            rewrite_uri_in("sip:004930123456@x;tag=1", |u| uri_to_microsoft(
                u,
                &numbers(true)
            ))
            .as_deref(),
            Some("<sip:+4930123456@x;user=phone>;tag=1")
        );
    }
}
