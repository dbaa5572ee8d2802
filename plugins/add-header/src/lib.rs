//! `add-header`: adds configured headers to requests, optionally only for some methods. The plugin
//! author guide's worked example, and the shipped demo's chain.

use serde::Deserialize;
use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::ConfigError;

/// One header to add.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct HeaderConfig {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// The plugin's config table.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Headers to add, in order.
    pub headers: Vec<HeaderConfig>,
    /// Only requests with these methods (empty: every method).
    #[serde(default)]
    pub methods: Vec<String>,
}

/// The plugin.
pub struct AddHeader {
    headers: Vec<HeaderConfig>,
    methods: Vec<String>,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

impl AddHeader {
    /// Validate the config and build the plugin.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        for (i, h) in config.headers.iter().enumerate() {
            if !is_token(&h.name) {
                return Err(ConfigError::field(
                    format!("headers[{i}].name"),
                    format!(
                        "`{}` is not a valid header name (letters, digits and -.!%*_+`'~ only)",
                        h.name
                    ),
                ));
            }
            if h.value.contains(['\r', '\n']) {
                return Err(ConfigError::field(
                    format!("headers[{i}].value"),
                    "a header value cannot contain a line break",
                ));
            }
        }
        for (i, m) in config.methods.iter().enumerate() {
            if !is_token(m) {
                return Err(ConfigError::field(
                    format!("methods[{i}]"),
                    format!("`{m}` is not a SIP method token"),
                ));
            }
        }
        Ok(AddHeader {
            headers: config.headers,
            methods: config.methods,
        })
    }
}

impl Plugin for AddHeader {
    const DESCRIPTION: &'static str =
        "Adds configured headers to requests (optionally only for some methods).";
    const EXAMPLE_CONFIG: &'static str = "methods = [\"INVITE\"]\n\n[[headers]]\nname = \"X-Interop\"\nvalue = \"sip-interop-host\"\n";
    const CONFIG_SCHEMA: &'static str = "headers: array of {name: string, value: string} — headers to add, in order\nmethods: array of string (default: all) — only these request methods\n";
    const HOOKS: u32 = sip_interop_abi::ffi::hooks::REQUEST;

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let method = req.method().map(|m| m.as_str()).unwrap_or("");
        if self.methods.is_empty() || self.methods.iter().any(|m| m == method) {
            for h in &self.headers {
                req.add_header(&h.name, &h.value);
            }
            tracing::debug!(count = self.headers.len(), "added headers");
        }
        Verdict::Continue
    }
}

export_plugin!(AddHeader, AddHeader::new);
