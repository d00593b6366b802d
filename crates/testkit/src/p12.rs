//! Writes PKCS#12 key containers the way NCA does, and in OpenSSL 3's modern layout.
//!
//! NCA layout (KZ-PKI.md §0.3): `AuthenticatedSafe` = [ data { SafeContents { shrouded key bag
//! (pbeWithSHAAnd3-KeyTripleDES-CBC) } }, encryptedData (pbeWithSHAAnd40BitRC2-CBC) { SafeContents
//! { cert bag } } ], SHA-1 MAC, 1024 iterations, friendlyName = hex SKI, localKeyId on both bags.
//! With [`Encoding::NcaBer`] the outer layers use BER indefinite lengths and the encrypted content
//! is a constructed `[0]` of OCTET STRING segments, as in the real NCA files.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockEncryptMut, InnerIvInit, KeyIvInit};
use der::Encode;
use hmac::{Mac, SimpleHmac};
use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
use sha1::Digest;
use zeroize::Zeroizing;

use crate::pki::Issued;

/// How the container is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// NCA: 3DES key bag, RC2-40 certificate bag, SHA-1 MAC, 1024 iterations.
    NcaLegacy,
    /// OpenSSL 3 default: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), SHA-256 MAC, 2048 iterations.
    ModernPbes2,
}

/// How the outer structures are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Plain DER.
    Der,
    /// BER indefinite lengths and segmented encrypted content, as NCA's tools write.
    NcaBer,
}

/// What to put in the container.
pub struct Contents<'a> {
    /// The private key (PKCS#8 DER); `None` writes a certificate-only container.
    pub pkcs8: Option<&'a [u8]>,
    /// The certificate (DER).
    pub cert: &'a [u8],
    /// Extra certificates (chain).
    pub chain: &'a [&'a [u8]],
    /// friendlyName attribute.
    pub friendly_name: &'a str,
}

impl<'a> Contents<'a> {
    /// Key, certificate and the NCA alias (hex SKI) of an issued leaf.
    pub fn of(issued: &'a Issued) -> Self {
        Self {
            pkcs8: Some(&issued.pkcs8_der),
            cert: &issued.cert_der,
            chain: &[],
            friendly_name: &issued.ski_hex,
        }
    }
}

const ITERATIONS: u32 = 1024;

fn tlv(tag: u8, content: &[u8], enc: Encoding) -> Vec<u8> {
    let mut out = vec![tag];
    if enc == Encoding::NcaBer && tag & 0x20 != 0 {
        out.push(0x80);
        out.extend_from_slice(content);
        out.extend_from_slice(&[0, 0]);
        return out;
    }
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short"));
    } else {
        let b = (len as u64).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        out.push(0x80 | u8::try_from(8 - skip).expect("len"));
        out.extend_from_slice(&b[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    tlv(tag, content, Encoding::Der)
}

fn seq(parts: &[&[u8]], enc: Encoding) -> Vec<u8> {
    tlv(0x30, &parts.concat(), enc)
}

fn oid(s: &str) -> Vec<u8> {
    const_oid::ObjectIdentifier::new(s)
        .expect("oid")
        .to_der()
        .expect("oid")
}

fn octets(b: &[u8]) -> Vec<u8> {
    der(0x04, b)
}

/// An OCTET STRING, BER-segmented in 1000-byte pieces when `enc` is NcaBer.
fn octets_enc(b: &[u8], enc: Encoding) -> Vec<u8> {
    match enc {
        Encoding::Der => octets(b),
        Encoding::NcaBer => {
            let segs: Vec<u8> = b.chunks(1000).flat_map(octets).collect();
            tlv(0x24, &segs, enc)
        }
    }
}

fn int(v: u32) -> Vec<u8> {
    v.to_der().expect("int")
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    aws_lc_rs::rand::fill(&mut v).expect("rng");
    v
}

fn bag_attributes(local_key_id: &[u8], friendly_name: &str) -> Vec<u8> {
    let bmp: Vec<u8> = friendly_name
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let key_id = der(
        0x30,
        &[
            oid("1.2.840.113549.1.9.21"),
            der(0x31, &octets(local_key_id)),
        ]
        .concat(),
    );
    let name = der(
        0x30,
        &[oid("1.2.840.113549.1.9.20"), der(0x31, &der(0x1e, &bmp))].concat(),
    );
    // DER SET OF: sorted by encoding.
    let mut attrs = [key_id, name];
    attrs.sort();
    der(0x31, &attrs.concat())
}

/// PKCS#12 PBE (RFC 7292 App. C) with SHA-1; returns (AlgorithmIdentifier DER, ciphertext).
fn pbe_legacy(password: &str, plain: &[u8], three_des: bool) -> (Vec<u8>, Vec<u8>) {
    let salt = random(20);
    let d = |kind, len| {
        Zeroizing::new(
            derive_key_utf8::<sha1::Sha1>(
                password,
                &salt,
                kind,
                i32::try_from(ITERATIONS).expect("it"),
                len,
            )
            .expect("kdf"),
        )
    };
    let iv = d(Pkcs12KeyType::Iv, 8);
    let (alg_oid, ct) = if three_des {
        let key = d(Pkcs12KeyType::EncryptionKey, 24);
        let ct = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .expect("3des")
            .encrypt_padded_vec_mut::<Pkcs7>(plain);
        ("1.2.840.113549.1.12.1.3", ct)
    } else {
        let key = d(Pkcs12KeyType::EncryptionKey, 5);
        let cipher = rc2::Rc2::new_with_eff_key_len(&key, 40);
        let ct = cbc::Encryptor::<rc2::Rc2>::inner_iv_slice_init(cipher, &iv)
            .expect("rc2")
            .encrypt_padded_vec_mut::<Pkcs7>(plain);
        ("1.2.840.113549.1.12.1.6", ct)
    };
    let params = der(0x30, &[octets(&salt), int(ITERATIONS)].concat());
    (der(0x30, &[oid(alg_oid), params].concat()), ct)
}

/// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC.
fn pbe_modern(password: &str, plain: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let salt = random(16);
    let iv: [u8; 16] = random(16).try_into().expect("iv");
    let params =
        pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv).expect("pbes2");
    let scheme = pkcs5::EncryptionScheme::from(params);
    let ct = scheme.encrypt(password, plain).expect("encrypt");
    (scheme.to_der().expect("alg"), ct)
}

/// Builds the container.
pub fn write(
    contents: &Contents<'_>,
    password: &str,
    protection: Protection,
    enc: Encoding,
) -> Vec<u8> {
    let local_key_id = sha1::Sha1::digest(contents.cert).to_vec();
    let attrs = bag_attributes(&local_key_id, contents.friendly_name);
    let encrypt = |plain: &[u8], key_bag: bool| match protection {
        Protection::NcaLegacy => pbe_legacy(password, plain, key_bag),
        Protection::ModernPbes2 => pbe_modern(password, plain),
    };

    let mut auth_safe_parts = Vec::new();
    if let Some(pkcs8) = contents.pkcs8 {
        let (alg, ct) = encrypt(pkcs8, true);
        let epki = der(0x30, &[alg, octets(&ct)].concat());
        let bag = der(
            0x30,
            &[
                oid("1.2.840.113549.1.12.10.1.2"),
                der(0xa0, &epki),
                attrs.clone(),
            ]
            .concat(),
        );
        let safe_contents = seq(&[&bag], enc);
        auth_safe_parts.push(seq(
            &[
                &oid("1.2.840.113549.1.7.1"),
                &tlv(0xa0, &octets_enc(&safe_contents, enc), enc),
            ],
            enc,
        ));
    }
    let mut cert_bags = Vec::new();
    let mut cert_bag = |cert: &[u8], attrs: Option<&[u8]>| {
        let value = der(
            0x30,
            &[oid("1.2.840.113549.1.9.22.1"), der(0xa0, &octets(cert))].concat(),
        );
        let mut bag = [oid("1.2.840.113549.1.12.10.1.3"), der(0xa0, &value)].concat();
        if let Some(a) = attrs {
            bag.extend_from_slice(a);
        }
        cert_bags.push(der(0x30, &bag));
    };
    cert_bag(contents.cert, Some(&attrs));
    for c in contents.chain {
        cert_bag(c, None);
    }
    let safe_contents = der(0x30, &cert_bags.concat());
    let (alg, ct) = encrypt(&safe_contents, false);
    let encrypted_content = match enc {
        // [0] IMPLICIT OCTET STRING: primitive in DER, constructed segments in NCA's BER.
        Encoding::Der => der(0x80, &ct),
        Encoding::NcaBer => tlv(
            0xa0,
            &ct.chunks(1000).flat_map(octets).collect::<Vec<_>>(),
            enc,
        ),
    };
    let eci = seq(
        &[&oid("1.2.840.113549.1.7.1"), &alg, &encrypted_content],
        enc,
    );
    let encrypted_data = seq(&[&int(0), &eci], enc);
    auth_safe_parts.push(seq(
        &[
            &oid("1.2.840.113549.1.7.6"),
            &tlv(0xa0, &encrypted_data, enc),
        ],
        enc,
    ));

    let auth_safe = seq(
        &auth_safe_parts
            .iter()
            .map(Vec::as_slice)
            .collect::<Vec<_>>(),
        enc,
    );
    let mac_data = mac(password, &auth_safe, protection);
    let content_info = seq(
        &[
            &oid("1.2.840.113549.1.7.1"),
            &tlv(0xa0, &octets_enc(&auth_safe, enc), enc),
        ],
        enc,
    );
    seq(&[&int(3), &content_info, &mac_data], enc)
}

fn mac(password: &str, auth_safe: &[u8], protection: Protection) -> Vec<u8> {
    let salt = random(20);
    let it = i32::try_from(ITERATIONS).expect("it");
    let (alg_oid, tag) = match protection {
        Protection::NcaLegacy => {
            let key = Zeroizing::new(
                derive_key_utf8::<sha1::Sha1>(password, &salt, Pkcs12KeyType::Mac, it, 20)
                    .expect("kdf"),
            );
            let mut m = <SimpleHmac<sha1::Sha1> as Mac>::new_from_slice(&key).expect("hmac");
            m.update(auth_safe);
            ("1.3.14.3.2.26", m.finalize().into_bytes().to_vec())
        }
        Protection::ModernPbes2 => {
            let key = Zeroizing::new(
                derive_key_utf8::<sha2::Sha256>(password, &salt, Pkcs12KeyType::Mac, it, 32)
                    .expect("kdf"),
            );
            let mut m = <SimpleHmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("hmac");
            m.update(auth_safe);
            ("2.16.840.1.101.3.4.2.1", m.finalize().into_bytes().to_vec())
        }
    };
    let alg = der(0x30, &[oid(alg_oid), der(0x05, &[])].concat());
    let digest_info = der(0x30, &[alg, octets(&tag)].concat());
    der(
        0x30,
        &[digest_info, octets(&salt), int(ITERATIONS)].concat(),
    )
}

/// Writes an issued leaf as an NCA key file (`AUTH_RSA256_<ski>.p12` / `RSA256_<ski>.p12`) in
/// `dir`, in NCA's BER layout; returns the path.
pub fn write_nca_file(
    issued: &Issued,
    password: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let path = dir.join(issued.nca_file_name());
    let bytes = write(
        &Contents::of(issued),
        password,
        Protection::NcaLegacy,
        Encoding::NcaBer,
    );
    std::fs::write(&path, bytes).expect("write p12");
    path
}

/// A hostile container: no MAC, one encrypted safe whose PBES2 parameters ask for `iterations`
/// of PBKDF2 (the ciphertext is random). A reader that runs the KDF before checking the count
/// hangs on 2^31.
pub fn hostile_pbes2_no_mac(iterations: u32) -> Vec<u8> {
    let salt = random(16);
    let iv: [u8; 16] = random(16).try_into().expect("iv");
    let params = pkcs5::pbes2::Parameters {
        kdf: pkcs5::pbes2::Kdf::Pbkdf2(pkcs5::pbes2::Pbkdf2Params {
            salt: &salt,
            iteration_count: iterations,
            key_length: None,
            prf: pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256,
        }),
        encryption: pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
    };
    let alg = pkcs5::EncryptionScheme::from(params).to_der().expect("alg");
    let eci = der(
        0x30,
        &[oid("1.2.840.113549.1.7.1"), alg, der(0x80, &random(64))].concat(),
    );
    let encrypted_data = der(0x30, &[int(0), eci].concat());
    let auth_safe = der(
        0x30,
        &der(
            0x30,
            &[oid("1.2.840.113549.1.7.6"), der(0xa0, &encrypted_data)].concat(),
        ),
    );
    let content_info = der(
        0x30,
        &[oid("1.2.840.113549.1.7.1"), der(0xa0, &octets(&auth_safe))].concat(),
    );
    der(0x30, &[int(3), content_info].concat())
}
