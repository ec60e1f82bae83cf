//! Fuzz target: the TLSF core alone, driven by the model tests' operations and checked against
//! the shadow model (contents, alignment, no overlap, free bytes, full checker) after every step.
#![no_main]

mod common;
use common::{arena, model::Model, ops, MAX_SIZES, REGIONS};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [r, m, off, rest @ ..] = data else { return };
    let ri = *r as usize % REGIONS.len();
    let mem = arena(ri);
    // Regions need only 4-byte alignment: start 0, 4, 8 or 12 bytes into the arena.
    let skip = (*off as usize % 4) * 4;
    let base = mem.as_mut_ptr() as *mut u8;
    // SAFETY: the arena is REGIONS[ri] + 16 bytes long and reserved for this input.
    let Some(mut model) = (unsafe { Model::new_core(base.add(skip), REGIONS[ri]) }) else {
        return;
    };
    for op in ops(rest, MAX_SIZES[*m as usize % MAX_SIZES.len()]) {
        model.apply(op);
    }
    model.drain();
});
