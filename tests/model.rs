//! Model-based tests of the region allocator: random operation scripts against a shadow model,
//! with the full heap checker after every step, over a matrix of region sizes.

mod common;
use common::model::{Model, Op, Rng};

fn run(region: usize, max_size: u32, steps: usize, seed: u64) -> (usize, usize) {
    let mut mem = vec![0u32; region / 4];
    // SAFETY: `mem` outlives the model and nothing else touches it.
    let mut m = unsafe { Model::new(mem.as_mut_ptr() as *mut u8, region) }.expect("register");
    let start_free = m.heap().free_size();
    let mut rng = Rng(seed | 1);
    for _ in 0..steps {
        let op = Op::from_bytes(rng.bytes(), max_size);
        m.apply(op);
    }
    m.drain();
    assert_eq!(
        m.heap().free_size(),
        start_free,
        "free size did not return to its start value"
    );
    (m.steps, m.failures)
}

/// Miri is ~1000x slower: it runs short scripts, and the big regions only once.
fn steps(n: usize) -> usize {
    if cfg!(miri) {
        n / 100
    } else {
        n
    }
}

#[test]
fn model_small_regions() {
    for region in [256usize, 512, 1024, 4096] {
        for seed in 1..4 {
            run(region, (region / 4) as u32, steps(3000), seed * 7919);
        }
    }
}

#[test]
fn model_medium_regions() {
    for (region, max) in [
        (16 * 1024usize, 2048u32),
        (64 * 1024, 4096),
        (256 * 1024, 8192),
    ] {
        for seed in 1..if cfg!(miri) { 2 } else { 3 } {
            run(region, max, steps(6000), seed * 104_729);
        }
    }
}

#[test]
fn model_large_regions() {
    if cfg!(miri) {
        run(1024 * 1024, 65536, 20, 42);
        return;
    }
    // Comprehensive poisoning makes every check read all free memory (megabytes here): fewer
    // steps keep the run short.
    let n = if heapcaps::poison::COMPREHENSIVE {
        1000
    } else {
        4000
    };
    for (region, max) in [(1024 * 1024usize, 65536u32), (4 * 1024 * 1024, 300_000)] {
        run(region, max, steps(n), 42);
    }
}

#[test]
fn model_exhaustion() {
    // Sizes near the region size: most operations fail, the heap must stay intact.
    let (_, failures) = run(8192, 9000, steps(3000), 99);
    assert!(failures > 0);
}

#[test]
fn model_c_entry_points() {
    // The same scripts through the `multi_heap_*` C entry points, whose hosts' fast paths are
    // their own code (malloc and free without a call, realloc resizing in place first).
    for (region, max) in [(1024usize, 256u32), (64 * 1024, 4096), (256 * 1024, 1024)] {
        for seed in 1..3u64 {
            let mut mem = vec![0u32; region / 4];
            // SAFETY: `mem` outlives the model and nothing else touches it.
            let mut m =
                unsafe { Model::new_c(mem.as_mut_ptr() as *mut u8, region) }.expect("register");
            let start_free = m.heap().0.free_size();
            let mut rng = Rng(seed * 104_729 + region as u64);
            for _ in 0..steps(4000) {
                m.apply(Op::from_bytes(rng.bytes(), max));
            }
            m.drain();
            assert_eq!(m.heap().0.free_size(), start_free);
        }
    }
}

#[test]
fn model_tlsf_core() {
    // The same scripts straight on the TLSF core (no multi_heap counters or lock).
    for (region, max) in [(1024usize, 256u32), (64 * 1024, 4096)] {
        let mut mem = vec![0u32; region / 4];
        // SAFETY: `mem` outlives the model and nothing else touches it.
        let mut m =
            unsafe { Model::new_core(mem.as_mut_ptr() as *mut u8, region) }.expect("create");
        let mut rng = Rng(region as u64 | 1);
        for _ in 0..steps(4000) {
            m.apply(Op::from_bytes(rng.bytes(), max));
        }
        m.drain();
    }
}

#[test]
fn model_tlsf_core_keeps_to_its_scratch_word() {
    // TLSF writes the `prev` link of "no block" (offset 0) into the scratch word among the bytes
    // it leaves to its owner, instead of testing for it; every other owner byte must survive
    // every operation (multi_heap keeps its counters and its lock there).
    use heapcaps::tlsf::{OWNER_BYTES, SCRATCH};
    const MARK: u8 = 0xA5;
    for (region, max) in [(1024usize, 256u32), (64 * 1024, 4096)] {
        let mut mem = vec![0u32; region / 4];
        let base = mem.as_mut_ptr() as *mut u8;
        // SAFETY: `base` points at `region` bytes that outlive the model and nothing else touches.
        let mut m = unsafe { Model::new_core(base, region) }.expect("create");
        for i in 0..OWNER_BYTES as usize {
            // SAFETY: inside the region, in the owner's bytes, which TLSF does not read.
            unsafe { base.add(i).write(MARK) };
        }
        let mut rng = Rng(region as u64 | 3);
        let mut scratch_written = false;
        for _ in 0..steps(4000) {
            m.apply(Op::from_bytes(rng.bytes(), max));
            for i in 0..OWNER_BYTES as usize {
                // SAFETY: as above.
                let v = unsafe { base.add(i).read() };
                if (SCRATCH as usize..SCRATCH as usize + 4).contains(&i) {
                    scratch_written |= v != MARK;
                } else {
                    assert_eq!(v, MARK, "owner byte {i} overwritten");
                }
            }
        }
        m.drain();
        // The host paths use the scratch word (the chips' compact paths test instead).
        assert!(
            scratch_written || cfg!(heapcaps_compact),
            "the scratch word was never written: the test would not see a stray write"
        );
    }
}
