//! The BER normaliser's memory, measured by a counting allocator (alone in this test binary so
//! that no other test's allocations are counted).
#![allow(clippy::unwrap_used)]

#[global_allocator]
static ALLOC: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// 60 nested indefinite-length SEQUENCEs around 1 MiB: the old normaliser sized a scratch
/// buffer of the remaining input at every level (~60 MiB in all, most of it live at once); now
/// the output is measured and allocated once.
#[test]
fn ber_normalising_allocates_about_its_output_once() {
    let depth = 60;
    let payload = vec![0x5a_u8; 1 << 20];
    let mut ber = Vec::new();
    for _ in 0..depth {
        ber.extend_from_slice(&[0x30, 0x80]);
    }
    // A constructed OCTET STRING in 1000-byte segments, as NCA writes.
    ber.extend_from_slice(&[0x24, 0x80]);
    for chunk in payload.chunks(1000) {
        ber.push(0x04);
        qoltanba_pki::ber::write_len(&mut ber, chunk.len());
        ber.extend_from_slice(chunk);
    }
    ber.extend_from_slice(&[0, 0]);
    for _ in 0..depth {
        ber.extend_from_slice(&[0, 0]);
    }
    let (total_before, live_before) = (ALLOC.total_allocated(), ALLOC.allocated());
    let der = qoltanba_pki::ber::to_der(&ber).unwrap();
    let spent = ALLOC.total_allocated() - total_before;
    let peak = ALLOC.max_allocated() - live_before;
    assert!(
        spent < 2 * ber.len() && peak < 2 * ber.len(),
        "{} KiB allocated ({} KiB at peak) for a {} KiB input",
        spent >> 10,
        peak >> 10,
        ber.len() >> 10
    );
    // And it is right: definite lengths, the segments joined.
    let mut tlv = qoltanba_pki::ber::Tlv::parse_exact(&der).unwrap();
    for _ in 0..depth {
        assert_eq!(tlv.tag, 0x30);
        tlv = qoltanba_pki::ber::Tlv::parse_exact(tlv.value).unwrap();
    }
    assert_eq!(tlv.tag, 0x04);
    assert_eq!(tlv.value, payload.as_slice());
}
