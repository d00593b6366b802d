//! GOST R 34.10 signatures over the curves of [`super`]: the keys (a public point, a secret
//! scalar), signing with a fresh nonce and verification. The point arithmetic they use is the
//! parent module's.

use crypto_bigint::modular::MontyForm;
use crypto_bigint::{NonZero, Uint};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use super::{Curve, CurveId, Point, curve256, curve512, le_bytes, le_uint};
use crate::GostError;
use crate::field::Fe;

impl<const N: usize, const C: u64> Curve<N, C> {
    /// A field element (an x-coordinate) as an integer mod q.
    fn to_scalar(&self, v: &Fe<N, C>) -> MontyForm<N> {
        let mut bytes = v.to_le_bytes();
        let m = MontyForm::new(&Uint::<N>::from_le_slice(&bytes), self.fq);
        bytes.zeroize();
        m
    }

    /// e = digest read little-endian, mod q; 0 becomes 1 (GOST R 34.10 step 2).
    fn e_of(&self, digest: &[u8]) -> MontyForm<N> {
        let e = MontyForm::new(&le_uint::<N>(digest), self.fq);
        MontyForm::conditional_select(
            &e,
            &MontyForm::one(self.fq),
            e.ct_eq(&MontyForm::zero(self.fq)),
        )
    }

    fn verify(&self, q_xy: &[u8], digest: &[u8], sig: &[u8]) -> Result<(), GostError> {
        if sig.len() != 2 * self.len {
            return Err(GostError::Malformed("signature length"));
        }
        let r = le_uint::<N>(&sig[..self.len]);
        let s = le_uint::<N>(&sig[self.len..]);
        let zero = Uint::<N>::ZERO;
        if r == zero || s == zero || r >= self.q || s >= self.q {
            return Err(GostError::Mismatch);
        }
        let public = self
            .point(&q_xy[..self.len], &q_xy[self.len..])
            .ok_or(GostError::Malformed("public key"))?;
        let e = self.e_of(digest);
        // 1/e = e^(q−2): q is prime and e is not 0.
        let v = e.pow(&self.q.wrapping_sub(&Uint::from_u8(2)));
        let z1 = (MontyForm::new(&s, self.fq) * v).retrieve();
        let z2 = (-(MontyForm::new(&r, self.fq)) * v).retrieve();
        let c = self.add(
            &self.mul_base_vartime(&le_bytes(&z1, self.len)),
            &self.mul_vartime(&le_bytes(&z2, self.len), &Point::from_affine(&public)),
        );
        let c = Self::affine(&c).ok_or(GostError::Mismatch)?;
        if self.to_scalar(&c.x).retrieve() == r {
            Ok(())
        } else {
            Err(GostError::Mismatch)
        }
    }

    /// Signs with secret scalar `d` and nonce `k` (both < q, non-zero; `k` little-endian).
    fn sign_with(&self, d: &Uint<N>, k_le: &[u8], digest: &[u8]) -> Option<Vec<u8>> {
        let e = self.e_of(digest);
        let mut c = self.mul_base(k_le);
        let cx = Self::affine(&c)?.x;
        c.zeroize();
        let r = self.to_scalar(&cx);
        if bool::from(r.ct_eq(&MontyForm::zero(self.fq))) {
            return None;
        }
        let mut k = le_uint::<N>(k_le);
        let mut dm = MontyForm::new(d, self.fq);
        let mut km = MontyForm::new(&k, self.fq);
        let s = r * dm + km * e;
        dm.zeroize();
        km.zeroize();
        k.zeroize();
        if bool::from(s.ct_eq(&MontyForm::zero(self.fq))) {
            return None;
        }
        let mut out = le_bytes(&r.retrieve(), self.len);
        out.extend(le_bytes(&s.retrieve(), self.len));
        Some(out)
    }

    /// d·G as `X ‖ Y` little-endian.
    fn public(&self, d_le: &[u8]) -> Option<Vec<u8>> {
        let mut p = self.mul_base(d_le);
        let a = Self::affine(&p)?;
        p.zeroize();
        Some([a.x.to_le_bytes(), a.y.to_le_bytes()].concat())
    }
}

/// A public key: the curve and `X ‖ Y` little-endian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    curve: CurveId,
    xy: Vec<u8>,
}

impl PublicKey {
    /// From `X ‖ Y` little-endian (the content of the OCTET STRING inside the SPKI BIT STRING).
    pub fn from_le_xy(curve: CurveId, xy: &[u8]) -> Result<Self, GostError> {
        let n = curve.byte_len();
        if xy.len() != 2 * n {
            return Err(GostError::Malformed("public key length"));
        }
        let ok = match curve {
            CurveId::CryptoProA => curve256().point(&xy[..n], &xy[n..]).is_some(),
            CurveId::Tc26_512A => curve512().point(&xy[..n], &xy[n..]).is_some(),
        };
        if !ok {
            return Err(GostError::Malformed("public key (not on the curve)"));
        }
        Ok(Self {
            curve,
            xy: xy.to_vec(),
        })
    }

    /// The curve.
    pub fn curve(&self) -> CurveId {
        self.curve
    }

    /// `X ‖ Y` little-endian.
    pub fn to_le_xy(&self) -> &[u8] {
        &self.xy
    }

    /// Verifies an NCA-layout signature (`r ‖ s` little-endian) over a digest.
    pub fn verify_digest(&self, digest: &[u8], signature: &[u8]) -> Result<(), GostError> {
        match self.curve {
            CurveId::CryptoProA => curve256().verify(&self.xy, digest, signature),
            CurveId::Tc26_512A => curve512().verify(&self.xy, digest, signature),
        }
    }
}

/// A private scalar, zeroized on drop; never printed.
pub struct PrivateKey {
    curve: CurveId,
    d_le: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({:?}, ***)", self.curve)
    }
}

impl PrivateKey {
    /// From the scalar in little-endian bytes (2015 keys store it so).
    pub fn from_le(curve: CurveId, d: &[u8]) -> Result<Self, GostError> {
        let n = curve.byte_len();
        if d.is_empty() || d.len() > n {
            return Err(GostError::Malformed("private key length"));
        }
        let mut v = zeroize::Zeroizing::new(vec![0u8; n]);
        v[..d.len()].copy_from_slice(d);
        let valid = match curve {
            CurveId::CryptoProA => scalar_ok(&le_uint::<4>(&v), &curve256().q),
            CurveId::Tc26_512A => scalar_ok(&le_uint::<8>(&v), &curve512().q),
        };
        if !valid {
            return Err(GostError::Malformed("private key (out of range)"));
        }
        Ok(Self { curve, d_le: v })
    }

    /// From the scalar in big-endian bytes (2004 keys store a DER INTEGER).
    pub fn from_be(curve: CurveId, d: &[u8]) -> Result<Self, GostError> {
        let trimmed: Vec<u8> = d.iter().copied().skip_while(|b| *b == 0).collect();
        let mut le = zeroize::Zeroizing::new(trimmed);
        le.reverse();
        Self::from_le(curve, &le)
    }

    /// The curve.
    pub fn curve(&self) -> CurveId {
        self.curve
    }

    /// d·G.
    pub fn public_key(&self) -> PublicKey {
        let xy = match self.curve {
            CurveId::CryptoProA => curve256().public(&self.d_le),
            CurveId::Tc26_512A => curve512().public(&self.d_le),
        };
        PublicKey {
            curve: self.curve,
            // d is in [1, q), so d·G is never the identity.
            xy: xy.unwrap_or_default(),
        }
    }

    /// Signs a digest with a nonce from `random` (a CSPRNG that fills the buffer and returns
    /// `true`, or `false` when it failed). The nonce is drawn with 64 extra bits and reduced, so
    /// its bias is negligible; a fresh one is drawn for every signature.
    pub fn sign_digest(
        &self,
        digest: &[u8],
        mut random: impl FnMut(&mut [u8]) -> bool,
    ) -> Result<Vec<u8>, GostError> {
        let n = self.curve.byte_len();
        // r = 0, s = 0 or k = 0 happen with probability ~2^-255; a bound keeps a broken RNG
        // from looping forever.
        for _ in 0..16 {
            let mut buf = zeroize::Zeroizing::new(vec![0u8; n + 8]);
            if !random(&mut buf) {
                return Err(GostError::Random);
            }
            let sig = match self.curve {
                CurveId::CryptoProA => sign_once::<4, 5, 617>(curve256(), &self.d_le, &buf, digest),
                CurveId::Tc26_512A => sign_once::<8, 9, 569>(curve512(), &self.d_le, &buf, digest),
            };
            if let Some(s) = sig {
                return Ok(s);
            }
        }
        Err(GostError::Random)
    }
}

fn scalar_ok<const L: usize>(d: &Uint<L>, q: &Uint<L>) -> bool {
    d != &Uint::<L>::ZERO && d < q
}

/// One attempt: k = wide random mod q (must be non-zero), then sign.
fn sign_once<const N: usize, const W: usize, const C: u64>(
    c: &Curve<N, C>,
    d_le: &[u8],
    random: &[u8],
    digest: &[u8],
) -> Option<Vec<u8>> {
    // Reduce the (n+8)-byte random number mod q through a wider integer.
    // Every copy of the nonce and the secret scalar is zeroized before returning.
    let mut wide = le_uint::<W>(random);
    let q_wide: Uint<W> = c.q.resize();
    let mut k_wide = wide.rem(&NonZero::new(q_wide).expect("q non-zero"));
    wide.zeroize();
    let mut k: Uint<N> = k_wide.resize();
    k_wide.zeroize();
    if k == Uint::<N>::ZERO {
        return None;
    }
    let mut k_le = zeroize::Zeroizing::new(le_bytes(&k, c.len));
    k.zeroize();
    let mut d = le_uint::<N>(d_le);
    let out = c.sign_with(&d, &k_le, digest);
    d.zeroize();
    k_le.zeroize();
    out
}
