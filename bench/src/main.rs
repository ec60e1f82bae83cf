//! Benchmark of heapcaps' multi_heap against rlsf and talc on a 256 KiB region: time per
//! operation, operation traces for callgrind and the C driver, fragmentation and memory figures.
//! It prints figures; it is not a test. `bench/run.sh` runs all of it.
//!
//! Modes:
//!   timing [W...]           ns/op per workload and contender (lines `time W CONTENDER NS OPS FAILS`)
//!   one W CONTENDER [OPS]   replays one workload once (for callgrind; `replay` is the function
//!                           to collect), prints `ops N fails F`
//!   trace W OPS FILE        writes the trace for the C driver
//!   frag                    fragmentation table (markdown)
//!   mem                     memory table (markdown)

mod contenders;
mod workloads;

use std::rc::Rc;
use std::time::Instant;

use contenders::{Baseline, Contender, Heapcaps, Rlsf, Talc, MALLOC_ALIGN};
use workloads::{Op, Rng, Trace, ALIGNED, FREE, MALLOC, REALLOC, REGION};

/// A 16-byte-aligned region.
struct Region(Vec<u128>);

impl Region {
    fn new(len: usize) -> Region {
        Region(vec![0u128; len.div_ceil(16)])
    }
    fn base(&mut self) -> *mut u8 {
        self.0.as_mut_ptr() as *mut u8
    }
}

#[derive(Clone, Copy)]
struct Slot {
    p: *mut u8,
    size: usize,
    align: usize,
}

const EMPTY: Slot = Slot {
    p: std::ptr::null_mut(),
    size: 0,
    align: 0,
};

/// Replays a trace: the whole harness. Never inlined, so callgrind can collect exactly this
/// function (and what it calls) with `--toggle-collect='*replay*'`. Returns failed operations.
#[inline(never)]
fn replay<C: Contender>(c: &mut C, ops: &[Op], slots: &mut [Slot]) -> u32 {
    let mut fails = 0;
    for op in ops {
        let Some(s) = slots.get_mut(op.slot as usize) else {
            continue;
        };
        let size = op.size as usize;
        // SAFETY: slots only hold blocks this contender returned, with their size and alignment.
        unsafe {
            match op.kind {
                MALLOC => {
                    let p = c.malloc(size);
                    fails += p.is_null() as u32;
                    *s = Slot {
                        p,
                        size,
                        align: MALLOC_ALIGN,
                    };
                }
                ALIGNED => {
                    let align = op.align as usize;
                    let p = c.aligned(size, align);
                    fails += p.is_null() as u32;
                    *s = Slot { p, size, align };
                }
                FREE if !s.p.is_null() => {
                    c.free(s.p, s.size, s.align);
                    s.p = std::ptr::null_mut();
                }
                REALLOC => {
                    if s.p.is_null() {
                        fails += 1;
                    } else {
                        let q = c.realloc(s.p, s.size, s.align, size);
                        if q.is_null() {
                            fails += 1;
                        } else {
                            s.p = q;
                            s.size = size;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    fails
}

/// A contender set up for timing: its heap, its slots and the trace, behind one closure that
/// replays the trace `reps` times.
type Runner = Box<dyn FnMut(usize)>;

fn runner<C: Contender + 'static>(t: &Rc<Trace>) -> (Runner, u32) {
    let mut region = Region::new(REGION);
    // SAFETY: the region moves into the closure with the heap and lives as long as it.
    let mut c = unsafe { C::new(region.base(), REGION) }.expect("heap setup");
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
const BATCHES: usize = 40;

fn timing(ws: &[String]) {
    for w in ws {
        let t = Rc::new(workloads::generate(w, workloads::default_ops(w, false)));
        let mut rs = [
            ("baseline", runner::<Baseline>(&t)),
            ("heapcaps", runner::<Heapcaps>(&t)),
            ("rlsf", runner::<Rlsf>(&t)),
            ("talc", runner::<Talc>(&t)),
        ];
        let reps = (50_000 / t.ops.len()).max(1);
        let mut best = [f64::MAX; 4];
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
    let mut region = Region::new(REGION);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), REGION) }.expect("heap setup");
    let mut slots = vec![EMPTY; t.slots];
    replay(&mut c, &t.ops, &mut slots)
}

fn one(w: &str, contender: &str, ops: usize) {
    let t = workloads::generate(w, ops);
    let fails = match contender {
        "heapcaps" => one_run::<Heapcaps>(&t),
        "rlsf" => one_run::<Rlsf>(&t),
        "talc" => one_run::<Talc>(&t),
        "baseline" => one_run::<Baseline>(&t),
        _ => panic!("unknown contender {contender}"),
    };
    println!("ops {} fails {fails}", t.ops.len());
}

/// Fragmentation (a): fill with random sizes until failure, free every other block, refill
/// until the first failure (and, separately, until 100 failures in a row). Returns percentages
/// of the region: after fill, live after refill (first failure), live after saturated refill.
fn frag_refill<C: Contender>(seed: u64) -> [f64; 3] {
    let mut region = Region::new(REGION);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), REGION) }.expect("heap setup");
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
    let pct = |b: usize| 100.0 * b as f64 / REGION as f64;
    [pct(filled), pct(first.unwrap_or(live)), pct(live)]
}

/// Fragmentation (b): random malloc (55%), free (25%), realloc (20%) of sizes 1-1024 until the
/// first failure; live requested bytes then, as a percentage of the region.
fn frag_mixed<C: Contender>(seed: u64) -> f64 {
    let mut region = Region::new(REGION);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), REGION) }.expect("heap setup");
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
    100.0 * live as f64 / REGION as f64
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
    println!("| contender | (a) fill until failure | (a) live after refill to first failure (target >= 83) | (a) live after refill to 100 failures in a row | (b) live at first failure of mixed malloc/free/realloc (target >= 92) |");
    println!("|---|---|---|---|---|");
    frag_row::<Heapcaps>();
    frag_row::<Rlsf>();
    frag_row::<Talc>();
}

/// Bytes one allocation of `n` takes: median distance between consecutive blocks of a fresh heap.
fn consumed<C: Contender>(n: usize) -> usize {
    let mut region = Region::new(REGION);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { C::new(region.base(), REGION) }.expect("heap setup");
    // SAFETY: plain allocations.
    let ps: Vec<usize> = (0..9).map(|_| unsafe { c.malloc(n) } as usize).collect();
    let mut d: Vec<usize> = ps.windows(2).map(|w| w[0].abs_diff(w[1])).collect();
    d.sort();
    d[d.len() / 2]
}

/// Bytes one allocation of `n` takes from the heap's free counter (heapcaps only).
fn consumed_free_size(n: usize) -> usize {
    let mut region = Region::new(REGION);
    // SAFETY: the region outlives the heap.
    let mut c = unsafe { Heapcaps::new(region.base(), REGION) }.expect("heap setup");
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
    println!("| request | heapcaps (free_size) | heapcaps (addr) | rlsf | talc |");
    println!("|---|---|---|---|---|");
    for n in [1usize, 8, 16, 32, 64, 100, 256, 1000] {
        println!(
            "| {n} | {} | {} | {} | {} |",
            consumed_free_size(n) as isize - n as isize,
            consumed::<Heapcaps>(n) as isize - n as isize,
            consumed::<Rlsf>(n) as isize - n as isize,
            consumed::<Talc>(n) as isize - n as isize,
        );
    }
    println!("\nControl bytes: region bytes not available to one allocation right after setting up the heap (region - largest allocation); heapcaps' own overhead() in brackets. rlsf's {}-byte control structure is placed inside the region; talc's {}-byte struct lives outside it (not counted).\n", Rlsf::CONTROL, std::mem::size_of::<contenders::TalcHeap>());
    println!(
        "| region | heapcaps | rlsf | talc | largest alloc % of region: heapcaps / rlsf / talc |"
    );
    println!("|---|---|---|---|---|");
    for kib in [8usize, 16, 64, 256, 1024, 4096] {
        let len = kib * 1024;
        let mut region = Region::new(len);
        let h = largest::<Heapcaps>(&mut region, len);
        let r = largest::<Rlsf>(&mut region, len);
        let t = largest::<Talc>(&mut region, len);
        // SAFETY: the region outlives the heap.
        let ov = unsafe { heapcaps::multi_heap::MultiHeap::register(region.base(), len) }
            .map_or(0, |m| m.overhead());
        let pct = |x: usize| 100.0 * x as f64 / len as f64;
        println!(
            "| {kib} KiB | {} ({ov}) | {} | {} | {:.3} / {:.3} / {:.3} |",
            len - h,
            len - r,
            len - t,
            pct(h),
            pct(r),
            pct(t)
        );
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
        Some("mem") => mem(),
        Some("describe") => {
            for w in &all {
                println!("{w}\t{}", workloads::describe(w));
            }
        }
        _ => {
            eprintln!("usage: heapcaps-bench timing [W..] | one W CONTENDER [OPS] | trace W OPS FILE | frag | mem | describe");
            std::process::exit(2);
        }
    }
}
