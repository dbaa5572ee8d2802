//! A plugin's config table, parsed with errors that name the field.

use serde::de::DeserializeOwned;
use std::fmt;

/// Why a plugin refused its config. `field` is the dotted path inside the plugin's table
/// (`routes[2].port`), so the host can point at the line in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending field inside the plugin's table, if one applies.
    pub field: Option<String>,
    /// What is wrong and, where possible, how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// An error about the table as a whole.
    pub fn table(message: impl Into<String>) -> Self {
        ConfigError {
            field: None,
            message: message.into(),
        }
    }

    /// Wire form: `field` U+001F `message`, or just `message`; read back by the host with [`ConfigError::from_wire`].
    pub fn to_wire(&self) -> String {
        match &self.field {
            Some(f) if !f.is_empty() => format!("{f}\u{1f}{}", self.message),
            _ => self.message.clone(),
        }
    }

    /// Inverse of [`ConfigError::to_wire`].
    pub fn from_wire(s: &str) -> Self {
        match s.split_once('\u{1f}') {
            Some((f, m)) => ConfigError::field(f, m),
            None => ConfigError::table(s),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "`{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        ConfigError::table(message)
    }
}

impl From<&str> for ConfigError {
    fn from(message: &str) -> Self {
        ConfigError::table(message)
    }
}

/// Parse a config table given as TOML text into `C`. Use `#[serde(deny_unknown_fields)]` on `C` so a
/// mistyped key is refused by name.
pub fn parse_config<C: DeserializeOwned>(toml_text: &str) -> Result<C, ConfigError> {
    let de = toml::Deserializer::new(toml_text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // toml's message carries a multi-line snippet of the plugin's own table; the host points at the
        // real file line instead, so keep only the sentence.
        let message = inner.message().trim().to_string();
        if path.is_empty() || path == "." {
            ConfigError::table(message)
        } else {
            ConfigError::field(path, message)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cfg {
        port: u16,
        routes: Vec<Route>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Route {
        destination: String,
    }

    #[test]
    fn names_a_nested_field() {
        let e = parse_config::<Cfg>("port = 5060\n[[routes]]\ndestination = 7\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("routes[0].destination"));
        assert!(e.message.contains("string"), "{e}");
    }

    #[test]
    fn names_an_out_of_range_value() {
        let e = parse_config::<Cfg>("port = 70000\nroutes = []\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("port"));
    }

    #[test]
    fn names_an_unknown_key() {
        let e = parse_config::<Cfg>("port = 1\nroutes = []\nprot = 2\n").unwrap_err();
        assert!(e.message.contains("prot"), "{e}");
    }

    #[test]
    fn wire_round_trip() {
        let e = ConfigError::field("a.b", "bad");
        assert_eq!(ConfigError::from_wire(&e.to_wire()), e);
        let t = ConfigError::table("whole");
        assert_eq!(ConfigError::from_wire(&t.to_wire()), t);
    }
}
