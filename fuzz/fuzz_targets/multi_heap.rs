//! Fuzz target: `MultiHeap` (lock, counters, checker; with the `poisoning` feature and
//! heapcaps/HEAP_POISONING_* also the poisoning layer), checked against the shadow model after
//! every step, including exact free bytes and the exact low-water mark; half of the inputs go
//! through the `multi_heap_*` C entry points.
#![no_main]

mod common;
use common::model::{Heap, Model, Op};
use common::{arena, ops, MAX_SIZES, REGIONS};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [r, m, off, rest @ ..] = data else { return };
    let ri = *r as usize % REGIONS.len();
    let mem = arena(ri);
    let skip = (*off as usize % 4) * 4;
    let base = mem.as_mut_ptr() as *mut u8;
    let script = ops(rest, MAX_SIZES[*m as usize % MAX_SIZES.len()]);
    // Bit 7 of the offset byte: through the `multi_heap_*` C entry points (whose hosts' fast
    // paths are code of their own) instead of `MultiHeap`'s methods.
    if *off & 0x80 != 0 {
        // SAFETY: the arena is REGIONS[ri] + 16 bytes long and reserved for this input.
        if let Some(model) = unsafe { Model::new_c(base.add(skip), REGIONS[ri]) } {
            run(model, script);
        }
    } else {
        // SAFETY: as above.
        if let Some(model) = unsafe { Model::new(base.add(skip), REGIONS[ri]) } {
            run(model, script);
        }
    }
});

fn run<H: Heap>(mut model: Model<H>, script: impl Iterator<Item = Op>) {
    if cfg!(feature = "poisoning") {
        model.exact_overhead = None;
    }
    let start = model.heap().counters()[0].0;
    for op in script {
        model.apply(op);
    }
    model.drain();
    assert_eq!(model.heap().counters()[0].0, start);
}
