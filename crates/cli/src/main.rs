//! `qoltanba`: the headless face of the Qoltanba libraries.
//!
//! ```text
//! qoltanba keys info FILE [--password-env VAR] [--json]
//! qoltanba keys list [--json] [--nss-db DIR]
//! qoltanba sign cms --os-key THUMBPRINT [--password-env VAR] … IN -o OUT
//! qoltanba sign cms --key FILE [--password-env VAR] [--attached] [--hash] IN -o OUT
//! qoltanba verify cms SIG [--content FILE] [--trust PEM]... [--json]
//! qoltanba sign xml --key FILE [--password-env VAR] [--tbs-xpath X] [--parent-xpath X] IN -o OUT
//! qoltanba verify xml FILE [--trust PEM]... [--id-attr NAME] [--json]
//! ```
//! Passwords come from the named environment variable or from the terminal without echo, never
//! from the command line. Exit codes: 0 success (for `verify`: mathematically valid), 1 the
//! signature is not valid, 2 an error (bad input, wrong password, I/O).
#![forbid(unsafe_code)]

mod commands;
mod list;
mod password;
mod serve;
mod terminal;
#[cfg(feature = "unattended")]
mod unattended;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Qoltanba — signing client for Kazakhstan's e-government (ЭЦП / NCA keys).
#[derive(Debug, Parser)]
#[command(name = "qoltanba", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Certificates: revocation status.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Key containers (NCA .p12 files).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Make a signature.
    #[command(subcommand)]
    Sign(SignCommand),
    /// Hardware tokens (PKCS#11).
    Tokens {
        /// list
        #[arg(value_parser = ["list"])]
        action: String,
        /// A PKCS#11 library to use (besides the policy's and the known vendor ones); repeatable.
        #[arg(long, value_name = "PATH")]
        module: Vec<PathBuf>,
        /// Admin policy file (default /etc/qoltanba/policy.toml when present).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a signature.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Run the NCALayer-compatible signing server (wss://127.0.0.1:13579).
    Serve(ServeArgs),
    /// The local TLS CA in the browsers' trust stores; NCA trust anchors.
    Trust {
        /// install | remove | status | update
        #[arg(value_parser = ["install", "remove", "status", "update"])]
        action: String,
        /// Also the system store (needs root).
        #[arg(long)]
        system: bool,
        /// `update`: import NCA's CA certificates from this directory instead of downloading them.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// `update`: download from this mirror (`URL/<file name>`) instead of NCA's addresses.
        #[arg(long, value_name = "URL", conflicts_with = "from")]
        base_url: Option<String>,
        /// Data directory (default ~/.local/share/qoltanba).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Machine-wide settings for admins.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Sites you allowed to use your keys.
    Origins {
        /// list | revoke
        #[arg(value_parser = ["list", "revoke"])]
        action: String,
        /// The origin to revoke, e.g. https://egov.kz.
        origin: Option<String>,
        /// Data directory (default ~/.local/share/qoltanba).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:13579")]
    listen: std::net::SocketAddr,
    /// `local-ca`: wss with the per-install certificate; `off`: plain ws (tests).
    #[arg(long, default_value = "local-ca", value_parser = ["local-ca", "off"])]
    tls: String,
    /// Extra trust anchors (PEM/DER); repeatable.
    #[arg(long, value_name = "PEM")]
    trust_anchor: Vec<PathBuf>,
    /// TEST BUILDS ONLY: answer prompts from this file. Absent from normal builds.
    #[cfg(feature = "unattended")]
    #[arg(long, value_name = "FILE")]
    unattended: Option<PathBuf>,
    /// Data directory (default ~/.local/share/qoltanba).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Admin policy file (default /etc/qoltanba/policy.toml when present).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Largest WebSocket message in bytes.
    #[arg(long, default_value_t = qoltanba_server::DEFAULT_MAX_MESSAGE)]
    max_message: usize,
    /// Timestamp authority URL for CAdES-T (default: the policy file's `[tsa]`, else NCA's
    /// http://tsp.pki.gov.kz:80/).
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// OCSP responder asked before signing instead of the certificate's own.
    #[arg(long, value_name = "URL")]
    ocsp: Option<String>,
    /// The NSS database offered as the OS store (default: the policy's, else ~/.pki/nssdb).
    #[arg(long, value_name = "DIR")]
    nss_db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// The browsers' `LocalNetworkAccessAllowedForUrls` policy (Chrome, Chromium, Edge): sites
    /// in it may open the signer's WebSocket without asking the person (Chrome 147+ asks
    /// otherwise). Managed policy files on Linux, the policy registry keys on Windows.
    BrowserPolicy {
        /// allow | remove | clear | show
        #[arg(value_parser = ["allow", "remove", "clear", "show"])]
        action: String,
        /// Sites in Chrome's URL-pattern format, e.g. https://*.egov.kz.
        sites: Vec<String>,
        /// Linux: write under this directory instead of / (building images, tests).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Show the details of the certificate in a key container.
    Info {
        /// The key container (.p12).
        file: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Every key the signer can offer: remembered key files, tokens, the OS certificate store
    /// (storage "OS"), each with its certificate's SHA-1 thumbprint, name, IIN/BIN, AUTH/SIGN
    /// and validity.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// A PKCS#11 library to use besides the configured ones; repeatable.
        #[arg(long, value_name = "PATH")]
        module: Vec<PathBuf>,
        /// Admin policy file (default /etc/qoltanba/policy.toml when present).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        /// Data directory (default ~/.local/share/qoltanba).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The NSS database read as the OS store (default: the policy's, else ~/.pki/nssdb).
        #[arg(long, value_name = "DIR")]
        nss_db: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct PasswordArgs {
    /// Read the password from this environment variable (otherwise it is asked on the terminal).
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// Is a certificate revoked? OCSP (the certificate's responder, or --ocsp), then its CRLs.
    /// Exit code: 0 not revoked (or nothing to check), 3 revoked, 4 unknown to the responder,
    /// 5 could not be checked.
    Status {
        /// A key container (.p12, with --password-env) or a certificate (PEM/DER).
        file: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Ask this OCSP responder instead of the certificate's.
        #[arg(long, value_name = "URL")]
        ocsp: Option<String>,
        /// Issuer certificates (PEM/DER; default: NCA's pinned CAs and the file's chain).
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// Sign on a token: its PKCS#11 library.
    #[arg(long, value_name = "PATH", requires = "token_label")]
    token_module: Option<PathBuf>,
    /// The token's label.
    #[arg(long, value_name = "LABEL")]
    token_label: Option<String>,
    /// The certificate's CKA_ID (hex); default: the first with a key.
    #[arg(long, value_name = "ID")]
    token_cert: Option<String>,
    /// Read the PIN from this environment variable (otherwise it is asked on the terminal).
    #[arg(long, value_name = "VAR")]
    pin_env: Option<String>,
    /// Sign with the OS store's key whose certificate has this SHA-1 thumbprint (hex, any
    /// case; `qoltanba keys list` shows it). A password the store needs (an NSS database's)
    /// comes from --password-env or the terminal.
    #[arg(long, value_name = "THUMBPRINT", conflicts_with = "token_module")]
    os_key: Option<String>,
    /// The NSS database read as the OS store (default: the policy's, else ~/.pki/nssdb).
    #[arg(long, value_name = "DIR", requires = "os_key")]
    nss_db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum SignCommand {
    /// CMS / CAdES-BES signature (DER). Detached unless --attached.
    Cms {
        /// The key container (.p12).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present_any = ["token_module", "os_key"],
            conflicts_with_all = ["token_module", "os_key"]
        )]
        key: Option<PathBuf>,
        #[command(flatten)]
        password: PasswordArgs,
        #[command(flatten)]
        token: TokenArgs,
        /// Put the content inside the signature.
        #[arg(long, conflicts_with = "hash")]
        attached: bool,
        /// IN holds the raw SHA-256 digest (32 bytes) of the content, not the content.
        #[arg(long)]
        hash: bool,
        /// The content (or its digest with --hash).
        input: PathBuf,
        /// Where to write the signature.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Add a timestamp from this TSA (CAdES-T), e.g. http://tsp.pki.gov.kz:80/.
        #[arg(long, value_name = "URL")]
        tsa: Option<String>,
        /// Trust anchors for the TSA's certificate (default: NCA's pinned CAs); repeatable.
        #[arg(long, value_name = "PEM", requires = "tsa")]
        tsa_trust: Vec<PathBuf>,
        /// Co-sign: add this signature to an existing CMS over the same content (IN), keeping
        /// its signers as they are.
        #[arg(long, value_name = "CMS", conflicts_with = "hash")]
        add_to: Option<PathBuf>,
    },
    /// Enveloped XMLDSig, as portals and NCALayer's signXml make it.
    Xml {
        /// The key container (.p12).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Sign only the element this XPath selects (it needs an Id attribute).
        #[arg(long, value_name = "X")]
        tbs_xpath: Option<String>,
        /// Put the signature into the element this XPath selects (default: the root).
        #[arg(long, value_name = "X")]
        parent_xpath: Option<String>,
        /// The XML document (UTF-8).
        input: PathBuf,
        /// Where to write the signed document.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum VerifyCommand {
    /// Verify a CMS signature (DER, PEM or base64).
    Cms {
        /// The signature.
        sig: PathBuf,
        /// The signed content, for a detached signature.
        #[arg(long, value_name = "FILE")]
        content: Option<PathBuf>,
        /// Trust anchors (PEM or DER certificates); repeatable.
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Verify the enveloped XML signatures in a document.
    Xml {
        /// The signed XML document.
        file: PathBuf,
        /// Trust anchors (PEM or DER certificates); repeatable.
        #[arg(long, value_name = "PEM")]
        trust: Vec<PathBuf>,
        /// An extra attribute name that holds element IDs (besides Id, ID, id).
        #[arg(long, value_name = "NAME")]
        id_attr: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[allow(clippy::too_many_lines)] // one match arm per subcommand, each a call
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Cert(CertCommand::Status {
            file,
            password,
            ocsp,
            trust,
            json,
        }) => commands::cert_status(
            &file,
            password.password_env.as_deref(),
            ocsp.as_deref(),
            &trust,
            json,
        ),
        Command::Keys(KeysCommand::Info {
            file,
            password,
            json,
        }) => commands::keys_info(&file, password.password_env.as_deref(), json),
        Command::Keys(KeysCommand::List {
            json,
            module,
            policy,
            data_dir,
            nss_db,
        }) => list::keys_list(
            &list::Sources {
                modules: module,
                policy,
                data_dir,
                nss_db,
            },
            json,
        ),
        Command::Sign(SignCommand::Cms {
            key,
            password,
            token,
            attached,
            hash,
            input,
            output,
            tsa,
            tsa_trust,
            add_to,
        }) => commands::sign_cms(&commands::SignCms {
            key: match token.os_key.as_deref() {
                Some(thumbprint) => commands::KeyChoice::Os {
                    thumbprint,
                    password_env: password.password_env.as_deref(),
                    nss_db: token.nss_db.as_deref(),
                },
                None => commands::KeyChoice::new(
                    key.as_deref(),
                    password.password_env.as_deref(),
                    token.token_module.as_deref(),
                    token.token_label.as_deref(),
                    token.token_cert.as_deref(),
                    token.pin_env.as_deref(),
                ),
            },
            attached,
            hash,
            input: &input,
            output: &output,
            tsa: tsa.as_deref().map(|u| (u, tsa_trust.as_slice())),
            add_to: add_to.as_deref(),
        }),
        Command::Verify(VerifyCommand::Cms {
            sig,
            content,
            trust,
            json,
        }) => commands::verify_cms(&sig, content.as_deref(), &trust, json),
        Command::Sign(SignCommand::Xml {
            key,
            password,
            tbs_xpath,
            parent_xpath,
            input,
            output,
        }) => commands::sign_xml(&commands::SignXml {
            key: &key,
            password_env: password.password_env.as_deref(),
            tbs_xpath: tbs_xpath.as_deref(),
            parent_xpath: parent_xpath.as_deref(),
            input: &input,
            output: &output,
        }),
        Command::Verify(VerifyCommand::Xml {
            file,
            trust,
            id_attr,
            json,
        }) => commands::verify_xml(&file, &trust, id_attr, json),
        Command::Serve(a) => serve::serve(&serve::Serve {
            listen: a.listen,
            tls: a.tls == "local-ca",
            trust_anchors: a.trust_anchor,
            #[cfg(feature = "unattended")]
            unattended: a.unattended,
            data_dir: a.data_dir,
            policy: a.policy,
            max_message: a.max_message,
            tsa: a.tsa,
            ocsp: a.ocsp,
            nss_db: a.nss_db,
        }),
        Command::Tokens {
            action: _,
            module,
            policy,
            json,
        } => serve::tokens_list(&module, policy.as_deref(), json),
        Command::Trust {
            action,
            system,
            from,
            base_url,
            data_dir,
        } => serve::trust_cmd(
            &action,
            data_dir.as_deref(),
            system,
            from.as_deref(),
            base_url.as_deref(),
        ),
        Command::Origins {
            action,
            origin,
            data_dir,
        } => serve::origins_cmd(&action, origin.as_deref(), data_dir.as_deref()),
        Command::Admin(AdminCommand::BrowserPolicy {
            action,
            sites,
            root,
            json,
        }) => list::browser_policy(&action, &sites, root.as_deref(), json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qoltanba: {e:#}");
            ExitCode::from(2)
        }
    }
}
