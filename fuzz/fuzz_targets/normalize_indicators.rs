//! Arbitrary bytes (lossy UTF-8) → `normalize` (offset maps on char boundaries) and
//! `Screener::builtin()` (no panic, finite score in [0, 1], deterministic, every evidence and
//! entity span equal to the slice of the ad it names).

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    common::check_normalize(&text);
    common::check_screen(&adscreen::Ad::new("fuzz", text.into_owned()));
});
