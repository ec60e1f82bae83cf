//! Tests of the capabilities layer on private registries over test-owned memory: selection order
//! and priorities, boot coalescing, runtime regions, the failed-allocation callback, the default
//! malloc policy, the EXEC alias, monitoring, statistics, integrity and walking, chip layouts.

use std::ffi::CStr;
use std::sync::Mutex;

use heapcaps::caps::chips::{self, Region};
use heapcaps::caps::{
    check_add_region_allowed, BootRegion, Caps, DiramAlias, Error, HwParams, Registry,
};

const D: u32 = Caps::DEFAULT.bits();
const I: u32 = Caps::INTERNAL.bits();
const B8: u32 = Caps::BIT8.bits();
const B32: u32 = Caps::BIT32.bits();
const X: u32 = Caps::EXEC.bits();
const DMA: u32 = Caps::DMA.bits();
const S: u32 = Caps::SPIRAM.bits();

/// Size of the DRAM address word before an EXEC pointer (4 on the chips, pointer size on hosts).
const W: usize = std::mem::size_of::<usize>();

const DRAM: [u32; 3] = [B8 | D, I | DMA | B32, 0];
const DIRAM: [u32; 3] = [0, DMA | B8 | I | D, B32 | X];
const IRAM: [u32; 3] = [I | X | B32, 0, 0];
const PSRAM: [u32; 3] = [S | D, 0, B8 | B32];

/// Serialises tests that use the shared failed-allocation recorder.
static LOCK: Mutex<()> = Mutex::new(());
static FAILS: Mutex<Vec<(usize, u32, String)>> = Mutex::new(Vec::new());

fn record(size: usize, caps: u32, f: &'static CStr) {
    FAILS
        .lock()
        .unwrap()
        .push((size, caps, f.to_str().unwrap().to_string()));
}

fn take_fails() -> Vec<(usize, u32, String)> {
    std::mem::take(&mut *FAILS.lock().unwrap())
}

/// Leaked, 16-aligned memory of `len` bytes.
fn mem(len: usize) -> usize {
    let v: Vec<u128> = vec![0; len.div_ceil(16)];
    Box::leak(v.into_boxed_slice()).as_mut_ptr() as usize
}

fn region(start: usize, size: usize, ty: usize, caps: [u32; 3], ss: bool) -> BootRegion {
    BootRegion {
        start,
        size,
        ty,
        caps,
        startup_stack: ss,
        shown_at: start,
        name: "T",
    }
}

fn registry() -> &'static Registry {
    let r: &'static Registry = Box::leak(Box::new(Registry::new()));
    r.set_failed_alloc_hook(record);
    r
}

/// ESP32-like: DRAM 64 KiB, D/IRAM 32 KiB, IRAM 16 KiB (separate memories).
fn esp32_like() -> (&'static Registry, [usize; 3]) {
    let r = registry();
    let (a, b, c) = (mem(0x10000), mem(0x8000), mem(0x4000));
    // SAFETY: leaked memory, owned by the registry from now on.
    unsafe {
        r.init(&[
            region(a, 0x10000, 0, DRAM, false),
            region(b, 0x8000, 1, DIRAM, false),
            region(c, 0x4000, 2, IRAM, false),
        ])
    };
    (r, [a, b, c])
}

fn within(p: *mut u8, start: usize, len: usize) -> bool {
    (p as usize) >= start && (p as usize) < start + len
}

#[test]
fn selection_follows_priorities() {
    let _l = LOCK.lock().unwrap();
    let (r, [dram, diram, iram]) = esp32_like();
    // 8BIT: DRAM at prio 0.
    let p = r.malloc(100, B8);
    assert!(within(p, dram, 0x10000));
    // 32BIT: IRAM lists it at prio 0, DRAM only at prio 1.
    let q = r.malloc(100, B32);
    assert!(within(q, iram, 0x4000));
    // EXEC: IRAM first; EXEC with 8BIT or DMA is impossible.
    let e = r.malloc(64, X);
    assert!(within(e, iram, 0x4000));
    assert!(r.malloc(64, X | B8).is_null());
    assert!(r.malloc(64, X | DMA).is_null());
    // caps 0 and MALLOC_CAP_INVALID never allocate.
    assert!(r.malloc(16, 0).is_null());
    assert!(r.malloc(16, Caps::INVALID.bits()).is_null());
    // DMA: DRAM (prio 1) before D/IRAM (prio 1, later in the list since bigger? no: smaller first).
    let d = r.malloc(64, DMA);
    assert!(within(d, diram, 0x8000) || within(d, dram, 0x10000));
    // Exhaust DRAM for 8BIT: later requests move to D/IRAM (prio 1), through each allocation
    // family (on the chips each first tries the first eligible heap alone).
    let mut v = vec![];
    let families: [&dyn Fn() -> *mut u8; 3] = [
        &|| r.malloc(1024, B8 | D),
        &|| r.aligned_alloc(256, 1024, B8 | D),
        &|| r.malloc_default(1024),
    ];
    for (i, alloc) in families.iter().enumerate() {
        loop {
            let p = alloc();
            assert!(!p.is_null());
            v.push(p);
            if within(p, diram, 0x8000) {
                break;
            }
            assert!(within(p, dram, 0x10000), "family {i}");
        }
        // Free the DRAM blocks of this family for the next one.
        let (dr, rest): (Vec<_>, Vec<_>) = v.drain(..).partition(|&p| within(p, dram, 0x10000));
        v = rest;
        // SAFETY: pointers from `r`.
        unsafe { dr.into_iter().for_each(|p| r.free(p)) };
    }
    // SAFETY: all pointers came from `r`.
    unsafe {
        for p in v.into_iter().chain([p, q, e, d]) {
            r.free(p);
        }
    }
    assert!(r.check_integrity(Caps::INVALID.bits(), true));
    take_fails();
}

#[test]
fn list_order_sorted_by_size_runtime_first() {
    let _l = LOCK.lock().unwrap();
    let r = registry();
    let (a, b, c) = (mem(0x4000), mem(0x2000), mem(0x2000));
    let (a, b, c) = (a, b.min(c), b.max(c));
    // SAFETY: leaked memory.
    unsafe {
        r.init(&[
            region(a, 0x4000, 0, DRAM, false),
            region(b, 0x2000, 1, DRAM, false),
            region(c, 0x2000, 2, DRAM, false),
        ])
    };
    let order: Vec<usize> = r.heaps().map(|h| h.0).collect();
    // Ascending size; among equal sizes the later address comes first.
    assert_eq!(order, vec![c, b, a]);
    let extra = mem(0x1000);
    // SAFETY: leaked memory.
    unsafe { r.add_region_with_caps([S | D, 0, B8 | B32], extra, extra + 0x1000, "X") }.unwrap();
    assert_eq!(r.heaps().next().unwrap().0, extra);
    // Runtime heap at the head wins at the same priority level.
    let p = r.malloc(16, D);
    assert!(within(p, extra, 0x1000));
}

#[test]
fn boot_coalesces_and_defers_startup_stack() {
    let _l = LOCK.lock().unwrap();
    let r = registry();
    let m = mem(0x6000);
    // SAFETY: leaked memory.
    unsafe {
        r.init(&[
            region(m, 0x2000, 0, DRAM, false),
            region(m + 0x2000, 0x2000, 0, DRAM, false),
            region(m + 0x4000, 0x2000, 0, DRAM, true),
        ])
    };
    let hs: Vec<_> = r.heaps().collect();
    assert_eq!(hs.len(), 2);
    assert!(hs.iter().any(|h| h.0 == m && h.1 == m + 0x4000 && h.3));
    assert!(hs.iter().any(|h| h.0 == m + 0x4000 && !h.3));
    assert_eq!(r.total_size(0), 0x4000);
    let before_min = r.minimum_free_size(0);
    r.enable_nonos_stack_heaps();
    assert_eq!(r.total_size(0), 0x6000);
    assert!(r.minimum_free_size(0) > before_min);
}

#[test]
fn add_region_rules_and_codes() {
    let _l = LOCK.lock().unwrap();
    // The pure overlap rule (upstream test "Add heap region address range checks").
    for (s, e) in [
        (0, 0x1000),
        (0x3000, 0x4000),
        (0x1000, 0x2999),
        (0x1001, 0x3000),
        (0x1001, 0x2999),
    ] {
        assert!(
            check_add_region_allowed(0x1000, 0x3000, s, e),
            "{s:#x}-{e:#x}"
        );
    }
    for (s, e) in [
        (0, 0x2000),
        (0, 0x4000),
        (0x1000, 0x4000),
        (0x2000, 0x4000),
        (0x1000, 0x3000),
    ] {
        assert!(
            !check_add_region_allowed(0x1000, 0x3000, s, e),
            "{s:#x}-{e:#x}"
        );
    }
    let (r, [dram, ..]) = esp32_like();
    let caps = [1 << 29, 0, 0];
    // SAFETY: the ranges are leaked memory or rejected before use.
    unsafe {
        assert_eq!(
            r.add_region_with_caps(caps, 0, 100, ""),
            Err(Error::InvalidArg)
        );
        assert_eq!(
            r.add_region_with_caps(caps, 100, 100, ""),
            Err(Error::InvalidArg)
        );
        assert_eq!(
            r.add_region_with_caps(caps, dram, dram + 0x10000, ""),
            Err(Error::Fail)
        );
        assert_eq!(
            r.add_region_with_caps(caps, dram - 16, dram + 16, ""),
            Err(Error::Fail)
        );
        let small = mem(100);
        assert_eq!(
            r.add_region_with_caps(caps, small, small + 100, ""),
            Err(Error::InvalidSize)
        );
    }
    // Nested: a block of an existing heap registered as a new heap (after startup: minimum 0).
    r.enable_nonos_stack_heaps();
    let blk = r.malloc(3500, B8);
    assert!(!blk.is_null());
    let before = r.free_size(0);
    // SAFETY: the block is ours and never freed.
    unsafe { r.add_region_with_caps(caps, blk as usize, blk as usize + 3500, "") }.unwrap();
    assert!(r.free_size(0) >= before + 3500 - 3248);
    assert_eq!(r.minimum_free_size(1 << 29), 0);
    let p = r.malloc(64, 1 << 29);
    assert!(within(p, blk as usize, 3500));
    assert_eq!(Error::Fail.code(), -1);
    assert_eq!(Error::InvalidSize.code(), 0x104);
    assert_eq!(Error::NotFound.code(), 0x105);
    take_fails();
}

#[test]
fn failed_alloc_callback_cases() {
    let _l = LOCK.lock().unwrap();
    let (r, _) = esp32_like();
    take_fails();
    assert!(r.malloc(0, D).is_null());
    assert!(r.calloc(16, 0, D).is_null());
    assert!(r.aligned_alloc(3, 16, D).is_null());
    assert!(r.aligned_alloc(0, 16, D).is_null());
    assert!(r.aligned_alloc(32, 0, D).is_null());
    assert!(take_fails().is_empty());
    assert!(r.malloc(16, 0).is_null());
    assert!(r.malloc(128 << 20, D).is_null());
    // SAFETY: NULL pointer realloc allocates.
    assert!(unsafe { r.realloc(std::ptr::null_mut(), 128 << 20, D) }.is_null());
    assert!(r.aligned_alloc(0x200, 128 << 20, D).is_null());
    assert!(r.malloc(64, Caps::INVALID.bits()).is_null());
    assert!(r.calloc(0, 16, D).is_null());
    assert!(r.calloc(usize::MAX / 2 + 4, 2, D).is_null());
    assert!(r.malloc_prefer(1 << 27, &[]).is_null());
    assert!(r.calloc_prefer(4, 1 << 27, &[B8, B32]).is_null());
    let f = take_fails();
    let names: Vec<&str> = f.iter().map(|x| x.2.as_str()).collect();
    assert_eq!(
        names,
        [
            "heap_caps_malloc",
            "heap_caps_malloc",
            "heap_caps_realloc",
            "heap_caps_aligned_alloc",
            "heap_caps_malloc",
            "heap_caps_calloc",
            "heap_caps_calloc",
            "heap_caps_malloc_prefer",
            "heap_caps_calloc_prefer"
        ]
    );
    assert_eq!(f[0], (16, 0, "heap_caps_malloc".into()));
    assert_eq!(f[4].1, Caps::INVALID.bits());
    assert_eq!(f[5].0, 0); // calloc(0, 16): callback with size 0 (ESP-IDF quirk kept)
    assert_eq!(f[6].0, (usize::MAX / 2 + 4).wrapping_mul(2)); // wrapped product
    assert_eq!(f[7].1, D); // prefer with no caps reports MALLOC_CAP_DEFAULT
    assert_eq!((f[8].0, f[8].1), (1 << 27, B32)); // element size, last caps
}

#[test]
fn extmem_policy() {
    let _l = LOCK.lock().unwrap();
    let (r, [dram, ..]) = esp32_like();
    let ps = mem(0x20000);
    // SAFETY: leaked memory.
    unsafe { r.add_region_with_caps(PSRAM, ps, ps + 0x20000, "SPIRAM") }.unwrap();
    let inside = |p: *mut u8| within(p, ps, 0x20000);
    // Disabled (initial): malloc stays internal even for big requests.
    let a = r.malloc_default(20000);
    assert!(!inside(a) && !a.is_null());
    // heap_caps_malloc(DEFAULT) prefers the runtime PSRAM heap (list head).
    let b = r.malloc(256, D);
    assert!(inside(b));
    r.malloc_extmem_enable(16384);
    let c = r.malloc_default(16385);
    assert!(inside(c));
    let d = r.malloc_default(16384);
    assert!(within(d, dram, 0x10000));
    // Too big for PSRAM and internal: falls back to DEFAULT anywhere, then callback with DEFAULT.
    take_fails();
    assert!(r.malloc_default(1 << 20).is_null());
    assert_eq!(
        take_fails(),
        vec![(1 << 20, D, "heap_caps_malloc_default".to_string())]
    );
    let e = r.aligned_alloc_default(64, 20000);
    assert!(inside(e) && e as usize % 64 == 0);
    // Limits >= 2^31 disable external allocation again (stored as a signed int in ESP-IDF).
    r.malloc_extmem_enable(usize::MAX);
    let f = r.malloc_default(20000);
    assert!(!inside(f) && !f.is_null());
    // SAFETY: pointers from `r`.
    unsafe {
        for p in [a, b, c, d, e, f] {
            r.free(p);
        }
    }
}

#[test]
// Needs a second mapping of the same pages (memfd + mmap), which Miri cannot call.
#[cfg_attr(miri, ignore)]
fn exec_alias_round_trip() {
    let _l = LOCK.lock().unwrap();
    let r = registry();
    let len = 0x10000;
    let (dram, iram) = heapcaps::port::map_memory(len, 0, len).expect("map");
    let (dram, iram) = (dram as usize, iram as usize);
    r.set_diram_alias(Some(DiramAlias {
        dram_lo: dram,
        dram_hi: dram + len,
        iram_lo: iram,
        inverted: false,
    }));
    // SAFETY: mapped memory owned by the registry.
    unsafe { r.init(&[region(dram, len, 1, DIRAM, false)]) };
    let p = r.malloc(64, X);
    assert!(within(p, iram, len), "EXEC pointer is in the IRAM view");
    // SAFETY: the word before the IRAM pointer holds the DRAM address of the block.
    let d = unsafe { (p.sub(W) as *const usize).read_unaligned() };
    assert!(within(d as *mut u8, dram, len));
    // Same memory through both views.
    // SAFETY: p is a live 64-byte block; d + W is its DRAM view.
    unsafe {
        std::ptr::write_bytes(p, 0xA5, 64);
        assert_eq!(*((d + W) as *const u8), 0xA5);
        assert_eq!(*((d + W + 63) as *const u8), 0xA5);
    }
    let free0 = r.free_size(0);
    // Realloc of an alias always moves; with 8BIT the data lands in DRAM.
    // SAFETY: p is live.
    let q = unsafe { r.realloc(p, 32, B8) };
    assert!(within(q, dram, len));
    // SAFETY: q is live with 32 bytes.
    unsafe { assert_eq!(*q.add(31), 0xA5) };
    // SAFETY: q is live.
    unsafe { r.free(q) };
    assert!(r.free_size(0) > free0);
    let e = r.malloc(64, X);
    // SAFETY: e is live.
    unsafe { r.free(e) };
    assert!(r.check_integrity(0, true));
}

#[test]
#[cfg_attr(miri, ignore)]
fn exec_alias_aligned_alloc_is_aligned() {
    // ESP-IDF aligns the DRAM block, so the IRAM pointer it returns (one address word further)
    // misses the requested alignment; heapcaps aligns the pointer the caller gets.
    let _l = LOCK.lock().unwrap();
    let r = registry();
    let len = 0x10000;
    let (dram, iram) = heapcaps::port::map_memory(len, 0, len).expect("map");
    let (dram, iram) = (dram as usize, iram as usize);
    r.set_diram_alias(Some(DiramAlias {
        dram_lo: dram,
        dram_hi: dram + len,
        iram_lo: iram,
        inverted: false,
    }));
    // SAFETY: mapped memory owned by the registry.
    unsafe { r.init(&[region(dram, len, 1, DIRAM, false)]) };
    // With task tracking the first allocation also books the task in a record taken from the
    // heap for good: make it before the baseline.
    // SAFETY: a live block of `r`.
    unsafe { r.free(r.aligned_alloc(8, 100, X)) };
    let free0 = r.free_size(0);
    for align in [8usize, 16, 32, 64, 256, 4096] {
        let p = r.aligned_alloc(align, 100, X);
        assert!(within(p, iram, len), "EXEC pointer is in the IRAM view");
        assert_eq!(p as usize % align, 0, "EXEC block not {align}-aligned");
        // SAFETY: p is a live 100-byte block; the word before it holds its DRAM address.
        unsafe {
            std::ptr::write_bytes(p, 0x5A, 100);
            let d = (p.sub(W) as *const usize).read_unaligned();
            assert_eq!(*((d + W + 99) as *const u8), 0x5A);
            r.free(p);
        }
    }
    assert_eq!(r.free_size(0), free0);
    assert!(r.check_integrity(0, true));
}

#[test]
fn monitor_local_minimum() {
    let _l = LOCK.lock().unwrap();
    let (r, _) = esp32_like();
    assert_eq!(r.monitor_stop(), Err(Error::Fail));
    let p = r.malloc(4000, B8);
    // SAFETY: from r.
    unsafe { r.free(p) };
    let global_min = r.minimum_free_size(B8);
    r.monitor_start().unwrap();
    r.monitor_start().unwrap();
    let local = r.minimum_free_size(B8);
    assert!(local >= global_min);
    let p = r.malloc(400, B8);
    // SAFETY: from r.
    unsafe { r.free(p) };
    assert!(r.minimum_free_size(B8) <= local - 400);
    // A heap added while monitoring does not receive another heap's saved value.
    let m = mem(0x2000);
    // SAFETY: leaked memory.
    unsafe { r.add_region_with_caps([1 << 28, 0, 0], m, m + 0x2000, "") }.unwrap();
    let added_min = r.minimum_free_size(1 << 28);
    r.monitor_stop().unwrap();
    assert_eq!(r.monitor_stop(), Err(Error::Fail));
    assert_eq!(r.minimum_free_size(B8), global_min);
    assert_eq!(r.minimum_free_size(1 << 28), added_min);
}

#[test]
fn statistics_largest_integrity_walk() {
    let _l = LOCK.lock().unwrap();
    let (r, [dram, diram, iram]) = esp32_like();
    assert_eq!(r.total_size(0), 0x1C000);
    // The descriptor array of the 3 boot heaps is allocated in the first 8BIT|INTERNAL heap.
    let mut blocks = vec![];
    r.walk(0, |s, _, _, size, used| {
        if used {
            blocks.push((s, size));
        }
        true
    });
    // The walker reports raw blocks: with poisoning, 12 bytes of canaries more.
    let po = heapcaps::multi_heap::POISON_OVERHEAD;
    assert_eq!(blocks, vec![(dram.min(diram), 108 + po)]);
    assert_eq!(r.total_size(B8), 0x18000);
    assert_eq!(r.total_size(X), 0xC000);
    let free8 = r.free_size(B8);
    assert!(free8 < 0x18000 && free8 > 0x17000);
    let largest = r.largest_free_block(B8);
    let p = r.malloc(largest, B8);
    assert!(!p.is_null(), "largest_free_block is allocatable");
    assert!(r.malloc(largest + 4, B8).is_null() || r.largest_free_block(B8) > 0);
    let info = r.info(B8);
    // p, plus the boot heap descriptors (3 * 36 bytes) taken from the first 8BIT|INTERNAL heap.
    assert_eq!(info.allocated_blocks, 2);
    // SAFETY: p from r.
    assert!(unsafe { r.allocated_size(p) } >= largest);
    // SAFETY: p + 100 is inside the live block.
    assert!(unsafe { r.containing_block_size(p.add(100)) } >= largest);
    // Walk: every heap visited once even if the callback stops each heap at its first block.
    let mut heaps = vec![];
    r.walk(Caps::INVALID.bits(), |s, _, _, _, _| {
        heaps.push(s);
        false
    });
    heaps.sort();
    let mut want = vec![dram, diram, iram];
    want.sort();
    assert_eq!(heaps, want);
    let mut used = 0;
    r.walk(B8, |_, _, _, _, u| {
        used += u as usize;
        true
    });
    assert_eq!(used, 2);
    assert!(r.check_integrity(0, true));
    assert!(r.check_integrity_addr(dram + 8, true));
    assert!(!r.check_integrity_addr(16, true));
    // SAFETY: p from r.
    unsafe { r.free(p) };
    assert_eq!(r.free_size(B8), free8);
    take_fails();
}

#[test]
fn hw_alignment_for_dma_and_spiram() {
    let _l = LOCK.lock().unwrap();
    let r = registry();
    r.set_hw(HwParams {
        internal_line: 64,
        external_line: 32,
        simd_align: 16,
        size_max: 1 << 22,
    });
    let (a, b) = (mem(0x8000), mem(0x8000));
    // SAFETY: leaked memory.
    unsafe {
        r.init(&[region(a, 0x8000, 0, [D | B8 | B32 | I | DMA, 0, 0], false)]);
        r.add_region_with_caps(PSRAM, b, b + 0x8000, "SPIRAM")
            .unwrap();
    }
    let p = r.malloc(10, DMA);
    assert!(within(p, a, 0x8000) && p as usize % 64 == 0);
    let q = r.malloc(10, Caps::CACHE_ALIGNED.bits() | Caps::DMA_DESC_AHB.bits());
    assert!(within(q, a, 0x8000) && q as usize % 64 == 0);
    // SPIRAM removes DMA (PSRAM heaps have no DMA cap) and aligns to the external line.
    let s = r.malloc(10, DMA | S);
    assert!(within(s, b, 0x8000) && s as usize % 32 == 0);
    assert!(r.malloc((1 << 22) + 1, B8).is_null());
}

/// Available regions of a chip after reserved ranges: (chip address, length, type name),
/// coalesced as heap_caps_init does.
fn layout(name: &str) -> Vec<(u32, u32, &'static str, bool)> {
    let c = chips::chip(name).unwrap();
    let mut v: Vec<Region> = vec![];
    c.available(|r| v.push(r));
    let mut out: Vec<(u32, u32, &'static str, bool)> = vec![];
    let mut last: Option<Region> = None;
    for r in v {
        if let Some(l) = last.as_mut() {
            if l.start + l.size == r.start && l.ty == r.ty && l.startup_stack == r.startup_stack {
                l.size += r.size;
                let o = out.last_mut().unwrap();
                o.1 = l.size;
                continue;
            }
        }
        out.push((r.start, r.size, c.types[r.ty].name, r.startup_stack));
        last = Some(r);
    }
    out
}

#[test]
fn chip_layouts_match_a_typical_boot() {
    // ESP32 (dual core): the figures of a typical ESP-IDF boot log.
    assert_eq!(
        layout("esp32"),
        vec![
            (0x3FFAE6E0, 0x1920, "DRAM", false),
            (0x3FFB2A48, 0x2D5B8, "DRAM", false),
            (0x3FFE0440, 0x3AE0, "D/IRAM", true),
            (0x3FFE4350, 0x1BCB0, "D/IRAM", true),
            (0x4008B3D0, 0x14C30, "IRAM", false),
        ]
    );
    assert_eq!(
        layout("esp32s3"),
        vec![
            (0x3FC96A38, 0x52CD8, "RAM", false),
            (0x3FCE9710, 0x5724, "RAM", true),
            (0x3FCF0000, 0x8000, "DRAM", false),
            (0x600FE010, 0x1FD8, "RTCRAM", false),
        ]
    );
    assert_eq!(
        layout("esp32c3"),
        vec![
            (0x3FC93E10, 0x2C1F0, "RAM", false),
            (0x3FCC0000, 0x1C710, "Retention RAM", false),
            (0x3FCDC710, 0x294C, "Retention RAM", true),
            (0x50000010, 0x1FD8, "RTCRAM", false),
        ]
    );
    assert_eq!(
        layout("esp32c6"),
        vec![
            (0x40810C90, 0x6B980, "RAM", false),
            (0x4087C610, 0x2F54, "RAM", true),
            (0x50000010, 0x3FD8, "RTCRAM", false),
        ]
    );
    assert_eq!(
        layout("esp32c2"),
        vec![
            (0x3FCABCB0, 0x30EC0, "RAM", false),
            (0x3FCDCB70, 0x28BC, "RAM", true),
        ]
    );
    // The S2's RTC fast memory lies below its D/IRAM (ESP-IDF lists it last).
    assert_eq!(
        layout("esp32s2"),
        vec![
            (0x3FF9E010, 0x1FD8, "RTCRAM", false),
            (0x3FFC4E30, 0x371D0, "RAM", false),
            (0x3FFFC000, 0x3A10, "RAM", true),
        ]
    );
    // Both lines are those of ESP-IDF's H2 boot log (docs/en/security/esp32h2_log.inc); the
    // startup-stack heaps of S3, C3, C5 and C6 end where their boot logs' do too (the ROM's data).
    assert_eq!(
        layout("esp32h2"),
        vec![
            (0x4080B010, 0x42370, "RAM", false),
            (0x4084D380, 0x2B60, "RAM", true),
            (0x50000010, 0xFD8, "RTCRAM", false),
        ]
    );
    // ESP-IDF's C5 boot log (docs/en/security/esp32c5_log.inc), second boot.
    assert_eq!(
        layout("esp32c5"),
        vec![
            (0x4080FCB0, 0x4C8F0, "RAM", false),
            (0x4085C5A0, 0x2F58, "RAM", true),
            (0x50000010, 0x3FD8, "RTCRAM", false),
        ]
    );
    assert_eq!(
        layout("esp32c61"),
        vec![
            (0x40809890, 0x42DE0, "RAM", false),
            (0x4084C670, 0x2F60, "RAM", true),
        ]
    );
    // Type tables (types.md Appendix A).
    let c3 = chips::chip("esp32c3").unwrap();
    assert_eq!(c3.types.len(), 3);
    assert_eq!(
        c3.types[1].caps,
        [Caps::RETENTION.bits(), D | I | B32 | B8 | X | DMA, 0]
    );
    assert_eq!(chips::chip("esp32").unwrap().types[1].caps, DIRAM);
    assert_eq!(chips::chip("esp32c6").unwrap().hw.size_max, 0x80000);
    assert!(chips::chip("esp8266").is_none());
}

/// The chips' boot gives the reserved ranges in link order, unsorted: every order of a chip's
/// table (and of a table with overlapping and adjacent ranges) gives the same pieces.
#[test]
fn available_regions_do_not_depend_on_reserved_order() {
    let pieces = |regions: &[Region], reserved: &[(u32, u32)]| {
        let mut v = vec![];
        chips::available(regions, reserved, 0, |r| v.push((r.start, r.size, r.ty)));
        v
    };
    let extra: &[Region] = &[
        Region {
            start: 0x1000,
            size: 0x1000,
            ty: 0,
            iram: 0,
            startup_stack: false,
        },
        Region {
            start: 0x2000,
            size: 0x800,
            ty: 1,
            iram: 0,
            startup_stack: true,
        },
    ];
    let odd: &[(u32, u32)] = &[
        (0x1100, 0x1200),
        (0x1180, 0x1300),
        (0x1300, 0x1402),
        (0x1ff0, 0x2010),
        (0x2400, 0x2401),
        (0x1800, 0x1805),
        (0x1801, 0x1803),
    ];
    type Case<'a> = (&'a [Region], Vec<(u32, u32)>);
    let mut cases: Vec<Case> = vec![(extra, odd.to_vec())];
    for name in [
        "esp32", "esp32s2", "esp32s3", "esp32c2", "esp32c3", "esp32c5", "esp32c6", "esp32c61",
        "esp32h2",
    ] {
        let c = chips::chip(name).unwrap();
        cases.push((c.regions, c.reserved.to_vec()));
    }
    for (regions, mut res) in cases {
        res.sort();
        let want = pieces(regions, &res);
        assert!(!want.is_empty());
        let mut rng = 0x2545_f491_u32;
        // Miri checks the same code for UB: a few orders per table are enough there (it ran
        // ~1000x slower, and the table count grew with the chips).
        for _ in 0..if cfg!(miri) { 12 } else { 50 } {
            // Fisher-Yates with a small LCG.
            for i in (1..res.len()).rev() {
                rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12345);
                res.swap(i, (rng >> 8) as usize % (i + 1));
            }
            assert_eq!(pieces(regions, &res), want, "{res:x?}");
        }
    }
    // The odd table: pieces between the (merged) ranges, none of 16 bytes or less.
    assert_eq!(
        pieces(extra, odd),
        vec![
            (0x1000, 0x100, 0),
            (0x1404, 0x3fc, 0),
            (0x1808, 0x7e8, 0),
            (0x2010, 0x3f0, 1),
            (0x2404, 0x3fc, 1),
        ]
    );
}

/// The precomputed selection index picks exactly the heap a plain walk of the list (ESP-IDF's
/// method) picks: boot heaps plus runtime heaps up to `MAX_HEAPS`, random capability sets.
#[test]
fn selection_index_matches_list_walk() {
    let r: &'static Registry = Box::leak(Box::new(Registry::new()));
    let len = 0x1000;
    let boot = [DRAM, DIRAM, PSRAM];
    let regions: Vec<BootRegion> = boot
        .iter()
        .enumerate()
        .map(|(i, &c)| region(mem(len * (i + 1)), len * (i + 1), i, c, i == 1))
        .collect();
    // SAFETY: leaked memory owned by the registry from here on.
    unsafe { r.init(&regions) };
    let pool = [
        DRAM,
        PSRAM,
        [I | B8, 0, 0],
        [0, D | B32, B8],
        [S, I, 0],
        [B32, 0, D | I],
    ];
    let mut seed = 12345u32;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    // Miri runs this ~1000x slower: a few cap sets per state still cover every heap count.
    let rounds = if cfg!(miri) { 4 } else { 200 };
    let check = |rnd: &mut dyn FnMut() -> u32| {
        for _ in 0..rounds {
            let bits = [D, I, B8, B32, S];
            let caps = bits.iter().filter(|_| rnd() % 3 == 0).fold(0, |a, b| a | b);
            let heaps: Vec<_> = r.heaps().collect();
            let want = (0..3).find_map(|p| {
                heaps.iter().find(|h| {
                    let all = h.2[0] | h.2[1] | h.2[2];
                    h.3 && h.2[p] & caps != 0 && all & caps == caps
                })
            });
            // The search loop (`malloc_base`), and the chips' first-heap attempt before it
            // (`malloc`, `aligned_alloc` in the compact build) choose alike.
            for q in [
                r.malloc_base(16, caps),
                r.malloc(16, caps),
                r.aligned_alloc(64, 16, caps),
            ] {
                match want {
                    None => assert!(q.is_null(), "caps {caps:#x}: expected no heap"),
                    Some(h) => {
                        let a = q as usize;
                        assert!(a >= h.0 && a < h.1, "caps {caps:#x}: wrong heap");
                        // SAFETY: just allocated here.
                        unsafe { r.free(q) };
                    }
                }
            }
        }
    };
    check(&mut rnd);
    r.enable_nonos_stack_heaps();
    check(&mut rnd);
    let mut added = 0;
    while r.heaps().count() < heapcaps::caps::MAX_HEAPS {
        let c = pool[rnd() as usize % pool.len()];
        // SAFETY: leaked memory owned by the registry from here on.
        unsafe { r.add_region_with_caps(c, mem(len), 0, "R").unwrap_err() };
        let m = mem(len);
        // SAFETY: as above.
        unsafe { r.add_region_with_caps(c, m, m + len, "R") }.unwrap();
        added += 1;
        check(&mut rnd);
    }
    assert_eq!(added, heapcaps::caps::MAX_HEAPS - 3);
    let m = mem(len);
    // SAFETY: as above.
    let full = unsafe { r.add_region_with_caps(DRAM, m, m + len, "R") };
    assert_eq!(full, Err(Error::NoMem));
}

/// A runtime region nested inside a block of an older heap (ESP-IDF allows it): pointers in the
/// nested region belong to it, pointers of the outer heap before and after it to the outer one.
#[test]
fn nested_runtime_region_lookup() {
    let r: &'static Registry = Box::leak(Box::new(Registry::new()));
    let len = 0x8000;
    // SAFETY: leaked memory owned by the registry from here on.
    unsafe { r.init(&[region(mem(len), len, 0, DRAM, false)]) };
    let before = r.malloc_base(64, B8);
    let buf = r.malloc_base(0x2000, B8) as usize;
    let after = r.malloc_base(64, B8);
    assert!(before as usize != 0 && buf != 0 && after as usize > buf);
    // A free in the outer heap first: the address lookup remembers that heap, and must not
    // answer with it once a heap lies inside it.
    let warm = r.malloc_base(32, B8);
    // SAFETY: a live block of this registry.
    unsafe { r.free(warm) };
    // Nested at the very start of the block, then a second one nested at the same start.
    // SAFETY: the block is never freed and belongs to the new heaps from here on.
    unsafe { r.add_region_with_caps([S | D, 0, 0], buf, buf + 0x1000, "N1") }.unwrap();
    // SAFETY: as above (inside N1).
    unsafe { r.add_region_with_caps([S | D, 0, 0], buf, buf + 0x800, "N2") }.unwrap();
    let inner = r.malloc_base(16, S);
    assert!(
        (inner as usize) >= buf && (inner as usize) < buf + 0x800,
        "newest heap first"
    );
    for p in [before, after, inner] {
        // SAFETY: live blocks of this registry; a wrong heap lookup aborts.
        unsafe { r.free(p) };
    }
    let again = r.malloc_base(16, S);
    assert_eq!(again, inner, "freed into the innermost heap");
    // A third heap inside another block of the outer heap, and frees that alternate between
    // the heaps, so that the remembered heap is each time the wrong one for the next pointer:
    // the outer heap for pointers of N3 and N2, N3 for one of the outer heap.
    let buf2 = r.malloc_base(0x2000, B8) as usize;
    // SAFETY: as above.
    unsafe { r.add_region_with_caps([S | D, 0, 0], buf2, buf2 + 0x1000, "N3") }.unwrap();
    let p3 = r.malloc_base(16, S);
    assert!(
        (p3 as usize) >= buf2 && (p3 as usize) < buf2 + 0x1000,
        "N3 is the newest"
    );
    let (o1, o2) = (r.malloc_base(64, B8), r.malloc_base(64, B8));
    for p in [o1, p3, o2, again] {
        // SAFETY: live blocks of this registry; a wrong heap lookup aborts.
        unsafe { r.free(p) };
    }
    assert_eq!(r.malloc_base(16, S), p3, "freed into N3");
    assert!(r.check_integrity(0, true));
}
