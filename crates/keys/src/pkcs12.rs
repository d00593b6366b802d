//! A PKCS#12 (RFC 7292) reader that opens NCA key files as NCA issues them.
//!
//! NCA files (KZ-PKI.md §0.3, RUST-STACK.md §4): BER with indefinite lengths and a constructed
//! `[0] IMPLICIT` encryptedContent; key bag `pbeWithSHAAnd3-KeyTripleDES-CBC`, certificate bag
//! `pbeWithSHAAnd40BitRC2-CBC`; SHA-1 MAC; 1024 iterations. Files from other tools (OpenSSL 3
//! defaults: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, SHA-256 MAC) open too.
//!
//! Order of work: the MAC is checked over the original content octets of `authSafe` first (a
//! mismatch is [`KeyError::WrongPassword`]); only then is anything decrypted. Decrypted bytes
//! live in [`Zeroizing`] buffers. Every KDF's iteration count is charged to a per-file budget
//! before it runs.
//!
//! After BER normalisation the structures are read with the `pkcs12` and `cms` crates' types
//! (`Pfx`, `MacData`, `AuthenticatedSafe`, `SafeBag`, `CertBag`, `EncryptedPrivateKeyInfo`).
//! Two things are done by hand, because the crates cannot: `EncryptedData`'s
//! `encryptedContent [0] IMPLICIT OCTET STRING`, which NCA writes constructed (segments) —
//! the normaliser cannot know that a context tag hides an OCTET STRING, and `cms`'s
//! `EncryptedContentInfo` only takes the primitive form; and `SafeBag::bag_value`, which
//! `pkcs12` 0.1.0 decodes with its `[0] EXPLICIT` wrapper still on (its encoder wraps again).

use std::path::Path;

use const_oid::ObjectIdentifier;
use der::Decode;
use der::Encode;
use der::asn1::{BmpString, OctetString};
use digest::core_api::BlockSizeUser;
use digest::{Digest, FixedOutputReset};
use hmac::{Mac, SimpleHmac};
use pkcs12::kdf::Pkcs12KeyType;
use qoltanba_pki::ber::{self, Tlv};
use zeroize::Zeroize;
use zeroize::Zeroizing;

use crate::{KeyError, Secret, SoftwareKey};

/// Files larger than this are not key containers (NCA files are ~3-7 KiB).
pub const MAX_FILE_SIZE: usize = 1 << 20;
/// Most iterations one KDF (the MAC's, PKCS#12 PBE, PBKDF2) may ask for. NCA writes 1024,
/// OpenSSL 2048; the largest seen in the wild is ~600 000 (PBKDF2 as OWASP advises).
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// Most iterations all the KDFs of one file may ask for together, MAC included: a crafted file
/// costs at most about a second of CPU before it is refused.
pub const MAX_TOTAL_ITERATIONS: u64 = 2_000_000;
/// The same for a file without a MAC: nothing vouches for its parameters before they run, and
/// the tools that write such files (`openssl pkcs12 -nomac`) use 2048.
pub const MAX_TOTAL_ITERATIONS_NO_MAC: u64 = 200_000;

mod oids {
    pub(super) const DATA: &str = "1.2.840.113549.1.7.1";
    pub(super) const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
    pub(super) const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
    pub(super) const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
    pub(super) const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
    pub(super) const SAFE_CONTENTS_BAG: &str = "1.2.840.113549.1.12.10.1.6";
    pub(super) const X509_CERT: &str = "1.2.840.113549.1.9.22.1";
    pub(super) const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
    pub(super) const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
    pub(super) const PBE_SHA1_RC2_128: &str = "1.2.840.113549.1.12.1.5";
    pub(super) const PBE_SHA1_RC2_40: &str = "1.2.840.113549.1.12.1.6";
    pub(super) const PBE_SHA1_3DES: &str = "1.2.840.113549.1.12.1.3";
    pub(super) const PBE_SHA1_2DES: &str = "1.2.840.113549.1.12.1.4";
    pub(super) const PBES2: &str = "1.2.840.113549.1.5.13";
    pub(super) const SHA1: &str = "1.3.14.3.2.26";
    pub(super) const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    pub(super) const SHA384: &str = "2.16.840.1.101.3.4.2.2";
    pub(super) const SHA512: &str = "2.16.840.1.101.3.4.2.3";
}

/// What [`open`] found: the keys, each with its certificate.
#[derive(Debug)]
pub struct Pkcs12Contents {
    /// One entry per private key.
    pub keys: Vec<SoftwareKey>,
}

/// Reads and opens a key file.
pub fn open_file(path: &Path, password: &Secret) -> Result<Pkcs12Contents, KeyError> {
    open(&read_file(path)?, password)
}

/// A key file's bytes; a file larger than any key file is refused unread.
pub fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > MAX_FILE_SIZE as u64 {
        return Err(KeyError::NotPkcs12);
    }
    Ok(Zeroizing::new(std::fs::read(path)?))
}

/// Opens a PKCS#12 container held in memory.
pub fn open(input: &[u8], password: &Secret) -> Result<Pkcs12Contents, KeyError> {
    classify(input)?;
    let der = Zeroizing::new(ber::to_der(input).map_err(|_| KeyError::NotPkcs12)?);
    let pfx = ::pkcs12::pfx::Pfx::from_der(&der).map_err(|_| pfx_error(&der))?;
    if pfx.auth_safe.content_type.to_string() != oids::DATA {
        return Err(KeyError::Unsupported(format!(
            "public-key protected container ({})",
            pfx.auth_safe.content_type
        )));
    }
    let auth_safe_octets = pfx
        .auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(|_| KeyError::NotPkcs12)?;
    let auth_safe_octets = auth_safe_octets.as_bytes();

    let password_bmp = bmp_password(password)?;
    let budget = Budget(std::cell::Cell::new(if pfx.mac_data.is_some() {
        MAX_TOTAL_ITERATIONS
    } else {
        MAX_TOTAL_ITERATIONS_NO_MAC
    }));
    let mac_checked = match &pfx.mac_data {
        Some(m) => {
            verify_mac(m, auth_safe_octets, &password_bmp, &budget)?;
            true
        }
        None => false,
    };
    let ctx = Ctx {
        password,
        password_bmp: &password_bmp,
        mac_checked,
        budget: &budget,
    };

    let auth_safe_der = Zeroizing::new(ber::to_der(auth_safe_octets)?);
    let mut found = Found::default();
    for ci in ::pkcs12::authenticated_safe::AuthenticatedSafe::from_der(&auth_safe_der)? {
        match ci.content_type.to_string().as_str() {
            oids::DATA => {
                let octets = ci.content.decode_as::<OctetString>()?;
                let safe = Zeroizing::new(ber::to_der(octets.as_bytes())?);
                read_safe_contents(&ctx, &safe, &mut found, 0)?;
            }
            oids::ENCRYPTED_DATA => {
                let encrypted = ci.content.to_der()?;
                let plain = decrypt_encrypted_data(&ctx, Tlv::parse_exact(&encrypted)?)?;
                let safe = Zeroizing::new(ber::to_der(&plain)?);
                read_safe_contents(&ctx, &safe, &mut found, 0)?;
            }
            other => return Err(KeyError::Unsupported(format!("content type {other}"))),
        }
    }
    pair(found)
}

/// Why a normalised container is not a `Pfx`: a PFX of another version is unsupported,
/// anything else is not PKCS#12.
fn pfx_error(der: &[u8]) -> KeyError {
    let version = Tlv::parse_exact(der)
        .ok()
        .and_then(|t| t.children().ok())
        .and_then(|c| c.first().copied());
    match version {
        Some(v) if v.tag == 0x02 && v.value != [3] => KeyError::Unsupported("PFX version".into()),
        _ => KeyError::NotPkcs12,
    }
}

/// Gives the clear errors for inputs that are obviously something else.
fn classify(input: &[u8]) -> Result<(), KeyError> {
    if input.is_empty() {
        return Err(KeyError::Empty);
    }
    let head = &input[..input.len().min(64)];
    if head.windows(10).any(|w| w == b"-----BEGIN") {
        return Err(KeyError::Pem);
    }
    if input.len() > MAX_FILE_SIZE || input[0] != 0x30 {
        return Err(KeyError::NotPkcs12);
    }
    if qoltanba_pki::CertificateDetails::from_der(input).is_ok() {
        return Err(KeyError::CertificateNotContainer);
    }
    Ok(())
}

struct Ctx<'a> {
    password: &'a Secret,
    password_bmp: &'a [u8],
    mac_checked: bool,
    budget: &'a Budget,
}

/// KDF iterations this file may still spend.
struct Budget(std::cell::Cell<u64>);

impl Budget {
    fn spend(&self, iterations: u32) -> Result<(), KeyError> {
        check_iterations(iterations)?;
        let left = self.0.get();
        if u64::from(iterations) > left {
            return Err(KeyError::Unsupported(
                "more KDF iterations in one file than a key file needs".into(),
            ));
        }
        self.0.set(left - u64::from(iterations));
        Ok(())
    }
}

/// A private key found in a bag, before it is paired with its certificate.
struct FoundKey {
    pkcs8: Zeroizing<Vec<u8>>,
    oid: String,
    local_key_id: Option<Vec<u8>>,
    friendly_name: Option<String>,
}

#[derive(Default)]
struct Found {
    keys: Vec<FoundKey>,
    /// (certificate DER, localKeyId)
    certs: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The password as PKCS#12 KDF wants it: UTF-16BE plus two zero bytes (RFC 7292 B.1).
fn bmp_password(password: &Secret) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let bmp = BmpString::from_utf8(password.expose())
        .map_err(|_| KeyError::Unsupported("characters outside the BMP in the password".into()))?;
    let mut v = Zeroizing::new(bmp.into_bytes().to_vec());
    v.extend_from_slice(&[0, 0]);
    Ok(v)
}

fn oid_of(tlv: &Tlv<'_>) -> Result<String, KeyError> {
    Ok(ObjectIdentifier::from_der(tlv.raw)?.to_string())
}

/// Checks the MAC (`MacData`: an HMAC with a PKCS#12-derived key) over `content`.
fn verify_mac(
    mac_data: &::pkcs12::mac_data::MacData,
    content: &[u8],
    password_bmp: &[u8],
    budget: &Budget,
) -> Result<(), KeyError> {
    let iterations = u32::try_from(mac_data.iterations)
        .map_err(|_| KeyError::Corrupt("negative MAC iterations".into()))?;
    // Counted once; the empty-password retry below may run it a second time.
    budget.spend(iterations)?;
    let salt = mac_data.mac_salt.as_bytes();
    let expected = mac_data.mac.digest.as_bytes();
    let alg = mac_data.mac.algorithm.oid.to_string();
    let ok = match alg.as_str() {
        oids::SHA1 => mac_matches::<sha1::Sha1>(password_bmp, salt, iterations, content, expected),
        oids::SHA256 => {
            mac_matches::<sha2::Sha256>(password_bmp, salt, iterations, content, expected)
        }
        oids::SHA384 => {
            mac_matches::<sha2::Sha384>(password_bmp, salt, iterations, content, expected)
        }
        oids::SHA512 => {
            mac_matches::<sha2::Sha512>(password_bmp, salt, iterations, content, expected)
        }
        other => return Err(KeyError::Unsupported(format!("MAC digest {other}"))),
    };
    // An empty password is encoded by some tools as no bytes at all rather than two zeros.
    if ok
        || (password_bmp == [0, 0]
            && alg == oids::SHA1
            && mac_matches::<sha1::Sha1>(&[], salt, iterations, content, expected))
    {
        Ok(())
    } else {
        Err(KeyError::WrongPassword)
    }
}

fn check_iterations(iterations: u32) -> Result<(), KeyError> {
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(KeyError::Unsupported(format!(
            "{iterations} KDF iterations"
        )));
    }
    Ok(())
}

fn rounds(iterations: u32) -> i32 {
    i32::try_from(iterations).unwrap_or(i32::MAX)
}

fn mac_matches<D>(
    pass: &[u8],
    salt: &[u8],
    iterations: u32,
    content: &[u8],
    expected: &[u8],
) -> bool
where
    D: Digest + FixedOutputReset + BlockSizeUser,
{
    let key = Zeroizing::new(pkcs12::kdf::derive_key::<D>(
        pass,
        salt,
        Pkcs12KeyType::Mac,
        rounds(iterations),
        <D as Digest>::output_size(),
    ));
    let Ok(mut mac) = <SimpleHmac<D> as Mac>::new_from_slice(&key) else {
        return false;
    };
    mac.update(content);
    mac.verify_slice(expected).is_ok()
}

/// EncryptedData ::= SEQUENCE { version, EncryptedContentInfo }
/// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
///                                     encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
fn decrypt_encrypted_data(ctx: &Ctx<'_>, tlv: Tlv<'_>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let eci = match tlv.children()?.as_slice() {
        [_version, eci] => *eci,
        _ => return Err(KeyError::Corrupt("bad EncryptedData".into())),
    };
    match eci.children()?.as_slice() {
        [_ct, alg, content] if content.tag & 0xdf == 0x80 => {
            // NCA writes the [0] constructed (segments); BER allows both forms.
            let ciphertext = ber::join_octet_segments(content.raw)?;
            decrypt(ctx, alg, &ciphertext)
        }
        _ => Err(KeyError::Corrupt("bad EncryptedContentInfo".into())),
    }
}

/// Decrypts with a PKCS#12 PBE or a PBES2 scheme. `alg` is the AlgorithmIdentifier.
fn decrypt(ctx: &Ctx<'_>, alg: &Tlv<'_>, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use cbc::cipher::{InnerIvInit, KeyIvInit};

    let typed = spki::AlgorithmIdentifierOwned::from_der(alg.raw)?;
    let oid = typed.oid.to_string();
    let bad_padding = || {
        if ctx.mac_checked {
            KeyError::Corrupt("decryption failed".into())
        } else {
            KeyError::WrongPassword
        }
    };
    if oid == oids::PBES2 {
        let scheme = pkcs5::EncryptionScheme::from_der(alg.raw)
            .map_err(|e| KeyError::Unsupported(format!("PBES2 parameters: {e}")))?;
        // The KDF's cost is counted before it runs.
        if let pkcs5::EncryptionScheme::Pbes2(p) = &scheme {
            match &p.kdf {
                pkcs5::pbes2::Kdf::Pbkdf2(k) => ctx.budget.spend(k.iteration_count)?,
                _ => {
                    return Err(KeyError::Unsupported(
                        "key files protected with a KDF other than PBKDF2".into(),
                    ));
                }
            }
        }
        // PBES2 takes the password as UTF-8 bytes (as OpenSSL does for PKCS#12).
        return scheme
            .decrypt(ctx.password.expose().as_bytes(), data)
            .map(Zeroizing::new)
            .map_err(|e| match e {
                // pkcs5 reports bad padding as either.
                pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed => bad_padding(),
                other => KeyError::Unsupported(format!("PBES2: {other}")),
            });
    }
    let params: ::pkcs12::pbe_params::Pkcs12PbeParams = typed
        .parameters
        .as_ref()
        .ok_or_else(|| KeyError::Corrupt("missing PBE parameters".into()))?
        .decode_as()?;
    let iterations = u32::try_from(params.iterations)
        .map_err(|_| KeyError::Corrupt("negative PBE iterations".into()))?;
    let salt = params.salt.as_bytes();
    ctx.budget.spend(iterations)?;
    let derive = |kind, len| {
        Zeroizing::new(pkcs12::kdf::derive_key::<sha1::Sha1>(
            ctx.password_bmp,
            salt,
            kind,
            rounds(iterations),
            len,
        ))
    };
    let iv = derive(Pkcs12KeyType::Iv, 8);
    let mut buf = Zeroizing::new(data.to_vec());
    let bad_length = |_| KeyError::Corrupt("bad key or IV length".into());
    // Each legacy PBE is CBC with PKCS#7 padding over its own block cipher.
    let unpadded = match oid.as_str() {
        oids::PBE_SHA1_3DES => {
            let key = derive(Pkcs12KeyType::EncryptionKey, 24);
            cbc_unpad(
                cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv).map_err(bad_length)?,
                &mut buf,
            )
        }
        oids::PBE_SHA1_2DES => {
            let key = derive(Pkcs12KeyType::EncryptionKey, 16);
            cbc_unpad(
                cbc::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv).map_err(bad_length)?,
                &mut buf,
            )
        }
        oids::PBE_SHA1_RC2_40 | oids::PBE_SHA1_RC2_128 => {
            let bits = if oid == oids::PBE_SHA1_RC2_40 {
                40
            } else {
                128
            };
            let key = derive(Pkcs12KeyType::EncryptionKey, bits / 8);
            let cipher = rc2::Rc2::new_with_eff_key_len(&key, bits);
            cbc_unpad(
                cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(cipher, &iv).map_err(bad_length)?,
                &mut buf,
            )
        }
        other => {
            return Err(KeyError::Unsupported(format!(
                "encryption algorithm {other}"
            )));
        }
    };
    let plain_len = unpadded.ok_or_else(bad_padding)?;
    buf.truncate(plain_len);
    Ok(buf)
}

/// Decrypts CBC + PKCS#7 in place; `None` when the padding is wrong (wrong key).
fn cbc_unpad<C>(decryptor: cbc::Decryptor<C>, buf: &mut [u8]) -> Option<usize>
where
    C: cbc::cipher::BlockDecryptMut + cbc::cipher::BlockCipher,
{
    use cbc::cipher::BlockDecryptMut as _;
    use cbc::cipher::block_padding::Pkcs7;
    decryptor
        .decrypt_padded_mut::<Pkcs7>(buf)
        .ok()
        .map(<[u8]>::len)
}

/// Reads the bags of a `SafeContents` (DER): keys (plain or shrouded), certificates, nested
/// safe contents; CRL and secret bags are skipped.
fn read_safe_contents(
    ctx: &Ctx<'_>,
    der: &[u8],
    found: &mut Found,
    depth: usize,
) -> Result<(), KeyError> {
    use ::pkcs12::cert_type::CertBag;
    use ::pkcs12::pbe_params::EncryptedPrivateKeyInfo;
    if depth > 4 {
        return Err(KeyError::Corrupt("safe contents nest too deep".into()));
    }
    for mut bag in ::pkcs12::safe_bag::SafeContents::from_der(der)? {
        // bag_value still carries its [0] EXPLICIT wrapper (see the module doc).
        let wrapped = Tlv::parse_exact(&bag.bag_value)?;
        if wrapped.tag != 0xa0 {
            return Err(KeyError::Corrupt("bad SafeBag".into()));
        }
        let value = wrapped.value;
        let (local_key_id, friendly_name) = bag_attributes(bag.bag_attributes.as_ref());
        match bag.bag_id.to_string().as_str() {
            oids::KEY_BAG => {
                let pkcs8 = Zeroizing::new(value.to_vec());
                let oid = private_key_oid(&pkcs8)?;
                found.keys.push(FoundKey {
                    pkcs8,
                    oid,
                    local_key_id,
                    friendly_name,
                });
            }
            oids::SHROUDED_KEY_BAG => {
                let epki = EncryptedPrivateKeyInfo::from_der(value)?;
                let alg = epki.encryption_algorithm.to_der()?;
                let plain = decrypt(
                    ctx,
                    &Tlv::parse_exact(&alg)?,
                    epki.encrypted_data.as_bytes(),
                )?;
                let pkcs8 = Zeroizing::new(ber::to_der(&plain)?);
                let oid = private_key_oid(&pkcs8)?;
                found.keys.push(FoundKey {
                    pkcs8,
                    oid,
                    local_key_id,
                    friendly_name,
                });
            }
            oids::CERT_BAG => {
                let cert = CertBag::from_der(value)?;
                if cert.cert_id.to_string() == oids::X509_CERT {
                    found
                        .certs
                        .push((cert.cert_value.as_bytes().to_vec(), local_key_id));
                }
            }
            oids::SAFE_CONTENTS_BAG => read_safe_contents(ctx, value, found, depth + 1)?,
            _ => {} // CRL and secret bags: nothing to sign with.
        }
        // A plain key bag's value is key material.
        bag.bag_value.zeroize();
    }
    Ok(())
}

/// localKeyId and friendlyName from a bag's attributes.
fn bag_attributes(
    attrs: Option<&x509_cert::attr::Attributes>,
) -> (Option<Vec<u8>>, Option<String>) {
    let (mut id, mut name) = (None, None);
    for a in attrs.into_iter().flat_map(|s| s.iter()) {
        let Some(v) = a.values.iter().next() else {
            continue;
        };
        match a.oid.to_string().as_str() {
            oids::LOCAL_KEY_ID => {
                id = v
                    .decode_as::<OctetString>()
                    .ok()
                    .map(|o| o.as_bytes().to_vec());
            }
            oids::FRIENDLY_NAME => name = v.decode_as::<BmpString>().ok().map(|b| b.to_string()),
            _ => {}
        }
    }
    (id, name)
}

/// PrivateKeyInfo ::= SEQUENCE { version, privateKeyAlgorithm AlgorithmIdentifier, … }
fn private_key_oid(pkcs8: &[u8]) -> Result<String, KeyError> {
    let info = Tlv::parse_exact(pkcs8).map_err(|_| KeyError::Corrupt("bad private key".into()))?;
    match info.children()?.as_slice() {
        [_v, alg, ..] => oid_of(alg.children()?.first().ok_or(KeyError::InvalidKey)?),
        _ => Err(KeyError::Corrupt("bad private key".into())),
    }
}

/// Matches each key with its certificate: by localKeyId, else (one key) by public key.
fn pair(found: Found) -> Result<Pkcs12Contents, KeyError> {
    if found.keys.is_empty() {
        return Err(KeyError::NoPrivateKey);
    }
    let mut keys = Vec::new();
    for FoundKey {
        pkcs8,
        oid: key_oid,
        local_key_id,
        friendly_name,
    } in found.keys
    {
        let by_id = local_key_id.as_ref().and_then(|id| {
            found
                .certs
                .iter()
                .position(|(_, cid)| cid.as_ref() == Some(id))
        });
        let candidates: Vec<usize> = match by_id {
            Some(i) => vec![i],
            None => (0..found.certs.len()).collect(),
        };
        let mut last_err = KeyError::NoCertificate;
        let mut made = None;
        for i in candidates {
            let cert = found.certs[i].0.clone();
            let chain = found
                .certs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (c, _))| c.clone())
                .collect();
            let alias = friendly_name.clone().unwrap_or_default();
            match SoftwareKey::from_pkcs8(alias, &pkcs8, &key_oid, cert, chain) {
                Ok(k) => {
                    made = Some(k);
                    break;
                }
                Err(e) => last_err = e,
            }
        }
        keys.push(made.ok_or(last_err)?);
    }
    for k in &mut keys {
        k.default_alias();
    }
    Ok(Pkcs12Contents { keys })
}
