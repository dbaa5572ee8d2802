//! `sip-interop check-message FILE`.

use std::path::Path;
use std::process::ExitCode;

use sip_interop_abi::sip::{proxy_disposition, Disposition, Message};

/// The short summary of a well-formed message.
pub(crate) fn summary(msg: &Message<'_>) -> String {
    let mut out = String::new();
    if msg.is_request() {
        out.push_str(&format!(
            "request {} {}\n",
            msg.method()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            msg.request_uri_str().unwrap_or("")
        ));
    } else {
        out.push_str(&format!(
            "response {} {}\n",
            msg.status().unwrap_or(0),
            String::from_utf8_lossy(msg.reason().unwrap_or_default())
        ));
    }
    out.push_str(&format!("Call-ID: {}\n", msg.call_id().unwrap_or("(none)")));
    let branch = match msg.top_via() {
        Some(Ok(v)) => v
            .branch()
            .unwrap_or("(no branch: RFC 2543 peer)")
            .to_string(),
        Some(Err(e)) => format!("(unparseable Via: {e})"),
        None => "(no Via)".into(),
    };
    out.push_str(&format!("top Via branch: {branch}\n"));
    let body = msg.body();
    if body.is_empty() {
        out.push_str("body: none\n");
    } else {
        out.push_str(&format!(
            "body: {} ({} bytes)\n",
            msg.content_type().unwrap_or("(no Content-Type)"),
            body.len()
        ));
    }
    out
}

pub(super) fn check_message(file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    match proxy_disposition(&bytes) {
        Disposition::Forward => {
            let msg = Message::parse(&bytes).expect("a forwardable message parses");
            print!("{}", summary(&msg));
            ExitCode::SUCCESS
        }
        Disposition::Reject {
            status,
            reason,
            unsupported,
        } => {
            println!("{}", super::describe_refusal(status, &reason, &unsupported));
            ExitCode::FAILURE
        }
        Disposition::Drop { why } => {
            println!("dropped without an answer: {why}");
            ExitCode::FAILURE
        }
    }
}
