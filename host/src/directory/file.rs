//! A directory read from a file: TOML (`[[user]] aor = "…" home = "…"`) or CSV (`aor,home` per line,
//! `#` comments, an optional header line).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{normalise_aor, Directory};

/// Users and their homes, from a file.
#[derive(Debug)]
pub struct FileDirectory {
    path: PathBuf,
    homes: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    user: Vec<TomlUser>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlUser {
    aor: String,
    home: String,
}

impl FileDirectory {
    /// Read `path`; a `.csv` file is CSV, anything else TOML. Errors name the file and line.
    pub fn load(path: &Path) -> Result<FileDirectory, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the directory: {e}", path.display()))?;
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let pairs = if is_csv {
            parse_csv(&text).map_err(|e| format!("{}:{e}", path.display()))?
        } else {
            parse_toml(&text).map_err(|e| format!("{}:{e}", path.display()))?
        };
        let mut homes = HashMap::with_capacity(pairs.len());
        for (line, aor, home) in pairs {
            check_home(&home).map_err(|e| format!("{}:{line}: {e}", path.display()))?;
            let key = normalise_aor(&aor);
            if !key.contains('@') {
                return Err(format!(
                    "{}:{line}: aor `{aor}` is not user@host (fix: write it as alice@contoso.com)",
                    path.display()
                ));
            }
            if homes.insert(key, home).is_some() {
                return Err(format!(
                    "{}:{line}: user `{aor}` is listed twice (fix: keep one line per user)",
                    path.display()
                ));
            }
        }
        Ok(FileDirectory {
            path: path.to_path_buf(),
            homes,
        })
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.homes.len()
    }

    /// Whether it lists nobody.
    pub fn is_empty(&self) -> bool {
        self.homes.is_empty()
    }
}

fn check_home(home: &str) -> Result<(), String> {
    match sip_interop_abi::sip::Uri::parse(home) {
        Ok(sip_interop_abi::sip::Uri::Sip(_)) => Ok(()),
        _ => Err(format!(
            "home `{home}` is not a sip: or sips: URI (fix: e.g. sip:pool01.contoso.com;transport=tls)"
        )),
    }
}

fn parse_csv(text: &str) -> Result<Vec<(usize, String, String)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((aor, home)) = line.split_once(',') else {
            return Err(format!(
                "{}: expected `aor,home` (fix: alice@contoso.com,sip:pool01.contoso.com)",
                i + 1
            ));
        };
        let (aor, home) = (aor.trim(), home.trim());
        if out.is_empty() && aor.eq_ignore_ascii_case("aor") && home.eq_ignore_ascii_case("home") {
            continue;
        }
        if home.contains(',') {
            return Err(format!("{}: more than two fields", i + 1));
        }
        out.push((i + 1, aor.to_string(), home.to_string()));
    }
    Ok(out)
}

fn parse_toml(text: &str) -> Result<Vec<(usize, String, String)>, String> {
    let file: TomlFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(1);
        format!("{line}: {}", e.message())
    })?;
    // Line numbers of each [[user]] table, for errors found after parsing.
    let starts: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[user]]"))
        .map(|(i, _)| i + 1)
        .collect();
    Ok(file
        .user
        .into_iter()
        .enumerate()
        .map(|(i, u)| (starts.get(i).copied().unwrap_or(1), u.aor, u.home))
        .collect())
}

impl Directory for FileDirectory {
    fn home_of(&self, aor: &str) -> Option<&str> {
        self.homes.get(aor).map(String::as_str)
    }

    fn describe(&self) -> String {
        format!("{} ({} users)", self.path.display(), self.homes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sih-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_and_toml_give_the_same_homes() {
        let csv = write(
            "users.csv",
            "aor,home\n# pool 1\nalice@Contoso.com, sip:pool01.contoso.com;transport=tls\n",
        );
        let toml = write(
            "users.toml",
            "[[user]]\naor = \"alice@contoso.com\"\nhome = \"sip:pool01.contoso.com;transport=tls\"\n",
        );
        for p in [csv, toml] {
            let d = FileDirectory::load(&p).unwrap();
            assert_eq!(
                d.home_of("alice@contoso.com"),
                Some("sip:pool01.contoso.com;transport=tls"),
                "{}",
                p.display()
            );
            assert_eq!(d.home_of("bob@contoso.com"), None);
            assert_eq!(d.len(), 1);
        }
    }

    #[test]
    fn mistakes_name_the_line() {
        let p = write(
            "dup.csv",
            "a@x.org,sip:h1.x.org\nb@x.org,sip:h2.x.org\na@X.ORG,sip:h3.x.org\n",
        );
        let e = FileDirectory::load(&p).unwrap_err();
        assert!(e.contains("dup.csv:3:") && e.contains("twice"), "{e}");
        let p = write("bad.csv", "a@x.org,sip:h1.x.org\nb@x.org,http://nope\n");
        let e = FileDirectory::load(&p).unwrap_err();
        assert!(e.contains("bad.csv:2:") && e.contains("not a sip"), "{e}");
        let p = write(
            "bad.toml",
            "[[user]]\naor = \"a@x.org\"\nhome = \"sip:h\"\n\n[[user]]\naor = \"nohost\"\nhome = \"sip:h\"\n",
        );
        let e = FileDirectory::load(&p).unwrap_err();
        assert!(e.contains("bad.toml:5:") && e.contains("user@host"), "{e}");
    }
}
