//! From a next-hop URI to what must be looked up (RFC 3263 §4): an IP literal needs no DNS; a name
//! becomes a [`Query`] for the resolver thread.

use std::net::{IpAddr, SocketAddr};

use sip_interop_abi::sip::{Host, Uri};

use crate::transport::{Destination, Transport};

/// Why no destination could be found; the branch fails with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// Status the branch ends with (416 scheme, 400 syntax, 503 transport or resolution).
    pub status: u16,
    /// One line for the log and the Warning header.
    pub why: String,
}

pub(crate) fn no_route(status: u16, why: impl Into<String>) -> NoRoute {
    NoRoute {
        status,
        why: why.into(),
    }
}

/// A name to resolve per RFC 3263.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The host (or `maddr`) to look up.
    pub name: String,
    /// Port from the URI; `None` lets SRV decide (else 5060/5061).
    pub port: Option<u16>,
    /// Transport from the URI or the plugin; `None` lets NAPTR/SRV decide.
    pub transport: Option<Transport>,
    /// A `sips:` URI (TLS only).
    pub secure: bool,
}

/// What a next hop needs before the request can go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// An IP literal: send now.
    Ready(Destination),
    /// A name: ask DNS.
    Lookup(Query),
}

/// Transports this build can send on.
pub fn available(t: Transport) -> bool {
    matches!(t, Transport::Udp | Transport::Tcp)
}

/// Plan the next hop `uri`, sent with `preferred` transport (`Any` = as the URI says).
pub fn plan(uri: &str, preferred: Transport) -> Result<Plan, NoRoute> {
    let parsed = Uri::parse(uri).map_err(|e| no_route(400, format!("next hop {uri}: {e}")))?;
    let Uri::Sip(sip) = parsed else {
        return Err(no_route(
            416,
            format!("next hop {uri} is not a sip: or sips: URI"),
        ));
    };
    let transport = match preferred {
        Transport::Any => match sip
            .param("transport")
            .flatten()
            .map(|t| t.to_ascii_lowercase())
        {
            Some(t) => Some(
                Transport::parse(&t)
                    .filter(|t| *t != Transport::Any)
                    .ok_or_else(|| {
                        no_route(
                            503,
                            format!("next hop {uri}: transport {t} is not available"),
                        )
                    })?,
            ),
            None => None,
        },
        t => Some(t),
    };
    let secure_only = sip.secure || transport == Some(Transport::Tls);
    if let Some(t) = transport.filter(|t| !available(*t)) {
        return Err(no_route(
            503,
            format!(
                "next hop {uri}: {} is not available in this build",
                t.as_str()
            ),
        ));
    }
    if sip.secure && transport.is_none() {
        return Err(no_route(
            503,
            format!("next hop {uri}: sips: needs TLS, which is not available in this build"),
        ));
    }
    let maddr = sip.param("maddr").flatten();
    let literal: Option<IpAddr> = match (maddr, sip.host) {
        (Some(m), _) => m.trim_matches(['[', ']']).parse().ok(),
        (None, Host::Ipv4(a)) => Some(a.into()),
        (None, Host::Ipv6(a)) => Some(a.into()),
        (None, Host::Domain(d)) => d.parse().ok(),
    };
    let default_port = if secure_only { 5061 } else { 5060 };
    match literal {
        // RFC 3263 §4.1: an IP literal without transport goes over UDP (TLS for sips).
        Some(ip) => Ok(Plan::Ready(Destination {
            transport: transport.unwrap_or(Transport::Udp),
            addr: SocketAddr::new(ip, sip.port.unwrap_or(default_port)),
            connection: None,
        })),
        None => Ok(Plan::Lookup(Query {
            name: maddr
                .map(str::to_string)
                .unwrap_or_else(|| sip.host_text.to_string())
                .trim_end_matches('.')
                .to_ascii_lowercase(),
            port: sip.port,
            transport,
            secure: sip.secure,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(uri: &str, t: Transport) -> (Transport, String) {
        match plan(uri, t).unwrap() {
            Plan::Ready(d) => (d.transport, d.addr.to_string()),
            other => panic!("{uri}: {other:?}"),
        }
    }

    #[test]
    fn literals_need_no_dns() {
        assert_eq!(
            ready("sip:bob@192.0.2.20", Transport::Any),
            (Transport::Udp, "192.0.2.20:5060".into())
        );
        assert_eq!(
            ready("sip:bob@192.0.2.20:5070;transport=TCP", Transport::Any),
            (Transport::Tcp, "192.0.2.20:5070".into())
        );
        assert_eq!(
            ready("sip:[2001:db8::1]:5080", Transport::Tcp),
            (Transport::Tcp, "[2001:db8::1]:5080".into())
        );
        assert_eq!(
            ready("sip:x@example.invalid;maddr=192.0.2.9", Transport::Any).1,
            "192.0.2.9:5060"
        );
    }

    #[test]
    fn names_become_queries_with_what_the_uri_fixes() {
        assert_eq!(
            plan("sip:bob@Pool.Example.COM.", Transport::Any).unwrap(),
            Plan::Lookup(Query {
                name: "pool.example.com".into(),
                port: None,
                transport: None,
                secure: false
            })
        );
        assert_eq!(
            plan("sip:gw.example.com:5070;transport=tcp", Transport::Any).unwrap(),
            Plan::Lookup(Query {
                name: "gw.example.com".into(),
                port: Some(5070),
                transport: Some(Transport::Tcp),
                secure: false
            })
        );
    }

    #[test]
    fn what_cannot_be_routed_says_why() {
        assert_eq!(
            plan("tel:+15551234", Transport::Any).unwrap_err().status,
            416
        );
        assert_eq!(
            plan("sips:bob@192.0.2.1", Transport::Any)
                .unwrap_err()
                .status,
            503
        );
        let e = plan("sip:bob@192.0.2.1;transport=sctp", Transport::Any).unwrap_err();
        assert!(e.why.contains("sctp"), "{}", e.why);
    }
}
