//! RFC 3263 §4 on a name: NAPTR picks the transport (when the URI does not), SRV the servers and
//! ports (when the URI has no port), A/AAAA the addresses.

use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use std::net::SocketAddr;

use super::order::Candidate;
use super::plan::{available, Query};
use crate::transport::Transport;

fn srv_prefix(t: Transport, secure: bool) -> &'static str {
    match (t, secure) {
        (Transport::Tls, _) | (_, true) => "_sips._tcp.",
        (Transport::Tcp, _) => "_sip._tcp.",
        _ => "_sip._udp.",
    }
}

fn naptr_transport(service: &str) -> Option<Transport> {
    match service.to_ascii_uppercase().as_str() {
        "SIP+D2U" => Some(Transport::Udp),
        "SIP+D2T" => Some(Transport::Tcp),
        "SIPS+D2T" => Some(Transport::Tls),
        _ => None,
    }
}

/// Addresses of `name` (A and AAAA), tagged.
async fn addresses(
    r: &TokioResolver,
    name: &str,
    port: u16,
    transport: Transport,
    rank: u32,
    weight: u16,
    found_by: &str,
) -> Result<Vec<Candidate>, String> {
    match r.lookup_ip(name).await {
        Ok(ips) => Ok(ips
            .iter()
            .map(|ip| Candidate {
                transport,
                addr: SocketAddr::new(ip, port),
                rank,
                weight,
                found_by: found_by.to_string().into(),
            })
            .collect()),
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(format!("A/AAAA {name}: {e}")),
    }
}

/// SRV records of `srv_name`, each resolved; `None` when there are none.
async fn srv(
    r: &TokioResolver,
    srv_name: &str,
    transport: Transport,
    rank_base: u32,
) -> Result<Option<Vec<Candidate>>, String> {
    let records = match r.srv_lookup(srv_name).await {
        Ok(l) => l,
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => return Ok(None),
        Err(e) => return Err(format!("SRV {srv_name}: {e}")),
    };
    let mut out = Vec::new();
    for s in records.iter() {
        let target = s.target().to_utf8();
        let target = target.trim_end_matches('.');
        if target.is_empty() {
            continue; // "." = the service is decidedly not available here.
        }
        let found_by = format!("SRV {srv_name} → {target}:{}", s.port());
        out.extend(
            addresses(
                r,
                target,
                s.port(),
                transport,
                rank_base + u32::from(s.priority()),
                s.weight(),
                &found_by,
            )
            .await?,
        );
    }
    Ok(Some(out))
}

/// Every address `q` may be sent to, best first by rank (not yet ordered for stickiness).
pub async fn locate(r: &TokioResolver, q: &Query) -> Result<Vec<Candidate>, String> {
    let default_port = if q.secure { 5061 } else { 5060 };
    // §4.2: a port in the URI means A/AAAA only.
    if let Some(port) = q.port {
        let t = q.transport.unwrap_or(if q.secure {
            Transport::Tls
        } else {
            Transport::Udp
        });
        return addresses(r, &q.name, port, t, 0, 0, &format!("A/AAAA {}", q.name)).await;
    }
    // §4.2: a transport known: SRV for it, else A/AAAA on the default port.
    if let Some(t) = q.transport {
        let srv_name = format!("{}{}", srv_prefix(t, q.secure), q.name);
        if let Some(found) = srv(r, &srv_name, t, 0).await? {
            return Ok(found);
        }
        return addresses(
            r,
            &q.name,
            default_port,
            t,
            0,
            0,
            &format!("A/AAAA {}", q.name),
        )
        .await;
    }
    // §4.1: NAPTR chooses the transport.
    let naptr = match r.lookup(q.name.as_str(), RecordType::NAPTR).await {
        Ok(l) => {
            let mut recs: Vec<(u16, u16, Transport, String)> = l
                .record_iter()
                .filter_map(|rec| match rec.data() {
                    RData::NAPTR(n) => {
                        let flags = String::from_utf8_lossy(n.flags()).to_ascii_lowercase();
                        let service = String::from_utf8_lossy(n.services()).to_string();
                        let t = naptr_transport(&service)?;
                        (flags == "s" && available(t) && (!q.secure || t == Transport::Tls))
                            .then(|| (n.order(), n.preference(), t, n.replacement().to_utf8()))
                    }
                    _ => None,
                })
                .collect();
            recs.sort_by_key(|r| (r.0, r.1));
            recs
        }
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Vec::new(),
        Err(e) => return Err(format!("NAPTR {}: {e}", q.name)),
    };
    let mut out = Vec::new();
    for (i, (_, _, t, replacement)) in naptr.iter().enumerate() {
        let name = replacement.trim_end_matches('.');
        if let Some(found) = srv(r, name, *t, (i as u32 + 1) << 16).await? {
            out.extend(found.into_iter().map(|mut c| {
                c.found_by = format!("NAPTR {} → {}", q.name, c.found_by).into();
                c
            }));
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    // §4.1: no NAPTR: SRV for each transport this build supports.
    let transports: &[Transport] = if q.secure {
        &[Transport::Tls]
    } else {
        &[Transport::Udp, Transport::Tcp]
    };
    for (i, t) in transports.iter().enumerate() {
        if !available(*t) {
            continue;
        }
        let srv_name = format!("{}{}", srv_prefix(*t, q.secure), q.name);
        if let Some(found) = srv(r, &srv_name, *t, (i as u32 + 1) << 16).await? {
            out.extend(found);
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    // Nothing but an address: UDP (TLS for sips) on the default port.
    let t = if q.secure {
        Transport::Tls
    } else {
        Transport::Udp
    };
    addresses(
        r,
        &q.name,
        default_port,
        t,
        0,
        0,
        &format!("A/AAAA {}", q.name),
    )
    .await
}
