//! `Digester::restore_state` on any blob. The first byte picks the algorithm (even: sha256,
//! odd: sha512); the rest is the saved state.
//!
//! A restored digester must save back to the very same blob, and hashing must go on from it
//! consistently: saving and restoring again half-way gives the same digest as not doing so.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_digest::{Algorithm, DigestError, Digester};

/// Data hashed after the restore, split around a sha512 block edge.
const TAIL: &[u8] = &[0x5a; 200];
const SPLIT: usize = 130;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, blob)) = data.split_first() else {
        return;
    };
    let algorithm = if selector % 2 == 0 {
        Algorithm::Sha256
    } else {
        Algorithm::Sha512
    };
    let other = Algorithm::Other("blake3".to_owned());
    assert!(matches!(
        Digester::restore_state(&other, blob),
        Err(DigestError::UnsupportedAlgorithm(_))
    ));

    let Ok(restored) = Digester::restore_state(&algorithm, blob) else {
        return;
    };
    assert_eq!(restored.algorithm(), &algorithm);
    assert_eq!(
        restored.save_state(),
        blob,
        "a restored state saves back unchanged"
    );

    let mut straight = restored.clone();
    straight.update(TAIL);
    assert_eq!(
        straight.bytes_hashed(),
        restored.bytes_hashed() + TAIL.len() as u64
    );

    let mut first_half = restored;
    first_half.update(&TAIL[..SPLIT]);
    let saved = first_half.save_state();
    let mut second_half =
        Digester::restore_state(&algorithm, &saved).expect("a state this crate saved restores");
    second_half.update(&TAIL[SPLIT..]);
    assert_eq!(second_half.finish(), straight.finish());
});
