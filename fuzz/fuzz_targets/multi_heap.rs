//! Fuzz target: `MultiHeap` (lock, counters, checker; with the `poisoning` feature and
//! heapcaps/HEAP_POISONING_* also the poisoning layer), checked against the shadow model after
//! every step, including exact free bytes and the exact low-water mark.
#![no_main]

mod common;
use common::{arena, model::Model, ops, MAX_SIZES, REGIONS};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [r, m, off, rest @ ..] = data else { return };
    let ri = *r as usize % REGIONS.len();
    let mem = arena(ri);
    let skip = (*off as usize % 4) * 4;
    let base = mem.as_mut_ptr() as *mut u8;
    // SAFETY: the arena is REGIONS[ri] + 16 bytes long and reserved for this input.
    let Some(mut model) = (unsafe { Model::new(base.add(skip), REGIONS[ri]) }) else {
        return;
    };
    if cfg!(feature = "poisoning") {
        model.exact_overhead = None;
    }
    let start = model.heap().free_size();
    for op in ops(rest, MAX_SIZES[*m as usize % MAX_SIZES.len()]) {
        model.apply(op);
    }
    model.drain();
    assert_eq!(model.heap().free_size(), start);
});
