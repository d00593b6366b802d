//! The Windows APIs the store needs (crypt32, advapi32, ncrypt through `windows-sys`), each
//! call wrapped so that nothing above this module touches a raw handle or pointer.
#![allow(unsafe_code)]

use std::ptr;

use windows_sys::Win32::Security::Cryptography::{
    AT_KEYEXCHANGE, AT_SIGNATURE, BCRYPT_PAD_PKCS1, BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_SHA256_ALGORITHM, BCRYPT_SHA384_ALGORITHM, BCRYPT_SHA512_ALGORITHM, CALG_SHA_256,
    CALG_SHA_384, CALG_SHA_512, CERT_CONTEXT, CERT_KEY_PROV_INFO_PROP_ID, CERT_NCRYPT_KEY_SPEC,
    CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W, CERT_STORE_READONLY_FLAG,
    CERT_SYSTEM_STORE_CURRENT_USER, CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG, CRYPT_KEY_PROV_INFO,
    CertCloseStore, CertEnumCertificatesInStore, CertFreeCertificateContext,
    CertGetCertificateContextProperty, CertOpenStore, CryptAcquireCertificatePrivateKey,
    CryptAcquireContextW, CryptCreateHash, CryptDestroyHash, CryptReleaseContext,
    CryptSetHashParam, CryptSignHashW, HCERTSTORE, HP_HASHVAL, MS_ENH_RSA_AES_PROV_W,
    NCryptFreeObject, NCryptSignHash, PROV_RSA_AES,
};

/// A certificate of the store, copied out, with its private key's provider (when it has one).
pub(super) struct StoreCert {
    pub(super) der: Vec<u8>,
    /// The provider's name (`Microsoft Software Key Storage Provider`…).
    pub(super) provider: Option<String>,
}

/// The hash a signature is made over.
#[derive(Clone, Copy)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

fn last_error() -> String {
    std::io::Error::last_os_error().to_string()
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Reads a NUL-terminated UTF-16 string.
///
/// # Safety
/// `p` is null or points to a NUL-terminated UTF-16 string.
unsafe fn from_wide(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    // SAFETY: the caller promises a terminating NUL; we stop at it.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the n units before the NUL are readable.
    let units = unsafe { std::slice::from_raw_parts(p, n) };
    Some(String::from_utf16_lossy(units))
}

/// The CurrentUser `MY` store, open read-only; closed on drop.
struct Store(HCERTSTORE);

impl Store {
    /// `None`: the user has no `MY` store yet (nothing was ever imported).
    fn open() -> Result<Option<Self>, String> {
        let name = wide("MY");
        // SAFETY: a system-store provider with a NUL-terminated wide name; the flags open the
        // existing store read-only. A null result is an error, checked.
        let h = unsafe {
            CertOpenStore(
                CERT_STORE_PROV_SYSTEM_W,
                0,
                0,
                CERT_SYSTEM_STORE_CURRENT_USER
                    | CERT_STORE_READONLY_FLAG
                    | CERT_STORE_OPEN_EXISTING_FLAG,
                name.as_ptr().cast(),
            )
        };
        if h.is_null() {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(2) {
                return Ok(None);
            }
            return Err(format!("CertOpenStore(MY): {e}"));
        }
        Ok(Some(Self(h)))
    }

    /// Calls `f` with every certificate context of the store (each valid during the call).
    fn each(&self, mut f: impl FnMut(&CERT_CONTEXT) -> bool) {
        let mut prev: *const CERT_CONTEXT = ptr::null();
        loop {
            // SAFETY: `prev` is null or the context the previous call returned, which this
            // call frees; the store is open.
            let next = unsafe { CertEnumCertificatesInStore(self.0, prev) };
            if next.is_null() {
                return;
            }
            // SAFETY: a non-null context from the store, valid until the next enumeration.
            let stop = f(unsafe { &*next });
            if stop {
                // SAFETY: enumeration ends early: free the context we hold.
                unsafe { CertFreeCertificateContext(next) };
                return;
            }
            prev = next;
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: the handle is open and owned.
        unsafe { CertCloseStore(self.0, 0) };
    }
}

fn encoded(c: &CERT_CONTEXT) -> Vec<u8> {
    if c.pbCertEncoded.is_null() {
        return Vec::new();
    }
    // SAFETY: CryptoAPI gives `cbCertEncoded` readable bytes at `pbCertEncoded`.
    unsafe { std::slice::from_raw_parts(c.pbCertEncoded, c.cbCertEncoded as usize) }.to_vec()
}

/// The key-provider info of a certificate: (provider name, container name), when it has a
/// private-key link.
fn provider_info(c: &CERT_CONTEXT) -> Option<(String, Option<String>)> {
    let mut size = 0u32;
    // SAFETY: a size query (null buffer) on a valid context.
    let ok = unsafe {
        CertGetCertificateContextProperty(
            c,
            CERT_KEY_PROV_INFO_PROP_ID,
            ptr::null_mut(),
            &raw mut size,
        )
    };
    if ok == 0 || (size as usize) < size_of::<CRYPT_KEY_PROV_INFO>() {
        return None;
    }
    // A u64 buffer: aligned for the structure and the strings after it.
    let mut buf = vec![0u64; (size as usize).div_ceil(8)];
    // SAFETY: the buffer holds `size` bytes.
    let ok = unsafe {
        CertGetCertificateContextProperty(
            c,
            CERT_KEY_PROV_INFO_PROP_ID,
            buf.as_mut_ptr().cast(),
            &raw mut size,
        )
    };
    if ok == 0 {
        return None;
    }
    // SAFETY: CryptoAPI wrote a CRYPT_KEY_PROV_INFO at the start of the aligned buffer, its
    // string pointers into the same buffer (alive for this function).
    let info = unsafe { &*buf.as_ptr().cast::<CRYPT_KEY_PROV_INFO>() };
    // SAFETY: the pointers are null or NUL-terminated strings in `buf`.
    let provider = unsafe { from_wide(info.pwszProvName) }
        .unwrap_or_else(|| "Microsoft Software Key Storage Provider".to_owned());
    // SAFETY: as above.
    let container = unsafe { from_wide(info.pwszContainerName) };
    Some((provider, container))
}

/// Every certificate in CurrentUser `MY`.
pub(super) fn certificates() -> Result<Vec<StoreCert>, String> {
    let Some(store) = Store::open()? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    store.each(|c| {
        out.push(StoreCert {
            der: encoded(c),
            provider: provider_info(c).map(|(p, _)| p),
        });
        false
    });
    Ok(out)
}

/// Why a key could not be opened.
pub(super) enum OpenError {
    /// No certificate with that thumbprint.
    NotFound,
    /// The certificate is there, its key cannot be acquired.
    NoKey(String),
}

/// An acquired private key (NCrypt or legacy CSP); freed on drop.
pub(super) struct KeyHandle {
    handle: usize,
    spec: u32,
    free: bool,
    container: Option<String>,
}

/// Acquires the private key of the certificate with this thumbprint (upper-case hex SHA-1).
pub(super) fn open_key(thumbprint: &str) -> Result<KeyHandle, OpenError> {
    let store = Store::open()
        .map_err(OpenError::NoKey)?
        .ok_or(OpenError::NotFound)?;
    let mut result = Err(OpenError::NotFound);
    store.each(|c| {
        if crate::thumbprint(&encoded(c)) != thumbprint {
            return false;
        }
        let container = provider_info(c).and_then(|(_, c)| c);
        let (mut handle, mut spec, mut free) = (0usize, 0u32, 0i32);
        // SAFETY: a valid context; out-pointers to locals. Not silent: a smart-card provider
        // may show its own PIN dialog, as Windows users expect.
        let ok = unsafe {
            CryptAcquireCertificatePrivateKey(
                c,
                CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG,
                ptr::null(),
                &raw mut handle,
                &raw mut spec,
                &raw mut free,
            )
        };
        result = if ok == 0 {
            Err(OpenError::NoKey(format!(
                "CryptAcquireCertificatePrivateKey: {}",
                last_error()
            )))
        } else {
            Ok(KeyHandle {
                handle,
                spec,
                free: free != 0,
                container,
            })
        };
        true
    });
    result
}

impl KeyHandle {
    /// Signs `digest` (already hashed with `hash`) with PKCS#1 v1.5 padding; big-endian bytes.
    pub(super) fn sign(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>, String> {
        if self.spec == CERT_NCRYPT_KEY_SPEC {
            self.sign_ncrypt(hash, digest)
        } else {
            self.sign_csp(hash, digest)
        }
    }

    fn sign_ncrypt(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>, String> {
        let padding = BCRYPT_PKCS1_PADDING_INFO {
            pszAlgId: match hash {
                Hash::Sha256 => BCRYPT_SHA256_ALGORITHM,
                Hash::Sha384 => BCRYPT_SHA384_ALGORITHM,
                Hash::Sha512 => BCRYPT_SHA512_ALGORITHM,
            },
        };
        let len = u32::try_from(digest.len()).map_err(|e| e.to_string())?;
        let mut size = 0u32;
        // SAFETY: a size query: the key handle is live, the padding info and digest outlive
        // the call, no output buffer.
        let status = unsafe {
            NCryptSignHash(
                self.handle,
                (&raw const padding).cast(),
                digest.as_ptr(),
                len,
                ptr::null_mut(),
                0,
                &raw mut size,
                BCRYPT_PAD_PKCS1,
            )
        };
        if status != 0 {
            return Err(format!("NCryptSignHash: 0x{status:08X}"));
        }
        let mut out = vec![0u8; size as usize];
        // SAFETY: as above, with an output buffer of `size` bytes.
        let status = unsafe {
            NCryptSignHash(
                self.handle,
                (&raw const padding).cast(),
                digest.as_ptr(),
                len,
                out.as_mut_ptr(),
                size,
                &raw mut size,
                BCRYPT_PAD_PKCS1,
            )
        };
        if status != 0 {
            return Err(format!("NCryptSignHash: 0x{status:08X}"));
        }
        out.truncate(size as usize);
        Ok(out)
    }

    fn sign_csp(&self, hash: Hash, digest: &[u8]) -> Result<Vec<u8>, String> {
        let alg = match hash {
            Hash::Sha256 => CALG_SHA_256,
            Hash::Sha384 => CALG_SHA_384,
            Hash::Sha512 => CALG_SHA_512,
        };
        match csp_sign(self.handle, self.spec, alg, digest) {
            Ok(sig) => Ok(sig),
            // An old provider (PROV_RSA_FULL) cannot hash SHA-2: the same container under the
            // AES provider can.
            Err(first) => {
                let Some(container) = &self.container else {
                    return Err(first);
                };
                let name = wide(container);
                let mut prov = 0usize;
                // SAFETY: NUL-terminated container and provider names; out-pointer to a local.
                let ok = unsafe {
                    CryptAcquireContextW(
                        &raw mut prov,
                        name.as_ptr(),
                        MS_ENH_RSA_AES_PROV_W,
                        PROV_RSA_AES,
                        0,
                    )
                };
                if ok == 0 {
                    return Err(format!(
                        "{first}; CryptAcquireContext(AES): {}",
                        last_error()
                    ));
                }
                let r = csp_sign(prov, self.spec, alg, digest);
                // SAFETY: acquired just above, released once.
                unsafe { CryptReleaseContext(prov, 0) };
                r.map_err(|second| format!("{first}; under the AES provider: {second}"))
            }
        }
    }
}

/// `CryptSignHash` over a digest set with `HP_HASHVAL`, with the key of `spec` (or, when that
/// is not a key spec the container has — Wine's PFX import records 3 — its exchange key, then
/// its signature key). CryptoAPI gives little-endian bytes.
fn csp_sign(prov: usize, spec: u32, alg: u32, digest: &[u8]) -> Result<Vec<u8>, String> {
    let specs: &[u32] = if spec == AT_KEYEXCHANGE || spec == AT_SIGNATURE {
        &[spec]
    } else {
        &[AT_KEYEXCHANGE, AT_SIGNATURE]
    };
    let mut last = String::new();
    for &s in specs {
        match csp_sign_with(prov, s, alg, digest) {
            Ok(sig) => return Ok(sig),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn csp_sign_with(prov: usize, spec: u32, alg: u32, digest: &[u8]) -> Result<Vec<u8>, String> {
    let mut h = 0usize;
    // SAFETY: a live provider handle; out-pointer to a local.
    if unsafe { CryptCreateHash(prov, alg, 0, 0, &raw mut h) } == 0 {
        return Err(format!("CryptCreateHash: {}", last_error()));
    }
    let result = (|| {
        // SAFETY: the digest has the hash's length (the caller hashed it with `alg`).
        if unsafe { CryptSetHashParam(h, HP_HASHVAL, digest.as_ptr(), 0) } == 0 {
            return Err(format!("CryptSetHashParam: {}", last_error()));
        }
        let mut size = 0u32;
        // SAFETY: a size query on a live hash.
        if unsafe { CryptSignHashW(h, spec, ptr::null(), 0, ptr::null_mut(), &raw mut size) } == 0 {
            return Err(format!("CryptSignHash: {}", last_error()));
        }
        let mut out = vec![0u8; size as usize];
        // SAFETY: an output buffer of `size` bytes.
        if unsafe { CryptSignHashW(h, spec, ptr::null(), 0, out.as_mut_ptr(), &raw mut size) } == 0
        {
            return Err(format!("CryptSignHash: {}", last_error()));
        }
        out.truncate(size as usize);
        out.reverse();
        Ok(out)
    })();
    // SAFETY: created above, destroyed once.
    unsafe { CryptDestroyHash(h) };
    result
}

impl Drop for KeyHandle {
    fn drop(&mut self) {
        if !self.free {
            return;
        }
        if self.spec == CERT_NCRYPT_KEY_SPEC {
            // SAFETY: an NCrypt key handle we own.
            unsafe { NCryptFreeObject(self.handle) };
        } else {
            // SAFETY: a CSP handle we own.
            unsafe { CryptReleaseContext(self.handle, 0) };
        }
    }
}
