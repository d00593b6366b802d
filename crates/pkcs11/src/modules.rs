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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Where p11-kit's module registry lives on Debian and derivatives.
pub const P11KIT_REGISTRY: &str = "/usr/share/p11-kit/modules";

/// The modules to try: those configured (policy, settings) first, then the known vendor modules
/// present on this machine, then (Linux) the modules registered with p11-kit, as storage
/// `PKCS11`. Discovery never fails; missing files are skipped, and a module that does not load
/// is reported when listing.
pub fn discover(configured: &[ModuleConfig]) -> Vec<ModuleConfig> {
    let mut out: Vec<ModuleConfig> = configured.to_vec();
    if cfg!(target_os = "linux") {
        for m in p11kit_modules(Path::new(P11KIT_REGISTRY)) {
            if m.is_file() && !out.iter().any(|c| c.module == m) {
                out.push(ModuleConfig {
                    storage: "PKCS11".into(),
                    module: m,
                });
            }
        }
    }
    for k in KNOWN_MODULES {
        let names = if cfg!(windows) {
            k.windows
        } else if cfg!(target_os = "macos") {
            k.macos
        } else {
            k.linux
        };
        for n in names {
            let p = if cfg!(windows) {
                windows_path(n, std::env::var_os("SystemRoot").as_deref())
            } else {
                PathBuf::from(n)
            };
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

/// Where Windows keeps a vendor module given by file name: `%SystemRoot%\\System32` (where
/// the JaCarta and SafeNet installers put their 64-bit modules); a full path stays as it is.
fn windows_path(name: &str, system_root: Option<&std::ffi::OsStr>) -> PathBuf {
    if name.contains(['\\', '/', ':']) {
        return PathBuf::from(name);
    }
    let root = system_root.map_or_else(|| PathBuf::from("C:\\Windows"), PathBuf::from);
    root.join("System32").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p11kit_registry_is_read_and_the_trust_module_skipped() {
        let dir = std::env::temp_dir().join(format!("qoltanba-p11kit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("a.module"),
            "module: /usr/lib/x/liba.so\ncritical: no\n",
        )
        .unwrap();
        std::fs::write(dir.join("b.module"), "module: libb.so\n").unwrap();
        std::fs::write(dir.join("trust.module"), "module: p11-kit-trust.so\n").unwrap();
        let m = p11kit_modules(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            m,
            vec![
                PathBuf::from("/usr/lib/x/liba.so"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/pkcs11/libb.so"),
            ]
        );
    }

    #[test]
    fn windows_modules_are_looked_for_in_system32() {
        let root = std::ffi::OsStr::new("D:\\Win");
        assert_eq!(
            windows_path("jcPKCS11-2.dll", Some(root)),
            PathBuf::from("D:\\Win")
                .join("System32")
                .join("jcPKCS11-2.dll")
        );
        assert_eq!(
            windows_path("eTPKCS11.dll", None),
            PathBuf::from("C:\\Windows")
                .join("System32")
                .join("eTPKCS11.dll")
        );
        assert_eq!(
            windows_path("C:\\Vendor\\kz.dll", None),
            PathBuf::from("C:\\Vendor\\kz.dll")
        );
    }

    #[test]
    fn configured_modules_come_first_and_missing_files_are_skipped() {
        let c = vec![ModuleConfig {
            storage: "AKKaztokenStore".into(),
            module: "/x/kaz.so".into(),
        }];
        let d = discover(&c);
        assert_eq!(d[0], c[0]);
        assert!(d.iter().skip(1).all(|m| m.module.is_file()));
    }
}
