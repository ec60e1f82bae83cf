//! Concurrency and load: many threads allocating, reallocating and freeing on the shared heaps of
//! the simulated ESP32 with PSRAM, through `heap_caps_*` and the `malloc` policy functions, with
//! the registry's locks set (as on a dual-core chip). Blocks travel between threads, so many are
//! freed or reallocated by a thread other than the one that allocated them. Every block carries a
//! pattern checked before it is released. At the end every heap's free bytes must equal the start
//! value and the full checker must pass.
//!
//! `stress` is the short version (CI, also under ThreadSanitizer); `soak` runs for
//! `HEAPCAPS_SOAK_SECS` seconds (outside CI) and does nothing without it.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use heapcaps::capi::esp_heap_caps::*;
use heapcaps::caps::{chips, global, global_raw};
use heapcaps::multi_heap::MultiHeap;

const CAPS: [u32; 6] = [
    MALLOC_CAP_DEFAULT,
    MALLOC_CAP_8BIT,
    MALLOC_CAP_32BIT,
    MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT,
    MALLOC_CAP_SPIRAM,
    MALLOC_CAP_DMA,
];

/// Both tests share the process's one global registry: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        chips::select_chip("esp32-psram").expect("select chip");
        global();
    });
}

/// Free bytes of every registered heap, in list order.
fn heap_free() -> Vec<usize> {
    global_raw()
        .heaps()
        .filter(|h| h.3)
        .map(|h| {
            // SAFETY: a registered heap's start is its region start.
            unsafe { MultiHeap::from_ptr(h.0 as *mut c_void) }
                .unwrap()
                .free_size()
        })
        .collect()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[derive(Clone, Copy)]
struct Block {
    p: usize,
    len: usize,
    seed: u8,
}

fn fill(b: Block) {
    let p = b.p as *mut u8;
    // SAFETY: the block is live, at least `len` bytes, and owned by the calling thread.
    unsafe {
        p.write_bytes(b.seed, b.len.min(64));
        if b.len > 64 {
            p.add(b.len - 1).write(b.seed ^ 0x5a);
        }
    }
}

fn verify(b: Block) {
    let p = b.p as *const u8;
    // SAFETY: as in `fill`.
    unsafe {
        for i in 0..b.len.min(64) {
            assert_eq!(*p.add(i), b.seed, "block {:#x} overwritten at {i}", b.p);
        }
        if b.len > 64 {
            assert_eq!(*p.add(b.len - 1), b.seed ^ 0x5a, "tail of {:#x}", b.p);
        }
    }
}

/// Runs `threads` workers until each did `ops` operations or `deadline` passed. Returns the total
/// number of operations.
fn run(threads: usize, ops: u64, deadline: Option<Instant>) -> u64 {
    setup();
    let start = heap_free();
    assert!(heap_caps_check_integrity_all(true));
    // Blocks handed from one thread to another.
    let exchange: Mutex<Vec<Block>> = Mutex::new(Vec::new());
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (exchange, done, stop) = (&exchange, &done, &stop);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t as u64 + 1) * 0x1234_5678_9abc));
                let mut mine: Vec<Block> = Vec::new();
                let mut n = 0u64;
                while n < ops && !stop.load(Ordering::Relaxed) {
                    if deadline.is_some_and(|d| n % 256 == 0 && Instant::now() >= d) {
                        break;
                    }
                    n += 1;
                    let r = rng.next();
                    let size = match r % 16 {
                        0 => 1 + (r >> 8) as usize % 16384,
                        1..=4 => 1 + (r >> 8) as usize % 1024,
                        _ => 1 + (r >> 8) as usize % 96,
                    };
                    let caps = CAPS[(r >> 40) as usize % CAPS.len()];
                    let seed = (r >> 48) as u8;
                    match (r >> 4) % 10 {
                        // Allocate (heap_caps_malloc / calloc / aligned / malloc policy).
                        0..=3 => {
                            let p = match (r >> 56) % 4 {
                                0 => heap_caps_malloc(size, caps),
                                1 => heap_caps_calloc(1, size, caps),
                                2 => heap_caps_aligned_alloc(1 << ((r >> 58) % 7), size, caps),
                                _ => heap_caps_malloc_default(size),
                            };
                            if !p.is_null() {
                                let b = Block {
                                    p: p as usize,
                                    len: size,
                                    seed,
                                };
                                fill(b);
                                mine.push(b);
                            }
                        }
                        // Free one of mine.
                        4..=5 => {
                            if !mine.is_empty() {
                                let b = mine.swap_remove(r as usize % mine.len());
                                verify(b);
                                // SAFETY: a live block of this thread.
                                unsafe { heap_caps_free(b.p as *mut c_void) };
                            }
                        }
                        // Realloc one of mine (sometimes through the malloc policy).
                        6..=7 => {
                            if !mine.is_empty() {
                                let i = r as usize % mine.len();
                                let b = mine[i];
                                verify(b);
                                // SAFETY: a live block of this thread.
                                let q = unsafe {
                                    if r & 1 == 0 {
                                        heap_caps_realloc(b.p as *mut c_void, size, caps)
                                    } else {
                                        heap_caps_realloc_default(b.p as *mut c_void, size)
                                    }
                                };
                                if !q.is_null() {
                                    let keep = Block {
                                        p: q as usize,
                                        len: b.len.min(size).min(64),
                                        seed: b.seed,
                                    };
                                    verify(keep);
                                    mine[i] = Block {
                                        p: q as usize,
                                        len: size,
                                        seed,
                                    };
                                    fill(mine[i]);
                                }
                            }
                        }
                        // Give a block away / take one from another thread.
                        8 => {
                            if let Some(b) = mine.pop() {
                                exchange.lock().unwrap().push(b);
                            }
                        }
                        _ => {
                            let b = exchange.lock().unwrap().pop();
                            if let Some(b) = b {
                                verify(b);
                                mine.push(b);
                            }
                        }
                    }
                    // Keep the live set bounded so allocations keep succeeding.
                    if mine.len() > 64 {
                        let b = mine.swap_remove(0);
                        verify(b);
                        // SAFETY: a live block of this thread.
                        unsafe { heap_caps_free(b.p as *mut c_void) };
                    }
                }
                for b in mine {
                    verify(b);
                    // SAFETY: a live block of this thread.
                    unsafe { heap_caps_free(b.p as *mut c_void) };
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    for b in exchange.into_inner().unwrap() {
        verify(b);
        // SAFETY: live blocks left in the exchange.
        unsafe { heap_caps_free(b.p as *mut c_void) };
    }
    stop.store(true, Ordering::Relaxed);
    assert!(heap_caps_check_integrity_all(true), "checker failed");
    assert_eq!(
        heap_free(),
        start,
        "free bytes did not return to the start value"
    );
    done.load(Ordering::Relaxed)
}

#[test]
// The simulated chip is mapped with memfd/mmap, which Miri cannot call (ThreadSanitizer runs it).
#[cfg_attr(miri, ignore)]
fn stress() {
    let _s = SERIAL.lock().unwrap();
    let (threads, ops) = (8, 20_000);
    let n = run(threads, ops, None);
    println!("stress: {threads} threads x {ops} ops = {n} operations");
    assert_eq!(n, threads as u64 * ops);
}

#[test]
fn soak() {
    let Some(secs) = std::env::var("HEAPCAPS_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let _s = SERIAL.lock().unwrap();
    let threads = std::env::var("HEAPCAPS_SOAK_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let t0 = Instant::now();
    let n = run(threads, u64::MAX, Some(t0 + Duration::from_secs(secs)));
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "soak: {threads} threads, {n} operations in {dt:.1} s ({:.0} ops/s); free bytes back to start, checker ok",
        n as f64 / dt
    );
}
