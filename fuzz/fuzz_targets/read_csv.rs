//! Arbitrary bytes → CSV `RecordReader` (header row, max record 4096 bytes) →
//! `RecordSpec::parse` → screen every parsed ad. Nothing may panic, the reader must terminate,
//! spans must hold.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    common::check_records(data, adscreen::io::InputFormat::Csv);
});
