//! Fuzz target: the capabilities layer over a simulated chip (every one of `chips::CHIPS` but the
//! host-only large layout): a private `Registry` booted from the chip's region, type and
//! reserved tables, its D/IRAM instruction alias mapped for real, and on the `-psram` chips the
//! internal DMA pool nested in a boot heap's block. Each operation also picks the
//! caps it allocates with; the shadow model checks contents, alignment, exact free bytes, the
//! exact low-water mark of every heap and the full checker after every step.
#![no_main]

mod common;
use common::model::{Heap, Model, Op};

use heapcaps::caps::chips::{self, Chip, CHIPS};
use heapcaps::caps::{BootRegion, Caps, DiramAlias, Registry};
use heapcaps::multi_heap::MultiHeap;
use std::sync::Mutex;

/// Caps each operation may use; `None` = the default malloc policy (`malloc`/`realloc`).
const CAPS: [Option<u32>; 14] = [
    None,
    Some(Caps::DEFAULT.bits()),
    Some(Caps::INTERNAL.bits()),
    Some(Caps::BIT8.bits()),
    Some(Caps::BIT32.bits()),
    Some(Caps::DMA.bits()),
    Some(Caps::EXEC.bits()),
    Some(Caps::SPIRAM.bits()),
    Some(Caps::INTERNAL.bits() | Caps::BIT8.bits()),
    Some(Caps::DEFAULT.bits() | Caps::INTERNAL.bits()),
    Some(Caps::SIMD.bits()),
    Some(Caps::CACHE_ALIGNED.bits()),
    Some(Caps::RETENTION.bits()),
    Some(Caps::DMA.bits() | Caps::SPIRAM.bits()),
];

const W: usize = std::mem::size_of::<usize>();

/// Host memory of one chip: the base of each bank, the D/IRAM alias view, the PSRAM.
#[derive(Clone, Copy, Default)]
struct Mem {
    banks: [usize; 4],
    alias: Option<DiramAlias>,
    psram: usize,
}

/// Room for this many simulated chips in the per-process memory cache (11 chips now; the fuzz
/// target stops with a message naming this constant when there are more).
const MAX_CHIPS: usize = 16;

/// Maps each chip's memory once per process; every input re-initialises it.
fn memory(ci: usize) -> Mem {
    static MEM: Mutex<[Option<Mem>; MAX_CHIPS]> = Mutex::new([None; MAX_CHIPS]);
    let mut all = MEM.lock().unwrap();
    if let Some(m) = all[ci] {
        return m;
    }
    let c = &CHIPS[ci];
    let mut m = Mem::default();
    for (i, &(lo, hi, _)) in c.banks.iter().enumerate() {
        let win = c.diram.filter(|&(dl, dh, _)| dl >= lo && dh <= hi);
        let (off, alen) = win.map_or((0, 0), |(dl, dh, _)| {
            ((dl - lo) as usize, (dh - dl) as usize)
        });
        let (base, alias) = heapcaps::port::map_memory((hi - lo) as usize, off, alen).unwrap();
        m.banks[i] = base as usize;
        if win.is_some() {
            m.alias = Some(DiramAlias {
                dram_lo: base as usize + off,
                dram_hi: base as usize + off + alen,
                iram_lo: alias as usize,
                inverted: false,
            });
        }
    }
    if let Some((_, size, _, _)) = c.psram {
        m.psram = heapcaps::port::map_memory(size as usize, 0, 0).unwrap().0 as usize;
    }
    all[ci] = Some(m);
    m
}

fn to_host(c: &Chip, m: &Mem, a: u32) -> Option<usize> {
    c.banks
        .iter()
        .zip(m.banks)
        .find_map(|(&(lo, hi, _), b)| (a >= lo && a < hi).then(|| b + (a - lo) as usize))
}

/// Boots `reg` as `heapcaps` boots the global registry for chip `ci` (without the boot log).
fn boot(reg: &Registry, ci: usize) -> Mem {
    let c = &CHIPS[ci];
    let m = memory(ci);
    reg.set_hw(c.hw);
    reg.set_diram_alias(m.alias);
    let mut list = Vec::new();
    c.available(|r| {
        if let (Some(host), Some(t)) = (to_host(c, &m, r.start), c.types.get(r.ty)) {
            list.push(BootRegion {
                start: host,
                size: r.size as usize,
                ty: r.ty,
                caps: t.caps,
                startup_stack: r.startup_stack,
                shown_at: r.start as usize,
                name: t.name,
            });
        }
    });
    quiet(|| {
        // SAFETY: the chip's memory is mapped for the fuzzer's registries only, and only the
        // registry of the running input uses it.
        unsafe { reg.init(&list) }
    });
    if let Some((_, size, use_malloc, caps)) = c.psram {
        // SAFETY: as above for the PSRAM mapping.
        unsafe { reg.add_region_with_caps(caps, m.psram, m.psram + size as usize, "SPIRAM") }
            .unwrap();
        if use_malloc {
            reg.malloc_extmem_enable(16384);
        }
    }
    reg.enable_nonos_stack_heaps();
    if let Some((_, _, true, _)) = c.psram {
        // The internal DMA pool, a heap inside a block of a boot heap, as the full boot reserves
        // it (its log line goes to /dev/null with the boot log).
        quiet(|| chips::reserve_dma_pool_in(reg, chips::RESERVE_INTERNAL));
    }
    m
}

/// Runs `f` with standard error sent to /dev/null (the boot log would flood the fuzzer).
fn quiet(f: impl FnOnce()) {
    extern "C" {
        fn dup(fd: i32) -> i32;
        fn dup2(a: i32, b: i32) -> i32;
        fn open(p: *const u8, flags: i32, ...) -> i32;
        fn close(fd: i32) -> i32;
    }
    // SAFETY: plain descriptor calls; every result is checked before use.
    unsafe {
        let saved = dup(2);
        let null = open(c"/dev/null".as_ptr() as *const u8, 1);
        if saved >= 0 && null >= 0 {
            dup2(null, 2);
        }
        f();
        if saved >= 0 && null >= 0 {
            dup2(saved, 2);
        }
        close(null);
        close(saved);
    }
}

/// The registry as seen by the model, with the caps of the current operation.
struct CapsHeap<'a> {
    reg: &'a Registry,
    alias: Option<DiramAlias>,
    caps: Option<u32>,
    heaps: Vec<MultiHeap>,
    dips: Vec<usize>,
}

impl CapsHeap<'_> {
    /// The DRAM block behind an EXEC pointer in the IRAM view, and the bytes in front of it.
    fn dram(&self, p: *mut u8) -> (*mut u8, usize) {
        match self.alias {
            Some(a)
                if (p as usize) >= a.iram_lo
                    && (p as usize) < a.iram_lo + (a.dram_hi - a.dram_lo) =>
            {
                // SAFETY: an IRAM-view pointer from the registry has the DRAM address before it.
                let d = unsafe { std::ptr::read_unaligned(p.sub(W) as *const usize) };
                (d as *mut u8, W)
            }
            _ => (p, 0),
        }
    }

    fn heap_of(&self, p: *mut u8) -> Option<usize> {
        let (d, _) = self.dram(p);
        self.heaps.iter().position(|h| h.contains(d))
    }

    fn free_now(&self) -> Vec<usize> {
        self.heaps.iter().map(|h| h.free_size()).collect()
    }
}

impl Heap for CapsHeap<'_> {
    fn malloc(&mut self, size: usize) -> *mut u8 {
        match self.caps {
            None => self.reg.malloc_default(size),
            Some(c) => self.reg.malloc(size, c),
        }
    }
    fn aligned(&mut self, size: usize, align: usize, _offset: usize) -> (*mut u8, usize) {
        let p = match self.caps {
            None => self.reg.aligned_alloc_default(align, size),
            Some(c) => self.reg.aligned_alloc(align, size, c),
        };
        // EXEC blocks in the IRAM view too: heapcaps aligns the pointer the caller gets
        // (ESP-IDF aligns the DRAM block behind it).
        (p, 0)
    }
    fn free(&mut self, p: *mut u8) {
        // SAFETY: the model frees only live blocks of this registry.
        unsafe { self.reg.free(p) }
    }
    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8 {
        let before = self.free_now();
        let from = self.heap_of(p);
        // SAFETY: the model reallocates only live blocks of this registry.
        let n = unsafe {
            match self.caps {
                None => self.reg.realloc_default(p, size),
                Some(c) => self.reg.realloc(p, size, c),
            }
        };
        // A move within one heap allocates the new block before freeing the old one: the heap's
        // low-water mark saw `before - cost(new)`.
        self.dips.clear();
        if !n.is_null() && n != p {
            if let (Some(a), Some(b)) = (from, self.heap_of(n)) {
                if a == b {
                    let (d, _) = self.dram(n);
                    let cost = self.heaps[a].allocated_size(d) + 4;
                    self.dips = vec![usize::MAX; self.heaps.len()];
                    self.dips[a] = before[a].saturating_sub(cost);
                }
            }
        }
        n
    }
    fn usable(&self, p: *mut u8) -> usize {
        let (d, front) = self.dram(p);
        // SAFETY: the model asks only about live blocks of this registry.
        unsafe { self.reg.allocated_size(d) - front }
    }
    fn block_bytes(&self, p: *mut u8) -> usize {
        // SAFETY: as in `usable`.
        unsafe { self.reg.allocated_size(self.dram(p).0) }
    }
    fn check(&self) -> bool {
        self.reg.check_integrity(Caps::INVALID.bits(), true)
    }
    fn owns(&self, p: usize, len: usize) -> bool {
        let (d, front) = self.dram(p as *mut u8);
        let d = d as usize;
        self.heaps
            .iter()
            .any(|h| h.contains(d as *const u8) && d + len + front <= h.region_end() as usize)
    }
    fn counters(&self) -> Vec<(usize, usize)> {
        self.heaps
            .iter()
            .map(|h| (h.free_size(), h.minimum_free_size()))
            .collect()
    }
    fn dips(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.dips)
    }
    fn walked_free(&self) -> usize {
        let mut n = 0;
        self.reg.walk(Caps::INVALID.bits(), |_, _, _, size, used| {
            if !used {
                n += size + 4;
            }
            true
        });
        n
    }
    fn used_blocks(&self) -> usize {
        self.reg.info(0).allocated_blocks
    }
    fn largest(&self) -> usize {
        // Only plain requests are sure to fit the reported block (DMA/SIMD round sizes up,
        // EXEC adds the alias word, the default policy may prefer another memory).
        match self.caps {
            Some(c) if c == Caps::DEFAULT.bits() || c == Caps::INTERNAL.bits() => {
                self.reg.largest_free_block(c)
            }
            _ => 0,
        }
    }
    fn free_blocks(&self) -> usize {
        self.reg.info(0).free_blocks
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [chip, m, rest @ ..] = data else { return };
    // The simulated chips, not the host-only large layout (the last entry).
    let n = CHIPS.iter().filter(|c| c.name != chips::HOST_LARGE).count();
    assert!(n <= MAX_CHIPS, "more simulated chips than MAX_CHIPS");
    let ci = *chip as usize % n;
    let max = [64u32, 1024, 16384, 1 << 20][*m as usize % 4];
    let reg = Box::new(Registry::new());
    let mem = boot(&reg, ci);
    let heaps = reg
        .heaps()
        .filter(|h| h.3)
        // SAFETY: a registered heap's start is its `MultiHeap` region start.
        .map(|h| unsafe { MultiHeap::from_ptr(h.0 as *mut core::ffi::c_void) }.unwrap())
        .collect();
    let mut model = Model::over(CapsHeap {
        reg: &reg,
        alias: mem.alias,
        caps: None,
        heaps,
        dips: Vec::new(),
    });
    for c in rest.chunks_exact(9) {
        model.heap_mut().caps = CAPS[c[0] as usize % CAPS.len()];
        let op = Op::from_bytes(c[1..].try_into().unwrap(), max);
        if std::env::var_os("HEAPCAPS_FUZZ_TRACE").is_some() {
            eprintln!(
                "caps {:?} {op:?} live {} used {}",
                model.heap().caps,
                model.live_count(),
                model.heap().used_blocks()
            );
        }
        model.apply(op);
    }
    model.drain();
});
