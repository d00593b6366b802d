//! XMLDSig algorithm URIs (KZ-PKI.md §3.4) and their mapping to the key and digest algorithms.

use qoltanba_keys::SignatureAlgorithm;

use crate::DigestAlgorithm;

/// The XML namespace of XMLDSig.
pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Inclusive C14N 1.0 (Kalkan's CanonicalizationMethod).
pub(crate) const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// Inclusive C14N 1.0 with comments (Kalkan's second transform).
pub(crate) const C14N_WITH_COMMENTS: &str =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// The enveloped-signature transform.
pub(crate) const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// DigestMethod of GOST 34.311-95 (Kalkan).
const GOST34311_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#gost34311";
/// DigestMethod of Streebog-512 (pkigovkz/xmldsig).
const STREEBOG512_URI: &str = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512";

/// A SignatureMethod the product knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlSignatureAlgorithm {
    /// SignatureMethod URI.
    pub uri: &'static str,
    /// The signature algorithm OID (for `qoltanba_pki::verify`).
    pub oid: &'static str,
    /// The digest used inside the signature.
    pub digest: Option<DigestAlgorithm>,
}

const SIGNATURE_METHODS: &[XmlSignatureAlgorithm] = &[
    XmlSignatureAlgorithm {
        uri: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        oid: "1.2.840.113549.1.1.11",
        digest: Some(DigestAlgorithm::Sha256),
    },
    XmlSignatureAlgorithm {
        uri: "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        oid: "1.2.840.113549.1.1.5",
        digest: Some(DigestAlgorithm::Sha1),
    },
    XmlSignatureAlgorithm {
        uri: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        oid: "1.2.840.113549.1.1.12",
        digest: Some(DigestAlgorithm::Sha384),
    },
    XmlSignatureAlgorithm {
        uri: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        oid: "1.2.840.113549.1.1.13",
        digest: Some(DigestAlgorithm::Sha512),
    },
    XmlSignatureAlgorithm {
        uri: "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311",
        oid: "1.2.398.3.10.1.1.1.2",
        digest: Some(DigestAlgorithm::Gost34311),
    },
    XmlSignatureAlgorithm {
        uri: "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512",
        oid: "1.2.398.3.10.1.1.2.3.2",
        digest: Some(DigestAlgorithm::Streebog512),
    },
];

impl XmlSignatureAlgorithm {
    /// By SignatureMethod URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        SIGNATURE_METHODS.iter().find(|a| a.uri == uri).copied()
    }

    /// The SignatureMethod a key's default algorithm is written as.
    pub fn for_key(alg: SignatureAlgorithm) -> Option<Self> {
        SIGNATURE_METHODS
            .iter()
            .find(|a| a.oid == alg.oid())
            .copied()
    }
}

/// DigestMethod URI → digest algorithm.
pub(crate) fn digest_from_uri(uri: &str) -> Option<DigestAlgorithm> {
    match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => Some(DigestAlgorithm::Sha1),
        "http://www.w3.org/2001/04/xmlenc#sha256" => Some(DigestAlgorithm::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => Some(DigestAlgorithm::Sha384),
        "http://www.w3.org/2001/04/xmlenc#sha512" => Some(DigestAlgorithm::Sha512),
        GOST34311_URI => Some(DigestAlgorithm::Gost34311),
        STREEBOG512_URI => Some(DigestAlgorithm::Streebog512),
        _ => None,
    }
}

/// Digest algorithm → DigestMethod URI.
pub(crate) fn digest_uri(alg: DigestAlgorithm) -> &'static str {
    match alg {
        DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
        DigestAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
        DigestAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        DigestAlgorithm::Gost34311 => GOST34311_URI,
        DigestAlgorithm::Streebog512 => STREEBOG512_URI,
    }
}
