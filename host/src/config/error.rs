//! A configuration error that points at the line.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with a config file, where, and how to fix it. Displays as one line:
/// `host.toml:14:9: chain[1].config.port: must be 1–65535 (fix: ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the setting (`chain[1].config.port`), when known.
    pub setting: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub fix: Option<String>,
}

impl ConfigError {
    /// An error about the file as a whole.
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line: None,
            column: None,
            setting: None,
            message: message.into(),
            fix: None,
        }
    }

    /// Add a fix.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(s) = &self.setting {
            write!(f, "{s}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {fix})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
