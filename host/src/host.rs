//! The host: the live chain behind `arc-swap`, the reload machinery, metrics and timers.

use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Instant, SystemTime};

use sip_interop_abi::sip::Message;

use crate::chain::{Chain, RequestOutcome, ResponseOutcome, StepTrace, TxContext};
use crate::config::{load_file, LoadedConfig};
use crate::metrics::Registry;
use crate::plugin::services::TimerSink;
use crate::plugin::ImageCache;
use crate::reload::{build_chain, transfer_state, ReloadError};

/// The result of the last reload attempt, for `ctl status`.
#[derive(Clone, Debug)]
pub struct ReloadReport {
    /// When it happened.
    pub at: SystemTime,
    /// What triggered it.
    pub trigger: String,
    /// The generation now live.
    pub generation: u64,
    /// `Ok(states moved)` or the problems.
    pub result: Result<usize, ReloadError>,
}

pub(crate) struct Shared {
    live: ArcSwap<Chain>,
    pub(crate) metrics: Registry,
    images: ImageCache,
    config: Mutex<LoadedConfig>,
    /// The settings read at start only, as they were at start.
    started_with: crate::config::HostConfig,
    reload_lock: Mutex<()>,
    last_reload: Mutex<Option<ReloadReport>>,
    pub(crate) started: Instant,
}

impl TimerSink for Shared {
    fn fire(&self, plugin: &str, manifest_name: &str, token: u64) {
        let chain = self.live.load();
        match chain.link(plugin) {
            Some(link) if link.instance.image.manifest.name.as_str() == manifest_name => {
                link.on_timer(token)
            }
            _ => tracing::debug!(
                plugin,
                "timer dropped: the chain entry is gone or now runs another plugin"
            ),
        }
    }
}

/// A running plugin host (standalone or embedded).
#[derive(Clone)]
pub struct Host {
    shared: Arc<Shared>,
}

fn default_image_dir() -> PathBuf {
    std::env::temp_dir().join("sip-interop-images")
}

impl Host {
    /// Load `config_path` and build its chain.
    pub fn from_file(config_path: &Path) -> Result<Host, ReloadError> {
        Host::from_config(load_file(config_path)?)
    }

    /// Build a host from an already parsed config.
    pub fn from_config(config: LoadedConfig) -> Result<Host, ReloadError> {
        let dir = config
            .config
            .reload
            .image_dir
            .clone()
            .unwrap_or_else(default_image_dir);
        let shared = Arc::new(Shared {
            live: ArcSwap::from_pointee(Chain::empty(0)),
            metrics: Registry::default(),
            images: ImageCache::new(dir),
            config: Mutex::new(config.clone()),
            started_with: config.config.clone(),
            reload_lock: Mutex::new(()),
            last_reload: Mutex::new(None),
            started: Instant::now(),
        });
        let host = Host { shared };
        host.install(config, "start")?;
        Ok(host)
    }

    /// The chain live now. Hold the `Arc` for the whole transaction: it keeps running on this
    /// generation while new transactions see a newer one.
    pub fn snapshot(&self) -> Arc<Chain> {
        self.shared.live.load_full()
    }

    /// Generation of the live chain.
    pub fn generation(&self) -> u64 {
        self.shared.live.load().generation
    }

    /// Metrics of this host.
    pub fn metrics(&self) -> &Registry {
        &self.shared.metrics
    }

    /// The config in force.
    pub fn config(&self) -> LoadedConfig {
        self.shared
            .config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The last reload attempt.
    pub fn last_reload(&self) -> Option<ReloadReport> {
        self.shared
            .last_reload
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Time since the host started.
    pub fn uptime(&self) -> std::time::Duration {
        self.shared.started.elapsed()
    }

    /// Walk a request through the live chain (a one-shot transaction).
    pub fn process_request(
        &self,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        trace: Option<&mut Vec<StepTrace>>,
    ) -> RequestOutcome {
        let chain = self.shared.live.load();
        chain.run_request(msg, ctx, &self.shared.metrics, trace)
    }

    /// Walk a response through `chain` (the snapshot its transaction started with).
    pub fn process_response(
        &self,
        chain: &Chain,
        msg: &Message<'_>,
        ctx: &mut TxContext,
        trace: Option<&mut Vec<StepTrace>>,
    ) -> ResponseOutcome {
        chain.run_response(msg, ctx, &self.shared.metrics, trace)
    }

    /// Reload from the config file in force (re-read from disk).
    pub fn reload(&self, trigger: &str) -> Result<u64, ReloadError> {
        let path = self.config().path;
        let loaded = match load_file(&path) {
            Ok(l) => l,
            Err(e) => {
                let err = ReloadError::from(e);
                tracing::error!(
                    trigger,
                    "reload refused, the running chain stays in force: {err}"
                );
                self.shared.metrics.reloads_failed.fetch_add(1, Relaxed);
                self.record(trigger, Err(err.clone()));
                return Err(err);
            }
        };
        self.warn_start_only_changes(&loaded);
        self.install(loaded, trigger)
    }

    /// Build the complete chain of `config` and swap it in; on any failure the old chain stays.
    pub fn install(&self, config: LoadedConfig, trigger: &str) -> Result<u64, ReloadError> {
        let _one_at_a_time = self
            .shared
            .reload_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let old = self.shared.live.load_full();
        let generation = old.generation + 1;
        let sink: Weak<dyn TimerSink> = Arc::downgrade(&self.shared) as Weak<dyn TimerSink>;
        let built = build_chain(
            &config,
            generation,
            &self.shared.images,
            &self.shared.metrics,
            sink,
        )
        .and_then(|chain| transfer_state(&old, &chain).map(|moved| (chain, moved)));
        match built {
            Ok((chain, moved)) => {
                let names: Vec<&str> = chain.links.iter().map(|l| l.name.as_str()).collect();
                tracing::info!(generation, trigger, plugins = ?names, states_moved = moved, "chain swapped in");
                self.shared.live.store(Arc::new(chain));
                *self.shared.config.lock().unwrap_or_else(|p| p.into_inner()) = config;
                self.shared
                    .metrics
                    .chain_generation
                    .store(generation, Relaxed);
                if trigger != "start" {
                    self.shared.metrics.reloads_ok.fetch_add(1, Relaxed);
                }
                self.record(trigger, Ok(moved));
                Ok(generation)
            }
            Err(e) => {
                if trigger != "start" {
                    // At start the caller reports the problems itself, one line each.
                    tracing::error!(
                        trigger,
                        "reload refused, the running chain stays in force: {e}"
                    );
                    self.shared.metrics.reloads_failed.fetch_add(1, Relaxed);
                }
                self.record(trigger, Err(e.clone()));
                Err(e)
            }
        }
    }

    fn record(&self, trigger: &str, result: Result<usize, ReloadError>) {
        let report = ReloadReport {
            at: SystemTime::now(),
            trigger: trigger.into(),
            generation: self.generation(),
            result,
        };
        *self
            .shared
            .last_reload
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(report);
    }

    /// What the file watcher compares between polls: size and modification time of the config file
    /// and of every enabled plugin file (`None` for a file it cannot read).
    pub fn watch_signature(&self) -> Vec<Option<(u64, SystemTime)>> {
        let cfg = self.config();
        let stat = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        };
        let mut sig = vec![stat(&cfg.path)];
        sig.extend(
            (0..cfg.config.chain.len())
                .filter(|&i| cfg.config.chain[i].enabled)
                .map(|i| stat(&cfg.plugin_path(i))),
        );
        if let Some(d) = cfg.directory_path() {
            sig.push(stat(&d));
        }
        sig
    }

    /// Settings that a reload cannot change are read at start only: say so when they differ.
    fn warn_start_only_changes(&self, new: &LoadedConfig) {
        let old = &self.shared.started_with;
        let n = &new.config;
        let changed = [
            ("listen", old.listen != n.listen),
            ("admin", old.admin != n.admin),
            ("logging", old.logging != n.logging),
            (
                "reload.watch",
                old.reload.watch != n.reload.watch
                    || old.reload.watch_interval_ms != n.reload.watch_interval_ms,
            ),
            (
                "reload.image_dir",
                old.reload.image_dir != n.reload.image_dir,
            ),
        ];
        for (setting, differs) in changed {
            if differs {
                tracing::warn!(
                    setting,
                    "this setting changed in the config file but takes effect only at restart"
                );
            }
        }
    }
}
