//! Reading `a=crypto` values (RFC 4568 SDES): `<tag> <suite> <key-params> [<session-params>]`,
//! key-param `inline:<key>[|<lifetime>][|<mki>:<length>]`.

/// The only SRTP suite Lync / Skype for Business negotiates.
pub const LYNC_SUITE: &str = "AES_CM_128_HMAC_SHA1_80";

/// Lifetime Lync writes, added when a key has none.
const LYNC_LIFETIME: &str = "2^31";

/// One `a=crypto` value, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crypto<'l> {
    /// Tag (`1`, `2`, …).
    pub tag: &'l str,
    /// Crypto suite, e.g. `AES_CM_128_HMAC_SHA1_80`.
    pub suite: &'l str,
    /// Key parameters, `;`-separated.
    pub key_params: &'l str,
    /// Whether session parameters follow the key parameters.
    pub has_session_params: bool,
}

/// One `inline:` key parameter, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyParam<'l> {
    /// The base64 key and salt.
    pub key: &'l str,
    /// Lifetime, e.g. `2^31`, when given.
    pub lifetime: Option<&'l str>,
    /// `mki:length`, when given.
    pub mki: Option<&'l str>,
}

impl<'l> KeyParam<'l> {
    /// Reads `inline:<key>[|<lifetime>][|<mki>:<length>]`.
    pub fn parse(param: &'l str) -> Option<Self> {
        let method = param.get(..7)?;
        if !method.eq_ignore_ascii_case("inline:") {
            return None;
        }
        let mut parts = param[7..].split('|');
        let key = parts.next().filter(|key| !key.is_empty())?;
        let mut lifetime = None;
        let mut mki = None;
        for part in parts {
            if part.contains(':') {
                mki = Some(part);
            } else {
                lifetime = Some(part);
            }
        }
        Some(Self { key, lifetime, mki })
    }
}

impl<'l> Crypto<'l> {
    /// Reads an `a=crypto` value.
    pub fn parse(value: &'l str) -> Option<Self> {
        let mut fields = value.split_ascii_whitespace();
        let tag = fields.next()?;
        let suite = fields.next()?;
        let key_params = fields.next()?;
        Some(Self {
            tag,
            suite,
            key_params,
            has_session_params: fields.next().is_some(),
        })
    }

    /// Whether any key parameter carries an MKI (`|n:m`).
    pub fn has_mki(&self) -> bool {
        self.key_params
            .split(';')
            .filter_map(KeyParam::parse)
            .any(|param| param.mki.is_some())
    }

    /// Whether the suite is the one Lync supports.
    pub fn is_lync_suite(&self) -> bool {
        self.suite.eq_ignore_ascii_case(LYNC_SUITE)
    }

    /// The first key parameter, when it is a readable `inline:` key.
    pub fn first_key(&self) -> Option<KeyParam<'l>> {
        self.key_params.split(';').next().and_then(KeyParam::parse)
    }

    /// The line as Lync wants it: `a=crypto:<tag> AES_CM_128_HMAC_SHA1_80 inline:<key>|<lifetime>`
    /// (lifetime `2^31` when missing, MKI, extra keys and session parameters dropped), with
    /// what was changed in operator words; `None` when the key cannot be read.
    pub fn lync_form(&self) -> Option<(String, Vec<&'static str>)> {
        let key = self.first_key()?;
        let mut what = Vec::new();
        if key.lifetime.is_none() {
            what.push("added lifetime |2^31");
        }
        if key.mki.is_some() {
            what.push("removed MKI");
        }
        if self.key_params.contains(';') {
            what.push("kept only the first key");
        }
        if self.has_session_params {
            what.push("dropped session parameters");
        }
        let line = format!(
            "a=crypto:{} {} inline:{}|{}",
            self.tag,
            LYNC_SUITE,
            key.key,
            key.lifetime.unwrap_or(LYNC_LIFETIME)
        );
        Some((line, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mki_is_a_part_with_a_colon() {
        let with_mki = Crypto::parse("2 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31|1:1").unwrap();
        let without = Crypto::parse("3 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31").unwrap();
        let bare = Crypto::parse("3 AES_CM_128_HMAC_SHA1_80 inline:KEY").unwrap();
        assert!(with_mki.has_mki());
        assert!(!without.has_mki());
        assert!(!bare.has_mki());
    }

    #[test]
    fn lync_form_adds_lifetime_and_drops_mki_and_session_params() {
        let crypto =
            Crypto::parse("7 AES_CM_128_HMAC_SHA1_80 inline:abc+/def==|1:4 KDR=1 WSH=64").unwrap();
        let (line, what) = crypto.lync_form().unwrap();
        assert_eq!(
            line,
            "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:abc+/def==|2^31"
        );
        assert_eq!(
            what,
            vec![
                "added lifetime |2^31",
                "removed MKI",
                "dropped session parameters"
            ]
        );
        let kept = Crypto::parse("1 AES_CM_128_HMAC_SHA1_80 inline:abc|2^20").unwrap();
        assert_eq!(
            kept.lync_form().unwrap(),
            (
                "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc|2^20".to_owned(),
                vec![]
            )
        );
        assert!(Crypto::parse("1 AES_CM_128_HMAC_SHA1_80 nokey")
            .unwrap()
            .lync_form()
            .is_none());
    }
}
