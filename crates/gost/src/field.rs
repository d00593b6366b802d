//! Arithmetic modulo the two GOST primes. Both are pseudo-Mersenne, `p = 2^(64·N) − C` with a
//! small `C`:
//!
//! | curve | p |
//! |---|---|
//! | CryptoPro-A | 2^256 − 617 |
//! | TC26-512-A | 2^512 − 569 |
//!
//! so a product reduces with two multiplications by `C` instead of a Montgomery reduction, and
//! an element is kept fully reduced (`< p`) after every operation.
//!
//! Written by hand because no maintained crate has these fields. RustCrypto's field crates and
//! fiat-crypto's generated code cover the NIST, secp256k1 and Edwards primes only. crypto-bigint,
//! which still does the few operations mod q, has only generic Montgomery arithmetic; with it a
//! 512-bit signature took 4.2 ms, with this field and the fixed-base table 0.17 ms.
//!
//! Every operation is constant-time: carries and the final reductions are masks, never branches.
//! Only [`Fe::pow_vartime`] branches, on its exponent, which is always public (`p − 2`).
//!
//! Limbs are `u64`, little-endian, on every target (the arithmetic is `u128`, which every target
//! has); bytes come in and go out little-endian, NCA's layout.
// The limb arithmetic splits u128 into u64 halves on purpose, indexes limbs by position (several
// arrays at once), and the carry primitives must be inlined into the unrolled loops.
#![allow(
    clippy::cast_possible_truncation,
    clippy::needless_range_loop,
    clippy::inline_always,
    clippy::many_single_char_names
)]

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

/// An element of GF(2^(64·N) − C), fully reduced.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fe<const N: usize, const C: u64>([u64; N]);

/// a + b + carry → (sum, carry).
#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) + u128::from(b) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

/// a − b − borrow → (difference, borrow), the borrow in and out being 0 or 1.
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let t = u128::from(a)
        .wrapping_sub(u128::from(b))
        .wrapping_sub(u128::from(borrow));
    (t as u64, ((t >> 64) as u64) & 1)
}

/// a + b·c + carry → (low, high); never overflows u128.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) + u128::from(b) * u128::from(c) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

impl<const N: usize, const C: u64> Fe<N, C> {
    pub(crate) const ZERO: Self = Self([0; N]);
    pub(crate) const ONE: Self = {
        let mut l = [0; N];
        l[0] = 1;
        Self(l)
    };

    /// The bytes of `p − 2`, little-endian: the exponent of inversion.
    fn p_minus_2() -> [u64; N] {
        let mut e = [u64::MAX; N];
        e[0] = 0u64.wrapping_sub(C + 2);
        e
    }

    /// From `8·N` little-endian bytes; `None` unless the value is below p.
    pub(crate) fn from_le_bytes(bytes: &[u8]) -> CtOption<Self> {
        debug_assert_eq!(bytes.len(), 8 * N);
        let mut l = [0u64; N];
        for (limb, chunk) in l.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            *limb = u64::from_le_bytes(w);
        }
        // v < p ⇔ v + C does not carry out of 2^(64·N).
        let mut carry = C;
        for limb in &l {
            (_, carry) = adc(*limb, carry, 0);
        }
        CtOption::new(Self(l), carry.ct_eq(&0))
    }

    /// `8·N` little-endian bytes.
    pub(crate) fn to_le_bytes(self) -> Vec<u8> {
        self.0.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Adds `C` when `reduce` is 1: with the carry out of 2^(64·N) dropped this is the
    /// subtraction of p. The caller knows that it cannot carry otherwise.
    #[inline(always)]
    fn fold(mut l: [u64; N], reduce: u64) -> [u64; N] {
        let mut carry = C & 0u64.wrapping_sub(reduce);
        for limb in &mut l {
            (*limb, carry) = adc(*limb, carry, 0);
        }
        l
    }

    /// Subtracts p from a value below 2^(64·N) when it is not below p.
    #[inline(always)]
    fn reduce_once(l: [u64; N], extra: u64) -> Self {
        // v = l + extra·2^(64·N) < 2p. v ≥ p ⇔ l + C carries or extra is 1; then v − p is
        // l + C with that carry dropped.
        let mut u = l;
        let mut carry = C;
        for limb in &mut u {
            (*limb, carry) = adc(*limb, carry, 0);
        }
        let take = Choice::from(((carry | extra) & 1) as u8);
        let mut out = [0u64; N];
        for i in 0..N {
            out[i] = u64::conditional_select(&l[i], &u[i], take);
        }
        Self(out)
    }

    #[inline]
    pub(crate) fn add(&self, rhs: &Self) -> Self {
        let mut s = [0u64; N];
        let mut carry = 0;
        for i in 0..N {
            (s[i], carry) = adc(self.0[i], rhs.0[i], carry);
        }
        Self::reduce_once(s, carry)
    }

    #[inline]
    pub(crate) fn sub(&self, rhs: &Self) -> Self {
        let mut d = [0u64; N];
        let mut borrow = 0;
        for i in 0..N {
            (d[i], borrow) = sbb(self.0[i], rhs.0[i], borrow);
        }
        // A borrow means d = a − b + 2^(64·N); a − b + p is then d − C, which cannot borrow
        // (d > C).
        let mut sub = C & 0u64.wrapping_sub(borrow);
        let mut b2 = 0;
        for limb in &mut d {
            (*limb, b2) = sbb(*limb, sub, b2);
            sub = 0;
        }
        Self(d)
    }

    #[inline]
    pub(crate) fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    #[inline]
    pub(crate) fn double(&self) -> Self {
        self.add(self)
    }

    /// The 2N-limb product `lo + hi·2^(64·N)` reduced mod p.
    #[inline(always)]
    fn reduce_wide(lo: [u64; N], hi: [u64; N]) -> Self {
        // 2^(64·N) ≡ C: v ≡ lo + hi·C, which is below (C + 1)·2^(64·N).
        let mut r = [0u64; N];
        let mut carry = 0;
        for i in 0..N {
            (r[i], carry) = mac(lo[i], hi[i], C, carry);
        }
        // Once more with the top limb: r + carry·C, which can carry out at most once, and then
        // r is tiny, so one more C never carries.
        let mut c2 = 0;
        (r[0], c2) = mac(r[0], carry, C, c2);
        for limb in r.iter_mut().skip(1) {
            (*limb, c2) = adc(*limb, 0, c2);
        }
        let r = Self::fold(r, c2);
        Self::reduce_once(r, 0)
    }

    #[inline]
    pub(crate) fn mul(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        let mut lo = [0u64; N];
        let mut hi = [0u64; N];
        for i in 0..N {
            let mut carry = 0;
            for j in 0..N {
                let k = i + j;
                let cur = if k < N { lo[k] } else { hi[k - N] };
                let (v, c) = mac(cur, a[i], b[j], carry);
                if k < N {
                    lo[k] = v;
                } else {
                    hi[k - N] = v;
                }
                carry = c;
            }
            hi[i] = carry;
        }
        Self::reduce_wide(lo, hi)
    }

    #[inline]
    pub(crate) fn square(&self) -> Self {
        // The off-diagonal products once, doubled, then the squares on the diagonal.
        let a = &self.0;
        let mut lo = [0u64; N];
        let mut hi = [0u64; N];
        for i in 0..N {
            let mut carry = 0;
            for j in (i + 1)..N {
                let k = i + j;
                let cur = if k < N { lo[k] } else { hi[k - N] };
                let (v, c) = mac(cur, a[i], a[j], carry);
                if k < N {
                    lo[k] = v;
                } else {
                    hi[k - N] = v;
                }
                carry = c;
            }
            // Position i + N is still empty here.
            if i + 1 < N {
                hi[i] = carry;
            }
        }
        // Double: shift the 2N limbs left by one bit.
        let top = hi[N - 1] >> 63;
        for i in (1..N).rev() {
            hi[i] = (hi[i] << 1) | (hi[i - 1] >> 63);
        }
        hi[0] = (hi[0] << 1) | (lo[N - 1] >> 63);
        for i in (1..N).rev() {
            lo[i] = (lo[i] << 1) | (lo[i - 1] >> 63);
        }
        lo[0] <<= 1;
        debug_assert_eq!(top, 0, "twice the cross products fit in 2N limbs");
        // Add the squares a[i]^2 at position 2i.
        let mut carry = 0;
        for i in 0..N {
            let sq = u128::from(a[i]) * u128::from(a[i]);
            let (k0, k1) = (2 * i, 2 * i + 1);
            let (s0, c0) = {
                let cur = if k0 < N { lo[k0] } else { hi[k0 - N] };
                adc(cur, sq as u64, carry)
            };
            let (s1, c1) = {
                let cur = if k1 < N { lo[k1] } else { hi[k1 - N] };
                adc(cur, (sq >> 64) as u64, c0)
            };
            if k0 < N {
                lo[k0] = s0;
            } else {
                hi[k0 - N] = s0;
            }
            if k1 < N {
                lo[k1] = s1;
            } else {
                hi[k1 - N] = s1;
            }
            carry = c1;
        }
        debug_assert_eq!(carry, 0, "a square fits in 2N limbs");
        Self::reduce_wide(lo, hi)
    }

    /// `self^e` for a public exponent `e` (little-endian limbs): a fixed 4-bit window, so the
    /// steps depend on `e` only, never on `self`.
    pub(crate) fn pow_vartime(&self, e: &[u64; N]) -> Self {
        let mut table = [Self::ONE; 16];
        for i in 1..16 {
            table[i] = table[i - 1].mul(self);
        }
        let mut r = Self::ONE;
        for i in (0..N * 16).rev() {
            for _ in 0..4 {
                r = r.square();
            }
            let nibble = (e[i / 16] >> ((i % 16) * 4)) & 0xf;
            if nibble != 0 {
                r = r.mul(&table[nibble as usize]);
            }
        }
        r
    }

    /// `1/self` (Fermat: `self^(p−2)`); 0 for 0.
    pub(crate) fn invert(&self) -> Self {
        self.pow_vartime(&Self::p_minus_2())
    }

    pub(crate) fn is_zero(&self) -> Choice {
        self.ct_eq(&Self::ZERO)
    }
}

impl<const N: usize, const C: u64> ConstantTimeEq for Fe<N, C> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0[..].ct_eq(&other.0[..])
    }
}

impl<const N: usize, const C: u64> ConditionallySelectable for Fe<N, C> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let mut out = [0u64; N];
        for i in 0..N {
            out[i] = u64::conditional_select(&a.0[i], &b.0[i], choice);
        }
        Self(out)
    }
}

impl<const N: usize, const C: u64> zeroize::Zeroize for Fe<N, C> {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::modular::{MontyForm, MontyParams};
    use crypto_bigint::{Odd, U256, U512};

    type F256 = Fe<4, 617>;
    type F512 = Fe<8, 569>;

    /// A deterministic stream of test values, edge cases first (0, 1, p − 1, p − 2, values
    /// with all limbs set, which stress every carry).
    fn values(n: usize, seed: u64) -> Vec<Vec<u8>> {
        let len = 8 * n;
        let p_minus = |k: u8| {
            let mut v = vec![0xffu8; len];
            // p − k = 2^n − C − k.
            let c = if n == 4 { 617u64 } else { 569 } + u64::from(k);
            v[..8].copy_from_slice(&0u64.wrapping_sub(c).to_le_bytes());
            v
        };
        let mut out = vec![vec![0u8; len], {
            let mut v = vec![0u8; len];
            v[0] = 1;
            v
        }];
        out.push(p_minus(1));
        out.push(p_minus(2));
        out.push(p_minus(0xff));
        let mut s = seed;
        for _ in 0..200 {
            let mut v = vec![0u8; len];
            for b in &mut v {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                *b = (s >> 56) as u8;
            }
            // Keep below p: the top byte below 0xff is enough.
            v[len - 1] &= 0xfe;
            out.push(v);
        }
        out
    }

    macro_rules! against_crypto_bigint {
        ($name:ident, $fe:ty, $uint:ty, $n:expr, $p:expr) => {
            #[test]
            fn $name() {
                let p = <$uint>::from_be_hex($p);
                let params = MontyParams::new_vartime(Odd::new(p).unwrap());
                let m = |b: &[u8]| MontyForm::new(&<$uint>::from_le_slice(b), params);
                let bytes = |v: MontyForm<{ $n }>| {
                    v.retrieve()
                        .as_words()
                        .iter()
                        .flat_map(|w| w.to_le_bytes())
                        .collect::<Vec<u8>>()
                };
                let vals = values($n, 42);
                let wrap = |b: &[u8]| <$fe>::from_le_bytes(b).unwrap();
                for (i, a) in vals.iter().enumerate() {
                    let b = &vals[(i * 7 + 3) % vals.len()];
                    let (fa, fb) = (wrap(a), wrap(b));
                    let (ma, mb) = (m(a), m(b));
                    assert_eq!(fa.add(&fb).to_le_bytes(), bytes(ma + mb), "add");
                    assert_eq!(fa.sub(&fb).to_le_bytes(), bytes(ma - mb), "sub");
                    assert_eq!(fa.neg().to_le_bytes(), bytes(-ma), "neg");
                    assert_eq!(fa.mul(&fb).to_le_bytes(), bytes(ma * mb), "mul");
                    assert_eq!(fa.square().to_le_bytes(), bytes(ma * ma), "square");
                }
                for a in vals.iter().skip(1).take(20) {
                    let fa = wrap(a);
                    assert_eq!(fa.mul(&fa.invert()).to_le_bytes(), <$fe>::ONE.to_le_bytes());
                }
                // p itself and above are refused.
                let mut pb: Vec<u8> = p.as_words().iter().flat_map(|w| w.to_le_bytes()).collect();
                assert!(bool::from(<$fe>::from_le_bytes(&pb).is_none()));
                pb[0] = pb[0].wrapping_sub(1);
                assert!(bool::from(<$fe>::from_le_bytes(&pb).is_some()));
                assert!(bool::from(<$fe>::from_le_bytes(&[0xff; 8 * $n]).is_none()));
            }
        };
    }

    against_crypto_bigint!(
        f256_matches_generic_montgomery,
        F256,
        U256,
        4,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97"
    );
    against_crypto_bigint!(
        f512_matches_generic_montgomery,
        F512,
        U512,
        8,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
    );
}
