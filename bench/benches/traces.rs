//! Criterion measurement of issue 7's trace workloads (W1, W2-64/512/2048, W6-one/two, W8):
//! every contender replays the same trace on its own heap over a region of the same size, and
//! criterion reports the time of one replay with its confidence interval (and, from the trace's
//! length, operations per second). `bench/criterion.sh` runs it and turns criterion's estimates
//! into ns per operation net of the harness (the `baseline` contender replays the trace with
//! no allocator behind it).
//!
//! `cargo bench --bench traces -- w1/` runs one trace; `HEAPCAPS_BENCH_REGION` sets the region.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use heapcaps_bench::contenders::{Baseline, Contender, Dlmalloc, Heapcaps, LinkedList, Rlsf, Talc};
use heapcaps_bench::workloads::{self, Trace};
use heapcaps_bench::{replay, Region, EMPTY};

/// Registers one contender's replay of `t` in `g`. The heap is set up and warmed by one full
/// replay outside the measurement; every trace frees all it allocated, so the heap is back in
/// the same state after each replay and one heap serves all iterations.
fn contender<C: Contender>(g: &mut BenchmarkGroup<'_, WallTime>, t: &Trace) {
    let len = workloads::region();
    let mut region = Region::new(len);
    // SAFETY: `region` lives until the end of this function, past the heap's last use.
    let mut c = unsafe { C::new(region.base(), len) }.expect("heap setup");
    let before = c.free_size();
    let mut slots = vec![EMPTY; t.slots];
    let fails = replay(&mut c, &t.ops, &mut slots);
    // The figures only mean something if every contender did all the work.
    assert_eq!(fails, 0, "{}: {fails} failed operations", C::NAME);
    assert!(
        c.free_size() == before && c.check(),
        "{}: heap not back to its start after a replay",
        C::NAME
    );
    g.bench_function(C::NAME, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(replay(&mut c, black_box(&t.ops), &mut slots));
            }
            start.elapsed()
        })
    });
}

fn traces(cr: &mut Criterion) {
    for w in workloads::NAMES {
        let t = workloads::generate(w, workloads::default_ops(w, false));
        let mut g = cr.benchmark_group(w);
        g.throughput(Throughput::Elements(t.ops.len() as u64));
        contender::<Baseline>(&mut g, &t);
        contender::<Heapcaps>(&mut g, &t);
        contender::<Rlsf>(&mut g, &t);
        contender::<Talc>(&mut g, &t);
        contender::<LinkedList>(&mut g, &t);
        contender::<Dlmalloc>(&mut g, &t);
        g.finish();
    }
}

criterion_group! {
    name = benches;
    // A replay takes 0.1-10 ms; 30 samples over 3 s give intervals of about 1 % on a quiet
    // machine and keep the whole run near 4 minutes per arch.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = traces
}
criterion_main!(benches);
