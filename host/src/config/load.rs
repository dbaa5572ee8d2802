//! Read and check a config file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{line_col, locate_path, ConfigError, HostConfig};

/// A parsed config with what is needed to point back into it.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The typed config.
    pub config: HostConfig,
    /// The file it came from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

impl LoadedConfig {
    /// The folder relative plugin paths are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The absolute path of chain entry `i`'s plugin.
    pub fn plugin_path(&self, i: usize) -> PathBuf {
        let p = &self.config.chain[i].plugin;
        if p.is_absolute() {
            p.clone()
        } else {
            self.base_dir().join(p)
        }
    }

    /// The directory file, resolved against the config's folder.
    pub fn directory_path(&self) -> Option<PathBuf> {
        let p = self.config.directory.file.as_ref()?;
        Some(if p.is_absolute() {
            p.clone()
        } else {
            self.base_dir().join(p)
        })
    }

    /// An error about `setting`, located in the file.
    pub fn error_at(&self, setting: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = match locate_path(&self.text, setting) {
            Some(span) => {
                let (l, c) = line_col(&self.text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            setting: Some(setting.to_string()),
            message: message.into(),
            fix: None,
        }
    }
}

/// Read and parse `path`.
pub fn load_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::file(path, format!("cannot read the config file: {e}"))
            .with_fix("check the path given with -c and its permissions")
    })?;
    parse_str(path, text)
}

fn fix_for(message: &str) -> Option<&'static str> {
    if message.contains("unknown field") {
        Some("remove the key or correct its spelling; docs/CONFIGURATION.md lists every key")
    } else if message.contains("missing field") {
        Some("add the required key")
    } else if message.contains("invalid socket address") {
        Some("write an address with a port, e.g. \"127.0.0.1:5060\" or \"[::1]:5060\"")
    } else if message.contains("unknown variant") {
        Some("use one of the listed values")
    } else if message.contains("invalid type") {
        Some("check the value's type (quotes for text, no quotes for numbers and true/false)")
    } else {
        None
    }
}

/// Parse config text that came from `path`.
pub fn parse_str(path: &Path, text: String) -> Result<LoadedConfig, ConfigError> {
    let parsed: Result<HostConfig, toml::de::Error> = toml::from_str(&text);
    let config = match parsed {
        Ok(c) => c,
        Err(e) => {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(&text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            let message = e.message().trim().to_string();
            let fix = fix_for(&message).map(str::to_string);
            return Err(ConfigError {
                file: path.to_path_buf(),
                line,
                column,
                setting: None,
                message,
                fix,
            });
        }
    };
    let loaded = LoadedConfig {
        config,
        path: path.to_path_buf(),
        text,
    };
    check(&loaded)?;
    Ok(loaded)
}

/// Checks across settings that serde cannot express.
fn check(l: &LoadedConfig) -> Result<(), ConfigError> {
    let c = &l.config;
    let mut names = HashSet::new();
    for (i, entry) in c.chain.iter().enumerate() {
        if let Some(name) = &entry.name {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(l
                    .error_at(
                        &format!("chain[{i}].name"),
                        format!("`{name}` is not a usable plugin name"),
                    )
                    .with_fix("use letters, digits, '-' and '_'"));
            }
            if !names.insert(name.clone()) {
                return Err(l
                    .error_at(
                        &format!("chain[{i}].name"),
                        format!("the name `{name}` is used twice in the chain"),
                    )
                    .with_fix("give each chain entry its own name"));
            }
        }
        if entry.budget_ms == 0 {
            return Err(l
                .error_at(
                    &format!("chain[{i}].budget_ms"),
                    "a budget of 0 ms would flag every call",
                )
                .with_fix("use at least 1"));
        }
    }
    let mut seen = HashSet::new();
    for (i, li) in c.listen.iter().enumerate() {
        if !seen.insert((li.transport, li.address)) {
            return Err(l
                .error_at(
                    &format!("listen[{i}].address"),
                    format!("{} is configured twice for this transport", li.address),
                )
                .with_fix("remove the duplicate listener"));
        }
    }
    if c.reload.watch_interval_ms < 100 {
        return Err(l
            .error_at(
                "reload.watch_interval_ms",
                "polling faster than every 100 ms wastes CPU",
            )
            .with_fix("use 100 or more"));
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&c.logging.level) {
        return Err(l.error_at("logging.level", format!("not a log filter: {e}")).with_fix("use error, warn, info, debug or trace, optionally per module: \"info,sip_interop_host=debug\""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LoadedConfig, ConfigError> {
        parse_str(Path::new("host.toml"), text.to_string())
    }

    #[test]
    fn empty_config_is_valid_with_defaults() {
        let c = parse("").unwrap().config;
        assert!(c.chain.is_empty());
        assert_eq!(c.admin.listen.to_string(), "127.0.0.1:9060");
    }

    #[test]
    fn unknown_key_is_named_with_its_line_and_a_fix() {
        let e = parse("[admin]\nlisten = \"127.0.0.1:1\"\nlsten = 3\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("lsten"), "{e}");
        assert!(e.fix.is_some());
        assert!(e.to_string().starts_with("host.toml:3:"), "{e}");
    }

    #[test]
    fn bad_address_points_at_it() {
        let e = parse("[[listen]]\ntransport = \"udp\"\naddress = \"localhost\"\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn duplicate_chain_names_are_refused() {
        let e = parse("[[chain]]\nname = \"a\"\nplugin = \"x.so\"\n[[chain]]\nname = \"a\"\nplugin = \"y.so\"\n").unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("twice"));
    }

    #[test]
    fn bad_log_filter_is_refused() {
        let e = parse("[logging]\nlevel = \"info,,=x=\"\n").unwrap_err();
        assert_eq!(e.setting.as_deref(), Some("logging.level"), "{e}");
    }

    #[test]
    fn plugin_paths_are_relative_to_the_config() {
        let l = parse_str(
            Path::new("/etc/sip/host.toml"),
            "[[chain]]\nplugin = \"p/x.so\"\n".into(),
        )
        .unwrap();
        assert_eq!(l.plugin_path(0), PathBuf::from("/etc/sip/p/x.so"));
    }
}
