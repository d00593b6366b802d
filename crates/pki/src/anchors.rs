//! NCA's trust anchors, recognised by the SHA-256 of their DER certificate (KZ-PKI.md §6.2,
//! kz-pki-vectors/MANIFEST.md). The certificates are not compiled in: `qoltanba trust update`
//! fetches or imports them and keeps only those whose fingerprint is pinned here.

use sha2::{Digest, Sha256};

/// A pinned NCA CA certificate.
#[derive(Debug, Clone, Copy)]
pub struct Pin {
    /// File name NCA publishes it under.
    pub name: &'static str,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub sha256: &'static str,
    /// The official download address.
    pub url: &'static str,
    /// Still within its validity (the 2018 generation expired in 2025 but is kept to check old
    /// signatures at their signing time).
    pub current: bool,
}

/// Current (2020/2022) and previous (2015/2018) NCA roots and intermediates.
pub const NCA_PINS: &[Pin] = &[
    Pin {
        name: "root_rsa_2020.cer",
        sha256: "9ba06354b626641715182e4d07c9dbaa1777720fa795d03174ffc68876535dcd",
        url: "https://pki.gov.kz/cert/root_rsa_2020.cer",
        current: true,
    },
    Pin {
        name: "nca_rsa_2022.cer",
        sha256: "84fb799a66140950818c056a5d9730acc2a7622cdd4ef0d47113b132fb892905",
        url: "https://pki.gov.kz/cert/nca_rsa_2022.cer",
        current: true,
    },
    Pin {
        name: "root_gost_2022.cer",
        sha256: "af77725f8328bb24f89d81da3acdf7cee4324248538b7ba2cd2a860517fb9dca",
        url: "https://pki.gov.kz/cert/root_gost_2022.cer",
        current: true,
    },
    Pin {
        name: "nca_gost_2022.cer",
        sha256: "32c7d233a42703a327f3025543a05b930e3f39a786c68dfa196baa86d5618524",
        url: "https://pki.gov.kz/cert/nca_gost_2022.cer",
        current: true,
    },
    Pin {
        name: "root_rsa.cer",
        sha256: "a7064abc5699827f370c67b09f1a1bfd7ad5e1514d471223df209c08300ea972",
        url: "http://root.gov.kz/cert/root_rsa.cer",
        current: false,
    },
    Pin {
        name: "nca_rsa.cer",
        sha256: "34d1b311a9873191ae3382805df51e0a5da23315c512a8deeb885668ceeb5834",
        url: "http://pki.gov.kz/cert/nca_rsa.cer",
        current: false,
    },
    Pin {
        name: "root_gost.cer",
        sha256: "9ab210e54e6b0343321131202d9edcc2598f598cfdd9ee4ec1056021ab2e9759",
        url: "http://root.gov.kz/cert/root_gost.cer",
        current: false,
    },
    Pin {
        name: "nca_gost.cer",
        sha256: "908521d0531e5645e64b34d3588374a3a83582c860e5f7293a04c41217e8cc18",
        url: "http://pki.gov.kz/cert/nca_gost.cer",
        current: false,
    },
];

/// The pin a DER certificate matches, if any.
pub fn pinned(der: &[u8]) -> Option<&'static Pin> {
    let h = hex::encode(Sha256::digest(der));
    NCA_PINS.iter().find(|p| p.sha256 == h)
}
