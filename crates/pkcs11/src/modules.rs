//! Which PKCS#11 library serves which NCALayer storage (KZ-PKI.md §5), in one table.

use std::path::{Path, PathBuf};

/// A vendor module known by name.
#[derive(Debug, Clone, Copy)]
pub struct KnownModule {
    /// NCALayer's storage name.
    pub storage: &'static str,
    /// Library file names or paths on Linux.
    pub linux: &'static [&'static str],
    /// On Windows (in System32 or on PATH).
    pub windows: &'static [&'static str],
    /// On macOS.
    pub macos: &'static [&'static str],
}

/// The vendor modules whose names are published (KZ-PKI.md §5). KazToken's and the ID card's
/// module names are not public; admins map them in the policy file (`[[tokens]]`).
pub const KNOWN_MODULES: &[KnownModule] = &[
    KnownModule {
        storage: "AKJaCartaStore",
        linux: &[
            "/usr/lib/libjcPKCS11-2.so",
            "/usr/lib/x86_64-linux-gnu/libjcPKCS11-2.so",
        ],
        windows: &["jcPKCS11-2.dll"],
        macos: &["/Library/Frameworks/jcPKCS11-2.framework/jcPKCS11-2"],
    },
    KnownModule {
        storage: "AKEToken72KStore",
        linux: &["/usr/lib/libeToken.so", "/usr/lib/libeTPkcs11.so"],
        windows: &["eTPKCS11.dll"],
        macos: &["/usr/local/lib/libeTPkcs11.dylib"],
    },
    KnownModule {
        storage: "AKEToken5110Store",
        linux: &["/usr/lib/libeToken.so", "/usr/lib/libeTPkcs11.so"],
        windows: &["eTPKCS11.dll"],
        macos: &["/usr/local/lib/libeTPkcs11.dylib"],
    },
];

/// A module to use and the storage name it answers to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ModuleConfig {
    /// NCALayer storage name (`AKKaztokenStore`…); any name for modules found otherwise.
    pub storage: String,
    /// Library path.
    pub module: PathBuf,
}

/// Modules registered with p11-kit (`/usr/share/p11-kit/modules/*.module`, `module:` lines),
/// except p11-kit's own trust module, which holds no keys.
pub fn p11kit_modules(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        for line in text.lines() {
            if let Some(m) = line.trim().strip_prefix("module:") {
                let m = m.trim();
                if m.contains("p11-kit-trust") {
                    continue;
                }
                let p = PathBuf::from(m);
                out.push(if p.is_absolute() {
                    p
                } else {
                    PathBuf::from("/usr/lib/x86_64-linux-gnu/pkcs11").join(p)
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The modules to try: those configured (policy, settings) first, then the known vendor modules
/// present on this machine. Discovery never fails; missing files are skipped.
pub fn discover(configured: &[ModuleConfig]) -> Vec<ModuleConfig> {
    let mut out: Vec<ModuleConfig> = configured.to_vec();
    for k in KNOWN_MODULES {
        let names = if cfg!(windows) {
            k.windows
        } else if cfg!(target_os = "macos") {
            k.macos
        } else {
            k.linux
        };
        for n in names {
            let p = PathBuf::from(n);
            if p.is_file() && !out.iter().any(|m| m.storage == k.storage) {
                out.push(ModuleConfig {
                    storage: k.storage.into(),
                    module: p,
                });
            }
        }
    }
    out
}
