//! Heap poisoning and the corruption test matrix. Run once per mode:
//!
//! ```text
//! cargo test --test poisoning                                        # disabled
//! cargo test --test poisoning --features HEAP_POISONING_LIGHT
//! cargo test --test poisoning --features HEAP_POISONING_COMPREHENSIVE
//! ```
//!
//! Every scenario runs in a child process (this binary re-run with one test selected), so that
//! aborts can be observed and the diagnostic text (written straight to fd 2) captured. For each
//! kind of damage and each mode the test states what holds: detected (integrity check false with
//! ESP-IDF's message, or an abort naming the address) or, where the mode cannot see it, that the
//! heap stays usable and consistent afterwards.

use std::process::Command;

use heapcaps::multi_heap::MultiHeap;
use heapcaps::poison::{COMPREHENSIVE, ENABLED};

const MODE: &str = if COMPREHENSIVE {
    "comprehensive"
} else if ENABLED {
    "light"
} else {
    "disabled"
};

/// Poison head (0 or 8) and overhead (0 or 12) of this build.
const HEAD: usize = heapcaps::poison::HEAD;
const PO: usize = heapcaps::poison::OVERHEAD;

fn hex(p: usize) -> String {
    format!("0x{p:08x}")
}

/// A fresh heap over a leaked 4 KiB region.
fn heap() -> MultiHeap {
    let mem: &'static mut [u32] = Box::leak(vec![0u32; 1024].into_boxed_slice());
    // SAFETY: leaked memory, used for nothing else.
    unsafe { MultiHeap::register(mem.as_mut_ptr() as *mut u8, 4096) }.expect("register")
}

/// Three live blocks; the middle one (`b`, 10 bytes) has used neighbours.
fn three(h: MultiHeap) -> (*mut u8, *mut u8, *mut u8) {
    let a = h.malloc(64);
    let b = h.malloc(10);
    let c = h.malloc(64);
    assert!(!a.is_null() && !b.is_null() && !c.is_null());
    (a, b, c)
}

fn poke(p: *mut u8, v: u8) {
    // SAFETY: every caller damages memory inside the test's own heap region on purpose.
    unsafe { p.write_volatile(v) }
}

fn poke32(p: *mut u8, v: u32) {
    // SAFETY: as in `poke`.
    unsafe { (p as *mut u32).write_unaligned(v) }
}

/// Result of one child run.
struct Run {
    ok: bool,
    err: String,
}

impl Run {
    fn has(&self, s: &str) -> bool {
        self.err.contains(s)
    }
    /// The child printed the integrity check's verdict.
    fn check(&self) -> bool {
        if self.has("CHECK=true") {
            true
        } else if self.has("CHECK=false") {
            false
        } else {
            panic!("child printed no verdict:\n{}", self.err)
        }
    }
}

/// Runs test `name` of this binary in a child with `POISON_CHILD` set.
fn child(name: &str) -> Run {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("POISON_CHILD", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    Run {
        ok: out.status.success(),
        err,
    }
}

fn in_child() -> bool {
    std::env::var_os("POISON_CHILD").is_some()
}

/// Child side: prints the verdict of `check(true)` after the diagnostic lines.
fn verdict(h: MultiHeap) {
    let ok = h.check(true);
    eprintln!("CHECK={ok}");
}

/// Records an address for the parent (as `NAME=0x...`).
fn tell(name: &str, p: *const u8) {
    eprintln!("{name}={}", hex(p as usize));
}

fn told(r: &Run, name: &str) -> usize {
    let key = format!("{name}=0x");
    let i = r
        .err
        .find(&key)
        .unwrap_or_else(|| panic!("{name} missing:\n{}", r.err));
    let s = &r.err[i + key.len()..];
    let end = s.find('\n').unwrap();
    usize::from_str_radix(&s[..end], 16).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Layout and reported sizes (ESP-IDF's constants, behavior.md §5, §6)

#[test]
fn layout_and_sizes() {
    let h = heap();
    let fresh_free = h.free_size();
    let p = h.malloc(10);
    // SAFETY: reading inside the region (canaries sit in the same TLSF block).
    let bytes = |q: *mut u8, n: usize| unsafe { std::slice::from_raw_parts(q, n).to_vec() };
    if ENABLED {
        assert_eq!(
            bytes(p.wrapping_sub(8), 8),
            [0x34, 0x12, 0xBA, 0xAB, 10, 0, 0, 0]
        );
        assert_eq!(bytes(p.wrapping_add(10), 4), [0x78, 0x56, 0xAD, 0xBA]);
        // Block = align4(10 + 12) = 24; allocated size = block - 12.
        assert_eq!(h.allocated_size(p), 12);
        assert_eq!(h.full_block_size(p), 24);
        assert_eq!(fresh_free - h.free_size(), 24 + 4);
    } else {
        assert_eq!(h.allocated_size(p), 12);
        assert_eq!(fresh_free - h.free_size(), 12 + 4);
    }
    if COMPREHENSIVE {
        assert_eq!(bytes(p, 10), [0xCE; 10], "fresh memory reads 0xCE");
        // Slack after the tail keeps the free fill.
        assert_eq!(bytes(p.wrapping_add(14), 2), [0xFE; 2]);
        let q = h.malloc(100);
        h.free(q);
        // Interior of the freed block (past TLSF's 8 link bytes) reads 0xFE.
        assert!(bytes(q.wrapping_add(8), 80).iter().all(|&x| x == 0xFE));
    }
    // Walker and find_containing_block: raw blocks vs the user's view (+8 / -12).
    let mut raw = None;
    h.walk(|b| {
        if b.used {
            raw = Some((b.data, b.size));
        }
        true
    });
    let (data, size) = raw.unwrap();
    assert_eq!((data as usize + HEAD, size), (p as usize, 12 + PO));
    let c = h.find_containing_block(p.wrapping_add(5)).unwrap();
    assert_eq!((c.data, c.size), (p, 12));
    // get_block_address of the C API.
    // SAFETY: `c.header` is a block handle of `h`.
    let addr = unsafe { heapcaps::capi::multi_heap::multi_heap_get_block_address(c.header as _) };
    assert_eq!(addr as usize, p as usize);
    // Free / largest / minimum are reported minus 12.
    let info = h.info();
    assert_eq!(info.total_free_bytes, h.free_size());
    assert_eq!(info.total_allocated_bytes, 12);
    h.free(p);
    assert_eq!(h.free_size(), fresh_free);
    assert!(h.check(true));
}

#[test]
fn largest_free_block_is_allocatable() {
    let h = heap();
    let l = h.info().largest_free_block;
    let p = h.malloc(l);
    assert!(!p.is_null(), "{MODE}: largest {l}");
    assert!(h.malloc(1).is_null());
    assert_eq!(h.free_size(), 0);
    h.free(p);
    assert!(h.check(true));
}

#[test]
fn aligned_alloc_aligns_the_user_pointer() {
    let h = heap();
    for align in [8usize, 16, 32, 64, 128] {
        for offset in [0usize, 4, 8] {
            let p = h.aligned_alloc_offs(40, align, offset);
            assert!(!p.is_null());
            assert_eq!((p as usize + offset) % align, 0, "{align}/{offset}");
            assert!(h.check(true));
            h.free(p);
            assert!(h.check(true));
        }
    }
}

#[test]
fn realloc_keeps_data_and_canaries() {
    let h = heap();
    let p = h.malloc(20);
    // A used neighbour: growing `p` has to move it (the head canary moves with the copy).
    let blocker = h.malloc(16);
    // SAFETY: p is a live 20-byte block.
    unsafe { p.copy_from([7u8; 20].as_ptr(), 20) };
    let q = h.realloc(p, 300);
    assert!(!q.is_null());
    assert_ne!(q, p, "no room after the block: it moves");
    // SAFETY: q holds at least 20 bytes copied from p.
    assert_eq!(unsafe { std::slice::from_raw_parts(q, 20) }, [7u8; 20]);
    assert_eq!(h.allocated_size(q), 300);
    assert!(h.check(true));
    let r = h.realloc(q, 5);
    // Shrunk in place (8-byte payload minimum; with poisoning 5 + 12 rounds to 20, minus the
    // canaries); the comprehensive mode's fresh block may be a larger reused one.
    let want = 8;
    assert!(h.allocated_size(r) == want || COMPREHENSIVE && h.allocated_size(r) >= want);
    assert!(h.check(true));
    if COMPREHENSIVE {
        assert_ne!(r, q, "comprehensive poisoning never resizes in place");
    }
    h.free(r);
    h.free(blocker);
    assert!(h.check(true));
}

/// A block that cannot grow in place moves down into its free predecessor (overlapping copy),
/// canaries and data with it; comprehensive mode allocates anew instead.
#[test]
fn realloc_moves_down_with_its_canaries() {
    let h = heap();
    let a = h.malloc(64);
    let b = h.malloc(32);
    let c = h.malloc(16);
    assert!(!a.is_null() && !b.is_null() && !c.is_null());
    // SAFETY: b is a live 32-byte block.
    unsafe { b.copy_from([0x5au8; 32].as_ptr(), 32) };
    h.free(a);
    let q = h.realloc(b, 48);
    assert!(!q.is_null());
    if !COMPREHENSIVE {
        assert_eq!(q, a, "moved down into the free predecessor");
    }
    // SAFETY: q holds the 32 bytes copied from b.
    assert_eq!(unsafe { std::slice::from_raw_parts(q, 32) }, [0x5au8; 32]);
    if ENABLED {
        assert_eq!(h.allocated_size(q), 48, "the request, canaries not counted");
    } else {
        assert!(h.allocated_size(q) >= 48);
    }
    assert!(h.check(true));
    h.free(q);
    h.free(c);
    assert!(h.check(true));
}

#[test]
fn churn_keeps_the_heap_checkable() {
    // Many merges in every direction: absorbed headers must be refilled (comprehensive).
    let h = heap();
    let mut live = Vec::new();
    let mut x = 12345u32;
    for i in 0..600 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if live.len() > 12 || (x & 3 == 0 && !live.is_empty()) {
            let p = live.swap_remove(x as usize % live.len());
            h.free(p);
        } else {
            let p = h.malloc(1 + (x as usize >> 8) % 200);
            if !p.is_null() {
                live.push(p);
            }
        }
        if i % 7 == 0 {
            let r = h.check(true);
            assert!(r, "step {i}");
        }
    }
    for p in live {
        h.free(p);
    }
    assert!(h.check(true));
    assert_eq!(h.info().free_blocks, 1);
}

// ---------------------------------------------------------------------------------------------
// The corruption matrix. Each test is its own child scenario.

/// Head canary: the word 8 bytes before the user pointer is overwritten.
#[test]
fn damage_head_canary() {
    if in_child() {
        let h = heap();
        let (a, b, _c) = three(h);
        tell("B", b);
        tell("A", a);
        poke32(b.wrapping_sub(8), 0xdead_beef);
        verdict(h);
        h.free(b);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_head_canary");
    let b = told(&r, "B");
    if ENABLED {
        assert!(!r.check(), "{MODE}");
        let msg = format!(
            "CORRUPT HEAP: Bad head at {}. Expected 0xabba1234 got 0xdeadbeef\n",
            hex(b - 8)
        );
        assert!(r.has(&msg), "{}", r.err);
        // free checks the canaries: abort naming the block.
        assert!(!r.ok && !r.has("FREED"));
        assert!(r.has(&format!("free({})", hex(b))), "{}", r.err);
    } else {
        // Undetectable without poisoning: those bytes are the end of the previous block's
        // payload (user data of `a`), not heap metadata. The heap stays consistent.
        assert!(r.check(), "{}", r.err);
        assert!(r.ok && r.has("FREED"));
    }
}

/// Stored request size just under 4 GiB: the bound check must not let the tail read leave the
/// block (on 32-bit targets `size + 12` wraps; the tail address then lands in the block's own
/// head, which is reported as a broken tail).
#[test]
fn damage_size_near_4_gib() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        tell("B", b);
        poke32(b.wrapping_sub(4), 0xffff_fff8);
        h.free(b);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_size_near_4_gib");
    let b = told(&r, "B");
    // Without poisoning the word is the block's TLSF header: refused as well.
    assert!(!r.ok && !r.has("FREED"), "{MODE}: {}", r.err);
    assert!(r.has(&format!("free({})", hex(b))), "{}", r.err);
    if ENABLED {
        // 64-bit: the bound refuses the size. 32-bit: `size + 12` wraps, and the tail read
        // lands 8 bytes lower, on the head canary.
        let msg = if usize::BITS == 64 {
            format!("CORRUPT HEAP: Size at {}", hex(b - 4))
        } else {
            format!("CORRUPT HEAP: Bad tail at {}", hex(b - 8))
        };
        assert!(r.has(&msg), "{}", r.err);
    } else {
        assert!(r.has("CORRUPT HEAP: "), "{}", r.err);
    }
}

/// Tail canary: one byte written past the requested size (10 bytes).
#[test]
fn damage_tail_canary() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        tell("B", b);
        poke(b.wrapping_add(10), 0x55);
        verdict(h);
        h.free(b);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_tail_canary");
    let b = told(&r, "B");
    if ENABLED {
        assert!(!r.check());
        let msg = format!(
            "CORRUPT HEAP: Bad tail at {}. Expected 0xbaad5678 got 0xbaad5655\n",
            hex(b + 10)
        );
        assert!(r.has(&msg), "{}", r.err);
        assert!(!r.ok && !r.has("FREED"));
        assert!(r.has(&format!("free({})", hex(b))), "{}", r.err);
    } else {
        // Undetectable without poisoning: the byte is slack inside the block's own 12-byte
        // payload. Harmless: the heap stays consistent and the block frees normally.
        assert!(r.check(), "{}", r.err);
        assert!(r.ok && r.has("FREED"));
    }
}

/// A byte written into the middle of a freed block.
#[test]
fn damage_write_after_free() {
    if in_child() {
        let h = heap();
        let (a, _b, _c) = three(h);
        // Take the rest of the heap, so that the next allocation can only reuse `a`.
        let rest = h.malloc(h.info().largest_free_block);
        assert!(!rest.is_null());
        h.free(a);
        tell("A", a);
        poke(a.wrapping_add(32), 0x00);
        verdict(h);
        // The next allocation that reuses the memory.
        let n = h.malloc(64);
        tell("N", n);
        eprintln!("ALLOCATED");
        return;
    }
    let r = child("damage_write_after_free");
    let a = told(&r, "A");
    if COMPREHENSIVE {
        assert!(!r.check());
        let msg = format!(
            "CORRUPT HEAP: Invalid data at {}. Expected 0xfefefefe got 0xfefefe00\n",
            hex(a + 32)
        );
        assert!(r.has(&msg), "{}", r.err);
        // The allocation that reuses the block checks the fill and aborts naming the block.
        assert!(!r.ok && !r.has("ALLOCATED"), "{}", r.err);
        assert!(r.has("was written to after it was freed"), "{}", r.err);
        assert!(r.has(&hex(a)), "{}", r.err);
    } else {
        // Light and disabled modes do not look at free memory (as ESP-IDF). The byte lies in
        // the free block's interior, not in TLSF's links or tag, so the heap stays consistent
        // and the block is handed out again.
        assert!(r.check(), "{}", r.err);
        assert!(r.ok && r.has("ALLOCATED"));
        assert_eq!(told(&r, "N"), a);
    }
}

/// A byte written at the very start of a freed block's user area.
#[test]
fn damage_write_after_free_first_byte() {
    if in_child() {
        let h = heap();
        let (a, _b, _c) = three(h);
        h.free(a);
        tell("A", a);
        poke(a, 0x41);
        verdict(h);
        return;
    }
    let r = child("damage_write_after_free_first_byte");
    let a = told(&r, "A");
    if COMPREHENSIVE {
        assert!(!r.check());
        assert!(
            r.has(&format!("CORRUPT HEAP: Invalid data at {}", hex(a))),
            "{}",
            r.err
        );
    } else if ENABLED {
        // Light: the byte is in the free block's interior; undetectable, harmless.
        assert!(r.check(), "{}", r.err);
    } else {
        // Without poisoning the user pointer is where TLSF keeps its free-list link: the
        // structural check catches the broken link (ESP-IDF's check would fail silently).
        assert!(!r.check());
        assert!(r.has("CORRUPT HEAP: bad free-list link"), "{}", r.err);
    }
}

/// The same pointer freed twice: abort naming it, in every mode.
#[test]
fn damage_double_free() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        tell("B", b);
        h.free(b);
        verdict(h);
        h.free(b);
        eprintln!("FREED TWICE");
        return;
    }
    let r = child("damage_double_free");
    let b = told(&r, "B");
    assert!(r.check(), "the first free is fine");
    assert!(!r.ok && !r.has("FREED TWICE"), "{MODE}: {}", r.err);
    assert!(
        r.has(&format!(
            "CORRUPT HEAP: free({}): pointer {} is not allocated (double free?)",
            hex(b),
            hex(b)
        )),
        "{}",
        r.err
    );
}

/// Double free of a block that was merged into its free predecessor.
#[test]
fn damage_double_free_merged() {
    if in_child() {
        let h = heap();
        let (a, b, _c) = three(h);
        tell("B", b);
        h.free(a);
        h.free(b); // merges into a
        verdict(h);
        h.free(b);
        eprintln!("FREED TWICE");
        return;
    }
    let r = child("damage_double_free_merged");
    let b = told(&r, "B");
    assert!(r.check());
    assert!(!r.ok && !r.has("FREED TWICE"), "{MODE}: {}", r.err);
    assert!(
        r.has(&format!(
            "CORRUPT HEAP: free({}): pointer {}",
            hex(b),
            hex(b)
        )),
        "{}",
        r.err
    );
}

/// Free of a pointer into the middle of a live block.
#[test]
fn damage_interior_pointer_free() {
    if in_child() {
        let h = heap();
        let (a, _b, _c) = three(h);
        let p = a.wrapping_add(16);
        tell("P", p);
        h.free(p);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_interior_pointer_free");
    let p = told(&r, "P");
    assert!(!r.ok && !r.has("FREED"), "{MODE}: {}", r.err);
    assert!(
        r.has(&format!(
            "CORRUPT HEAP: free({}): pointer {} has no valid block header",
            hex(p),
            hex(p)
        )),
        "{}",
        r.err
    );
}

/// Free of memory that belongs to no heap.
#[test]
fn damage_foreign_free() {
    if in_child() {
        let h = heap();
        let _ = three(h);
        let other: &'static mut [u32] = Box::leak(vec![0u32; 64].into_boxed_slice());
        let p = (other.as_mut_ptr() as *mut u8).wrapping_add(16);
        tell("P", p);
        h.free(p);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_foreign_free");
    let p = told(&r, "P");
    assert!(!r.ok && !r.has("FREED"), "{MODE}: {}", r.err);
    assert!(
        r.has(&format!(
            "CORRUPT HEAP: free({}): pointer {} is not inside heap",
            hex(p),
            hex(p)
        )),
        "{}",
        r.err
    );
}

/// The TLSF size word of a live block is smashed.
#[test]
fn damage_smashed_block_header() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        let hdr = b.wrapping_sub(HEAD + 4);
        tell("B", b);
        tell("H", hdr);
        poke32(hdr, 0x7fff_fff0);
        verdict(h);
        h.free(b);
        eprintln!("FREED");
        return;
    }
    let r = child("damage_smashed_block_header");
    let b = told(&r, "B");
    let hdr = told(&r, "H");
    assert!(!r.check(), "{MODE}");
    assert!(
        r.has(&format!("CORRUPT HEAP: bad block size at {}", hex(hdr))),
        "{}",
        r.err
    );
    assert!(!r.ok && !r.has("FREED"));
    assert!(
        r.has(&format!(
            "CORRUPT HEAP: free({}): pointer {} has no valid block header",
            hex(b),
            hex(b)
        )),
        "{}",
        r.err
    );
}

/// One byte written just before the user pointer (an underrun).
#[test]
fn damage_underrun_one_byte() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        tell("B", b);
        // 0xC0: bit 30 too, which no used TLSF header has (its bit 31 is already set).
        poke(b.wrapping_sub(1), 0xC0);
        verdict(h);
        let s = h.allocated_size(b);
        eprintln!("SIZE {s}");
        return;
    }
    let r = child("damage_underrun_one_byte");
    let b = told(&r, "B");
    assert!(!r.check(), "{MODE}");
    if ENABLED {
        // The byte is the top of the stored request size.
        let msg = format!(
            "CORRUPT HEAP: Size at {} expected <=0x0000000c got 0xc000000a\n",
            hex(b - 4)
        );
        assert!(r.has(&msg), "{}", r.err);
        assert!(!r.ok && !r.has("SIZE"));
        assert!(r.has(&format!("get_allocated_size({})", hex(b))));
    } else {
        // Without poisoning it is the top byte of the TLSF size word.
        assert!(
            r.has(&format!("CORRUPT HEAP: bad block size at {}", hex(b - 4))),
            "{}",
            r.err
        );
        assert!(!r.ok && !r.has("SIZE"));
    }
}

/// realloc of a block with a broken tail canary aborts naming it (poisoning modes).
#[test]
fn damage_tail_then_realloc() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        tell("B", b);
        poke(b.wrapping_add(10), 0);
        let n = h.realloc(b, 200);
        tell("N", n);
        eprintln!("REALLOCATED");
        return;
    }
    let r = child("damage_tail_then_realloc");
    let b = told(&r, "B");
    if ENABLED {
        assert!(!r.ok && !r.has("REALLOCATED"));
        assert!(r.has(&format!("Bad tail at {}", hex(b + 10))), "{}", r.err);
        assert!(r.has(&format!("realloc({})", hex(b))), "{}", r.err);
    } else {
        assert!(r.ok && r.has("REALLOCATED"), "{}", r.err);
    }
}

/// Without print_errors nothing is printed, but the verdict is the same.
#[test]
fn quiet_check_prints_nothing() {
    if in_child() {
        let h = heap();
        let (_a, b, _c) = three(h);
        poke32(b.wrapping_sub(HEAD + 4), 0x7fff_fff0);
        let ok = h.check(false);
        eprintln!("QUIET={ok}");
        return;
    }
    let r = child("quiet_check_prints_nothing");
    assert!(r.has("QUIET=false"));
    assert!(!r.has("CORRUPT HEAP"), "{}", r.err);
}
