//! The Trackway JSON codec (`trackway_types::{from_json, to_json}`): any text either fails to
//! decode or decodes to a value whose encoding decodes back to the same encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = trackway_types::from_json(text) else { return };
    let once = trackway_types::to_json(&value);
    let again = trackway_types::from_json(&once).expect("an encoding decodes");
    assert_eq!(trackway_types::to_json(&again), once, "encoding is stable under a round trip");
});
