//! Plugin images: shared objects loaded once, layout-checked, never unloaded.
//!
//! A rebuilt plugin at the same path is loaded from a fresh copy at a unique path (the dynamic loader
//! would otherwise hand back the old image). Unchanged files reuse the image already loaded, so a reload
//! that only changes config costs no memory. Every image stays mapped for the life of the process
//! (abi_stable never unloads): the bytes retained are counted and bounded.

use abi_stable::library::{lib_header_from_path, LibraryError};
use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sip_interop_abi::ffi::{Manifest, PluginModuleRef, PLUGIN_INTERFACE_VERSION};

use crate::metrics::Registry;

/// Why a plugin could not be loaded. Displays as one line naming the plugin file and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The plugin file.
    pub path: PathBuf,
    /// The cause, one line.
    pub cause: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plugin {}: {}", self.path.display(), self.cause)
    }
}

impl std::error::Error for LoadError {}

/// Identity of a file as far as rebuilds go: cheap metadata first, the content hash when the metadata
/// moved (a `touch` or `chmod` of an unchanged plugin is not a rebuild).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Fingerprint {
    /// Fingerprint of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let m = std::fs::metadata(path)?;
        Ok(Fingerprint {
            len: m.len(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ino: m.ino(),
        })
    }
}

/// Hash of a file's bytes.
fn content_hash(path: &Path) -> std::io::Result<u64> {
    use std::hash::Hasher;
    let bytes = std::fs::read(path)?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(&bytes);
    Ok(h.finish())
}

/// A loaded, layout-checked plugin image.
#[derive(Clone)]
pub struct Image {
    /// The plugin's root module.
    pub module: PluginModuleRef,
    /// Its manifest.
    pub manifest: Manifest,
    /// The path it was configured at.
    pub source: PathBuf,
    /// Size in bytes (what it retains in memory, roughly).
    pub bytes: u64,
    /// Load number within this cache (increases with every image mapped; shows a reload took a new image).
    pub serial: u64,
    fingerprint: Fingerprint,
    hash: u64,
}

/// A file that was mapped and refused: kept so the same bytes are not mapped again on every reload.
struct Refused {
    fingerprint: Fingerprint,
    hash: u64,
    cause: String,
}

/// Loaded images by canonical path.
pub struct ImageCache {
    state: Mutex<CacheState>,
    dir: PathBuf,
    serial: AtomicU64,
}

#[derive(Default)]
struct CacheState {
    /// The live image of each canonical path.
    images: HashMap<PathBuf, Image>,
    /// Files mapped and refused, by canonical path.
    refused: HashMap<PathBuf, Refused>,
    /// Canonical paths the dynamic loader has seen: a new build there must load from a copy.
    mapped: std::collections::HashSet<PathBuf>,
}

impl CacheState {
    /// Whether `canonical` now holds the same bytes as `(fp, hash)` described, refreshing the stored
    /// metadata when only that moved. `hash` is computed lazily.
    fn same(
        stored_fp: &mut Fingerprint,
        stored_hash: u64,
        fp: Fingerprint,
        canonical: &Path,
    ) -> bool {
        if *stored_fp == fp {
            return true;
        }
        if stored_fp.len == fp.len && content_hash(canonical).ok() == Some(stored_hash) {
            *stored_fp = fp;
            return true;
        }
        false
    }
}

/// Turn abi_stable's error (whose layout report runs to hundreds of lines) into one line.
fn one_line(e: &LibraryError) -> String {
    match e {
        LibraryError::OpenError { err, .. } => format!("cannot open the shared object: {err}"),
        LibraryError::GetSymbolError { .. } => {
            "not a SIP Interop Host plugin: it exports no plugin root module (build it as a cdylib with export_plugin!)".into()
        }
        LibraryError::IncompatibleVersionNumber { expected_version, actual_version, .. } => format!(
            "built against plugin interface {actual_version}, this host speaks {expected_version}: rebuild the plugin against this host's sip-interop-abi"
        ),
        LibraryError::AbiInstability(report) => format!(
            "built against an incompatible plugin interface ({}): rebuild the plugin against this host's sip-interop-abi",
            first_layout_error(&report.to_string())
        ),
        LibraryError::InvalidAbiHeader(h) => {
            format!("built with an incompatible abi_stable ({h:?}): rebuild the plugin against this host's sip-interop-abi")
        }
        LibraryError::InvalidCAbi { .. } => "built by a compiler with a different C ABI: rebuild it with this host's toolchain".into(),
        LibraryError::ParseVersionError(v) => format!("unreadable interface version: {v}"),
        LibraryError::RootModule { err, .. } => format!("its root module failed to initialise: {err}"),
        LibraryError::Many(list) => list.iter().map(one_line).next().unwrap_or_else(|| "unknown load error".into()),
    }
}

/// The first `Error:` of abi_stable's layout report, with its Expected/Found pair, on one line.
fn first_layout_error(report: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(i) = lines.iter().position(|l| l.starts_with("Error:")) else {
        return "layout check failed".into();
    };
    let mut out = lines[i].trim_start_matches("Error:").trim().to_string();
    let after = |label: &str| {
        lines
            .iter()
            .skip(i + 1)
            .take(6)
            .position(|l| *l == label)
            .and_then(|j| lines.get(i + 2 + j))
    };
    if let (Some(expected), Some(found)) = (after("Expected:"), after("Found:")) {
        out.push_str(&format!(
            ": this host expects {expected}, the plugin has {found}"
        ));
    }
    out
}

impl ImageCache {
    /// A cache that makes fresh copies of rebuilt plugins in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        ImageCache {
            state: Mutex::new(CacheState::default()),
            dir,
            serial: AtomicU64::new(0),
        }
    }

    /// Load the plugin at `path`, reusing the loaded image when the file has not changed. Refuses to map
    /// a new image when that would retain more than `max_retained` bytes.
    pub fn load(
        &self,
        path: &Path,
        max_retained: u64,
        metrics: &Registry,
    ) -> Result<Image, LoadError> {
        let err = |cause: String| LoadError {
            path: path.to_path_buf(),
            cause,
        };
        let canonical = path.canonicalize().map_err(|e| err(format!("cannot find the file: {e} (fix the `plugin` path; relative paths start at the config file's folder)")))?;
        let fp =
            Fingerprint::of(&canonical).map_err(|e| err(format!("cannot read the file: {e}")))?;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(img) = st.images.get_mut(&canonical) {
            if CacheState::same(&mut img.fingerprint, img.hash, fp, &canonical) {
                return Ok(img.clone());
            }
        }
        if let Some(r) = st.refused.get_mut(&canonical) {
            if CacheState::same(&mut r.fingerprint, r.hash, fp, &canonical) {
                return Err(err(r.cause.clone()));
            }
        }
        let retained = metrics.images_retained_bytes.load(Ordering::Relaxed);
        if retained + fp.len > max_retained {
            return Err(err(format!(
                "loading this image would retain {} MiB of plugin images (limit {} MiB, reload.max_retained_image_mib): restart the host to release replaced images",
                (retained + fp.len) >> 20,
                max_retained >> 20
            )));
        }
        let hash =
            content_hash(&canonical).map_err(|e| err(format!("cannot read the file: {e}")))?;
        // The dynamic loader hands back the image it already has for a path it has seen: a new build
        // there is loaded from a copy at a path of its own.
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let copy = if st.mapped.contains(&canonical) {
            std::fs::create_dir_all(&self.dir).map_err(|e| {
                err(format!(
                    "cannot create the image folder {}: {e}",
                    self.dir.display()
                ))
            })?;
            let stem = canonical
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("plugin");
            let copy = self
                .dir
                .join(format!("{stem}.{}.{serial}.so", std::process::id()));
            std::fs::copy(&canonical, &copy).map_err(|e| {
                err(format!(
                    "cannot copy the rebuilt plugin to {}: {e}",
                    copy.display()
                ))
            })?;
            Some(copy)
        } else {
            None
        };
        let load_path = copy.clone().unwrap_or_else(|| canonical.clone());
        let loaded =
            lib_header_from_path(&load_path).and_then(|h| h.init_root_module::<PluginModuleRef>());
        if let Some(copy) = copy {
            // Mapped now (or failed): the copy is not needed on disk any more.
            let _ = std::fs::remove_file(copy);
        }
        let mapped = !matches!(loaded, Err(LibraryError::OpenError { .. }));
        if mapped {
            // Mapped images are never released: count them whether or not they are accepted.
            st.mapped.insert(canonical.clone());
            metrics.images_loaded.fetch_add(1, Ordering::Relaxed);
            metrics
                .images_retained_bytes
                .fetch_add(fp.len, Ordering::Relaxed);
        }
        let accepted = loaded.map_err(|e| one_line(&e)).and_then(|module| {
            let version = module.interface_version();
            if version != PLUGIN_INTERFACE_VERSION {
                return Err(format!(
                    "built for plugin interface generation {version}, this host speaks {PLUGIN_INTERFACE_VERSION}: rebuild the plugin against this host's sip-interop-abi"
                ));
            }
            Ok(module)
        });
        match accepted {
            Ok(module) => {
                st.refused.remove(&canonical);
                let manifest = (module.manifest())();
                let image = Image {
                    module,
                    manifest,
                    source: path.to_path_buf(),
                    bytes: fp.len,
                    serial,
                    fingerprint: fp,
                    hash,
                };
                st.images.insert(canonical, image.clone());
                Ok(image)
            }
            Err(cause) => {
                if mapped {
                    st.refused.insert(
                        canonical,
                        Refused {
                            fingerprint: fp,
                            hash,
                            cause: cause.clone(),
                        },
                    );
                }
                Err(err(cause))
            }
        }
    }
}
