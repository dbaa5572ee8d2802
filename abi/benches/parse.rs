//! Parser benchmarks on a realistic ~1 KB INVITE with SDP.

use abi_stable::std_types::RString;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sip_interop_abi::sip::{serialize_into, Edit, HeaderPosition, Message, Uri};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: \"Bob Builder\" <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>\r\n\
Record-Route: <sip:p1.example.com;lr>\r\n\
Supported: replaces, timer, 100rel\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n\
User-Agent: ExampleSoftphone/7.1.2 (Linux x86_64)\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 320\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n\
s=Session SDP\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 9 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
a=rtcp:49173 IN IP4 192.0.2.101\r\n";

fn parse_and_typed_access(b: &[u8]) -> usize {
    let m = Message::parse(b).unwrap();
    let mut n = 0;
    n += m.top_via().unwrap().unwrap().branch().unwrap().len();
    n += m.from().unwrap().unwrap().tag().unwrap().len();
    n += m.to().unwrap().unwrap().tag().unwrap().len();
    n += m.call_id().unwrap().len();
    n += m.cseq().unwrap().unwrap().seq as usize;
    n += m.max_forwards().unwrap().unwrap() as usize;
    n += m.content_length().unwrap().unwrap() as usize;
    if let Uri::Sip(u) = m.request_uri().unwrap().unwrap() {
        n += u.host_text.len();
    }
    n
}

/// The same accesses through rsip 0.4 (its typed headers), for a ratio measured in the same run.
fn rsip_parse_and_typed_access(b: &[u8]) -> usize {
    use rsip::prelude::*;
    let req = rsip::Request::try_from(b).unwrap();
    let mut n = 0;
    n += req
        .via_header()
        .unwrap()
        .typed()
        .unwrap()
        .branch()
        .unwrap()
        .value()
        .len();
    n += req
        .from_header()
        .unwrap()
        .typed()
        .unwrap()
        .tag()
        .unwrap()
        .value()
        .len();
    n += req
        .to_header()
        .unwrap()
        .typed()
        .unwrap()
        .tag()
        .unwrap()
        .value()
        .len();
    n += req.call_id_header().unwrap().value().len();
    n += req.cseq_header().unwrap().typed().unwrap().seq as usize;
    n += req.max_forwards_header().unwrap().num().unwrap() as usize;
    n += rsip::header_opt!(req.headers().iter(), rsip::Header::ContentLength)
        .unwrap()
        .length()
        .unwrap() as usize;
    n += req.uri.host_with_port.host.to_string().len();
    n
}

fn benches(c: &mut Criterion) {
    assert_eq!(
        parse_and_typed_access(INVITE),
        rsip_parse_and_typed_access(INVITE),
        "both read the same values"
    );
    c.bench_function("rsip_parse_and_typed_access", |b| {
        b.iter(|| rsip_parse_and_typed_access(black_box(INVITE)))
    });
    assert_eq!(Message::parse(INVITE).unwrap().body().len(), 320);
    assert_eq!(Message::parse(INVITE).unwrap().message_len(), INVITE.len());
    assert_eq!(Message::parse(INVITE).unwrap().validate(), Ok(()));
    c.bench_function("parse_only", |b| {
        b.iter(|| {
            Message::parse(black_box(INVITE))
                .unwrap()
                .header_entries()
                .len()
        })
    });
    c.bench_function("parse_and_typed_access", |b| {
        b.iter(|| parse_and_typed_access(black_box(INVITE)))
    });
    let m = Message::parse(INVITE).unwrap();
    c.bench_function("validate", |b| b.iter(|| black_box(&m).validate().is_ok()));
    let edits = [
        Edit::PushVia {
            value: RString::from("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1"),
        },
        Edit::ReplaceHeader {
            name: RString::from("Max-Forwards"),
            value: RString::from("69"),
        },
        Edit::AddHeader {
            name: RString::from("Record-Route"),
            value: RString::from("<sip:proxy.example.com;lr>"),
            position: HeaderPosition::First,
        },
    ];
    let mut out = Vec::with_capacity(2048);
    c.bench_function("serialize_with_3_edits", |b| {
        b.iter(|| {
            out.clear();
            serialize_into(black_box(&m), black_box(&edits), &mut out);
            out.len()
        })
    });
}

criterion_group!(parse, benches);
criterion_main!(parse);
