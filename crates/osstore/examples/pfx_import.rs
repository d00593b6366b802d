//! TEST TOOL (Windows): imports a PKCS#12 file into CurrentUser `MY`, key and certificate, as
//! double-clicking a .pfx does — so that tests under Wine (and people trying the OS store on
//! Windows) have a key there. `pfx_import FILE.p12 PASSWORD`.
#![cfg_attr(windows, allow(unsafe_code))]
#![allow(clippy::print_stdout)]

#[cfg(not(windows))]
fn main() {
    eprintln!("pfx_import is a Windows tool");
}

#[cfg(windows)]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (file, password, cng) = match args.as_slice() {
        [_, f, p] => (f, p, false),
        [_, f, p, k] if k == "--cng" => (f, p, true),
        _ => {
            eprintln!("usage: pfx_import FILE.p12 PASSWORD [--cng]");
            return std::process::ExitCode::from(2);
        }
    };
    match import(file, password, cng) {
        Ok(n) => {
            println!("imported {n} certificate(s) with a key into CurrentUser MY");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pfx_import: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

#[cfg(windows)]
fn import(file: &str, password: &str, cng: bool) -> Result<usize, String> {
    use std::ptr;
    use windows_sys::Win32::Security::Cryptography::{
        CERT_CONTEXT, CERT_KEY_PROV_INFO_PROP_ID, CERT_STORE_ADD_REPLACE_EXISTING,
        CERT_STORE_PROV_SYSTEM_W, CERT_SYSTEM_STORE_CURRENT_USER, CRYPT_INTEGER_BLOB,
        CRYPT_USER_KEYSET, CertAddCertificateContextToStore, CertCloseStore,
        CertEnumCertificatesInStore, CertGetCertificateContextProperty, CertOpenStore,
        PFXImportCertStore, PKCS12_ALWAYS_CNG_KSP,
    };
    let err = || std::io::Error::last_os_error().to_string();
    let mut bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let blob = CRYPT_INTEGER_BLOB {
        cbData: u32::try_from(bytes.len()).map_err(|e| e.to_string())?,
        pbData: bytes.as_mut_ptr(),
    };
    let pw: Vec<u16> = password.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: the blob points to `bytes`, the password is NUL-terminated; both outlive the call.
    let flags = if cng {
        CRYPT_USER_KEYSET | PKCS12_ALWAYS_CNG_KSP
    } else {
        CRYPT_USER_KEYSET
    };
    // SAFETY: as above.
    let pfx = unsafe { PFXImportCertStore(&raw const blob, pw.as_ptr(), flags) };
    if pfx.is_null() {
        return Err(format!("PFXImportCertStore: {}", err()));
    }
    let name: Vec<u16> = "MY".encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: the system store by NUL-terminated name, opened (or created) for writing.
    let my = unsafe {
        CertOpenStore(
            CERT_STORE_PROV_SYSTEM_W,
            0,
            0,
            CERT_SYSTEM_STORE_CURRENT_USER,
            name.as_ptr().cast(),
        )
    };
    if my.is_null() {
        // SAFETY: opened above.
        unsafe { CertCloseStore(pfx, 0) };
        return Err(format!("CertOpenStore(MY): {}", err()));
    }
    let mut n = 0;
    let mut prev: *const CERT_CONTEXT = ptr::null();
    loop {
        // SAFETY: enumeration of an open store; `prev` is null or the last context.
        let c = unsafe { CertEnumCertificatesInStore(pfx, prev) };
        if c.is_null() {
            break;
        }
        let mut size = 0u32;
        // SAFETY: a size query on a valid context.
        let has_key = unsafe {
            CertGetCertificateContextProperty(
                c,
                CERT_KEY_PROV_INFO_PROP_ID,
                ptr::null_mut(),
                &raw mut size,
            )
        } != 0;
        if has_key {
            // SAFETY: a valid context added to an open store; no copy returned.
            if unsafe {
                CertAddCertificateContextToStore(
                    my,
                    c,
                    CERT_STORE_ADD_REPLACE_EXISTING,
                    ptr::null_mut(),
                )
            } == 0
            {
                return Err(format!("CertAddCertificateContextToStore: {}", err()));
            }
            n += 1;
        }
        prev = c;
    }
    // SAFETY: both opened above.
    unsafe {
        CertCloseStore(my, 0);
        CertCloseStore(pfx, 0);
    }
    Ok(n)
}
