//! Benchmark of heapcaps against rlsf, talc, linked_list_allocator and dlmalloc (issue 7's
//! suite): time per operation (batch means and per-operation rdtsc), operation traces for
//! callgrind and the C driver, efficiency, overhead, the adversarial case, worst-case
//! instruction bounds and the caps layer's cost against the number of heaps. It prints figures;
//! it is not a test. `bench/run.sh` runs all of it.
//!
//! Modes:
//!   timing [W...]            ns/op (batch mean) per workload and contender
//!                            (lines `time W CONTENDER NS OPS FAILS`)
//!   pertime [W...]           per-op rdtsc timing (lines `pertime W CONTENDER KIND N MEAN P999 MAX`)
//!   one W CONTENDER [OPS]    replays one workload once (for callgrind; `replay` is the function
//!                            to collect), prints `ops N fails F`
//!   trace W OPS FILE         writes the trace for the C driver
//!   frag                     W3 efficiency tables (markdown), per-seed results (curve lines)
//!   mem                      W4 overhead tables (markdown)
//!   largest                  largest free block / free space after W1 (lines `largest C RATIO`)
//!   moves [W...]             realloc's moves per trace and contender (reallocs, moves, bytes
//!                            copied, moves by a distance not a multiple of 16)
//!   w5 [CONTENDER OP]        W5 adversarial: time of the 2048 B malloc and the free; with a
//!                            contender and `malloc`/`free`, runs that op once in `probe_*`
//!   bound CONTENDER OP       malloc/free probes over many heap states, one `probe_*` call each
//!   scale N [list]           heap_caps_malloc+free with N runtime regions added, in `caps_ops`

use std::rc::Rc;
use std::time::Instant;

use heapcaps_bench::contenders::{
    Baseline, Contender, Dlmalloc, Heapcaps, LinkedList, Rlsf, Talc, MALLOC_ALIGN,
};
use heapcaps_bench::workloads::{self, Op, Rng, Trace, FREE, REALLOC};
use heapcaps_bench::{replay, step, Region, Slot, EMPTY};

/// Contenders over one region, in report order.
const CONTENDERS: [&str; 5] = ["heapcaps", "rlsf", "talc", "linked_list", "dlmalloc"];

/// Calls the generic function `$f::<C>(args)` for the contender named `$name`.
macro_rules! with_contender {
    ($name:expr, $f:ident $(, $arg:expr)*) => {
        match $name {
            "heapcaps" => $f::<Heapcaps>($($arg),*),
            "rlsf" => $f::<Rlsf>($($arg),*),
            "talc" => $f::<Talc>($($arg),*),
            "linked_list" => $f::<LinkedList>($($arg),*),
            "dlmalloc" => $f::<Dlmalloc>($($arg),*),
            "baseline" => $f::<Baseline>($($arg),*),
            c => panic!("unknown contender {c}"),
        }
    };
}

/// Region of the efficiency, overhead and adversarial workloads (W3, W4's per-request part, W5)
/// and of the largest-free-block figure after W1.
const SMALL: usize = 256 * 1024;

/// Time-stamp counter, fenced so the operation between two reads is what is measured.
#[inline(always)]
fn tsc() -> u64 {
    #[cfg(target_arch = "x86")]
    use core::arch::x86::{_mm_lfence, _rdtsc};
    #[cfg(target_arch = "x86_64")]
    use core::arch::x86_64::{_mm_lfence, _rdtsc};
    // SAFETY: lfence and rdtsc exist on every x86 this runs on (SSE2 is baseline on both targets).
    unsafe {
        _mm_lfence();
        let t = _rdtsc();
        _mm_lfence();
        t
    }
}

/// TSC ticks per nanosecond, against the monotonic clock over 30 ms.
fn tsc_per_ns() -> f64 {
    let t0 = Instant::now();
    let c0 = tsc();
    while t0.elapsed().as_millis() < 30 {}
    (tsc() - c0) as f64 / t0.elapsed().as_nanos() as f64
}

/// Replays a trace, timing each operation (ticks[i]).
#[inline(never)]
fn replay_timed<C: Contender>(c: &mut C, ops: &[Op], slots: &mut [Slot], ticks: &mut [u32]) {
    for (op, t) in ops.iter().zip(ticks.iter_mut()) {
        let t0 = tsc();
        step(c, op, slots);
        *t = (tsc() - t0) as u32;
    }
}

/// Timed replays per workload in `pertime`; each op's figure is its median over them.
const PERTIME_REPS: usize = 5;

/// Per-op timing of one contender: per kind (malloc, free, realloc, all), mean, p99.9 and max
/// (ns) of the per-op medians over `PERTIME_REPS` replays.
fn pertime_one<C: Contender>(t: &Trace, f: f64) -> Vec<(&'static str, usize, f64, f64, f64)> {
    let mut region = Region::new(workloads::region());
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), workloads::region()) }.expect("heap setup");
    let mut slots = vec![EMPTY; t.slots];
    replay(&mut c, &t.ops, &mut slots); // warm-up
    let n = t.ops.len();
    let mut ticks = vec![0u32; n * PERTIME_REPS];
    for r in 0..PERTIME_REPS {
        replay_timed(&mut c, &t.ops, &mut slots, &mut ticks[r * n..(r + 1) * n]);
    }
    let med: Vec<u32> = (0..n)
        .map(|i| {
            let mut col: Vec<u32> = (0..PERTIME_REPS).map(|r| ticks[r * n + i]).collect();
            col.sort_unstable();
            col[PERTIME_REPS / 2]
        })
        .collect();
    let kind = |k: u32| match k {
        FREE => "free",
        REALLOC => "realloc",
        _ => "malloc",
    };
    let mut out = Vec::new();
    for want in ["malloc", "free", "realloc", "all"] {
        let mut v: Vec<u32> = (0..n)
            .filter(|&i| want == "all" || kind(t.ops[i].kind) == want)
            .map(|i| med[i])
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_unstable();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        let p = ((v.len() as f64 * 0.999) as usize).min(v.len() - 1);
        out.push((
            want,
            v.len(),
            mean / f,
            v[p] as f64 / f,
            v[v.len() - 1] as f64 / f,
        ));
    }
    out
}

fn pertime(ws: &[String]) {
    let f = tsc_per_ns();
    for w in ws {
        let t = workloads::generate(w, workloads::default_ops(w, false));
        for name in ["baseline"].iter().chain(CONTENDERS.iter()) {
            for (k, n, mean, p, max) in with_contender!(*name, pertime_one, &t, f) {
                println!("pertime {w} {name} {k} {n} {mean:.2} {p:.2} {max:.2}");
            }
        }
    }
}

/// A contender set up for timing: its heap, its slots and the trace, behind one closure that
/// replays the trace `reps` times.
type Runner = Box<dyn FnMut(usize)>;

fn runner<C: Contender + 'static>(t: &Rc<Trace>) -> (Runner, u32) {
    let mut region = Region::new(workloads::region());
    // SAFETY: the region moves into the closure with the heap and lives as long as it.
    let mut c = unsafe { C::new(region.base(), workloads::region()) }.expect("heap setup");
    let before = c.free_size();
    let mut slots = vec![EMPTY; t.slots];
    let fails = replay(&mut c, &t.ops, &mut slots); // warm-up (and failure count)
    if c.free_size() != before || !c.check() {
        eprintln!(
            "warning: {} free size {:?} -> {:?} after a full trace (or heap check failed)",
            C::NAME,
            before,
            c.free_size()
        );
    }
    let t = Rc::clone(t);
    let run = move |reps: usize| {
        let _keep = &region;
        for _ in 0..reps {
            replay(&mut c, &t.ops, &mut slots);
        }
    };
    (Box::new(run), fails)
}

/// Batches per contender; contenders take turns batch by batch, so interference from other
/// load on the machine spreads over all of them, and the best batch is reported.
const BATCHES: usize = 15;

fn timing(ws: &[String]) {
    for w in ws {
        let t = Rc::new(workloads::generate(w, workloads::default_ops(w, false)));
        let mut rs: Vec<(&str, (Runner, u32))> = ["baseline"]
            .iter()
            .chain(CONTENDERS.iter())
            .map(|&name| (name, with_contender!(name, runner, &t)))
            .collect();
        let reps = (50_000 / t.ops.len()).max(1);
        let mut best = vec![f64::MAX; rs.len()];
        for _ in 0..BATCHES {
            for (i, (_, (run, _))) in rs.iter_mut().enumerate() {
                let start = Instant::now();
                run(reps);
                let ns = start.elapsed().as_nanos() as f64 / (reps * t.ops.len()) as f64;
                best[i] = best[i].min(ns);
            }
        }
        for (i, (name, (_, fails))) in rs.iter().enumerate() {
            println!("time {w} {name} {:.2} {} {fails}", best[i], t.ops.len());
        }
    }
}

fn one_run<C: Contender>(t: &Trace) -> u32 {
    let mut region = Region::new(workloads::region());
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), workloads::region()) }.expect("heap setup");
    let mut slots = vec![EMPTY; t.slots];
    replay(&mut c, &t.ops, &mut slots)
}

fn one(w: &str, contender: &str, ops: usize) {
    let t = workloads::generate(w, ops);
    let fails = with_contender!(contender, one_run, &t);
    println!("ops {} fails {fails}", t.ops.len());
}

/// realloc's moves on one trace (callgrind-sized, 20 000 ops): reallocs, how many returned a
/// new address, the bytes those copied (the old requested sizes), and how many moved by a
/// distance that is not a multiple of 16 (i686 glibc copies those through a slower loop).
fn moves_of<C: Contender>(w: &str) -> [usize; 4] {
    let t = workloads::generate(w, workloads::default_ops(w, true));
    let (_region, mut c) = fresh::<C>(workloads::region());
    let mut slots = vec![EMPTY; t.slots];
    let mut r = [0usize; 4];
    for op in &t.ops {
        let before = slots.get(op.slot as usize).copied();
        step(&mut c, op, &mut slots);
        if let (REALLOC, Some(b)) = (op.kind, before) {
            let q = slots[op.slot as usize].p;
            r[0] += 1;
            if !b.p.is_null() && q != b.p {
                r[1] += 1;
                r[2] += b.size;
                r[3] += !(q as usize).wrapping_sub(b.p as usize).is_multiple_of(16) as usize;
            }
        }
    }
    r
}

/// A fresh heap of `C` over `len` bytes of a new region (kept alive alongside).
fn fresh<C: Contender>(len: usize) -> (Region, C) {
    let mut region = Region::new(len);
    // SAFETY: the region is returned with the heap and outlives it.
    let c = unsafe { C::new(region.base(), len) }.expect("heap setup");
    (region, c)
}

/// Largest single allocation `c` can make now (probe by binary search; each probe is freed).
fn largest_now<C: Contender>(c: &mut C, hi: usize) -> usize {
    let (mut lo, mut hi) = (0usize, hi + 1);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        // SAFETY: a probe block, freed at once.
        let p = unsafe { c.malloc(mid) };
        if p.is_null() {
            hi = mid;
        } else {
            // SAFETY: just allocated with this size.
            unsafe { c.free(p, mid, MALLOC_ALIGN) };
            lo = mid;
        }
    }
    lo
}

/// Largest free block as a share of free space after W1's 5000 iterations (before its final
/// frees) on a 256 KiB region. Free space = what a greedy fill (largest possible allocation,
/// again and again, down to 16 bytes) obtains, so every allocator is measured the same way.
fn largest_after_w1<C: Contender>() -> (f64, usize, usize) {
    let (_r, mut c) = fresh::<C>(SMALL);
    let t = workloads::generate("w1", 5000);
    let frees = t.ops.iter().rev().take_while(|o| o.kind == FREE).count();
    let body = &t.ops[..t.ops.len() - frees];
    let mut slots = vec![EMPTY; t.slots];
    replay(&mut c, body, &mut slots);
    let largest = largest_now(&mut c, SMALL);
    let mut free = 0;
    loop {
        let n = largest_now(&mut c, SMALL);
        if n < 16 {
            break;
        }
        // SAFETY: kept until the heap is dropped.
        unsafe { c.malloc(n) };
        free += n;
    }
    (largest as f64 / free as f64, largest, free)
}

fn largest_mode() {
    for name in CONTENDERS {
        let (r, l, f) = with_contender!(name, largest_after_w1);
        println!("largest {name} {r:.3} {l} {f}");
    }
    // heapcaps' own view (multi_heap_get_info) for comparison.
    let mut region = Region::new(SMALL);
    // SAFETY: the region outlives the heap.
    let h = unsafe { heapcaps::multi_heap::MultiHeap::register(region.base(), SMALL) }.unwrap();
    let mut c = Heapcaps(h);
    let t = workloads::generate("w1", 5000);
    let frees = t.ops.iter().rev().take_while(|o| o.kind == FREE).count();
    let mut slots = vec![EMPTY; t.slots];
    replay(&mut c, &t.ops[..t.ops.len() - frees], &mut slots);
    let i = h.info();
    println!(
        "largest heapcaps-info {:.3} {} {}",
        i.largest_free_block as f64 / i.total_free_bytes as f64,
        i.largest_free_block,
        i.total_free_bytes
    );
}
/// Fragmentation (a): fill with random sizes until failure, free every other block, refill
/// until the first failure (and, separately, until 100 failures in a row). Returns percentages
/// of the region: after fill, live after refill (first failure), live after saturated refill.
fn frag_refill<C: Contender>(seed: u64) -> [f64; 3] {
    let mut region = Region::new(SMALL);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), SMALL) }.expect("heap setup");
    let mut r = Rng::new(seed);
    let mut blocks: Vec<(*mut u8, usize)> = Vec::new();
    let mut live = 0usize;
    loop {
        let n = r.range(1, 1024) as usize;
        // SAFETY: plain allocation.
        let p = unsafe { c.malloc(n) };
        if p.is_null() {
            break;
        }
        blocks.push((p, n));
        live += n;
    }
    let filled = live;
    for (i, &(p, n)) in blocks.iter().enumerate() {
        if i % 2 == 1 {
            // SAFETY: a live block of `c` with its size.
            unsafe { c.free(p, n, MALLOC_ALIGN) };
            live -= n;
        }
    }
    let mut first = None;
    let mut misses = 0;
    while misses < 100 {
        let n = r.range(1, 1024) as usize;
        // SAFETY: plain allocation.
        let p = unsafe { c.malloc(n) };
        if p.is_null() {
            first.get_or_insert(live);
            misses += 1;
        } else {
            misses = 0;
            live += n;
        }
    }
    let pct = |b: usize| 100.0 * b as f64 / SMALL as f64;
    [pct(filled), pct(first.unwrap_or(live)), pct(live)]
}

/// Fragmentation (b): random malloc (55%), free (25%), realloc (20%) of sizes 1-1024 until the
/// first failure; live requested bytes then, as a percentage of the region.
fn frag_mixed<C: Contender>(seed: u64) -> f64 {
    let mut region = Region::new(SMALL);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), SMALL) }.expect("heap setup");
    let mut r = Rng::new(seed);
    let mut blocks: Vec<(*mut u8, usize)> = Vec::new();
    let mut live = 0usize;
    loop {
        let n = r.range(1, 1024) as usize;
        let roll = r.range(0, 99);
        // SAFETY: blocks holds live blocks of `c` with their sizes.
        unsafe {
            if roll < 55 || blocks.is_empty() {
                let p = c.malloc(n);
                if p.is_null() {
                    break;
                }
                blocks.push((p, n));
                live += n;
            } else {
                let i = r.range(0, blocks.len() as u32 - 1) as usize;
                let (p, old) = blocks[i];
                if roll < 80 {
                    c.free(p, old, MALLOC_ALIGN);
                    blocks.swap_remove(i);
                    live -= old;
                } else {
                    let q = c.realloc(p, old, MALLOC_ALIGN, n);
                    if q.is_null() {
                        break;
                    }
                    blocks[i] = (q, n);
                    live = live - old + n;
                }
            }
        }
    }
    100.0 * live as f64 / SMALL as f64
}

const SEEDS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fn frag_row<C: Contender>() {
    let mut a = [0.0; 3];
    let mut a_min = f64::MAX;
    let mut b = 0.0;
    let mut b_min = f64::MAX;
    for &s in &SEEDS {
        let x = frag_refill::<C>(s);
        for i in 0..3 {
            a[i] += x[i] / SEEDS.len() as f64;
        }
        a_min = a_min.min(x[1]);
        let y = frag_mixed::<C>(s + 100);
        b += y / SEEDS.len() as f64;
        b_min = b_min.min(y);
    }
    println!(
        "eff {} {:.2} {:.2} {:.2} {:.2} {:.2}",
        C::NAME,
        a[0],
        a[1],
        a[2],
        b,
        b_min
    );
    println!(
        "| {} | {:.1} | {:.1} (min {:.1}) | {:.1} | {:.1} (min {:.1}) |",
        C::NAME,
        a[0],
        a[1],
        a_min,
        a[2],
        b,
        b_min
    );
}

fn frag() {
    println!(
        "Fragmentation, 256 KiB region, sizes 1-1024, mean over {} seeds (% of region):\n",
        SEEDS.len()
    );
    println!("| contender | (a) fill until failure | (a) live after refill to first failure | (a) live after refill to 100 failures in a row | W3: live at first failure of mixed malloc/free/realloc (target >= 92) |");
    println!("|---|---|---|---|---|");
    for name in CONTENDERS {
        with_contender!(name, frag_row);
    }
    // Distribution over 64 seeds, for the utilisation plot.
    for name in CONTENDERS {
        for seed in 0..64u64 {
            let pct = with_contender!(name, frag_mixed, 1000 + seed);
            println!("curve {name} {seed} {pct:.2}");
        }
    }
}

/// Bytes one allocation of `n` takes: median distance between consecutive blocks of a fresh heap.
fn consumed<C: Contender>(n: usize) -> usize {
    let mut region = Region::new(SMALL);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), SMALL) }.expect("heap setup");
    // SAFETY: plain allocations.
    let ps: Vec<usize> = (0..9).map(|_| unsafe { c.malloc(n) } as usize).collect();
    let mut d: Vec<usize> = ps.windows(2).map(|w| w[0].abs_diff(w[1])).collect();
    d.sort();
    d[d.len() / 2]
}

/// Bytes one allocation of `n` takes from the heap's free counter (heapcaps only).
fn consumed_free_size(n: usize) -> usize {
    let mut region = Region::new(SMALL);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { Heapcaps::new(region.base(), SMALL) }.expect("heap setup");
    let before = c.free_size().unwrap_or(0);
    // SAFETY: plain allocation.
    unsafe { c.malloc(n) };
    before - c.free_size().unwrap_or(0)
}

/// Largest single allocation right after setting up a heap over `len` bytes.
fn largest<C: Contender>(region: &mut Region, len: usize) -> usize {
    let (mut lo, mut hi) = (0usize, len + 1); // lo fits (0 trivially), hi does not
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        // SAFETY: the region outlives the heap, which is rebuilt for each probe.
        let ok =
            unsafe { C::new(region.base(), len).is_some_and(|mut c| !c.malloc(mid).is_null()) };
        if ok {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

fn mem() {
    println!("Per-allocation overhead (bytes consumed minus request; heapcaps by free_size delta and by address delta, others by address delta of consecutive blocks in a fresh heap):\n");
    println!("| request | heapcaps (free_size) | heapcaps (addr) | rlsf | talc | linked_list | dlmalloc |");
    println!("|---|---|---|---|---|---|---|");
    for n in [1usize, 8, 16, 32, 64, 100, 256, 1000] {
        let o = |x: usize| x as isize - n as isize;
        let row = [
            o(consumed_free_size(n)),
            o(consumed::<Heapcaps>(n)),
            o(consumed::<Rlsf>(n)),
            o(consumed::<Talc>(n)),
            o(consumed::<LinkedList>(n)),
            o(consumed::<Dlmalloc>(n)),
        ];
        println!(
            "overhead {n} {}",
            row.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "| {n} | {} |",
            row.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    println!("\nControl bytes: region bytes not available to one allocation right after setting up the heap (region - largest allocation); heapcaps' own overhead() in brackets. rlsf's {}-byte control structure is placed inside the region; talc's {}-byte struct and dlmalloc's {}-byte state live outside it (not counted).\n", Rlsf::CONTROL, std::mem::size_of::<heapcaps_bench::contenders::TalcHeap>(), std::mem::size_of::<Dlmalloc>());
    println!("| region | heapcaps | rlsf | talc | linked_list | dlmalloc | largest alloc % of region: heapcaps / rlsf / talc / linked_list / dlmalloc |");
    println!("|---|---|---|---|---|---|---|");
    for kib in [8usize, 16, 64, 256, 1024, 4096] {
        let len = kib * 1024;
        let mut region = Region::new(len);
        let h = largest::<Heapcaps>(&mut region, len);
        let r = largest::<Rlsf>(&mut region, len);
        let t = largest::<Talc>(&mut region, len);
        let l = largest::<LinkedList>(&mut region, len);
        let d = largest::<Dlmalloc>(&mut region, len);
        // SAFETY: the region outlives the heap.
        let ov = unsafe { heapcaps::multi_heap::MultiHeap::register(region.base(), len) }
            .map_or(0, |m| m.overhead());
        let pct = |x: usize| 100.0 * x as f64 / len as f64;
        println!(
            "control {kib} {} {} {} {} {}",
            len - h,
            len - r,
            len - t,
            len - l,
            len - d
        );
        println!(
            "| {kib} KiB | {} ({ov}) | {} | {} | {} | {} | {:.3} / {:.3} / {:.3} / {:.3} / {:.3} |",
            len - h,
            len - r,
            len - t,
            len - l,
            len - d,
            pct(h),
            pct(r),
            pct(t),
            pct(l),
            pct(d)
        );
    }
}

/// W5: 1500 unusable 32-byte holes (each pinned by a live 16-byte block after it) in a 256 KiB
/// heap, everything else free at the end.
fn w5_setup<C: Contender>() -> (Region, C) {
    let (r, mut c) = fresh::<C>(SMALL);
    let mut holes = Vec::with_capacity(1500);
    for _ in 0..1500 {
        // SAFETY: plain allocations; the pins stay live.
        unsafe {
            holes.push(c.malloc(32));
            c.malloc(16);
        }
    }
    for p in holes {
        // SAFETY: live blocks of `c` allocated with size 32.
        unsafe { c.free(p, 32, MALLOC_ALIGN) };
    }
    (r, c)
}

#[inline(never)]
fn probe_malloc<C: Contender>(c: &mut C, n: usize) -> *mut u8 {
    // SAFETY: plain allocation.
    unsafe { c.malloc(n) }
}

#[inline(never)]
fn probe_free<C: Contender>(c: &mut C, p: *mut u8, n: usize) {
    // SAFETY: `p` is a live block of `c` of size `n` (callers skip null).
    unsafe { c.free(p, n, MALLOC_ALIGN) }
}

/// W5 timing: median and max ticks over fresh setups of the 2048-byte malloc and its free.
fn w5_time<C: Contender>(f: f64) -> [f64; 4] {
    let mut m = Vec::new();
    let mut fr = Vec::new();
    for _ in 0..21 {
        let (_r, mut c) = w5_setup::<C>();
        let t0 = tsc();
        let p = probe_malloc(&mut c, 2048);
        let t1 = tsc();
        if !p.is_null() {
            probe_free(&mut c, p, 2048);
        }
        let t2 = tsc();
        m.push((t1 - t0) as f64 / f);
        fr.push((t2 - t1) as f64 / f);
    }
    m.sort_by(f64::total_cmp);
    fr.sort_by(f64::total_cmp);
    [
        m[m.len() / 2],
        m[m.len() - 1],
        fr[fr.len() / 2],
        fr[fr.len() - 1],
    ]
}

/// W5 under callgrind: one malloc (and its free) in `probe_malloc` / `probe_free`.
fn w5_once<C: Contender>() {
    let (_r, mut c) = w5_setup::<C>();
    let p = probe_malloc(&mut c, 2048);
    if !p.is_null() {
        probe_free(&mut c, p, 2048);
    }
    println!("w5 {} {}", C::NAME, !p.is_null());
}

/// Worst-case probes: in many heap states (empty, W5's holes, points along W2 and W1 traces,
/// a heap filled then half freed), one malloc of each of several sizes and its free, each in its
/// own `probe_malloc` / `probe_free` call (callgrind dumps after every call).
fn bound<C: Contender>() {
    const SIZES: [usize; 7] = [1, 16, 64, 200, 1000, 2048, 6000];
    let mut calls = 0;
    let mut probe = |c: &mut C| {
        for n in SIZES {
            let p = probe_malloc(c, n);
            if !p.is_null() {
                probe_free(c, p, n);
            }
            calls += 1;
        }
    };
    let (_r, mut c) = fresh::<C>(SMALL);
    probe(&mut c);
    let (_r, mut c) = w5_setup::<C>();
    probe(&mut c);
    for w in ["w2-512", "w1"] {
        let t = workloads::generate(w, 12_000);
        let (_r, mut c) = fresh::<C>(SMALL);
        let mut slots = vec![EMPTY; t.slots];
        for chunk in t.ops.chunks(1000).take(10) {
            replay(&mut c, chunk, &mut slots);
            probe(&mut c);
        }
    }
    // Filled with 1-1024 B blocks until failure, then every other block freed.
    let (_r, mut c) = fresh::<C>(SMALL);
    let mut r = Rng::new(7);
    let mut blocks = Vec::new();
    loop {
        let n = r.range(1, 1024) as usize;
        // SAFETY: plain allocation.
        let p = unsafe { c.malloc(n) };
        if p.is_null() {
            break;
        }
        blocks.push((p, n));
    }
    for (i, &(p, n)) in blocks.iter().enumerate() {
        if i % 2 == 1 {
            // SAFETY: live block with its size.
            unsafe { c.free(p, n, MALLOC_ALIGN) };
        }
    }
    probe(&mut c);
    println!("bound {} probes {calls}", C::NAME);
}

/// Caps-layer cost against the number of heaps: a private registry with one 256 KiB DRAM-type
/// boot heap and `n` runtime 4 KiB regions of IRAM type (EXEC|32BIT|INTERNAL: they never match
/// an 8BIT request, and runtime regions sit at the head of the list, so a list walk passes all
/// of them). `caps_malloc_n` does 1000 heap_caps_malloc(64, 8BIT); `caps_free_n` frees them.
fn scale(n: usize) {
    use heapcaps::caps::{BootRegion, Caps, Registry};
    let reg: &'static Registry = Box::leak(Box::new(Registry::new()));
    let d = Caps::DEFAULT.bits();
    let b8 = Caps::BIT8.bits();
    let i = Caps::INTERNAL.bits();
    let mem =
        |len: usize| Box::leak(vec![0u128; len / 16].into_boxed_slice()).as_mut_ptr() as usize;
    let boot = BootRegion {
        start: mem(SMALL),
        size: SMALL,
        ty: 0,
        caps: [b8 | d, i | Caps::DMA.bits() | Caps::BIT32.bits(), 0],
        startup_stack: false,
        shown_at: 0,
        name: "DRAM",
    };
    // SAFETY: leaked memory, owned by the registry for good.
    unsafe { reg.init(&[boot]) };
    for _ in 0..n {
        let m = mem(4096);
        let iram = [i | Caps::EXEC.bits() | Caps::BIT32.bits(), 0, 0];
        // SAFETY: as above.
        unsafe { reg.add_region_with_caps(iram, m, m + 4096, "IRAM") }.expect("add region");
    }
    let heaps = reg.heaps().count();
    let ps = caps_malloc_n(reg, 1000, b8);
    let ok = ps.iter().filter(|p| !p.is_null()).count();
    caps_free_n(reg, &ps);
    println!("scale heaps {heaps} added {n} ok {ok}");
}

#[inline(never)]
fn caps_malloc_n(reg: &heapcaps::caps::Registry, k: usize, caps: u32) -> Vec<*mut u8> {
    let mut v = Vec::with_capacity(k);
    for _ in 0..k {
        v.push(reg.malloc(64, caps));
    }
    v
}

#[inline(never)]
fn caps_free_n(reg: &heapcaps::caps::Registry, ps: &[*mut u8]) {
    for &p in ps {
        // SAFETY: pointers from `caps_malloc_n` on this registry (or null).
        unsafe { reg.free(p) };
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all: Vec<String> = workloads::NAMES.iter().map(|s| s.to_string()).collect();
    match args.first().map(String::as_str) {
        Some("timing") => timing(if args.len() > 1 { &args[1..] } else { &all }),
        Some("one") => {
            let ops = args
                .get(3)
                .map_or(workloads::default_ops(&args[1], true), |s| {
                    s.parse().unwrap()
                });
            one(&args[1], &args[2], ops)
        }
        Some("trace") => {
            let t = workloads::generate(&args[1], args[2].parse().unwrap());
            workloads::write_trace(&t, &args[3]).expect("write trace");
            println!("ops {}", t.ops.len());
        }
        Some("frag") => frag(),
        Some("pertime") => pertime(if args.len() > 1 { &args[1..] } else { &all }),
        Some("largest") => largest_mode(),
        Some("w5") if args.len() > 1 => with_contender!(args[1].as_str(), w5_once),
        Some("w5") => {
            let f = tsc_per_ns();
            for name in CONTENDERS {
                let [m, mx, fr, frx] = with_contender!(name, w5_time, f);
                println!("w5time {name} {m:.1} {mx:.1} {fr:.1} {frx:.1}");
            }
        }
        Some("bound") => with_contender!(args[1].as_str(), bound),
        Some("scale") => scale(args[1].parse().unwrap()),
        Some("mem") => mem(),
        Some("moves") => {
            for w in if args.len() > 1 { &args[1..] } else { &all } {
                for name in CONTENDERS {
                    let [n, m, b, odd] = with_contender!(name, moves_of, w);
                    println!("moves {w} {name} reallocs {n} moves {m} bytes {b} not-16 {odd}");
                }
            }
        }
        Some("describe") => {
            for w in &all {
                println!("{w}\t{}", workloads::describe(w));
            }
        }
        _ => {
            eprintln!("usage: heapcaps-bench timing [W..] | pertime [W..] | one W CONTENDER [OPS] | trace W OPS FILE | frag | mem | largest | moves [W..] | w5 [CONTENDER] | bound CONTENDER | scale N | describe");
            std::process::exit(2);
        }
    }
}
