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

/// Identity of a file's contents as far as rebuilds go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    len: u64,
    mtime_ns: i128,
    ino: u64,
    ctime_ns: i128,
}

impl Fingerprint {
    /// Fingerprint of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let m = std::fs::metadata(path)?;
        Ok(Fingerprint {
            len: m.len(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ino: m.ino(),
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
        })
    }
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
    /// Which load of this path it is (1 = first).
    pub serial: u64,
    fingerprint: Fingerprint,
}

/// Loaded images by canonical path.
pub struct ImageCache {
    images: Mutex<HashMap<PathBuf, Image>>,
    dir: PathBuf,
    serial: AtomicU64,
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
            images: Mutex::new(HashMap::new()),
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
        let fingerprint =
            Fingerprint::of(&canonical).map_err(|e| err(format!("cannot read the file: {e}")))?;
        let mut images = self.images.lock().unwrap_or_else(|p| p.into_inner());
        let previous = images.get(&canonical).cloned();
        if let Some(img) = &previous {
            if img.fingerprint == fingerprint {
                return Ok(img.clone());
            }
        }
        let retained = metrics.images_retained_bytes.load(Ordering::Relaxed);
        if retained + fingerprint.len > max_retained {
            return Err(err(format!(
                "loading this image would retain {} MiB of plugin images (limit {} MiB, reload.max_retained_image_mib): restart the host to release replaced images",
                (retained + fingerprint.len) >> 20,
                max_retained >> 20
            )));
        }
        // A rebuilt file must be loaded from a path the dynamic loader has not seen; the first load of a
        // path can use it directly.
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let (load_path, copy) = if previous.is_some() {
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
            (copy.clone(), Some(copy))
        } else {
            (canonical.clone(), None)
        };
        let loaded =
            lib_header_from_path(&load_path).and_then(|h| h.init_root_module::<PluginModuleRef>());
        if let Some(copy) = copy {
            // Mapped now (or failed): the copy is not needed on disk any more.
            let _ = std::fs::remove_file(copy);
        }
        let module = loaded.map_err(|e| err(one_line(&e)))?;
        // The file is mapped now: count it even if we refuse it below, it cannot be released.
        metrics.images_loaded.fetch_add(1, Ordering::Relaxed);
        metrics
            .images_retained_bytes
            .fetch_add(fingerprint.len, Ordering::Relaxed);
        let version = module.interface_version();
        if version != PLUGIN_INTERFACE_VERSION {
            return Err(err(format!(
                "built for plugin interface generation {version}, this host speaks {PLUGIN_INTERFACE_VERSION}: rebuild the plugin against this host's sip-interop-abi"
            )));
        }
        let manifest = (module.manifest())();
        let image = Image {
            module,
            manifest,
            source: path.to_path_buf(),
            bytes: fingerprint.len,
            serial,
            fingerprint,
        };
        images.insert(canonical, image.clone());
        Ok(image)
    }

    /// Whether the file behind `path` differs from the image loaded from it.
    pub fn changed(&self, path: &Path) -> bool {
        let Ok(canonical) = path.canonicalize() else {
            return true;
        };
        let images = self.images.lock().unwrap_or_else(|p| p.into_inner());
        match (images.get(&canonical), Fingerprint::of(&canonical)) {
            (Some(img), Ok(fp)) => img.fingerprint != fp,
            _ => true,
        }
    }
}
