//! Building a complete chain from a config, and handing state from the old chain to the new one.
//! Nothing is swapped until everything here has succeeded.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sip_interop_abi::ffi::hooks;

use crate::chain::{Chain, Link};
use crate::config::LoadedConfig;
use crate::directory::{Directory, FileDirectory};
use crate::metrics::Registry;
use crate::plugin::services::{HandleGuard, TimerSink};
use crate::plugin::{ImageCache, Instance};

/// Why a chain could not be built; every problem found, one line each. The old chain stays in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for ReloadError {}

impl From<crate::config::ConfigError> for ReloadError {
    fn from(e: crate::config::ConfigError) -> Self {
        ReloadError {
            problems: vec![e.to_string()],
        }
    }
}

/// Build every link of `config`'s chain (loading images, constructing instances with their tables).
pub fn build_chain(
    config: &LoadedConfig,
    generation: u64,
    images: &ImageCache,
    metrics: &Registry,
    timers: Weak<dyn TimerSink>,
) -> Result<Chain, ReloadError> {
    let mut problems = Vec::new();
    let mut links = Vec::new();
    let directory: Option<Arc<dyn Directory>> = match config.directory_path() {
        None => None,
        Some(p) => match FileDirectory::load(&p) {
            Ok(d) => Some(Arc::new(d)),
            Err(e) => {
                let mut err = config.error_at("directory.file", e);
                err.fix = None;
                problems.push(err.to_string());
                None
            }
        },
    };
    let mut names = HashSet::new();
    let max_retained = config
        .config
        .reload
        .max_retained_image_mib
        .saturating_mul(1 << 20);
    for (i, entry) in config.config.chain.iter().enumerate() {
        if !entry.enabled {
            continue;
        }
        let path = config.plugin_path(i);
        let image = match images.load(&path, max_retained, metrics) {
            Ok(img) => img,
            Err(e) => {
                let mut err = config.error_at(&format!("chain[{i}].plugin"), e.cause.clone());
                err.setting = Some(format!("chain[{i}].plugin ({})", path.display()));
                problems.push(err.to_string());
                continue;
            }
        };
        let name = entry
            .name
            .clone()
            .unwrap_or_else(|| image.manifest.name.to_string());
        if !names.insert(name.clone()) {
            problems.push(
                config
                    .error_at(
                        &format!("chain[{i}].plugin"),
                        format!("a second chain entry is named `{name}`"),
                    )
                    .with_fix("give the entries distinct `name`s")
                    .to_string(),
            );
            continue;
        }
        let plugin_metrics = metrics.plugin(&name);
        let handle = HandleGuard::register(
            &name,
            image.manifest.name.as_str(),
            plugin_metrics.clone(),
            timers.clone(),
            directory.clone(),
        );
        let table = match toml::to_string(&entry.config) {
            Ok(t) => t,
            Err(e) => {
                problems.push(
                    config
                        .error_at(
                            &format!("chain[{i}].config"),
                            format!("cannot re-encode the table: {e}"),
                        )
                        .to_string(),
                );
                continue;
            }
        };
        match Instance::create(&image, &table, handle) {
            Ok(instance) => links.push(Link {
                name,
                hooks: image.manifest.hooks,
                instance,
                on_panic: entry.on_panic,
                budget: Duration::from_millis(entry.budget_ms),
                metrics: plugin_metrics,
            }),
            Err(e) => {
                let setting = match &e.field {
                    Some(f) => format!("chain[{i}].config.{f}"),
                    None => format!("chain[{i}].config"),
                };
                let mut err = config.error_at(
                    &setting,
                    format!("{} refused its config: {}", image.manifest.name, e.message),
                );
                if err.line.is_none() {
                    err = config.error_at(
                        &format!("chain[{i}]"),
                        format!("{} refused its config: {}", image.manifest.name, e.message),
                    );
                    err.setting = Some(setting);
                }
                problems.push(err.to_string());
            }
        }
    }
    if problems.is_empty() {
        Ok(Chain {
            generation,
            links,
            directory,
        })
    } else {
        Err(ReloadError { problems })
    }
}

/// Hand each stateful plugin's state to its successor of the same name.
pub fn transfer_state(old: &Chain, new: &Chain) -> Result<usize, ReloadError> {
    let mut problems = Vec::new();
    let mut moved = 0;
    for link in &new.links {
        let Some(prev) = old.link(&link.name) else {
            continue;
        };
        if prev.hooks & hooks::STATE == 0 || link.hooks & hooks::STATE == 0 {
            continue;
        }
        if prev.instance.image.manifest.name != link.instance.image.manifest.name {
            // The name now runs another plugin: the old state would be foreign to it.
            tracing::info!(plugin = %link.name, from = %prev.instance.image.manifest.name, to = %link.instance.image.manifest.name, "chain entry changed plugin: no state handed over");
            continue;
        }
        match prev.instance.hooks.export_state().into_result() {
            Ok(state) => match link
                .instance
                .hooks
                .import_state(state.as_slice().into())
                .into_result()
            {
                Ok(()) => moved += 1,
                Err(e) => problems.push(format!(
                    "plugin `{}`: the new instance refused the old one's state: {e}",
                    link.name
                )),
            },
            Err(e) => problems.push(format!(
                "plugin `{}`: exporting its state failed: {e}",
                link.name
            )),
        }
    }
    if problems.is_empty() {
        Ok(moved)
    } else {
        Err(ReloadError { problems })
    }
}
