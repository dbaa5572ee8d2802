//! Where a request goes next: the URI of the next hop (first Route, else the target) resolved to a
//! transport and an address (RFC 3263 in part: IP literals, then A/AAAA through the system resolver).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use sip_interop_abi::sdk::Transport;
use sip_interop_abi::sip::{Host, Uri};

use crate::transport::Destination;

/// Why no destination could be found; the proxy answers with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// Status to answer (416 scheme, 400 syntax, 404/503 resolution).
    pub status: u16,
    /// One line for the log and the Warning header.
    pub why: String,
}

fn no_route(status: u16, why: impl Into<String>) -> NoRoute {
    NoRoute {
        status,
        why: why.into(),
    }
}

/// Resolve `uri` (a next-hop URI) with `preferred` transport (from a plugin's target; `Any` = as the
/// URI says, UDP by default).
pub fn resolve(uri: &str, preferred: Transport) -> Result<Destination, NoRoute> {
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
            Some(t) if t == "tcp" => Transport::Tcp,
            Some(t) if t == "tls" => Transport::Tls,
            Some(t) if t == "udp" => Transport::Udp,
            Some(t) => {
                return Err(no_route(
                    503,
                    format!("next hop {uri}: transport {t} is not available"),
                ))
            }
            None if sip.secure => Transport::Tls,
            None => Transport::Udp,
        },
        t => t,
    };
    if matches!(transport, Transport::Tls | Transport::Ws | Transport::Wss) {
        return Err(no_route(
            503,
            format!(
                "next hop {uri}: {} is not available in this build",
                transport.as_str()
            ),
        ));
    }
    let port = sip.port.unwrap_or(if sip.secure { 5061 } else { 5060 });
    let host = sip.param("maddr").flatten().map(|m| m.to_string());
    let ip: IpAddr = match (&host, sip.host) {
        (Some(maddr), _) => {
            resolve_name(maddr, port).map_err(|e| no_route(503, format!("next hop {uri}: {e}")))?
        }
        (None, Host::Ipv4(a)) => a.into(),
        (None, Host::Ipv6(a)) => a.into(),
        (None, Host::Domain(d)) => {
            resolve_name(d, port).map_err(|e| no_route(503, format!("next hop {uri}: {e}")))?
        }
    };
    Ok(Destination {
        transport,
        addr: SocketAddr::new(ip, port),
        connection: None,
    })
}

fn resolve_name(name: &str, port: u16) -> Result<IpAddr, String> {
    if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(ip);
    }
    (name, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {name}: {e}"))?
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| format!("{name} has no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_ports_and_transports() {
        let d = resolve("sip:bob@192.0.2.20", Transport::Any).unwrap();
        assert_eq!(
            (d.transport, d.addr.to_string()),
            (Transport::Udp, "192.0.2.20:5060".into())
        );
        let d = resolve("sip:bob@192.0.2.20:5070;transport=TCP", Transport::Any).unwrap();
        assert_eq!(
            (d.transport, d.addr.to_string()),
            (Transport::Tcp, "192.0.2.20:5070".into())
        );
        let d = resolve("sip:[2001:db8::1]:5080", Transport::Tcp).unwrap();
        assert_eq!(
            (d.transport, d.addr.to_string()),
            (Transport::Tcp, "[2001:db8::1]:5080".into())
        );
        let d = resolve("sip:x@example.invalid;maddr=192.0.2.9", Transport::Any).unwrap();
        assert_eq!(d.addr.to_string(), "192.0.2.9:5060");
        let d = resolve("sip:bob@localhost:5999", Transport::Any).unwrap();
        assert!(d.addr.ip().is_loopback());
    }

    #[test]
    fn what_cannot_be_routed_says_why() {
        assert_eq!(
            resolve("tel:+15551234", Transport::Any).unwrap_err().status,
            416
        );
        assert_eq!(
            resolve("sips:bob@192.0.2.1", Transport::Any)
                .unwrap_err()
                .status,
            503
        );
        assert_eq!(
            resolve("sip:bob@192.0.2.1;transport=sctp", Transport::Any)
                .unwrap_err()
                .status,
            503
        );
    }
}
