//! Test plugin: links its own Lua 5.4 (statically, through `mlua` with `vendored`) and runs a small
//! Lua 5.4 chunk on every request, stamping the result on the request as a header (`X-Lua-Probe` by
//! default): `Lua 5.4 integer 3`, built from facts Lua 5.1 does not have (`math.type`, the `//`
//! operator). It proves that a plugin with its own interpreter can live in the same process as the
//! Lua 5.1 of Kamailio's app_lua, which embeds the host: the .so exports none of its `lua_*` symbols.
//!
//! A Lua error never panics: it is logged and the request continues without the header.

use mlua::{Function, Lua};
use serde::Deserialize;
use sip_interop_abi::prelude::*;
use sip_interop_abi::sdk::ConfigError;

/// The chunk run on every request. `math.type` and `//` exist from Lua 5.3 on, `_VERSION` names 5.4.
const PROBE: &str = r#"return _VERSION .. " " .. math.type(3) .. " " .. tostring(7 // 2)"#;

const DEFAULT_HEADER: &str = "X-Lua-Probe";

fn default_header() -> String {
    DEFAULT_HEADER.to_string()
}

/// The plugin's config table.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Name of the header to add.
    #[serde(default = "default_header")]
    header: String,
    /// Only requests with these methods (empty: every method).
    #[serde(default)]
    methods: Vec<String>,
}

/// The plugin. `Lua` is `Send + Sync` with mlua's `send` feature (it serialises calls internally),
/// so concurrent hooks share one interpreter.
struct Lua54Probe {
    header: String,
    methods: Vec<String>,
    probe: Function,
    // Owns the state `probe` lives in.
    _lua: Lua,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

impl Lua54Probe {
    /// Validate the config, start a Lua 5.4 state and compile the probe chunk in it.
    fn new(config: Config) -> Result<Self, ConfigError> {
        Self::with_chunk(config, PROBE)
    }

    fn with_chunk(config: Config, chunk: &str) -> Result<Self, ConfigError> {
        if !is_token(&config.header) {
            return Err(ConfigError::field(
                "header",
                format!(
                    "`{}` is not a valid header name (letters, digits and -.!%*_+`'~ only)",
                    config.header
                ),
            ));
        }
        for (i, m) in config.methods.iter().enumerate() {
            if !is_token(m) {
                return Err(ConfigError::field(
                    format!("methods[{i}]"),
                    format!("`{m}` is not a SIP method token"),
                ));
            }
        }
        let lua = Lua::new();
        // The interpreter linked in must be our own 5.4, not whatever Lua the embedding process has.
        let version: String = lua
            .globals()
            .get("_VERSION")
            .map_err(|e| ConfigError::table(one_line(&format!("Lua state unusable: {e}"))))?;
        if version != "Lua 5.4" {
            return Err(ConfigError::table(format!(
                "expected the plugin's own Lua 5.4, found {version}"
            )));
        }
        let probe = lua
            .load(chunk)
            .set_name("lua54-probe")
            .into_function()
            .map_err(|e| ConfigError::table(one_line(&format!("probe chunk: {e}"))))?;
        Ok(Lua54Probe {
            header: config.header,
            methods: config.methods,
            probe,
            _lua: lua,
        })
    }

    /// Run the chunk once; a header-safe string or the reason there is none.
    fn run(&self) -> Result<String, String> {
        let value: String = self.probe.call(()).map_err(|e| one_line(&e.to_string()))?;
        if value.contains(['\r', '\n']) {
            return Err(format!("result {value:?} contains a line break"));
        }
        Ok(value)
    }
}

/// Lua errors carry tracebacks over several lines; keep them to one.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Plugin for Lua54Probe {
    const DESCRIPTION: &'static str =
        "Test plugin: runs its own statically linked Lua 5.4 on every request and adds the result as a header.";
    const EXAMPLE_CONFIG: &'static str = "header = \"X-Lua-Probe\"\nmethods = [\"INVITE\"]\n";
    const CONFIG_SCHEMA: &'static str = "header: string (default \"X-Lua-Probe\") — name of the header carrying the Lua 5.4 result\nmethods: array of string (default: all) — only these request methods\n";
    const HOOKS: u32 = sip_interop_abi::ffi::hooks::REQUEST;

    fn on_request(&self, req: &mut Request<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let method = req.method().map(|m| m.as_str()).unwrap_or("");
        if !self.methods.is_empty() && !self.methods.iter().any(|m| m == method) {
            return Verdict::Continue;
        }
        match self.run() {
            Ok(value) => req.add_header(&self.header, &value),
            Err(e) => tracing::warn!(error = %e, "Lua 5.4 probe failed; no header added"),
        }
        Verdict::Continue
    }
}

export_plugin!(Lua54Probe, Lua54Probe::new);

#[cfg(test)]
mod tests {
    use super::*;
    use sip_interop_abi::sdk::testing::Bench;

    fn request(method: &str) -> Vec<u8> {
        format!(
            "{method} sip:bob@example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1\r\n\
             From: <sip:alice@example.com>;tag=1\r\n\
             To: <sip:bob@example.com>\r\n\
             Call-ID: lua54-probe-test\r\n\
             CSeq: 1 {method}\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn config(toml: &str) -> Config {
        sip_interop_abi::sdk::parse_config(toml).expect("config parses")
    }

    fn header_values(message: &[u8], name: &str) -> Vec<String> {
        let prefix = format!("{name}: ");
        String::from_utf8_lossy(message)
            .split("\r\n")
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }

    #[test]
    fn invite_gets_the_lua_5_4_result() {
        let plugin = Lua54Probe::new(config("")).unwrap();
        let mut bench = Bench::new("192.0.2.7:5060".parse().unwrap());
        let out = bench.request(&plugin, &request("INVITE")).unwrap();
        assert_eq!(out.verdict, Verdict::Continue);
        assert_eq!(
            header_values(&out.message, "X-Lua-Probe"),
            vec!["Lua 5.4 integer 3".to_string()]
        );
    }

    #[test]
    fn the_example_config_limits_it_to_invite_and_names_the_header() {
        let plugin =
            Lua54Probe::new(config("header = \"X-Other\"\nmethods = [\"INVITE\"]\n")).unwrap();
        let mut bench = Bench::new("192.0.2.7:5060".parse().unwrap());
        let invite = bench.request(&plugin, &request("INVITE")).unwrap();
        assert_eq!(
            header_values(&invite.message, "X-Other"),
            vec!["Lua 5.4 integer 3".to_string()]
        );
        let options = bench.request(&plugin, &request("OPTIONS")).unwrap();
        assert_eq!(options.verdict, Verdict::Continue);
        assert!(options.edits.is_empty());
    }

    #[test]
    fn a_lua_error_continues_without_the_header() {
        let plugin = Lua54Probe::with_chunk(config(""), "error('boom')").unwrap();
        let mut bench = Bench::new("192.0.2.7:5060".parse().unwrap());
        let out = bench.request(&plugin, &request("INVITE")).unwrap();
        assert_eq!(out.verdict, Verdict::Continue);
        assert!(out.edits.is_empty());
    }

    #[test]
    fn bad_config_is_refused() {
        assert!(Lua54Probe::new(config("header = \"Bad Header\"\n")).is_err());
        assert!(Lua54Probe::new(config("methods = [\"IN VITE\"]\n")).is_err());
        assert!(sip_interop_abi::sdk::parse_config::<Config>("hedaer = \"X\"\n").is_err());
    }
}
