//! Out of memory on every allocation path of the capabilities layer (private registry over
//! test-owned memory): a failing request returns NULL, leaves every heap exactly as it was (free
//! bytes, minimum free, block count, checker), calls the failed-allocation callback once with the
//! requested size, the caps and the public function's name, and a failed realloc keeps the old
//! block intact and leaks nothing. Checked both for requests larger than any heap and for small
//! requests on exhausted heaps.

use std::ffi::CStr;
use std::sync::Mutex;

use heapcaps::caps::{BootRegion, Caps, Registry};

const D: u32 = Caps::DEFAULT.bits();
const I: u32 = Caps::INTERNAL.bits();
const B8: u32 = Caps::BIT8.bits();
const B32: u32 = Caps::BIT32.bits();
const X: u32 = Caps::EXEC.bits();
const DMA: u32 = Caps::DMA.bits();

static FAILS: Mutex<Vec<(usize, u32, String)>> = Mutex::new(Vec::new());
/// The tests share FAILS (the callback is process-wide): they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn record(size: usize, caps: u32, f: &'static CStr) {
    FAILS
        .lock()
        .unwrap()
        .push((size, caps, f.to_str().unwrap().to_string()));
}

fn take() -> Vec<(usize, u32, String)> {
    std::mem::take(&mut *FAILS.lock().unwrap())
}

fn mem(len: usize) -> usize {
    let v: Vec<u128> = vec![0; len.div_ceil(16)];
    Box::leak(v.into_boxed_slice()).as_mut_ptr() as usize
}

fn registry() -> &'static Registry {
    let r: &'static Registry = Box::leak(Box::new(Registry::new()));
    r.set_failed_alloc_hook(record);
    let region = |start, size, ty, caps| BootRegion {
        start,
        size,
        ty,
        caps,
        startup_stack: false,
        shown_at: start,
        name: "T",
    };
    // SAFETY: leaked memory, owned by the registry from now on.
    unsafe {
        r.init(&[
            region(mem(0x4000), 0x4000, 0, [B8 | D, I | DMA | B32, 0]),
            region(mem(0x2000), 0x2000, 1, [I | X | B32, 0, 0]),
        ])
    };
    r.enable_nonos_stack_heaps();
    r
}

/// Everything observable about the heaps.
fn state(r: &Registry) -> (usize, usize, usize, usize, bool) {
    let i = r.info(0);
    (
        i.total_free_bytes,
        i.minimum_free_bytes,
        i.allocated_blocks,
        i.free_blocks,
        r.check_integrity(Caps::INVALID.bits(), true),
    )
}

/// Every failing path, as (function the callback names, expected size and caps, the call).
type Call<'a> = Box<dyn Fn(&Registry, *mut u8) -> *mut u8 + 'a>;
type Path = (&'static str, Option<(usize, u32)>, Call<'static>);

fn paths(size: usize) -> Vec<Path> {
    vec![
        (
            "heap_caps_malloc",
            Some((size, B8)),
            Box::new(move |r, _| r.malloc(size, B8)),
        ),
        (
            "heap_caps_calloc",
            Some((size, B8)),
            Box::new(move |r, _| r.calloc(1, size, B8)),
        ),
        (
            "heap_caps_aligned_alloc",
            Some((size, B32)),
            Box::new(move |r, _| r.aligned_alloc(64, size, B32)),
        ),
        (
            "heap_caps_aligned_alloc",
            Some((size, B8)),
            Box::new(move |r, _| r.aligned_calloc(16, 1, size, B8)),
        ),
        (
            "heap_caps_malloc_prefer",
            Some((size, B32)),
            Box::new(move |r, _| r.malloc_prefer(size, &[X, B8, B32])),
        ),
        (
            "heap_caps_calloc_prefer",
            Some((size, B8)),
            Box::new(move |r, _| r.calloc_prefer(1, size, &[B32, B8])),
        ),
        // ESP-IDF: with external allocations disabled, the default policy is a plain
        // heap_caps_malloc / heap_caps_realloc with DEFAULT|INTERNAL, and that is what the
        // callback sees.
        (
            "heap_caps_malloc",
            Some((size, D | I)),
            Box::new(move |r, _| r.malloc_default(size)),
        ),
        (
            "heap_caps_aligned_alloc",
            Some((size, D | I)),
            Box::new(move |r, _| r.aligned_alloc_default(16, size)),
        ),
        (
            "heap_caps_realloc",
            Some((size, B8)),
            // SAFETY: `p` is a live block of `r`.
            Box::new(move |r, p| unsafe { r.realloc(p, size, B8) }),
        ),
        (
            "heap_caps_realloc_prefer",
            Some((size, B32)),
            // SAFETY: as above.
            Box::new(move |r, p| unsafe { r.realloc_prefer(p, size, &[B8, B32]) }),
        ),
        (
            "heap_caps_realloc",
            Some((size, D | I)),
            // SAFETY: as above.
            Box::new(move |r, p| unsafe { r.realloc_default(p, size) }),
        ),
        (
            "heap_caps_malloc_base",
            None,
            Box::new(move |r, _| r.malloc_base(size, B8)),
        ),
        (
            "heap_caps_realloc_base",
            None,
            // SAFETY: as above.
            Box::new(move |r, p| unsafe { r.realloc_base(p, size, B8) }),
        ),
    ]
}

/// Runs every path against `r` (whose state must not change) with `victim` as the realloc block.
fn check_all(r: &Registry, victim: *mut u8, victim_len: usize, size: usize) -> usize {
    let before = state(r);
    assert!(before.4, "heaps corrupt before the test");
    let mut n = 0;
    for (name, hook, call) in paths(size) {
        take();
        let p = call(r, victim);
        assert!(p.is_null(), "{name}({size}) succeeded on a full heap");
        assert_eq!(
            state(r),
            before,
            "{name}({size}) changed the heaps while failing"
        );
        // SAFETY: the victim block is live; a failed realloc must leave it untouched.
        let kept = unsafe { std::slice::from_raw_parts(victim, victim_len) };
        assert!(
            kept.iter().all(|&b| b == 0x5C),
            "{name} damaged the old block"
        );
        let fails = take();
        match hook {
            Some((s, c)) => {
                assert_eq!(fails.len(), 1, "{name}: callback calls {fails:?}");
                let (fs, fc, ff) = &fails[0];
                assert_eq!((*fs, *fc), (s, c), "{name}: callback size/caps");
                assert_eq!(ff, name, "callback names the public function");
            }
            None => assert!(
                fails.is_empty(),
                "{name} (no callback) called it: {fails:?}"
            ),
        }
        n += 1;
    }
    n
}

#[test]
fn oversized_requests_fail_cleanly_on_every_path() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let r = registry();
    let v = r.malloc(48, B8);
    // SAFETY: a fresh 48-byte block.
    unsafe { v.write_bytes(0x5C, 48) };
    let start = state(r);
    for size in [0x6000usize, 0x10_0000, 0x7fff_fff0] {
        check_all(r, v, 48, size);
    }
    // SAFETY: live block of `r`.
    unsafe { r.free(v) };
    assert!(state(r).0 > start.0);
}

#[test]
fn exhausted_heaps_fail_small_requests_and_recover() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let r = registry();
    let start = state(r);
    let v = r.malloc(48, B8);
    // SAFETY: a fresh 48-byte block.
    unsafe { v.write_bytes(0x5C, 48) };
    // Fill every heap with small blocks of every cap the paths use.
    let mut blocks = Vec::new();
    for (size, caps) in [(256usize, 0u32), (16, 0)] {
        loop {
            let p = r.malloc_base(size, if caps == 0 { B32 } else { caps });
            let q = if p.is_null() {
                r.malloc_base(size, B8)
            } else {
                p
            };
            if q.is_null() {
                break;
            }
            blocks.push(q);
        }
    }
    assert!(r.largest_free_block(0) < 16);
    let n = check_all(r, v, 48, 64);
    // Everything back: free bytes and block counts return to the start values.
    for p in blocks.into_iter().chain([v]) {
        // SAFETY: live blocks of `r`.
        unsafe { r.free(p) };
    }
    let end = state(r);
    assert_eq!(
        (end.0, end.2, end.3, end.4),
        (start.0, start.2, start.3, start.4)
    );
    println!("out of memory: {n} paths checked on full heaps");
}
