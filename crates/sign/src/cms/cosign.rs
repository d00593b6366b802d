//! Co-signing: a new signer added to an existing CMS over the same content. The new
//! SignerInfo, its certificate and digest algorithm are spliced in; every existing signer,
//! certificate and the content stay byte for byte (BER input is normalised to DER first).

use qoltanba_keys::SigningKey;
use qoltanba_pki::ber::{self, Tlv};

use super::verify::attached_content;
use super::wrap;
use super::{CmsOptions, digest_algorithm_for, sign_digest};
use crate::SignError;

fn bad(m: impl std::fmt::Display) -> SignError {
    SignError::NotCms(m.to_string())
}

fn children<'a>(t: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, SignError> {
    t.children().map_err(bad)
}

/// SignedData's parts: (version, digestAlgorithms, encapContentInfo, certificates?, crls?,
/// signerInfos).
struct Parts<'a> {
    ci_tag: u8,
    ct: &'a [u8],
    explicit_tag: u8,
    sd_tag: u8,
    version: &'a [u8],
    digest_algs: Tlv<'a>,
    eci: &'a [u8],
    certs: Option<Tlv<'a>>,
    crls: Option<&'a [u8]>,
    signers: Tlv<'a>,
}

fn parts(der: &[u8]) -> Result<Parts<'_>, SignError> {
    let ci = Tlv::parse_exact(der).map_err(bad)?;
    let c = children(&ci)?;
    let [ct, explicit] = c.as_slice() else {
        return Err(bad("not a ContentInfo"));
    };
    let sd = children(explicit)?
        .into_iter()
        .next()
        .ok_or_else(|| bad("empty ContentInfo"))?;
    let f = children(&sd)?;
    if f.len() < 4 {
        return Err(bad("SignedData too short"));
    }
    let mut certs = None;
    let mut crls = None;
    for t in &f[3..f.len() - 1] {
        match t.tag {
            0xa0 => certs = Some(*t),
            0xa1 => crls = Some(t.raw),
            _ => return Err(bad("unexpected SignedData field")),
        }
    }
    Ok(Parts {
        ci_tag: ci.tag,
        ct: ct.raw,
        explicit_tag: explicit.tag,
        sd_tag: sd.tag,
        version: f[0].raw,
        digest_algs: f[1],
        eci: f[2].raw,
        certs,
        crls,
        signers: f[f.len() - 1],
    })
}

/// Adds a signature by `key` to `existing` (DER or BER). For a detached CMS `content` is the
/// signed content; for an attached one it is read from the CMS (and `content`, when given,
/// must be the same).
pub fn add_signer(
    existing: &[u8],
    key: &dyn SigningKey,
    content: Option<&[u8]>,
    opts: &CmsOptions,
) -> Result<Vec<u8>, SignError> {
    let der = ber::to_der(existing).map_err(bad)?;
    let inside = attached_content(&der)?;
    let data: &[u8] = match (&inside, content) {
        (Some(i), Some(c)) if i.as_slice() != c => {
            return Err(SignError::Content(
                "the content given is not the one inside the signature".into(),
            ));
        }
        (Some(i), _) => i,
        (None, Some(c)) => c,
        (None, None) => {
            return Err(SignError::Content(
                "this is a detached signature: the signed content is needed to add a signer".into(),
            ));
        }
    };
    let digest = digest_algorithm_for(key)?.digest(data);
    let mine_der = sign_digest(key, &digest, opts)?.to_detached_der()?;
    let mine = parts(&mine_der)?;
    let new_signer = children(&mine.signers)?
        .into_iter()
        .next()
        .ok_or_else(|| bad("no signer made"))?
        .raw;
    let new_alg = children(&mine.digest_algs)?
        .into_iter()
        .next()
        .ok_or_else(|| bad("no digest algorithm"))?
        .raw;
    let new_certs: Vec<&[u8]> = match &mine.certs {
        Some(c) => children(c)?.iter().map(|t| t.raw).collect(),
        None => Vec::new(),
    };

    let p = parts(&der)?;
    let mut algs: Vec<&[u8]> = children(&p.digest_algs)?.iter().map(|t| t.raw).collect();
    if !algs.contains(&new_alg) {
        algs.push(new_alg);
    }
    let digest_algs = wrap(p.digest_algs.tag, &algs);
    let mut certs: Vec<&[u8]> = match &p.certs {
        Some(c) => children(c)?.iter().map(|t| t.raw).collect(),
        None => Vec::new(),
    };
    for c in new_certs {
        if !certs.contains(&c) {
            certs.push(c);
        }
    }
    let certs = wrap(0xa0, &certs);
    let mut signers: Vec<&[u8]> = children(&p.signers)?.iter().map(|t| t.raw).collect();
    signers.push(new_signer);
    let signers = wrap(p.signers.tag, &signers);
    let mut sd: Vec<&[u8]> = vec![p.version, &digest_algs, p.eci, &certs];
    if let Some(c) = p.crls {
        sd.push(c);
    }
    sd.push(&signers);
    let sd = wrap(p.sd_tag, &sd);
    let explicit = wrap(p.explicit_tag, &[&sd]);
    Ok(wrap(p.ci_tag, &[p.ct, &explicit]))
}
