// The formulas keep the paper's names (x1, t0, …) and its one-operation-per-line form, so that
// they can be checked against Renes–Costello–Batina 2016, Algorithm 1, line by line.
#![allow(clippy::many_single_char_names, clippy::assign_op_pattern)]

use crypto_bigint::modular::{MontyForm, MontyParams};
use crypto_bigint::{Odd, Uint};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use crate::GostError;

/// The curves NCA uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveId {
    /// 1.2.398.3.10.1.1.1.1.1 = id-GostR3410-2001-CryptoPro-A-ParamSet (RFC 4357), 256-bit.
    CryptoProA,
    /// 1.2.398.3.10.1.1.2.2.1 = id-tc26-gost-3410-12-512-paramSetA (RFC 7836), 512-bit.
    Tc26_512A,
}

impl CurveId {
    /// Size of one coordinate / scalar in bytes.
    pub const fn byte_len(self) -> usize {
        match self {
            Self::CryptoProA => 32,
            Self::Tc26_512A => 64,
        }
    }
}

struct Params {
    p: &'static str,
    a: &'static str,
    b: &'static str,
    q: &'static str,
    x: &'static str,
    y: &'static str,
}

const CRYPTO_PRO_A: Params = Params {
    p: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
    a: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
    b: "00000000000000000000000000000000000000000000000000000000000000A6",
    q: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
    x: "0000000000000000000000000000000000000000000000000000000000000001",
    y: "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
};

const TC26_512_A: Params = Params {
    p: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
    a: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
    b: "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
    q: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
    x: "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003",
    y: "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
};

/// A point in projective coordinates (X:Y:Z), x = X/Z, y = Y/Z; (0:1:0) is the identity.
#[derive(Clone, Copy)]
struct Point<const L: usize> {
    x: MontyForm<L>,
    y: MontyForm<L>,
    z: MontyForm<L>,
}

impl<const L: usize> ConditionallySelectable for Point<L> {
    fn conditional_select(a: &Self, b: &Self, c: Choice) -> Self {
        Self {
            x: MontyForm::conditional_select(&a.x, &b.x, c),
            y: MontyForm::conditional_select(&a.y, &b.y, c),
            z: MontyForm::conditional_select(&a.z, &b.z, c),
        }
    }
}

struct Curve<const L: usize> {
    fp: MontyParams<L>,
    fq: MontyParams<L>,
    p: Uint<L>,
    q: Uint<L>,
    a: MontyForm<L>,
    b: MontyForm<L>,
    b3: MontyForm<L>,
    g: Point<L>,
    len: usize,
}

fn uint<const L: usize>(hex: &str) -> Uint<L> {
    Uint::<L>::from_be_hex(hex)
}

impl<const L: usize> Curve<L> {
    fn new(c: &Params, len: usize) -> Self {
        let p = uint::<L>(c.p);
        let q = uint::<L>(c.q);
        let fp = MontyParams::new_vartime(Odd::new(p).expect("p is odd"));
        let fq = MontyParams::new_vartime(Odd::new(q).expect("q is odd"));
        let f = |h: &str| MontyForm::new(&uint::<L>(h), fp);
        let b = f(c.b);
        let g = Point {
            x: f(c.x),
            y: f(c.y),
            z: MontyForm::one(fp),
        };
        Self {
            fp,
            fq,
            p,
            q,
            a: f(c.a),
            b,
            b3: b + b + b,
            g,
            len,
        }
    }

    fn identity(&self) -> Point<L> {
        Point {
            x: MontyForm::zero(self.fp),
            y: MontyForm::one(self.fp),
            z: MontyForm::zero(self.fp),
        }
    }

    /// Complete addition for short Weierstrass curves with any `a` (Renes–Costello–Batina 2016,
    /// Algorithm 1); valid for doubling and the identity too.
    fn add(&self, p1: &Point<L>, p2: &Point<L>) -> Point<L> {
        let (x1, y1, z1) = (p1.x, p1.y, p1.z);
        let (x2, y2, z2) = (p2.x, p2.y, p2.z);
        let (a, b3) = (self.a, self.b3);
        let mut t0 = x1 * x2;
        let mut t1 = y1 * y2;
        let mut t2 = z1 * z2;
        let mut t3 = x1 + y1;
        let mut t4 = x2 + y2;
        t3 = t3 * t4;
        t4 = t0 + t1;
        t3 = t3 - t4;
        t4 = x1 + z1;
        let mut t5 = x2 + z2;
        t4 = t4 * t5;
        t5 = t0 + t2;
        t4 = t4 - t5;
        t5 = y1 + z1;
        let mut x3 = y2 + z2;
        t5 = t5 * x3;
        x3 = t1 + t2;
        t5 = t5 - x3;
        let mut z3 = a * t4;
        x3 = b3 * t2;
        z3 = x3 + z3;
        x3 = t1 - z3;
        z3 = t1 + z3;
        let mut y3 = x3 * z3;
        t1 = t0 + t0;
        t1 = t1 + t0;
        t2 = a * t2;
        t4 = b3 * t4;
        t1 = t1 + t2;
        t2 = t0 - t2;
        t2 = a * t2;
        t4 = t4 + t2;
        t0 = t1 * t4;
        y3 = y3 + t0;
        t0 = t5 * t4;
        x3 = t3 * x3;
        x3 = x3 - t0;
        t0 = t3 * t1;
        z3 = z3 * t5;
        z3 = z3 + t0;
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `k·P` by a Montgomery ladder over all bits of the scalar's width: the same sequence of
    /// operations for every scalar.
    fn mul(&self, k: &Uint<L>, p: &Point<L>) -> Point<L> {
        let mut r0 = self.identity();
        let mut r1 = *p;
        for i in (0..Uint::<L>::BITS).rev() {
            let bit: Choice = k.bit(i).into();
            Point::conditional_swap(&mut r0, &mut r1, bit);
            r1 = self.add(&r0, &r1);
            r0 = self.add(&r0, &r0);
            Point::conditional_swap(&mut r0, &mut r1, bit);
        }
        r0
    }

    /// `a·P + b·Q` for verification (public inputs only, so variable time is fine): one pass
    /// over the bits with P, Q and P+Q precomputed (Shamir's trick).
    fn mul2_vartime(&self, a: &Uint<L>, p: &Point<L>, b: &Uint<L>, q: &Point<L>) -> Point<L> {
        let pq = self.add(p, q);
        let mut r = self.identity();
        let top = a.bits_vartime().max(b.bits_vartime());
        for i in (0..top).rev() {
            r = self.add(&r, &r);
            match (a.bit_vartime(i), b.bit_vartime(i)) {
                (true, true) => r = self.add(&r, &pq),
                (true, false) => r = self.add(&r, p),
                (false, true) => r = self.add(&r, q),
                (false, false) => {}
            }
        }
        r
    }

    /// Affine (x, y), or `None` for the identity.
    fn affine(&self, p: &Point<L>) -> Option<(Uint<L>, Uint<L>)> {
        if bool::from(p.z.ct_eq(&MontyForm::zero(self.fp))) {
            return None;
        }
        let zi = self.inv_p(&p.z);
        Some(((p.x * zi).retrieve(), (p.y * zi).retrieve()))
    }

    /// z^(p−2): constant-time inversion in the field.
    fn inv_p(&self, z: &MontyForm<L>) -> MontyForm<L> {
        let e = self.p.wrapping_sub(&Uint::from_u8(2));
        z.pow(&e)
    }

    fn inv_q(&self, z: &MontyForm<L>) -> MontyForm<L> {
        let e = self.q.wrapping_sub(&Uint::from_u8(2));
        z.pow(&e)
    }

    fn on_curve(&self, x: &Uint<L>, y: &Uint<L>) -> bool {
        if x >= &self.p || y >= &self.p {
            return false;
        }
        let x = MontyForm::new(x, self.fp);
        let y = MontyForm::new(y, self.fp);
        let lhs = y * y;
        let rhs = x * x * x + self.a * x + self.b;
        bool::from(lhs.ct_eq(&rhs))
    }

    fn point(&self, x: &Uint<L>, y: &Uint<L>) -> Point<L> {
        Point {
            x: MontyForm::new(x, self.fp),
            y: MontyForm::new(y, self.fp),
            z: MontyForm::one(self.fp),
        }
    }

    /// e = digest read little-endian, mod q; 0 becomes 1 (GOST R 34.10 step 2).
    fn e_of(&self, digest: &[u8]) -> MontyForm<L> {
        let e = MontyForm::new(&le_uint::<L>(digest), self.fq);
        MontyForm::conditional_select(
            &e,
            &MontyForm::one(self.fq),
            e.ct_eq(&MontyForm::zero(self.fq)),
        )
    }

    fn verify(
        &self,
        qx: &Uint<L>,
        qy: &Uint<L>,
        digest: &[u8],
        sig: &[u8],
    ) -> Result<(), GostError> {
        if sig.len() != 2 * self.len {
            return Err(GostError::Malformed("signature length"));
        }
        let r = le_uint::<L>(&sig[..self.len]);
        let s = le_uint::<L>(&sig[self.len..]);
        let zero = Uint::<L>::ZERO;
        if r == zero || s == zero || r >= self.q || s >= self.q {
            return Err(GostError::Mismatch);
        }
        if !self.on_curve(qx, qy) {
            return Err(GostError::Malformed("public key"));
        }
        let e = self.e_of(digest);
        let v = self.inv_q(&e);
        let z1 = (MontyForm::new(&s, self.fq) * v).retrieve();
        let z2 = (-(MontyForm::new(&r, self.fq)) * v).retrieve();
        let c = self.mul2_vartime(&z1, &self.g, &z2, &self.point(qx, qy));
        let (cx, _) = self.affine(&c).ok_or(GostError::Mismatch)?;
        let big_r = MontyForm::new(&cx, self.fq).retrieve();
        if big_r == r {
            Ok(())
        } else {
            Err(GostError::Mismatch)
        }
    }

    /// Signs with secret scalar `d` and nonce `k` (both < q, non-zero).
    fn sign_with(&self, d: &Uint<L>, k: &Uint<L>, digest: &[u8]) -> Option<Vec<u8>> {
        let e = self.e_of(digest);
        let c = self.mul(k, &self.g);
        let (cx, _) = self.affine(&c)?;
        let r = MontyForm::new(&cx, self.fq);
        if bool::from(r.ct_eq(&MontyForm::zero(self.fq))) {
            return None;
        }
        let mut dm = MontyForm::new(d, self.fq);
        let mut km = MontyForm::new(k, self.fq);
        let s = r * dm + km * e;
        dm.zeroize();
        km.zeroize();
        if bool::from(s.ct_eq(&MontyForm::zero(self.fq))) {
            return None;
        }
        let mut out = le_bytes(&r.retrieve(), self.len);
        out.extend(le_bytes(&s.retrieve(), self.len));
        Some(out)
    }

    fn public(&self, d: &Uint<L>) -> Option<(Uint<L>, Uint<L>)> {
        self.affine(&self.mul(d, &self.g))
    }
}

fn le_uint<const L: usize>(bytes: &[u8]) -> Uint<L> {
    let mut buf = vec![0u8; L * 8];
    let n = bytes.len().min(buf.len());
    buf[..n].copy_from_slice(&bytes[..n]);
    let v = Uint::<L>::from_le_slice(&buf);
    buf.zeroize();
    v
}

fn le_bytes<const L: usize>(v: &Uint<L>, len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = v.as_words().iter().flat_map(|w| w.to_le_bytes()).collect();
    out.truncate(len);
    out
}

fn curve256() -> &'static Curve<4> {
    static C: std::sync::OnceLock<Curve<4>> = std::sync::OnceLock::new();
    C.get_or_init(|| Curve::new(&CRYPTO_PRO_A, 32))
}

fn curve512() -> &'static Curve<8> {
    static C: std::sync::OnceLock<Curve<8>> = std::sync::OnceLock::new();
    C.get_or_init(|| Curve::new(&TC26_512_A, 64))
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
        if xy.len() != 2 * curve.byte_len() {
            return Err(GostError::Malformed("public key length"));
        }
        let n = curve.byte_len();
        let ok = match curve {
            CurveId::CryptoProA => curve256().on_curve(&le_uint(&xy[..n]), &le_uint(&xy[n..])),
            CurveId::Tc26_512A => curve512().on_curve(&le_uint(&xy[..n]), &le_uint(&xy[n..])),
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
        let n = self.curve.byte_len();
        match self.curve {
            CurveId::CryptoProA => curve256().verify(
                &le_uint(&self.xy[..n]),
                &le_uint(&self.xy[n..]),
                digest,
                signature,
            ),
            CurveId::Tc26_512A => curve512().verify(
                &le_uint(&self.xy[..n]),
                &le_uint(&self.xy[n..]),
                digest,
                signature,
            ),
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
        let n = self.curve.byte_len();
        let xy = match self.curve {
            CurveId::CryptoProA => {
                let (x, y) = curve256().public(&le_uint(&self.d_le)).unwrap_or_default();
                [le_bytes(&x, n), le_bytes(&y, n)].concat()
            }
            CurveId::Tc26_512A => {
                let (x, y) = curve512().public(&le_uint(&self.d_le)).unwrap_or_default();
                [le_bytes(&x, n), le_bytes(&y, n)].concat()
            }
        };
        PublicKey {
            curve: self.curve,
            xy,
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
                CurveId::CryptoProA => sign_once::<4, 5>(curve256(), &self.d_le, &buf, digest),
                CurveId::Tc26_512A => sign_once::<8, 9>(curve512(), &self.d_le, &buf, digest),
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
fn sign_once<const L: usize, const W: usize>(
    c: &Curve<L>,
    d_le: &[u8],
    random: &[u8],
    digest: &[u8],
) -> Option<Vec<u8>> {
    // Reduce the (n+8)-byte random number mod q through a wider integer.
    // Every copy of the nonce and the secret scalar is zeroized before returning.
    let mut wide = le_uint::<W>(random);
    let q_wide: Uint<W> = c.q.resize();
    let mut k_wide = wide.rem(&crypto_bigint::NonZero::new(q_wide).expect("q non-zero"));
    wide.zeroize();
    let mut k: Uint<L> = k_wide.resize();
    k_wide.zeroize();
    if k == Uint::<L>::ZERO {
        return None;
    }
    let mut d = le_uint::<L>(d_le);
    let out = c.sign_with(&d, &k, digest);
    d.zeroize();
    k.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_points_are_on_their_curves_and_have_order_q() {
        let c = curve256();
        let (gx, gy) = c.affine(&c.g).unwrap();
        assert!(c.on_curve(&gx, &gy));
        assert!(c.affine(&c.mul(&c.q, &c.g)).is_none(), "q·G = O");
        let c = curve512();
        let (gx, gy) = c.affine(&c.g).unwrap();
        assert!(c.on_curve(&gx, &gy));
        assert!(c.affine(&c.mul(&c.q, &c.g)).is_none(), "q·G = O");
    }

    #[test]
    fn sign_then_verify_and_tampering_fails() {
        let mut seed = 7u8;
        let mut rng = |b: &mut [u8]| {
            for x in b.iter_mut() {
                seed = seed.wrapping_mul(167).wrapping_add(13);
                *x = seed;
            }
            true
        };
        for curve in [CurveId::CryptoProA, CurveId::Tc26_512A] {
            let n = curve.byte_len();
            let mut d = vec![0x11u8; n];
            d[n - 1] = 0x01;
            let key = PrivateKey::from_le(curve, &d).unwrap();
            let public = key.public_key();
            let digest = vec![0xabu8; n];
            let sig = key.sign_digest(&digest, &mut rng).unwrap();
            assert_eq!(sig.len(), 2 * n);
            public.verify_digest(&digest, &sig).unwrap();
            let mut bad = sig.clone();
            bad[3] ^= 1;
            assert_eq!(
                public.verify_digest(&digest, &bad),
                Err(GostError::Mismatch)
            );
            let mut other = digest.clone();
            other[0] ^= 1;
            assert_eq!(public.verify_digest(&other, &sig), Err(GostError::Mismatch));
        }
    }

    #[test]
    fn hash_34311_is_the_test_paramset() {
        // KZ-PKI.md §3.2: GOST 34.311-95("abc") = f3134348…a4d51d.
        let h = crate::hash_34311(b"abc");
        assert_eq!(h[0..4], [0xf3, 0x13, 0x43, 0x48]);
        assert_eq!(h[29..32], [0xa4, 0xd5, 0x1d]);
    }
}
