//! Well-known header kinds, compact forms and case-insensitive name lookup.
//!
//! Kinds are plain `u16` numbers (not a Rust enum) because they cross a plugin
//! ABI: a peer built against a newer table may send values this build does not
//! know, which simply behave like [`kind::OTHER`].

macro_rules! header_kinds {
    ($($id:ident = $n:literal => $name:literal),* $(,)?) => {
        /// Header kind numbers. `OTHER` (0) is any header not in the table.
        pub mod kind {
            /// Any header without a well-known kind.
            pub const OTHER: u16 = 0;
            $(
                #[doc = concat!("The `", $name, "` header.")]
                pub const $id: u16 = $n;
            )*
        }

        /// Namespace struct mirroring [`kind`] as associated constants
        /// (`HeaderKind::VIA == kind::VIA`).
        pub struct HeaderKind;

        impl HeaderKind {
            /// Any header without a well-known kind.
            pub const OTHER: u16 = 0;
            $(
                #[doc = concat!("The `", $name, "` header.")]
                pub const $id: u16 = $n;
            )*
        }

        /// Canonical names indexed by `kind - 1`.
        const NAMES: &[&str] = &[$($name),*];
    };
}

header_kinds! {
    VIA = 1 => "Via",
    FROM = 2 => "From",
    TO = 3 => "To",
    CALL_ID = 4 => "Call-ID",
    CSEQ = 5 => "CSeq",
    MAX_FORWARDS = 6 => "Max-Forwards",
    ROUTE = 7 => "Route",
    RECORD_ROUTE = 8 => "Record-Route",
    CONTACT = 9 => "Contact",
    CONTENT_TYPE = 10 => "Content-Type",
    CONTENT_LENGTH = 11 => "Content-Length",
    REQUIRE = 12 => "Require",
    SUPPORTED = 13 => "Supported",
    PROXY_REQUIRE = 14 => "Proxy-Require",
    ALLOW = 15 => "Allow",
    USER_AGENT = 16 => "User-Agent",
    SERVER = 17 => "Server",
    DATE = 18 => "Date",
    EXPIRES = 19 => "Expires",
    P_ASSERTED_IDENTITY = 20 => "P-Asserted-Identity",
    CONTENT_ENCODING = 21 => "Content-Encoding",
    SUBJECT = 22 => "Subject",
    EVENT = 23 => "Event",
    REFER_TO = 24 => "Refer-To",
    REFERRED_BY = 25 => "Referred-By",
    ALLOW_EVENTS = 26 => "Allow-Events",
    SESSION_EXPIRES = 27 => "Session-Expires",
    ACCEPT_CONTACT = 28 => "Accept-Contact",
    REJECT_CONTACT = 29 => "Reject-Contact",
    REQUEST_DISPOSITION = 30 => "Request-Disposition",
    IDENTITY = 31 => "Identity",
    IDENTITY_INFO = 32 => "Identity-Info",
    UNSUPPORTED = 33 => "Unsupported",
    AUTHORIZATION = 34 => "Authorization",
    PROXY_AUTHORIZATION = 35 => "Proxy-Authorization",
    WWW_AUTHENTICATE = 36 => "WWW-Authenticate",
    PROXY_AUTHENTICATE = 37 => "Proxy-Authenticate",
    RETRY_AFTER = 38 => "Retry-After",
    REASON = 39 => "Reason",
    WARNING = 40 => "Warning",
    ACCEPT = 41 => "Accept",
    ACCEPT_ENCODING = 42 => "Accept-Encoding",
    ACCEPT_LANGUAGE = 43 => "Accept-Language",
    ALERT_INFO = 44 => "Alert-Info",
    CALL_INFO = 45 => "Call-Info",
    CONTENT_DISPOSITION = 46 => "Content-Disposition",
    CONTENT_LANGUAGE = 47 => "Content-Language",
    ERROR_INFO = 48 => "Error-Info",
    IN_REPLY_TO = 49 => "In-Reply-To",
    MIME_VERSION = 50 => "MIME-Version",
    MIN_EXPIRES = 51 => "Min-Expires",
    ORGANIZATION = 52 => "Organization",
    PRIORITY = 53 => "Priority",
    REPLY_TO = 54 => "Reply-To",
    TIMESTAMP = 55 => "Timestamp",
    AUTHENTICATION_INFO = 56 => "Authentication-Info",
    RSEQ = 57 => "RSeq",
    RACK = 58 => "RAck",
    PATH = 59 => "Path",
    SERVICE_ROUTE = 60 => "Service-Route",
    PRIVACY = 61 => "Privacy",
    P_PREFERRED_IDENTITY = 62 => "P-Preferred-Identity",
    MIN_SE = 63 => "Min-SE",
    REPLACES = 64 => "Replaces",
    SIP_ETAG = 65 => "SIP-ETag",
    SIP_IF_MATCH = 66 => "SIP-If-Match",
    CONTENT_TRANSFER_ENCODING = 67 => "Content-Transfer-Encoding",
}

use kind::*;

/// Highest kind number known to this build.
pub const MAX_KIND: u16 = NAMES.len() as u16;

/// Canonical spelling of a well-known kind (`None` for `OTHER` and unknown numbers).
pub fn canonical_name(kind: u16) -> Option<&'static str> {
    NAMES.get((kind as usize).wrapping_sub(1)).copied()
}

/// Maps a compact-form letter (RFC 3261 §7.3.3 and extensions) to its kind.
pub fn compact_kind(c: u8) -> u16 {
    match c | 0x20 {
        b'i' => CALL_ID,
        b'm' => CONTACT,
        b'e' => CONTENT_ENCODING,
        b'l' => CONTENT_LENGTH,
        b'c' => CONTENT_TYPE,
        b'f' => FROM,
        b's' => SUBJECT,
        b'k' => SUPPORTED,
        b't' => TO,
        b'v' => VIA,
        b'o' => EVENT,
        b'r' => REFER_TO,
        b'b' => REFERRED_BY,
        b'u' => ALLOW_EVENTS,
        b'x' => SESSION_EXPIRES,
        b'y' => IDENTITY,
        b'a' => ACCEPT_CONTACT,
        b'j' => REJECT_CONTACT,
        b'd' => REQUEST_DISPOSITION,
        b'n' => IDENTITY_INFO,
        _ => OTHER,
    }
}

/// Kind of a header name: case-insensitive, compact forms map to their long kind.
/// Unknown names give [`kind::OTHER`].
pub fn header_kind(name: &[u8]) -> u16 {
    let cands: &[(&[u8], u16)] = match name.len() {
        1 => return compact_kind(name[0]),
        2 => &[(b"To", TO)],
        3 => &[(b"Via", VIA)],
        4 => &[
            (b"From", FROM),
            (b"CSeq", CSEQ),
            (b"Date", DATE),
            (b"RSeq", RSEQ),
            (b"RAck", RACK),
            (b"Path", PATH),
        ],
        5 => &[(b"Route", ROUTE), (b"Allow", ALLOW), (b"Event", EVENT)],
        6 => &[
            (b"Server", SERVER),
            (b"Reason", REASON),
            (b"Accept", ACCEPT),
            (b"Min-SE", MIN_SE),
        ],
        7 => &[
            (b"Call-ID", CALL_ID),
            (b"Contact", CONTACT),
            (b"Require", REQUIRE),
            (b"Expires", EXPIRES),
            (b"Subject", SUBJECT),
            (b"Warning", WARNING),
            (b"Privacy", PRIVACY),
        ],
        8 => &[
            (b"Refer-To", REFER_TO),
            (b"Identity", IDENTITY),
            (b"Priority", PRIORITY),
            (b"Reply-To", REPLY_TO),
            (b"Replaces", REPLACES),
            (b"SIP-ETag", SIP_ETAG),
        ],
        9 => &[
            (b"Supported", SUPPORTED),
            (b"Call-Info", CALL_INFO),
            (b"Timestamp", TIMESTAMP),
        ],
        10 => &[
            (b"User-Agent", USER_AGENT),
            (b"Alert-Info", ALERT_INFO),
            (b"Error-Info", ERROR_INFO),
        ],
        11 => &[
            (b"Referred-By", REFERRED_BY),
            (b"Unsupported", UNSUPPORTED),
            (b"Retry-After", RETRY_AFTER),
            (b"In-Reply-To", IN_REPLY_TO),
            (b"Min-Expires", MIN_EXPIRES),
        ],
        12 => &[
            (b"Max-Forwards", MAX_FORWARDS),
            (b"Content-Type", CONTENT_TYPE),
            (b"Record-Route", RECORD_ROUTE),
            (b"Allow-Events", ALLOW_EVENTS),
            (b"MIME-Version", MIME_VERSION),
            (b"Organization", ORGANIZATION),
            (b"SIP-If-Match", SIP_IF_MATCH),
        ],
        13 => &[
            (b"Proxy-Require", PROXY_REQUIRE),
            (b"Identity-Info", IDENTITY_INFO),
            (b"Authorization", AUTHORIZATION),
            (b"Service-Route", SERVICE_ROUTE),
        ],
        14 => &[
            (b"Content-Length", CONTENT_LENGTH),
            (b"Accept-Contact", ACCEPT_CONTACT),
            (b"Reject-Contact", REJECT_CONTACT),
        ],
        15 => &[
            (b"Session-Expires", SESSION_EXPIRES),
            (b"Accept-Encoding", ACCEPT_ENCODING),
            (b"Accept-Language", ACCEPT_LANGUAGE),
        ],
        16 => &[
            (b"Content-Encoding", CONTENT_ENCODING),
            (b"WWW-Authenticate", WWW_AUTHENTICATE),
            (b"Content-Language", CONTENT_LANGUAGE),
        ],
        18 => &[(b"Proxy-Authenticate", PROXY_AUTHENTICATE)],
        19 => &[
            (b"P-Asserted-Identity", P_ASSERTED_IDENTITY),
            (b"Request-Disposition", REQUEST_DISPOSITION),
            (b"Proxy-Authorization", PROXY_AUTHORIZATION),
            (b"Content-Disposition", CONTENT_DISPOSITION),
            (b"Authentication-Info", AUTHENTICATION_INFO),
        ],
        20 => &[(b"P-Preferred-Identity", P_PREFERRED_IDENTITY)],
        25 => &[(b"Content-Transfer-Encoding", CONTENT_TRANSFER_ENCODING)],
        _ => return OTHER,
    };
    // Most peers write canonical names: an exact match is a plain memcmp.
    for (n, k) in cands {
        if *n == name {
            return *k;
        }
    }
    let first = name[0] | 0x20;
    for (n, k) in cands {
        if n[0] | 0x20 == first && n.eq_ignore_ascii_case(name) {
            return *k;
        }
    }
    OTHER
}

/// True if a header line named `name` (with kind `kind`) matches the lookup
/// target `target_name` whose kind is `target_kind`.
#[inline]
pub fn name_matches(name: &[u8], kind: u16, target_name: &[u8], target_kind: u16) -> bool {
    if target_kind != OTHER {
        kind == target_kind
    } else {
        name.eq_ignore_ascii_case(target_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_name_round_trips() {
        for k in 1..=MAX_KIND {
            let n = canonical_name(k).unwrap();
            assert_eq!(header_kind(n.as_bytes()), k, "{n}");
            assert_eq!(header_kind(n.to_ascii_lowercase().as_bytes()), k, "{n}");
            assert_eq!(header_kind(n.to_ascii_uppercase().as_bytes()), k, "{n}");
        }
        assert_eq!(canonical_name(0), None);
        assert_eq!(canonical_name(60000), None);
        assert_eq!(HeaderKind::VIA, kind::VIA);
    }

    #[test]
    fn compact_forms() {
        let pairs = [
            ("i", CALL_ID),
            ("m", CONTACT),
            ("e", CONTENT_ENCODING),
            ("l", CONTENT_LENGTH),
            ("c", CONTENT_TYPE),
            ("f", FROM),
            ("s", SUBJECT),
            ("k", SUPPORTED),
            ("t", TO),
            ("v", VIA),
            ("o", EVENT),
            ("r", REFER_TO),
            ("b", REFERRED_BY),
            ("u", ALLOW_EVENTS),
            ("x", SESSION_EXPIRES),
            ("y", IDENTITY),
            ("a", ACCEPT_CONTACT),
            ("j", REJECT_CONTACT),
            ("d", REQUEST_DISPOSITION),
            ("n", IDENTITY_INFO),
        ];
        for (c, k) in pairs {
            assert_eq!(header_kind(c.as_bytes()), k);
            assert_eq!(header_kind(c.to_ascii_uppercase().as_bytes()), k);
        }
        assert_eq!(header_kind(b"z"), OTHER);
        assert_eq!(header_kind(b"X-Custom"), OTHER);
        assert_eq!(header_kind(b"C%6Fntact"), OTHER);
        assert_eq!(header_kind(b"cSeQ"), CSEQ);
    }
}
