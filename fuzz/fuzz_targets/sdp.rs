//! `sdp`: SDP bodies, through the message core's SDP layer and the normaliser's.
//!
//! Checks that:
//! - [`parse_sdp`] never panics, and a session it parsed is written ([`write_sdp`]) as an SDP that
//!   parses again and is written the same way a second time (the write is a fixed point);
//! - the normaliser's SDP layer never panics: the detectors (`is_im_session`, `is_ice_update`,
//!   `offers_srtp`), both rewrites (`to_standard` with and without target ICE, `to_microsoft` under
//!   every SRTP policy, initial offer or not), and multipart picking (`body::pick_sdp`, with the
//!   boundary taken from the input's first line when it starts with `--`);
//! - a rewrite's output ends every line in CRLF (as documented) and can be rewritten again (the
//!   peer may send it back) without a panic;
//! - a part picked out of a multipart body lies inside that body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ms_sip_normaliser::body::{pick_sdp, SdpChoice};
use ms_sip_normaliser::sdp::{
    is_ice_update, is_im_session, offers_srtp, to_microsoft, to_standard, Encryption,
    MicrosoftOptions, Rewritten, StandardOptions,
};
use sip_interop_abi::sip::{parse_sdp, write_sdp};
use sip_interop_fuzz::touch;

const POLICIES: [Encryption; 3] = [
    Encryption::Required,
    Encryption::Optional,
    Encryption::Rejected,
];

/// "Every line ends in CRLF": the output is empty or ends in CRLF, and has no bare LF.
fn assert_crlf(sdp: &[u8]) {
    assert!(
        sdp.is_empty() || sdp.ends_with(b"\r\n"),
        "rewritten SDP does not end in CRLF: {:?}",
        String::from_utf8_lossy(sdp)
    );
    for (i, b) in sdp.iter().enumerate() {
        if *b == b'\n' {
            assert!(
                i > 0 && sdp[i - 1] == b'\r',
                "bare LF at {i} in rewritten SDP: {:?}",
                String::from_utf8_lossy(sdp)
            );
        }
    }
}

fn check_rewrite(r: &Rewritten) {
    assert_crlf(&r.sdp);
    // What we send, a peer may send back: rewriting it again must not panic either.
    touch(to_standard(&r.sdp, &StandardOptions { target_ice: true }));
    touch(to_microsoft(
        &r.sdp,
        &MicrosoftOptions {
            encryption: Encryption::Optional,
            initial_offer: false,
        },
    ));
}

/// The normaliser's SDP layer on one SDP.
fn normaliser_sdp(sdp: &[u8]) {
    touch((is_im_session(sdp), is_ice_update(sdp), offers_srtp(sdp)));
    for target_ice in [false, true] {
        match to_standard(sdp, &StandardOptions { target_ice }) {
            Ok(r) => check_rewrite(&r),
            Err(e) => {
                touch(e.to_string());
            }
        }
    }
    for encryption in POLICIES {
        for initial_offer in [false, true] {
            let opts = MicrosoftOptions {
                encryption,
                initial_offer,
            };
            match to_microsoft(sdp, &opts) {
                Ok(r) => check_rewrite(&r),
                Err(e) => {
                    touch(e.to_string());
                }
            }
        }
    }
}

/// The message core's parse / write round trip.
fn round_trip(data: &[u8]) {
    let Ok(session) = parse_sdp(data) else {
        return;
    };
    let written = write_sdp(&session);
    let again = parse_sdp(&written).unwrap_or_else(|e| {
        panic!(
            "a written session does not parse again ({e}):\n{}",
            String::from_utf8_lossy(&written)
        )
    });
    let rewritten = write_sdp(&again);
    assert_eq!(
        String::from_utf8_lossy(&written),
        String::from_utf8_lossy(&rewritten),
        "writing a session is not a fixed point"
    );
}

/// Multipart picking: plain SDP, and multipart with the boundary of the first delimiter line.
fn pick(data: &[u8]) {
    let mut content_types = vec!["application/sdp".to_owned()];
    if let Some(first) = data.strip_prefix(b"--") {
        let line = first.split(|b| *b == b'\n').next().unwrap_or_default();
        let boundary = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
        let boundary = boundary.replace(['"', '\\'], "");
        content_types.push(format!("multipart/alternative;boundary=\"{boundary}\""));
        content_types.push(format!("multipart/mixed; boundary={boundary}"));
    }
    for ct in &content_types {
        match pick_sdp(ct, data) {
            Ok(SdpChoice::Extracted { sdp, .. }) => {
                let (part, body) = (sdp.as_ptr() as usize, data.as_ptr() as usize);
                assert!(
                    sdp.is_empty() || (part >= body && part + sdp.len() <= body + data.len()),
                    "picked SDP is not inside the body"
                );
                normaliser_sdp(sdp);
            }
            Ok(_) => {}
            Err(e) => {
                touch(e.to_string());
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    normaliser_sdp(data);
    pick(data);
});
