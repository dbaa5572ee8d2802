//! The admin listener: a small HTTP/1.1 endpoint for operators and scrapers.
//!
//! - `GET /metrics` — Prometheus text format;
//! - `GET /status` — the live chain, its generation, the last reload;
//! - `POST /reload` — rebuild the chain from the config file (the same as SIGHUP).
//!
//! It serves one short request per connection on one thread, with read/write timeouts, so a stuck client
//! cannot hold it. Keep it on loopback or a management network: it has no authentication.

mod status;

pub use status::status_text;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::Host;

const MAX_REQUEST_LINE: usize = 8192;

/// Start the admin listener on `addr` in its own thread. Returns the bound address.
pub fn spawn(host: Host, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("sip-admin".into())
        .spawn(move || {
            for stream in listener.incoming() {
                match stream {
                    Ok(s) => {
                        if let Err(e) = serve(&host, s) {
                            tracing::debug!("admin connection: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("admin accept failed: {e}"),
                }
            }
        })?;
    Ok(bound)
}

fn serve(host: &Host, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?).take(64 * 1024);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if line.len() > MAX_REQUEST_LINE {
        return respond(stream, 414, "text/plain", "request line too long\n");
    }
    // Drain the request headers.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match (method, path) {
        ("GET", "/metrics") => respond(
            stream,
            200,
            "text/plain; version=0.0.4",
            &crate::metrics::render(host.metrics()),
        ),
        ("GET", "/status") => respond(stream, 200, "text/plain", &status_text(host)),
        ("POST", "/reload") => match host.reload("admin") {
            Ok(generation) => respond(
                stream,
                200,
                "text/plain",
                &format!("reloaded: generation {generation} is live\n"),
            ),
            Err(e) => {
                let mut body = String::from("reload refused; the running chain stays in force:\n");
                for p in &e.problems {
                    body.push_str(p);
                    body.push('\n');
                }
                respond(stream, 422, "text/plain", &body)
            }
        },
        (_, "/metrics" | "/status" | "/reload") => {
            respond(stream, 405, "text/plain", "method not allowed\n")
        }
        _ => respond(
            stream,
            404,
            "text/plain",
            "not found: try GET /metrics, GET /status or POST /reload\n",
        ),
    }
}

fn respond(
    mut stream: TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        422 => "Unprocessable Entity",
        _ => "Error",
    };
    write!(stream, "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    stream.flush()
}

/// Send one admin request (`GET /status`, `POST /reload`, …) and return (status, body).
pub fn request(addr: SocketAddr, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    let status = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
