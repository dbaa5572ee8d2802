//! The traffic `sip-interop conform` runs a plugin over: the RFC 4475 torture messages, a sample of
//! PROTOS c07-sip, a few everyday requests, answers to the requests that a proxy would forward, and
//! any messages the author adds with `--messages`.
//!
//! Only what the host would hand a plugin reaches its hooks: requests the host forwards (it answers or
//! drops the others before the chain, see `sip_interop_abi::sip::disposition_of`) and responses that
//! parse. The rest is counted, not run.

use std::path::Path;

use sip_interop_abi::sip::{disposition_of, kind, Disposition, Message};

use super::protos;
use crate::proxy::build;

/// One message of the corpus.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Where it comes from, for reports: `rfc4475/wsinv`, `protos/0000025`, `builtin/register`.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A request with the answers its transaction gets (run through the response hook with the request's
/// context, as the host does), or a response on its own.
#[derive(Clone, Debug)]
pub enum Item {
    /// A request the host forwards, and answers to it.
    Request {
        /// The request.
        request: Sample,
        /// Answers in the order they arrive.
        answers: Vec<Sample>,
    },
    /// A response with no request of ours.
    Response(Sample),
}

/// The corpus, with what the host keeps from the plugin.
#[derive(Debug, Default)]
pub struct Corpus {
    /// What the hooks see.
    pub items: Vec<Item>,
    /// Messages that do not parse (the host drops them).
    pub unparseable: usize,
    /// Requests the host answers or drops before the chain.
    pub refused_before_chain: usize,
}

macro_rules! rfc4475 {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../tests/corpora/rfc4475/", $name, ".dat")) as &[u8])),*]
    };
}

/// RFC 4475's archive (Appendix A), every message.
const RFC4475: &[(&str, &[u8])] = rfc4475!(
    "badaspec",
    "badbranch",
    "baddate",
    "baddn",
    "badinv01",
    "badvers",
    "bcast",
    "bext01",
    "bigcode",
    "clerr",
    "cparam01",
    "cparam02",
    "dblreq",
    "esc01",
    "esc02",
    "escnull",
    "escruri",
    "insuf",
    "intmeth",
    "inv2543",
    "invut",
    "longreq",
    "ltgtruri",
    "lwsdisp",
    "lwsruri",
    "lwsstart",
    "mcl01",
    "mismatch01",
    "mismatch02",
    "mpart01",
    "multi01",
    "ncl",
    "noreason",
    "novelsc",
    "quotbal",
    "regaut01",
    "regbadct",
    "regescrt",
    "scalar02",
    "scalarlg",
    "sdp01",
    "semiuri",
    "test",
    "transports",
    "trws",
    "unkscm",
    "unksm2",
    "unreason",
    "wsinv",
    "zeromf",
);

/// Everyday requests of the signalling path the plugins sit in (SDP offer, registration, presence,
/// IM, in-dialog requests), written by hand: `{n}` is replaced with a running number.
const BUILTIN: &[(&str, &str)] = &[
    (
        "invite-sdp",
        "INVITE sip:+14255550100@example.com;user=phone SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@example.org>;tag=a{n}\r\nTo: <sip:+14255550100@example.com;user=phone>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.10:5060>\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n",
    ),
    (
        "invite-no-sdp",
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=a{n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.10:5060;transport=tcp>\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "register",
        "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=r{n}\r\nTo: <sip:alice@example.com>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@192.0.2.10:5060>;expires=3600\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "options",
        "OPTIONS sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:ping@example.org>;tag=o{n}\r\nTo: <sip:example.com>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "message",
        "MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=m{n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: {len}\r\n\r\nHello, Bob.",
    ),
    (
        "subscribe",
        "SUBSCRIBE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=s{n}\r\nTo: <sip:bob@example.com>\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:alice@192.0.2.10:5060>\r\nEvent: presence\r\nAccept: application/pidf+xml\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "bye-in-dialog",
        "BYE sip:alice@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nRoute: <sip:127.0.0.1:5060;lr>\r\nFrom: <sip:bob@example.com>;tag=b{n}\r\nTo: <sip:alice@example.org>;tag=a{n}\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "refer-in-dialog",
        "REFER sip:bob@192.0.2.20:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-conform-{n}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=a{n}\r\nTo: <sip:bob@example.com>;tag=b{n}\r\nCall-ID: conform-{n}@192.0.2.10\r\nCSeq: 3 REFER\r\nContact: <sip:alice@192.0.2.10:5060>\r\nRefer-To: <sip:carol@example.com>\r\nContent-Length: 0\r\n\r\n",
    ),
];

/// A builtin request with its placeholders filled.
fn builtin(template: &str, n: usize) -> Vec<u8> {
    let text = template.replace("{n}", &n.to_string());
    let body_len = text.find("\r\n\r\n").map_or(0, |i| text.len() - i - 4);
    text.replace("{len}", &body_len.to_string()).into_bytes()
}

/// `status` answering `req`, as the host writes answers (its Via, From, Call-ID and CSeq, a To tag),
/// and for a 2xx to an SDP offer an answer mirroring the offer (a callee that accepts what was
/// offered).
fn answer(req: &Message<'_>, status: u16) -> Vec<u8> {
    let offer = req.body();
    let is_sdp = req
        .first_value(kind::CONTENT_TYPE)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/sdp"));
    let mut extra = Vec::new();
    if status / 100 == 2 {
        extra.push((
            "Contact".to_string(),
            "<sip:callee@192.0.2.20:5060>".to_string(),
        ));
    }
    let body = (status / 100 == 2 && is_sdp).then_some(("application/sdp", offer));
    build::reply_with_body(req, status, None, "conform-callee", &extra, body)
}

impl Corpus {
    /// The built-in corpus plus every file in `extra` (raw messages, one per file, CRLF line ends).
    pub fn load(extra: Option<&Path>) -> std::io::Result<Corpus> {
        let mut samples: Vec<Sample> = RFC4475
            .iter()
            .map(|(name, bytes)| Sample {
                name: format!("rfc4475/{name}"),
                bytes: bytes.to_vec(),
            })
            .collect();
        let parties = protos::Parties::loopback(5062, "bob@127.0.0.1");
        samples.extend(protos::sample().into_iter().map(|c| Sample {
            name: format!("protos/{:07}", c.number),
            bytes: c.invite_for(&parties),
        }));
        samples.extend(BUILTIN.iter().enumerate().map(|(n, (name, t))| Sample {
            name: format!("builtin/{name}"),
            bytes: builtin(t, n + 1),
        }));
        if let Some(dir) = extra {
            let mut files: Vec<_> = std::fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for f in files {
                samples.push(Sample {
                    name: format!("{}", f.display()),
                    bytes: std::fs::read(&f)?,
                });
            }
        }
        Ok(Corpus::from_samples(samples))
    }

    /// Sort samples into what the hooks see and what the host keeps from them.
    pub fn from_samples(samples: Vec<Sample>) -> Corpus {
        let mut c = Corpus::default();
        for s in samples {
            let Ok(m) = Message::parse(&s.bytes) else {
                c.unparseable += 1;
                continue;
            };
            if !m.is_request() {
                c.items.push(Item::Response(s));
                continue;
            }
            if disposition_of(&m) != Disposition::Forward {
                c.refused_before_chain += 1;
                continue;
            }
            let method = m.method().map(|m| m.as_str());
            let answers: &[u16] = match method {
                Some("ACK") => &[],
                Some("INVITE") => &[180, 200],
                _ => &[200],
            };
            let answers = answers
                .iter()
                .map(|&status| answer(&m, status))
                .filter(|b| Message::parse(b).is_ok())
                .map(|bytes| Sample {
                    name: format!("{} (answer)", s.name),
                    bytes,
                })
                .collect();
            c.items.push(Item::Request {
                request: s,
                answers,
            });
        }
        c
    }

    /// Messages the hooks see: requests, answers and lone responses.
    pub fn hook_calls(&self) -> usize {
        self.items
            .iter()
            .map(|i| match i {
                Item::Request { answers, .. } => 1 + answers.len(),
                Item::Response(_) => 1,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_sorts_messages_as_the_host_would() {
        let c = Corpus::load(None).unwrap();
        let requests = c
            .items
            .iter()
            .filter(|i| matches!(i, Item::Request { .. }))
            .count();
        let responses = c
            .items
            .iter()
            .filter(|i| matches!(i, Item::Response(_)))
            .count();
        // RFC 4475 has five responses (bcast, bigcode, noreason, scalarlg, unreason); the ones that
        // parse reach the response hook on their own.
        assert!((3..=5).contains(&responses), "{responses}");
        // The valid RFC 4475 messages, PROTOS case 0 and the built-ins are forwarded.
        assert!(requests > BUILTIN.len() + 13, "{requests}");
        eprintln!(
            "{requests} requests, {responses} responses, {} refused, {} unparseable",
            c.refused_before_chain, c.unparseable
        );
        // The malformed ones are kept from the plugin.
        let kept = c.refused_before_chain + c.unparseable;
        assert!(kept > 30, "only {kept} kept from the plugin");
        let invite = c
            .items
            .iter()
            .find_map(|i| match i {
                Item::Request { request, answers } if request.name == "builtin/invite-sdp" => {
                    Some(answers)
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(invite.len(), 2);
        let ok = Message::parse(&invite[1].bytes).unwrap();
        assert_eq!(ok.status(), Some(200));
        assert!(ok.body().starts_with(b"v=0"));
        assert_eq!(ok.validate(), Ok(()));
    }
}
