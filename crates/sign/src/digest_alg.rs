use digest::Digest;

/// A message digest algorithm as used in CMS `digestAlgorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-1 (verification of old signatures only).
    Sha1,
    /// SHA-256: what RSA keys sign with.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// GOST 34.311-95 (GOST R 34.11-94, Test parameter set): GOST 34.310-2004 keys.
    Gost34311,
    /// GOST R 34.11-2015 Streebog-512: GOST R 34.10-2015 512-bit keys.
    Streebog512,
}

impl DigestAlgorithm {
    /// From a dotted OID.
    pub fn from_oid(oid: &str) -> Option<Self> {
        use qoltanba_pki::verify::digest_oid as d;
        use qoltanba_pki::verify::gost_oid as g;
        match oid {
            g::DIGEST_34311 => Some(Self::Gost34311),
            g::DIGEST_STREEBOG512 => Some(Self::Streebog512),
            d::SHA1 => Some(Self::Sha1),
            d::SHA256 => Some(Self::Sha256),
            d::SHA384 => Some(Self::Sha384),
            d::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The dotted OID.
    pub const fn oid(self) -> &'static str {
        use qoltanba_pki::verify::digest_oid as d;
        use qoltanba_pki::verify::gost_oid as g;
        match self {
            Self::Gost34311 => g::DIGEST_34311,
            Self::Streebog512 => g::DIGEST_STREEBOG512,
            Self::Sha1 => d::SHA1,
            Self::Sha256 => d::SHA256,
            Self::Sha384 => d::SHA384,
            Self::Sha512 => d::SHA512,
        }
    }

    /// Output size in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 | Self::Gost34311 => 32,
            Self::Sha384 => 48,
            Self::Sha512 | Self::Streebog512 => 64,
        }
    }

    /// A streaming hasher.
    pub fn hasher(self) -> Hasher {
        match self {
            Self::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Self::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Self::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Self::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Self::Gost34311 => Hasher::Gost34311(gost94::Gost94Test::new()),
            Self::Streebog512 => Hasher::Streebog512(streebog::Streebog512::new()),
        }
    }

    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }

    /// Hashes everything `reader` yields, in 1 MiB pieces.
    pub fn digest_reader(self, reader: &mut impl std::io::Read) -> std::io::Result<(Vec<u8>, u64)> {
        let mut h = self.hasher();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok((h.finish(), total));
            }
            total += n as u64;
            h.update(&buf[..n]);
        }
    }
}

/// A running digest.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-384.
    Sha384(sha2::Sha384),
    /// SHA-512.
    Sha512(sha2::Sha512),
    /// GOST 34.311-95.
    Gost34311(gost94::Gost94Test),
    /// Streebog-512.
    Streebog512(streebog::Streebog512),
}

impl Hasher {
    /// Feeds data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
            Self::Sha384(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
            Self::Gost34311(h) => h.update(data),
            Self::Streebog512(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha384(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
            Self::Gost34311(h) => h.finalize().to_vec(),
            Self::Streebog512(h) => h.finalize().to_vec(),
        }
    }
}
