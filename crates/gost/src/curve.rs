// The formulas keep the paper's names (t0, x3, …) and its one-operation-per-line form, so that
// they can be checked against Renes–Costello–Batina 2016, Algorithms 4–6, line by line.
#![allow(clippy::many_single_char_names, clippy::similar_names)]

use std::sync::OnceLock;

use crypto_bigint::Odd;
use crypto_bigint::Uint;
use crypto_bigint::modular::MontyParams;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use crate::field::Fe;

mod keys;

pub use keys::{PrivateKey, PublicKey};

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

/// A curve's constants, big-endian hex. Both have `a = −3` and a prime `p = 2^n − C`, which the
/// field and the formulas rely on; `Curve::new` checks both.
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

// crypto-bigint's `Uint<N>` must have 64-bit limbs for `Uint<4>` to be 256 bits.
const _: () = assert!(crypto_bigint::Word::BITS == 64, "a 64-bit target is needed");

/// A point in projective coordinates (X:Y:Z), x = X/Z, y = Y/Z; (0:1:0) is the identity.
#[derive(Clone, Copy)]
struct Point<const N: usize, const C: u64> {
    x: Fe<N, C>,
    y: Fe<N, C>,
    z: Fe<N, C>,
}

/// An affine point (x, y), never the identity.
#[derive(Clone, Copy)]
struct Affine<const N: usize, const C: u64> {
    x: Fe<N, C>,
    y: Fe<N, C>,
}

impl<const N: usize, const C: u64> ConditionallySelectable for Point<N, C> {
    fn conditional_select(a: &Self, b: &Self, c: Choice) -> Self {
        Self {
            x: Fe::conditional_select(&a.x, &b.x, c),
            y: Fe::conditional_select(&a.y, &b.y, c),
            z: Fe::conditional_select(&a.z, &b.z, c),
        }
    }
}

impl<const N: usize, const C: u64> ConditionallySelectable for Affine<N, C> {
    fn conditional_select(a: &Self, b: &Self, c: Choice) -> Self {
        Self {
            x: Fe::conditional_select(&a.x, &b.x, c),
            y: Fe::conditional_select(&a.y, &b.y, c),
        }
    }
}

impl<const N: usize, const C: u64> Zeroize for Point<N, C> {
    fn zeroize(&mut self) {
        self.x.zeroize();
        self.y.zeroize();
        self.z.zeroize();
    }
}

impl<const N: usize, const C: u64> Point<N, C> {
    const IDENTITY: Self = Self {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    fn from_affine(p: &Affine<N, C>) -> Self {
        Self {
            x: p.x,
            y: p.y,
            z: Fe::ONE,
        }
    }
}

/// Signed radix-16 digits of a scalar: `k = Σ dᵢ·16^i` with `dᵢ ∈ [−8, 8)` (the top digit 0 or
/// 1). The recoding is arithmetic only, the same steps for every scalar.
struct Digits([i8; 129]);

impl Digits {
    fn of(le: &[u8]) -> Self {
        let mut d = [0i8; 129];
        for (i, byte) in le.iter().enumerate() {
            // Nibbles are 0..=15; they fit in i8.
            d[2 * i] = i8::try_from(byte & 0xf).unwrap_or(0);
            d[2 * i + 1] = i8::try_from(byte >> 4).unwrap_or(0);
        }
        for i in 0..2 * le.len() {
            let carry = (d[i] + 8) >> 4;
            d[i] -= carry << 4;
            d[i + 1] += carry;
        }
        Self(d)
    }
}

impl Drop for Digits {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Row `i` of the fixed-base table: `j·16^i·G` for `j = 1..=8`.
type Row<const N: usize, const C: u64> = [Affine<N, C>; 8];

struct Curve<const N: usize, const C: u64> {
    fq: MontyParams<N>,
    q: Uint<N>,
    b: Fe<N, C>,
    g: Affine<N, C>,
    /// One row per radix-16 digit of a scalar (`2·len + 1` rows).
    table: Vec<Row<N, C>>,
    len: usize,
}

fn fe<const N: usize, const C: u64>(be_hex: &str) -> Fe<N, C> {
    let mut le = le_bytes(&Uint::<N>::from_be_hex(be_hex), 8 * N);
    let v = Fe::from_le_bytes(&le).expect("a curve constant is below p");
    le.zeroize();
    v
}

impl<const N: usize, const C: u64> Curve<N, C> {
    fn new(c: &Params) -> Self {
        let p = Uint::<N>::from_be_hex(c.p);
        assert_eq!(
            p.wrapping_add(&Uint::from_u64(C)),
            Uint::ZERO,
            "p = 2^n − C"
        );
        let a: Fe<N, C> = fe(c.a);
        assert!(
            bool::from(a.ct_eq(&Fe::ONE.double().add(&Fe::ONE).neg())),
            "a = −3"
        );
        let q = Uint::<N>::from_be_hex(c.q);
        let fq = MontyParams::new_vartime(Odd::new(q).expect("q is odd"));
        let g = Affine {
            x: fe(c.x),
            y: fe(c.y),
        };
        let mut curve = Self {
            fq,
            q,
            b: fe(c.b),
            g,
            table: Vec::new(),
            len: 8 * N,
        };
        curve.table = curve.build_table();
        curve
    }

    /// `j·16^i·G` for every row `i` and `j = 1..=8`, made affine with one inversion.
    fn build_table(&self) -> Vec<Row<N, C>> {
        let rows = 2 * self.len + 1;
        let mut points = Vec::with_capacity(rows * 8);
        let mut base = Point::from_affine(&self.g);
        for _ in 0..rows {
            let mut p = base;
            points.push(p);
            for _ in 1..8 {
                p = self.add(&p, &base);
                points.push(p);
            }
            // 16·base = 2·(8·base).
            base = self.double(&p);
        }
        let affine = self.batch_affine(&points);
        affine
            .chunks_exact(8)
            .map(|c| {
                let mut row = [c[0]; 8];
                row.copy_from_slice(c);
                row
            })
            .collect()
    }

    /// Affine forms of points that are not the identity (Montgomery's trick: one inversion).
    fn batch_affine(&self, points: &[Point<N, C>]) -> Vec<Affine<N, C>> {
        let mut prefix = Vec::with_capacity(points.len());
        let mut acc = Fe::ONE;
        for p in points {
            acc = acc.mul(&p.z);
            prefix.push(acc);
        }
        let mut inv = acc.invert();
        let mut out = vec![self.g; points.len()];
        for i in (0..points.len()).rev() {
            let zi = if i == 0 { inv } else { inv.mul(&prefix[i - 1]) };
            inv = inv.mul(&points[i].z);
            out[i] = Affine {
                x: points[i].x.mul(&zi),
                y: points[i].y.mul(&zi),
            };
        }
        out
    }

    /// Complete addition for `a = −3` (Renes–Costello–Batina 2016, Algorithm 4); valid for
    /// doubling and the identity too.
    fn add(&self, p1: &Point<N, C>, p2: &Point<N, C>) -> Point<N, C> {
        let (x1, y1, z1) = (&p1.x, &p1.y, &p1.z);
        let (x2, y2, z2) = (&p2.x, &p2.y, &p2.z);
        let b = &self.b;
        let mut t0 = x1.mul(x2); // 1
        let mut t1 = y1.mul(y2); // 2
        let mut t2 = z1.mul(z2); // 3
        let mut t3 = x1.add(y1); // 4
        let mut t4 = x2.add(y2); // 5
        t3 = t3.mul(&t4); // 6
        t4 = t0.add(&t1); // 7
        t3 = t3.sub(&t4); // 8
        t4 = y1.add(z1); // 9
        let mut x3 = y2.add(z2); // 10
        t4 = t4.mul(&x3); // 11
        x3 = t1.add(&t2); // 12
        t4 = t4.sub(&x3); // 13
        x3 = x1.add(z1); // 14
        let mut y3 = x2.add(z2); // 15
        x3 = x3.mul(&y3); // 16
        y3 = t0.add(&t2); // 17
        y3 = x3.sub(&y3); // 18
        let mut z3 = b.mul(&t2); // 19
        x3 = y3.sub(&z3); // 20
        z3 = x3.double(); // 21
        x3 = x3.add(&z3); // 22
        z3 = t1.sub(&x3); // 23
        x3 = t1.add(&x3); // 24
        y3 = b.mul(&y3); // 25
        t1 = t2.double(); // 26
        t2 = t1.add(&t2); // 27
        y3 = y3.sub(&t2); // 28
        y3 = y3.sub(&t0); // 29
        t1 = y3.double(); // 30
        y3 = t1.add(&y3); // 31
        t1 = t0.double(); // 32
        t0 = t1.add(&t0); // 33
        t0 = t0.sub(&t2); // 34
        t1 = t4.mul(&y3); // 35
        t2 = t0.mul(&y3); // 36
        y3 = x3.mul(&z3); // 37
        y3 = y3.add(&t2); // 38
        x3 = t3.mul(&x3); // 39
        x3 = x3.sub(&t1); // 40
        z3 = t4.mul(&z3); // 41
        t1 = t3.mul(&t0); // 42
        z3 = z3.add(&t1); // 43
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Mixed addition for `a = −3`, the second point affine (Algorithm 5); complete except that
    /// the affine point cannot be the identity, which callers handle.
    fn add_mixed(&self, p1: &Point<N, C>, p2: &Affine<N, C>) -> Point<N, C> {
        let (x1, y1, z1) = (&p1.x, &p1.y, &p1.z);
        let (x2, y2) = (&p2.x, &p2.y);
        let b = &self.b;
        let mut t0 = x1.mul(x2); // 1
        let mut t1 = y1.mul(y2); // 2
        let mut t3 = x2.add(y2); // 3
        let mut t4 = x1.add(y1); // 4
        t3 = t3.mul(&t4); // 5
        t4 = t0.add(&t1); // 6
        t3 = t3.sub(&t4); // 7
        t4 = y2.mul(z1); // 8
        t4 = t4.add(y1); // 9
        let mut y3 = x2.mul(z1); // 10
        y3 = y3.add(x1); // 11
        let mut z3 = b.mul(z1); // 12
        let mut x3 = y3.sub(&z3); // 13
        z3 = x3.double(); // 14
        x3 = x3.add(&z3); // 15
        z3 = t1.sub(&x3); // 16
        x3 = t1.add(&x3); // 17
        y3 = b.mul(&y3); // 18
        t1 = z1.double(); // 19
        let mut t2 = t1.add(z1); // 20
        y3 = y3.sub(&t2); // 21
        y3 = y3.sub(&t0); // 22
        t1 = y3.double(); // 23
        y3 = t1.add(&y3); // 24
        t1 = t0.double(); // 25
        t0 = t1.add(&t0); // 26
        t0 = t0.sub(&t2); // 27
        t1 = t4.mul(&y3); // 28
        t2 = t0.mul(&y3); // 29
        y3 = x3.mul(&z3); // 30
        y3 = y3.add(&t2); // 31
        x3 = t3.mul(&x3); // 32
        x3 = x3.sub(&t1); // 33
        z3 = t4.mul(&z3); // 34
        t1 = t3.mul(&t0); // 35
        z3 = z3.add(&t1); // 36
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Doubling for `a = −3` (Algorithm 6); exception-free.
    fn double(&self, p: &Point<N, C>) -> Point<N, C> {
        let (x, y, z) = (&p.x, &p.y, &p.z);
        let b = &self.b;
        let mut t0 = x.square(); // 1
        let t1 = y.square(); // 2
        let mut t2 = z.square(); // 3
        let mut t3 = x.mul(y); // 4
        t3 = t3.double(); // 5
        let mut z3 = x.mul(z); // 6
        z3 = z3.double(); // 7
        let mut y3 = b.mul(&t2); // 8
        y3 = y3.sub(&z3); // 9
        let mut x3 = y3.double(); // 10
        y3 = x3.add(&y3); // 11
        x3 = t1.sub(&y3); // 12
        y3 = t1.add(&y3); // 13
        y3 = x3.mul(&y3); // 14
        x3 = x3.mul(&t3); // 15
        t3 = t2.double(); // 16
        t2 = t2.add(&t3); // 17
        z3 = b.mul(&z3); // 18
        z3 = z3.sub(&t2); // 19
        z3 = z3.sub(&t0); // 20
        t3 = z3.double(); // 21
        z3 = z3.add(&t3); // 22
        t3 = t0.double(); // 23
        t0 = t3.add(&t0); // 24
        t0 = t0.sub(&t2); // 25
        t0 = t0.mul(&z3); // 26
        y3 = y3.add(&t0); // 27
        t0 = y.mul(z); // 28
        t0 = t0.double(); // 29
        z3 = t0.mul(&z3); // 30
        x3 = x3.sub(&z3); // 31
        z3 = t0.mul(&t1); // 32
        z3 = z3.double(); // 33
        z3 = z3.double(); // 34
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `k·G` for a secret `k` (`len` little-endian bytes): one mixed addition per signed
    /// radix-16 digit from the fixed-base table. Every row is read whole (a masked select of
    /// each entry), a digit 0 adds and then keeps the old sum, and a negative digit negates by
    /// a select, so the steps and memory accesses are the same for every `k`.
    fn mul_base(&self, k_le: &[u8]) -> Point<N, C> {
        let digits = Digits::of(k_le);
        let mut r = Point::IDENTITY;
        for (row, &d) in self.table.iter().zip(digits.0.iter()) {
            // d ∈ [−8, 8]: its sign and magnitude without branches.
            let neg = (d.cast_unsigned() >> 7) & 1;
            let mask = 0u8.wrapping_sub(neg).cast_signed();
            let abs = ((d ^ mask).wrapping_sub(mask)).cast_unsigned();
            let mut t = row[0];
            for (j, entry) in row.iter().enumerate().skip(1) {
                // j ≤ 7: fits in u8.
                t.conditional_assign(entry, abs.ct_eq(&u8::try_from(j + 1).unwrap_or(0)));
            }
            t.y.conditional_assign(&t.y.neg(), Choice::from(neg));
            let sum = self.add_mixed(&r, &t);
            r.conditional_assign(&sum, !abs.ct_eq(&0));
        }
        r
    }

    /// `k·G` for a public `k`: the same table, looked up directly.
    fn mul_base_vartime(&self, k_le: &[u8]) -> Point<N, C> {
        let digits = Digits::of(k_le);
        let mut r = Point::IDENTITY;
        for (row, &d) in self.table.iter().zip(digits.0.iter()) {
            if d == 0 {
                continue;
            }
            let mut t = row[usize::from(d.unsigned_abs()) - 1];
            if d < 0 {
                t.y = t.y.neg();
            }
            r = self.add_mixed(&r, &t);
        }
        r
    }

    /// `k·P` for a public `k` and any `P`: signed radix-16 digits over `P, 2P, …, 8P`.
    fn mul_vartime(&self, k_le: &[u8], p: &Point<N, C>) -> Point<N, C> {
        let mut multiples = [*p; 8];
        for j in 1..8 {
            multiples[j] = self.add(&multiples[j - 1], p);
        }
        let digits = Digits::of(k_le);
        let mut r = Point::IDENTITY;
        for &d in digits.0[..=2 * k_le.len()].iter().rev() {
            for _ in 0..4 {
                r = self.double(&r);
            }
            if d != 0 {
                let mut t = multiples[usize::from(d.unsigned_abs()) - 1];
                if d < 0 {
                    t.y = t.y.neg();
                }
                r = self.add(&r, &t);
            }
        }
        r
    }

    /// Affine (x, y), or `None` for the identity.
    fn affine(p: &Point<N, C>) -> Option<Affine<N, C>> {
        if bool::from(p.z.is_zero()) {
            return None;
        }
        let zi = p.z.invert();
        Some(Affine {
            x: p.x.mul(&zi),
            y: p.y.mul(&zi),
        })
    }

    /// The point (x, y) from little-endian coordinates, if it is on the curve.
    fn point(&self, x_le: &[u8], y_le: &[u8]) -> Option<Affine<N, C>> {
        let x = Option::<Fe<N, C>>::from(Fe::from_le_bytes(x_le))?;
        let y = Option::<Fe<N, C>>::from(Fe::from_le_bytes(y_le))?;
        // y² = x³ − 3x + b
        let three_x = x.double().add(&x);
        let rhs = x.square().mul(&x).sub(&three_x).add(&self.b);
        bool::from(y.square().ct_eq(&rhs)).then_some(Affine { x, y })
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

/// p = 2^256 − 617.
type Curve256 = Curve<4, 617>;
/// p = 2^512 − 569.
type Curve512 = Curve<8, 569>;

/// The curves with their fixed-base tables (33 KiB and 132 KiB), built on first use: about
/// 0.1 ms and 0.5 ms.
fn curve256() -> &'static Curve256 {
    static C: OnceLock<Curve256> = OnceLock::new();
    C.get_or_init(|| Curve::new(&CRYPTO_PRO_A))
}

fn curve512() -> &'static Curve512 {
    static C: OnceLock<Curve512> = OnceLock::new();
    C.get_or_init(|| Curve::new(&TC26_512_A))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GostError;

    fn xy<const N: usize, const C: u64>(p: &Point<N, C>) -> Option<Vec<u8>> {
        Curve::<N, C>::affine(p).map(|a| [a.x.to_le_bytes(), a.y.to_le_bytes()].concat())
    }

    /// A deterministic stream of scalars below q, edge cases first.
    fn scalars(len: usize, q: &[u8]) -> Vec<Vec<u8>> {
        let mut one = vec![0u8; len];
        one[0] = 1;
        let mut q1 = q.to_vec();
        q1[0] -= 1;
        let mut out = vec![one, q1, {
            let mut v = vec![0x88u8; len];
            v[len - 1] = 0x08;
            v
        }];
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..30 {
            let mut v = vec![0u8; len];
            for b in &mut v {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                *b = s.to_le_bytes()[3];
            }
            v[len - 1] &= 0x7f;
            out.push(v);
        }
        out
    }

    fn base_mul_agrees<const N: usize, const C: u64>(c: &Curve<N, C>) {
        let q = le_bytes(&c.q, c.len);
        let g = Point::from_affine(&c.g);
        assert!(xy(&c.mul_vartime(&q, &g)).is_none(), "q·G = O");
        assert!(xy(&c.mul_base_vartime(&q)).is_none(), "q·G = O (table)");
        for k in scalars(c.len, &q) {
            let ladder = xy(&c.mul_vartime(&k, &g));
            assert_eq!(xy(&c.mul_base(&k)), ladder);
            assert_eq!(xy(&c.mul_base_vartime(&k)), ladder);
            // Doubling and the mixed addition agree with the complete addition.
            let p = c.mul_base(&k);
            assert_eq!(xy(&c.double(&p)), xy(&c.add(&p, &p)));
            assert_eq!(
                xy(&c.add_mixed(&p, &c.g)),
                xy(&c.add(&p, &Point::from_affine(&c.g)))
            );
        }
        // The identity is handled by both additions.
        assert_eq!(
            xy(&c.add_mixed(&Point::IDENTITY, &c.g)),
            xy(&Point::from_affine(&c.g))
        );
        assert!(xy(&c.add(&Point::IDENTITY, &Point::IDENTITY)).is_none());
    }

    #[test]
    fn fixed_base_table_agrees_with_the_window_and_the_base_points_have_order_q() {
        let c = curve256();
        assert!(
            c.point(&c.g.x.to_le_bytes(), &c.g.y.to_le_bytes())
                .is_some()
        );
        base_mul_agrees(c);
        let c = curve512();
        assert!(
            c.point(&c.g.x.to_le_bytes(), &c.g.y.to_le_bytes())
                .is_some()
        );
        base_mul_agrees(c);
    }

    #[test]
    fn digits_recompose() {
        for k in scalars(64, &[0xffu8; 64]) {
            let d = Digits::of(&k);
            assert!(d.0[..128].iter().all(|x| (-8..8).contains(x)));
            // Σ dᵢ·16^i, byte by byte with carries.
            let mut acc = vec![0i32; 130];
            for (i, x) in d.0.iter().enumerate() {
                acc[i] = i32::from(*x);
            }
            for i in 0..129 {
                let c = acc[i].div_euclid(16);
                acc[i] -= c * 16;
                acc[i + 1] += c;
            }
            let bytes: Vec<u8> = (0..64)
                .map(|i| u8::try_from(acc[2 * i] + 16 * acc[2 * i + 1]).unwrap())
                .collect();
            assert_eq!(bytes, k);
        }
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
