//! The plugin's config table: who speaks MS-SIP, what the standards side expects of numbers, and what
//! the Microsoft side needs (epid, default offer, encryption).

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;
use sip_interop_abi::sdk::ConfigError;

use crate::sdp::Encryption;

/// A peer by address, with the dialect it speaks.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Operator's name for it (shown by `explain`).
    pub name: String,
    /// `IP` (any port) or `IP:port`.
    pub address: String,
    /// `ms` or `standard`.
    pub dialect: String,
    /// Microsoft peers: `required`, `optional` or `rejected` (default: `[microsoft] encryption`).
    #[serde(default)]
    pub encryption: Option<String>,
    /// Standards peers: whether it speaks ICE (default: `[standard] ice`).
    #[serde(default)]
    pub ice: Option<bool>,
}

/// How the standards side expects phone numbers.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NumbersConfig {
    /// `e164` (`+14085551234`) or `no-plus` (the `+` replaced by `international_prefix`).
    #[serde(default = "default_number_format")]
    pub standard: String,
    /// Dialled before a country code on the standards side (`00`, `011`); used for `no-plus` and to
    /// recognise international numbers going to Microsoft.
    #[serde(default = "default_international_prefix")]
    pub international_prefix: String,
    /// Country code given to national numbers going to Microsoft (`1`, `49`); unset: national numbers
    /// pass as they are.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Trunk prefix dropped from a national number before the country code is added (`0`); unset:
    /// none.
    #[serde(default)]
    pub national_prefix: Option<String>,
}

fn default_number_format() -> String {
    "e164".into()
}
fn default_international_prefix() -> String {
    "00".into()
}

impl Default for NumbersConfig {
    fn default() -> Self {
        NumbersConfig {
            standard: default_number_format(),
            international_prefix: default_international_prefix(),
            country_code: None,
            national_prefix: None,
        }
    }
}

/// What the Microsoft side needs.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct MicrosoftConfig {
    /// Default SRTP policy of Microsoft peers: `required`, `optional` (default) or `rejected`.
    #[serde(default)]
    pub encryption: Option<String>,
    /// Seed of the `epid` given to standards-side identities (stable per identity and seed).
    #[serde(default)]
    pub epid_seed: Option<String>,
    /// SDP offer put into an INVITE that reaches Microsoft without one (delayed offer); unset: such an
    /// INVITE is answered 488 with a Warning that names this setting.
    #[serde(default)]
    pub default_offer: Option<String>,
    /// Answer the re-INVITE a Lync client sends after ICE checks locally when the standards side
    /// speaks no ICE (default true).
    #[serde(default)]
    pub answer_ice_reinvite: Option<bool>,
}

/// What the standards side speaks.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct StandardConfig {
    /// Whether standards peers speak ICE (default false: ICE lines are removed).
    #[serde(default)]
    pub ice: bool,
}

/// The config table.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Peers by address.
    #[serde(default)]
    pub peer: Vec<PeerConfig>,
    /// Domains on the Microsoft side: a request from the standards side to one of them goes to
    /// Microsoft.
    #[serde(default)]
    pub ms_domains: Vec<String>,
    /// TLS trusted pools whose peers are Microsoft pools (effective once the host verifies TLS peers
    /// into pools; until then no request carries a trusted pool).
    #[serde(default)]
    pub ms_trusted_pools: Vec<String>,
    /// Recognise Microsoft peers per message (User-Agent/Server, epid, ms-keep-alive); default true.
    #[serde(default)]
    pub detect: Option<bool>,
    /// Phone numbers.
    #[serde(default)]
    pub numbers: NumbersConfig,
    /// The Microsoft side.
    #[serde(default)]
    pub microsoft: MicrosoftConfig,
    /// The standards side.
    #[serde(default)]
    pub standard: StandardConfig,
    /// Most dialogs remembered (epid, last SDP towards Microsoft); default 100000.
    #[serde(default)]
    pub max_dialogs: Option<usize>,
    /// A dialog not seen for this long is forgotten, in seconds; default 43200 (12 h).
    #[serde(default)]
    pub dialog_idle_s: Option<u64>,
}

/// The dialect a peer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Microsoft Lync / Skype for Business.
    Microsoft,
    /// Standards-based SIP.
    Standard,
}

impl Side {
    /// `ms` or `standard`, as in the config and the scratchpad.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Microsoft => "ms",
            Side::Standard => "standard",
        }
    }
}

/// A configured peer, checked.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Operator's name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// Port (`None`: any).
    pub port: Option<u16>,
    /// Dialect.
    pub side: Side,
    /// SRTP policy (Microsoft peers).
    pub encryption: Encryption,
    /// Speaks ICE (standards peers).
    pub ice: bool,
}

impl Peer {
    /// Whether `ip`/`port` is this peer.
    pub fn matches(&self, ip: IpAddr, port: Option<u16>) -> bool {
        self.ip == ip && (self.port.is_none() || port.is_none() || self.port == port)
    }
}

/// Number handling, checked.
#[derive(Clone, Debug)]
pub struct Numbers {
    /// The standards side wants `+E.164` (else the `+` becomes `international_prefix`).
    pub standard_e164: bool,
    /// International prefix on the standards side.
    pub international_prefix: String,
    /// Country code for national numbers towards Microsoft.
    pub country_code: Option<String>,
    /// Trunk prefix of national numbers.
    pub national_prefix: Option<String>,
}

/// The config, checked and ready.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Peers by address.
    pub peers: Vec<Peer>,
    /// Microsoft-side domains, lower case.
    pub ms_domains: Vec<String>,
    /// Trusted pools that are Microsoft.
    pub ms_trusted_pools: Vec<String>,
    /// Per-message detection.
    pub detect: bool,
    /// Numbers.
    pub numbers: Numbers,
    /// Default Microsoft SRTP policy.
    pub ms_encryption: Encryption,
    /// epid seed.
    pub epid_seed: String,
    /// Default offer for delayed-offer INVITEs towards Microsoft.
    pub default_offer: Option<Vec<u8>>,
    /// Answer Lync's post-ICE re-INVITE locally.
    pub answer_ice_reinvite: bool,
    /// Standards side speaks ICE.
    pub standard_ice: bool,
    /// Dialog table bound.
    pub max_dialogs: usize,
    /// Dialog idle time.
    pub dialog_idle: std::time::Duration,
}

fn encryption(field: &str, v: &str) -> Result<Encryption, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "required" => Ok(Encryption::Required),
        "optional" | "supported" => Ok(Encryption::Optional),
        "rejected" | "none" => Ok(Encryption::Rejected),
        _ => Err(ConfigError::field(
            field,
            format!("`{v}` is not an encryption policy: use required, optional or rejected"),
        )),
    }
}

fn digits(field: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() || v.len() > 6 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::field(
            field,
            format!("`{v}` must be 1 to 6 digits"),
        ));
    }
    Ok(())
}

impl Settings {
    /// Check the config table.
    pub fn from_config(c: Config) -> Result<Settings, ConfigError> {
        let ms_encryption = match &c.microsoft.encryption {
            Some(v) => encryption("microsoft.encryption", v)?,
            None => Encryption::Optional,
        };
        let mut peers: Vec<Peer> = Vec::with_capacity(c.peer.len());
        for (i, p) in c.peer.iter().enumerate() {
            if p.name.trim().is_empty() || peers.iter().any(|q| q.name == p.name) {
                return Err(ConfigError::field(
                    format!("peer[{i}].name"),
                    format!(
                        "`{}`: every peer needs a name of its own (explain and the SRTP policy name peers by it)",
                        p.name
                    ),
                ));
            }
            let side = match p.dialect.to_ascii_lowercase().as_str() {
                "ms" | "microsoft" | "lync" | "sfb" => Side::Microsoft,
                "standard" | "std" | "sip" => Side::Standard,
                other => {
                    return Err(ConfigError::field(
                        format!("peer[{i}].dialect"),
                        format!("`{other}` is not a dialect: use \"ms\" or \"standard\""),
                    ))
                }
            };
            let (ip, port) = if let Ok(sa) = p.address.parse::<SocketAddr>() {
                (sa.ip(), Some(sa.port()))
            } else if let Ok(ip) = p.address.trim_matches(['[', ']']).parse::<IpAddr>() {
                (ip, None)
            } else {
                return Err(ConfigError::field(
                    format!("peer[{i}].address"),
                    format!(
                        "`{}` is not an IP address or IP:port (names are not resolved here: give the address the peer sends from)",
                        p.address
                    ),
                ));
            };
            let enc = match &p.encryption {
                Some(v) if side == Side::Microsoft => {
                    encryption(&format!("peer[{i}].encryption"), v)?
                }
                Some(_) => return Err(ConfigError::field(
                    format!("peer[{i}].encryption"),
                    "encryption is a Microsoft peer's policy: this peer is dialect \"standard\"",
                )),
                None => ms_encryption,
            };
            if p.ice.is_some() && side == Side::Microsoft {
                return Err(ConfigError::field(
                    format!("peer[{i}].ice"),
                    "Microsoft peers always speak ICE: `ice` is for standards peers",
                ));
            }
            peers.push(Peer {
                name: p.name.clone(),
                ip,
                port,
                side,
                encryption: enc,
                ice: p.ice.unwrap_or(c.standard.ice),
            });
        }
        let n = &c.numbers;
        let standard_e164 = match n.standard.as_str() {
            "e164" | "e.164" | "+e164" => true,
            "no-plus" | "noplus" => false,
            other => {
                return Err(ConfigError::field(
                    "numbers.standard",
                    format!("`{other}` is not a number format: use \"e164\" or \"no-plus\""),
                ))
            }
        };
        digits("numbers.international_prefix", &n.international_prefix)?;
        if let Some(cc) = &n.country_code {
            digits("numbers.country_code", cc)?;
        }
        if let Some(np) = &n.national_prefix {
            digits("numbers.national_prefix", np)?;
        }
        let default_offer = match &c.microsoft.default_offer {
            Some(s) => {
                let t = s.trim();
                if !t.starts_with("v=0") || !t.contains("\nm=") {
                    return Err(ConfigError::field(
                        "microsoft.default_offer",
                        "not an SDP offer: it must start with v=0 and have at least one m= line",
                    ));
                }
                let mut out = String::with_capacity(t.len() + 32);
                for line in t.lines() {
                    out.push_str(line.trim_end());
                    out.push_str("\r\n");
                }
                Some(out.into_bytes())
            }
            None => None,
        };
        for (i, d) in c.ms_domains.iter().enumerate() {
            if d.is_empty() || d.contains(['@', ':', ' ', '/']) {
                return Err(ConfigError::field(
                    format!("ms_domains[{i}]"),
                    format!("`{d}` is not a domain name"),
                ));
            }
        }
        if c.max_dialogs == Some(0) {
            return Err(ConfigError::field(
                "max_dialogs",
                "0 would remember no call: give at least 1 (default 100000)",
            ));
        }
        if c.dialog_idle_s == Some(0) {
            return Err(ConfigError::field(
                "dialog_idle_s",
                "0 would forget every call at once: give seconds, at least 1 (default 43200)",
            ));
        }
        Ok(Settings {
            peers,
            ms_domains: c
                .ms_domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            ms_trusted_pools: c.ms_trusted_pools.clone(),
            detect: c.detect.unwrap_or(true),
            numbers: Numbers {
                standard_e164,
                international_prefix: n.international_prefix.clone(),
                country_code: n.country_code.clone(),
                national_prefix: n.national_prefix.clone(),
            },
            ms_encryption,
            epid_seed: c
                .microsoft
                .epid_seed
                .clone()
                .unwrap_or_else(|| "sip-interop".into()),
            default_offer,
            answer_ice_reinvite: c.microsoft.answer_ice_reinvite.unwrap_or(true),
            standard_ice: c.standard.ice,
            max_dialogs: c.max_dialogs.unwrap_or(100_000).max(1),
            dialog_idle: std::time::Duration::from_secs(c.dialog_idle_s.unwrap_or(43_200).max(1)),
        })
    }

    /// The configured peer at `ip`/`port`.
    pub fn peer_at(&self, ip: IpAddr, port: Option<u16>) -> Option<&Peer> {
        self.peers.iter().find(|p| p.matches(ip, port))
    }

    /// Whether `host` is a Microsoft-side domain (or a subdomain of one).
    pub fn is_ms_domain(&self, host: &str) -> bool {
        let h = host.trim_end_matches('.');
        self.ms_domains.iter().any(|d| {
            h.eq_ignore_ascii_case(d)
                || (h.len() > d.len()
                    && h.as_bytes()[h.len() - d.len() - 1] == b'.'
                    && h[h.len() - d.len()..].eq_ignore_ascii_case(d))
        })
    }
}
