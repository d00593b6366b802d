//! The engine: everything a signing service needs, set up in one place so that `qoltanba
//! serve` and the desktop app start the same thing with one call each — data and config
//! directories, NCA trust anchors, the admin policy (parsed once), key files remembered in the
//! settings file, the token directory, the origin store, the prompt limits around the
//! prompter, TLS, and the listener. What these are kept in is `qoltanba_local`'s.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use qoltanba_keys::KeyFiles;
use qoltanba_local::history::{History, HistoryJournal};
use qoltanba_local::origins::FileOriginStore;
use qoltanba_local::paths::{NoHome, config_dir, data_dir, expand_home};
use qoltanba_local::policy::{PolicyError, PolicyFile, load_policy};
use qoltanba_local::settings::{SettingsFile, SettingsFileMemory};
use qoltanba_osstore::{OsStore, OsStoreConfig};
use qoltanba_pkcs11::TokenDirectory;
use qoltanba_protocol::{Dispatcher, Limits, Prompter, RateLimited, Settings};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::revocation::HttpRevocation;
use crate::tsa::{HttpTsa, TsaConfig};
use crate::{DEFAULT_MAX_MESSAGE, DEFAULT_PORT, ServerOptions, tls};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No home directory to keep data in.
    #[error(transparent)]
    NoHome(#[from] NoHome),
    /// The admin policy file is unreadable or invalid.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    /// A trust anchor file is unreadable or holds no certificate.
    #[error("trust anchor {0}: {1}")]
    Anchor(PathBuf, String),
    /// The local TLS certificate could not be made or loaded.
    #[error("local TLS certificate: {0}")]
    Tls(String),
    /// The port is taken.
    #[error("port {port} is already in use by {holder}")]
    PortTaken {
        /// The port.
        port: u16,
        /// Who holds it (a process name and pid when known).
        holder: String,
    },
    /// Another I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Prompt limits per origin (see [`RateLimited`]).
#[derive(Debug, Clone, Copy)]
pub struct PromptLimits {
    /// Most prompted calls per origin in `window`.
    pub per_window: usize,
    /// The window.
    pub window: Duration,
}

impl Default for PromptLimits {
    fn default() -> Self {
        Self {
            per_window: 10,
            window: Duration::from_mins(1),
        }
    }
}

/// What the engine is started with (the options of `qoltanba serve`).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where to listen (`127.0.0.1:13579`).
    pub listen: SocketAddr,
    /// Serve `wss://` with the per-install local certificate; `false`: plain `ws://`.
    pub tls: bool,
    /// Extra trust anchor files (PEM or DER) besides NCA's pinned CAs in the data dir.
    pub trust_anchors: Vec<PathBuf>,
    /// The data directory; `None`: the platform's (`$XDG_DATA_HOME/qoltanba`).
    pub data_dir: Option<PathBuf>,
    /// The settings directory; `None`: the data dir when one was given, else the platform's
    /// (`$XDG_CONFIG_HOME/qoltanba`).
    pub config_dir: Option<PathBuf>,
    /// The admin policy file; `None`: [`DEFAULT_POLICY`] when present.
    pub policy: Option<PathBuf>,
    /// Largest WebSocket message.
    pub max_message: usize,
    /// Prompt limits around the prompter; `None`: none (a prompter that asks nobody).
    pub prompt_limits: Option<PromptLimits>,
    /// Longest a request may take, prompts included, before the page gets a time-out error.
    pub request_timeout: Duration,
    /// The timestamp authority's URL (`--tsa`); `None`: the admin policy's `[tsa]`, else NCA's.
    pub tsa_url: Option<String>,
    /// An OCSP responder to ask instead of the certificates' own (`--ocsp`).
    pub ocsp_url: Option<String>,
    /// Linux: the NSS database offered as the OS store (`--nss-db`); `None`: the policy's
    /// `[os_store] nss_db`, else `$HOME/.pki/nssdb`.
    pub nss_db: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            tls: true,
            trust_anchors: Vec::new(),
            data_dir: None,
            config_dir: None,
            policy: None,
            max_message: DEFAULT_MAX_MESSAGE,
            prompt_limits: Some(PromptLimits::default()),
            request_timeout: Duration::from_mins(10),
            tsa_url: None,
            ocsp_url: None,
            nss_db: None,
        }
    }
}

/// Trust anchors: NCA's pinned CAs kept in `<data_dir>/anchors` (anything else there is
/// ignored), plus the given files (all their certificates).
pub fn trust_anchors(data: &Path, extra: &[PathBuf]) -> Result<Vec<Vec<u8>>, EngineError> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(data.join("anchors")) {
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                for der in qoltanba_sign::input::decode_certificates(&bytes).unwrap_or_default() {
                    if qoltanba_pki::anchors::pinned(&der).is_some() {
                        out.push(der);
                    }
                }
            }
        }
    }
    for p in extra {
        let bytes = std::fs::read(p).map_err(|e| EngineError::Anchor(p.clone(), e.to_string()))?;
        out.extend(
            qoltanba_sign::input::decode_certificates(&bytes)
                .map_err(|e| EngineError::Anchor(p.clone(), e.to_string()))?,
        );
    }
    Ok(out)
}

/// The token directory as the protocol's `getActiveTokens` port.
struct TokensPort(Arc<TokenDirectory>);

impl qoltanba_protocol::TokenStorages for TokensPort {
    fn active_storages(&self) -> Vec<String> {
        self.0.active_storages()
    }
}

/// Where keys come from: remembered key files, tokens (the admin's modules, the person's own,
/// the known vendor ones, p11-kit's) and the OS store. The engine offers all three; `qoltanba
/// keys list` lists them.
pub struct KeySources {
    /// Remembered key files.
    pub key_files: Arc<KeyFiles>,
    /// PKCS#11 tokens.
    pub tokens: Arc<TokenDirectory>,
    /// The OS certificate store.
    pub os_store: Arc<OsStore>,
}

impl KeySources {
    /// The sources as `config`, the admin `policy` and the person's settings say.
    pub fn new(config: &EngineConfig, policy: &PolicyFile) -> Result<Self, EngineError> {
        let data = data_dir(config.data_dir.as_deref())?;
        let conf = config_dir(config.config_dir.as_deref(), config.data_dir.as_deref())?;
        let settings = SettingsFile::new(&conf);
        let mut modules = policy.tokens.clone();
        modules.extend(settings.load().tokens);
        let tokens = Arc::new(TokenDirectory::new(qoltanba_pkcs11::discover(&modules)));
        let key_files = Arc::new(KeyFiles::new(Arc::new(SettingsFileMemory::new(
            &conf, &data,
        ))));
        Ok(Self {
            key_files,
            tokens,
            os_store: Arc::new(OsStore::new(&os_store_config(config, policy))),
        })
    }
}

/// The OS store as the command line and the admin policy say (the command line wins).
pub fn os_store_config(config: &EngineConfig, policy: &PolicyFile) -> OsStoreConfig {
    let mut c = OsStoreConfig::default();
    if let Some(p) = &policy.os_store {
        c.enabled = p.enabled;
        c.nss_db = p.nss_db.as_deref().map(expand_home);
    }
    if let Some(d) = &config.nss_db {
        c.enabled = true;
        c.nss_db = Some(d.clone());
    }
    c
}

/// What the person or admin should hear at start: no trust anchors, a settings file that does
/// not parse (it is left alone).
fn start_notices(anchors: &[Vec<u8>], settings: &SettingsFile) -> Vec<String> {
    let mut notices = Vec::new();
    if anchors.is_empty() {
        notices.push(
            "no trust anchors: certificate chains are not checked before signing \
             (run `qoltanba trust update` or give --trust-anchor)"
                .to_owned(),
        );
    }
    if let Err(e) = settings.read() {
        notices.push(format!(
            "{e}: running on the default settings; nothing is written to the file until it is \
             fixed or moved aside"
        ));
    }
    notices
}

/// A started engine, ready to bind and serve.
pub struct Engine {
    /// The protocol, with its prompter and key providers.
    pub dispatcher: Arc<Dispatcher>,
    /// Server limits and TLS.
    pub options: ServerOptions,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The data directory in use.
    pub data_dir: PathBuf,
    /// The settings directory in use.
    pub config_dir: PathBuf,
    /// The admin policy in force (parsed once).
    pub policy: PolicyFile,
    /// Remembered key files.
    pub key_files: Arc<KeyFiles>,
    /// PKCS#11 tokens.
    pub tokens: Arc<TokenDirectory>,
    /// The OS certificate store.
    pub os_store: Arc<OsStore>,
    /// The person's site decisions.
    pub origins: Arc<FileOriginStore>,
    /// What was signed.
    pub history: Arc<History>,
    /// The timestamp authority in use.
    pub tsa: TsaConfig,
    /// The revocation checker the dispatcher uses (a window shows a certificate's state).
    pub revocation: Option<Arc<HttpRevocation>>,
    /// `settings.toml`.
    pub settings: SettingsFile,
    /// Things the person or admin should know (no trust anchors, a new TLS certificate).
    pub notices: Vec<String>,
}

impl Engine {
    /// Sets everything up around `prompter`. Nothing listens yet ([`Engine::bind`]).
    pub fn build(config: &EngineConfig, prompter: Arc<dyn Prompter>) -> Result<Self, EngineError> {
        crate::memory::init();
        let data = data_dir(config.data_dir.as_deref())?;
        let conf = config_dir(config.config_dir.as_deref(), config.data_dir.as_deref())?;
        let anchors = trust_anchors(&data, &config.trust_anchors)?;
        let policy = load_policy(config.policy.as_deref())?;
        let settings = SettingsFile::new(&conf);
        let mut notices = start_notices(&anchors, &settings);
        let KeySources {
            key_files,
            tokens,
            os_store,
        } = KeySources::new(config, &policy)?;
        let prompter: Arc<dyn Prompter> = match config.prompt_limits {
            Some(l) => Arc::new(RateLimited::new(prompter, l.per_window, l.window)),
            None => prompter,
        };
        let mut tsa_config = policy.tsa.clone().unwrap_or_default();
        if let Some(u) = &config.tsa_url {
            u.clone_into(&mut tsa_config.url);
        }
        let store = Arc::new(FileOriginStore::open(&data));
        let history = Arc::new(History::open(&data));
        let dispatcher = Dispatcher::new(
            prompter,
            store.clone(),
            Settings {
                trust_anchors: anchors,
                origins: policy.origin_policy(),
                limits: Limits::default(),
            },
        )
        .with_key_files(key_files.clone())
        .with_provider(tokens.clone())
        .with_provider(os_store.clone())
        .with_tokens(Arc::new(TokensPort(tokens.clone())))
        .with_journal(Arc::new(HistoryJournal {
            history: history.clone(),
        }))
        .with_tsa(Arc::new(HttpTsa::new(tsa_config.clone())));
        let mut revocation = policy.revocation.clone().unwrap_or_default();
        if let Some(u) = &config.ocsp_url {
            revocation.ocsp_url = Some(u.clone());
        }
        let revocation_check = if revocation.enabled {
            Some(Arc::new(HttpRevocation::new(revocation.clone())))
        } else {
            None
        };
        let dispatcher = match &revocation_check {
            Some(c) => {
                let when = revocation.when_unchecked()?;
                dispatcher.with_revocation(c.clone(), when)
            }
            None => dispatcher,
        };
        let mut options = ServerOptions {
            max_message: config.max_message,
            request_timeout: config.request_timeout,
            max_pending_bytes: config.max_message.saturating_mul(2),
            ..ServerOptions::default()
        };
        if config.tls {
            let (tls_config, renewed) =
                tls::ensure(&data).map_err(|e| EngineError::Tls(e.to_string()))?;
            if renewed {
                notices.push(format!(
                    "made a new local TLS certificate; trust its CA with `qoltanba trust install` ({})",
                    tls::TlsPaths::in_dir(&data).ca.display()
                ));
            }
            options.tls = Some(tls_config);
        }
        Ok(Self {
            dispatcher: Arc::new(dispatcher),
            options,
            listen: config.listen,
            data_dir: data,
            policy,
            key_files,
            tokens,
            os_store,
            origins: store,
            history,
            tsa: tsa_config,
            revocation: revocation_check,
            settings,
            config_dir: conf,
            notices,
        })
    }

    /// Binds the listener; a taken port names the process holding it.
    pub async fn bind(&self) -> Result<TcpListener, EngineError> {
        match TcpListener::bind(self.listen).await {
            Ok(l) => Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(EngineError::PortTaken {
                port: self.listen.port(),
                holder: crate::port::holder(self.listen.port())
                    .unwrap_or_else(|| "another program".into()),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// `ws` or `wss`.
    pub fn scheme(&self) -> &'static str {
        if self.options.tls.is_some() {
            "wss"
        } else {
            "ws"
        }
    }

    /// The runtime to serve on: one async worker thread, which is all the sockets need (every
    /// request runs on a thread of the blocking pool). With a worker per core, waking the
    /// others for each request made the 1-connection round trip about a fifth slower.
    pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qoltanba-server")
            .enable_all()
            .build()
    }

    /// Serves on `listener` until `shutdown` turns true.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        crate::serve(listener, self.dispatcher, self.options, shutdown).await
    }
}
