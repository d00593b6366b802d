//! Starting a server with a generated key, and checking what comes back.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use qoltanba_testkit::pki::{Algorithm, Issued, LeafSpec, TestPki, Usage};
use qoltanba_testkit::{openssl, p12, xmlsec};

pub(crate) struct Server {
    child: Child,
    /// The SoftHSM token (label `kaztoken-1`), when asked for.
    pub(crate) softhsm: Option<qoltanba_testkit::softhsm::SoftHsm>,
    /// The certificate on the token.
    pub(crate) token_leaf: Option<Issued>,
    pub(crate) url: String,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) pki: TestPki,
    pub(crate) leaf: Issued,
    /// The timestamp authority the server uses (RSA, `openssl ts -reply`).
    pub(crate) tsa: qoltanba_testkit::tsa::TestTsa,
    /// The OCSP responder and CRL, when asked for.
    pub(crate) revocation: Option<qoltanba_testkit::revocation::Revocation>,
    /// The NSS database holding the key, when asked for.
    pub(crate) nss: Option<qoltanba_testkit::nss::NssDb>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Options<'a> {
    pub(crate) approve: bool,
    pub(crate) algorithm: Algorithm,
    pub(crate) delay_ms: u64,
    pub(crate) tls: bool,
    pub(crate) policy: Option<&'a str>,
    /// A SoftHSM token serving `AKKaztokenStore`, with this PIN in the unattended file.
    pub(crate) token_pin: Option<&'a str>,
    pub(crate) extra_args: &'a [&'a str],
    /// The key's certificate names a test OCSP responder and CRL; `Some(true)`: it is revoked.
    pub(crate) revocation: Option<bool>,
    /// The key sits in an NSS database (the OS store; `Some(password)` for one with a
    /// password) instead of a key file; the unattended file names it by thumbprint.
    #[allow(clippy::option_option)] // absent / no password / this password
    pub(crate) os_store: Option<Option<&'a str>>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self {
            approve: true,
            algorithm: Algorithm::Rsa,
            delay_ms: 0,
            tls: false,
            policy: None,
            token_pin: None,
            extra_args: &[],
            revocation: None,
            os_store: None,
        }
    }
}

#[allow(clippy::too_many_lines)] // one server set up in order: PKI, key file, token, TSA, arguments
pub(crate) fn start(opts: &Options<'_>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::with_algorithm(opts.algorithm);
    let mut revocation = opts
        .revocation
        .map(|_| qoltanba_testkit::revocation::Revocation::reserve());
    let spec = match &revocation {
        Some(r) => {
            LeafSpec::individual(Usage::Sign).with_revocation(Some(&r.ocsp_url), Some(&r.crl_url))
        }
        None => LeafSpec::individual(Usage::Sign),
    };
    let leaf = pki.issue(&spec);
    if let (Some(r), Some(revoked)) = (revocation.as_mut(), opts.revocation) {
        r.start(&pki, &[(&leaf, revoked)]);
    }
    let key = p12::write_nca_file(&leaf, "Qwerty12", dir.path());
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pki.ca_bundle_pem()).unwrap();
    std::fs::write(dir.path().join("root.pem"), pki.root.cert_pem()).unwrap();
    std::fs::write(dir.path().join("nca.pem"), pki.nca.cert_pem()).unwrap();
    let unattended = dir.path().join("unattended.toml");
    let mut unattended_text = format!("approve = {}\ndelay_ms = {}\n", opts.approve, opts.delay_ms);
    let nss = opts.os_store.map(|password| {
        let db = qoltanba_testkit::nss::NssDb::new(password);
        db.import(&leaf);
        let _ = write!(
            unattended_text,
            "[[os_keys]]\nthumbprint = {:?}\npassword = {:?}\n",
            qoltanba_testkit::nss::openssl_thumbprint(&leaf.cert_pem()).to_ascii_lowercase(),
            password.unwrap_or_default()
        );
        db
    });
    if nss.is_none() {
        let _ = write!(
            unattended_text,
            "[[keys]]\nfile = {:?}\npassword = \"Qwerty12\"\n",
            key.to_str().unwrap()
        );
    }
    let mut policy_text = opts.policy.unwrap_or_default().to_owned();
    let (softhsm, token_leaf) = match opts.token_pin {
        None => (None, None),
        Some(pin) => {
            let hsm = qoltanba_testkit::softhsm::SoftHsm::new();
            hsm.init_token("kaztoken-1", "123456");
            let tleaf = pki.issue(&LeafSpec::legal_entity(
                Usage::Sign,
                qoltanba_testkit::pki::roles::CEO,
            ));
            hsm.import("kaztoken-1", "123456", &tleaf, "a1");
            let module = hsm.module.to_str().unwrap().to_owned();
            let _ = write!(
                unattended_text,
                "[[tokens]]\nmodule = {module:?}\npin = {pin:?}\n"
            );
            let _ = write!(
                policy_text,
                "\n[[tokens]]\nstorage = \"AKKaztokenStore\"\nmodule = {module:?}\n"
            );
            (Some(hsm), Some(tleaf))
        }
    };
    std::fs::write(&unattended, unattended_text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&unattended, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // The TSA is RSA whatever the key's algorithm (openssl signs tokens); its CA is trusted too.
    let tsa_pki = match opts.algorithm {
        Algorithm::Rsa => None,
        _ => Some(TestPki::new()),
    };
    let tsa = qoltanba_testkit::tsa::TestTsa::start(tsa_pki.as_ref().unwrap_or(&pki));
    let tsa_ca = dir.path().join("tsa-ca.pem");
    std::fs::write(&tsa_ca, tsa_pki.as_ref().unwrap_or(&pki).ca_bundle_pem()).unwrap();
    let data = dir.path().join("data");
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--tls".into(),
        if opts.tls { "local-ca" } else { "off" }.into(),
        "--unattended".into(),
        unattended.to_str().unwrap().into(),
        "--trust-anchor".into(),
        ca.to_str().unwrap().into(),
        "--trust-anchor".into(),
        tsa_ca.to_str().unwrap().into(),
        "--tsa".into(),
        tsa.url.clone(),
        "--data-dir".into(),
        data.to_str().unwrap().into(),
        // The OS store: the test's NSS database, or one that does not exist (never the
        // machine user's own).
        "--nss-db".into(),
        nss.as_ref()
            .map_or_else(|| dir.path().join("no-nssdb"), |d| d.path.clone())
            .to_str()
            .unwrap()
            .into(),
    ];
    if !policy_text.is_empty() {
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, &policy_text).unwrap();
        args.extend(["--policy".into(), path.to_str().unwrap().into()]);
    }
    args.extend(opts.extra_args.iter().map(|s| (*s).to_owned()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
    if let Some(h) = &softhsm {
        cmd.env("SOFTHSM2_CONF", &h.conf);
    }
    let mut child = cmd
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = qoltanba_testkit::listening_url(&mut child);
    let port = url.rsplit(':').next().unwrap().parse().unwrap();
    Server {
        child,
        softhsm,
        token_leaf,
        url,
        port,
        dir,
        pki,
        leaf,
        tsa,
        revocation,
        nss,
    }
}

impl Server {
    pub(crate) fn local_ca(&self) -> PathBuf {
        self.dir.path().join("data/tls/local-ca.pem")
    }

    pub(crate) fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// openssl cms -verify of a base64 (or PEM) CMS; `content` for detached ones.
    pub(crate) fn assert_cms(&self, name: &str, cms_text: &str, content: Option<&[u8]>) {
        let der = qoltanba_sign::input::decode_binary(cms_text.as_bytes()).unwrap();
        let sig = self.file(&format!("{name}.p7s"), &der);
        let content = content.map(|c| self.file(&format!("{name}.content"), c));
        let r = openssl::cms_verify(&sig, content.as_deref(), &self.dir.path().join("ca.pem"));
        assert!(r.ok, "{name}: openssl rejected the signature: {}", r.output);
    }

    /// Every signer of a base64 (or PEM) CMS has a timestamp token from the test TSA, which
    /// `openssl ts -verify` accepts over that signer's signature value.
    pub(crate) fn assert_timestamped(&self, name: &str, cms_text: &str) {
        let der = qoltanba_sign::input::decode_binary(cms_text.as_bytes()).unwrap();
        let signers = qoltanba_sign::cms::tsp::signature_values(&der).unwrap();
        assert!(!signers.is_empty());
        for (i, s) in signers.iter().enumerate() {
            let token = s
                .token
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: signer {i} has no timestamp"));
            let t = self.file(&format!("{name}-{i}.tst"), token);
            let v = self.file(&format!("{name}-{i}.sig"), &s.value);
            let r = openssl::ts_verify(&t, &v, &self.dir.path().join("tsa-ca.pem"));
            assert!(
                r.ok,
                "{name}: openssl ts rejected the timestamp: {}",
                r.output
            );
        }
    }

    /// xmlsec1 --verify of signed XML against the test CA.
    pub(crate) fn assert_xml(&self, name: &str, xml: &str) {
        let p = self.file(&format!("{name}.xml"), xml.as_bytes());
        let root = self.dir.path().join("root.pem");
        let nca = self.dir.path().join("nca.pem");
        let r = xmlsec::verify(&p, &[root.as_path(), nca.as_path()], None);
        assert!(r.ok, "{name}: xmlsec1 rejected the signature: {}", r.output);
    }
}

/// The js-client test project (npm packages installed by scripts/setup.sh).
pub(crate) fn js_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/js-client");
    assert!(
        d.join("node_modules/ncalayer-js-client").is_dir(),
        "npm packages missing: run ./scripts/setup.sh (npm ci in tests/e2e/js-client)"
    );
    d
}
