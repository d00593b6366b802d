//! Signs one digest in a loop and prints microseconds per signature: our side of bench/gost.sh,
//! which runs the gost engine on the same key and digest.
//! Usage: `speed 256|512 PRIVATE_KEY_BIG_ENDIAN_HEX ITERATIONS`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::print_stdout
)]

use qoltanba_gost::{CurveId, PrivateKey};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let curve = if args[0] == "512" {
        CurveId::Tc26_512A
    } else {
        CurveId::CryptoProA
    };
    let d = hex::decode(&args[1]).unwrap();
    let iterations: u32 = args[2].parse().unwrap();
    let n = curve.byte_len();
    // The engine's digest bytes (bench/gost-engine.c).
    let digest: Vec<u8> = (0..n)
        .map(|i| 0x42u8.wrapping_add(u8::try_from(i).unwrap()))
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rng = |buf: &mut [u8]| {
        for b in buf {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed.to_le_bytes()[5];
        }
        true
    };
    let start = std::time::Instant::now();
    // Opening the key (the range check) and the first use's fixed-base table are counted.
    let key = PrivateKey::from_be(curve, &d).unwrap();
    for _ in 0..iterations {
        std::hint::black_box(key.sign_digest(&digest, &mut rng).unwrap());
    }
    println!(
        "{:.2}",
        start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
    );
}
