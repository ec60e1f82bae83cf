//! Behaviour of the TLSF core and the multi_heap layer on specific scenarios: placement, in-place
//! realloc, alignment with offset, bad pointers (reported, not followed) and corruption detection.

use heapcaps::multi_heap::{MultiHeap, POISON_HEAD, POISON_OVERHEAD as PO};
use heapcaps::poison::COMPREHENSIVE;
use heapcaps::tlsf::{BadPointer, Tlsf};

struct Region(Vec<u32>);

impl Region {
    fn new(bytes: usize) -> Region {
        Region(vec![0; bytes / 4])
    }
    fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr() as *mut u8
    }
    fn len(&self) -> usize {
        self.0.len() * 4
    }
    fn heap(&mut self) -> MultiHeap {
        let len = self.len();
        // SAFETY: the region outlives every heap built on it in these tests.
        unsafe { MultiHeap::register(self.ptr(), len) }.expect("register")
    }
    fn tlsf(&mut self) -> Tlsf {
        let len = self.len();
        // SAFETY: as above.
        unsafe { Tlsf::create(self.ptr(), len) }.expect("create")
    }
}

#[test]
fn freed_block_is_reused_by_smaller_request() {
    let mut r = Region::new(4096);
    let h = r.heap();
    let a = h.malloc(128);
    let b = h.malloc(32);
    h.free(a);
    let c = h.malloc(64);
    assert_eq!(c, a, "the freed 128-byte block is the best fit for 64");
    h.free(c);
    let d = h.malloc(32);
    assert_eq!(d, a);
    let info = h.info();
    assert_eq!((info.allocated_blocks, info.free_blocks), (2, 2));
    h.free(b);
    h.free(d);
    assert_eq!(h.info().free_blocks, 1);
    assert!(h.check(true));
}

#[test]
fn request_takes_a_fitting_block_of_its_own_class_first() {
    // Free blocks of 600 and 2000 bytes (and the big rest of the region): 590 bytes share the
    // 600-byte block's class ([576, 640)), so that block is taken, not a piece of a larger one.
    // 630 bytes share the class too but do not fit the 600-byte block: they come from above.
    let mut r = Region::new(16384);
    let h = r.heap();
    let a = h.malloc(600);
    let g1 = h.malloc(16);
    let b = h.malloc(2000);
    let g2 = h.malloc(16);
    h.free(a);
    h.free(b);
    let c = h.malloc(590);
    assert_eq!(
        c, a,
        "the 600-byte block is the closest fit of the request's class"
    );
    h.free(c);
    let d = h.malloc(630);
    assert_eq!(
        d, b,
        "a too-small head of the own class sends the request one class up"
    );
    assert!(h.check(true));
    h.free(d);
    h.free(g1);
    h.free(g2);
    assert_eq!(h.info().free_blocks, 1);
}

#[test]
fn tiny_free_blocks_have_no_tag_and_merge_both_ways() {
    // 8-byte payloads (12-byte blocks): free, such a block holds just its two links, and the
    // block after it finds it 12 bytes back. Every step is checked in full.
    if PO != 0 {
        // With poisoning no request makes an 8-byte payload.
        return;
    }
    let mut r = Region::new(8192);
    let h = r.heap();
    let a = h.malloc(1);
    let b = h.malloc(8);
    let c = h.malloc(5);
    let spacer = h.malloc(16);
    assert_eq!(b as usize - a as usize, 12);
    assert_eq!(c as usize - b as usize, 12);
    h.free(b); // a tiny free block between two used ones
    assert!(h.check(true));
    h.free(c); // merges backwards into it
    assert!(h.check(true));
    assert_eq!(h.info().free_blocks, 2);
    let e = h.malloc(20); // exactly the merged block
    assert_eq!(e, b);
    h.free(e);
    h.free(a); // merges forwards
    assert!(h.check(true));
    assert_eq!(h.info().free_blocks, 2);
    let a = h.malloc(32);
    let p1 = h.malloc(8);
    let p2 = h.malloc(8);
    let d = h.malloc(40);
    let g = h.malloc(40);
    h.free(p2); // tiny, in front of d
    assert!(h.check(true));
    // d's next block is in use and its predecessor is that tiny free block: growing d moves it
    // elsewhere (moving down would leave it no room to grow; the chips never move down), and
    // the freed d merges backwards into the tiny block.
    // SAFETY: d is a live 40-byte block.
    unsafe { d.write_bytes(0x5a, 40) };
    let d2 = h.realloc(d, 48);
    assert!(d2 > g);
    assert!(h.allocated_size(d2) >= 48);
    // SAFETY: d2 holds the 40 bytes moved from d.
    assert!(unsafe { std::slice::from_raw_parts(d2, 40) }
        .iter()
        .all(|&x| x == 0x5a));
    assert!(h.check(true));
    assert_eq!(
        h.malloc(52),
        p2,
        "p2 and d merged into one 56-byte free block"
    );
    h.free(p2);
    h.free(p1); // tiny, in front of that block: merges forwards
    assert!(h.check(true));
    h.free(d2);
    h.free(g);
    h.free(a);
    h.free(spacer);
    assert!(h.check(true));
    assert_eq!(h.info().free_blocks, 1);
    // Aligned allocations whose leading gap can be a 12-byte (tiny) free block.
    for align in [16usize, 32, 64] {
        let mut ps = Vec::new();
        for i in 0..8 {
            ps.push(h.aligned_alloc_offs(4 + i * 4, align, 0));
            assert!(h.check(true));
        }
        for (i, p) in ps.iter().enumerate() {
            assert_eq!(*p as usize % align, 0, "align {align} #{i}");
        }
        for p in ps {
            h.free(p);
            assert!(h.check(true));
        }
    }
    assert_eq!(h.info().free_blocks, 1);
}

#[test]
fn successive_allocations_ascend() {
    let mut r = Region::new(8192);
    let h = r.heap();
    let ps: Vec<_> = (0..10).map(|_| h.malloc(40) as usize).collect();
    assert!(ps.windows(2).all(|w| w[1] == w[0] + 44 + PO));
}

#[test]
fn realloc_grows_and_shrinks_in_place() {
    let mut r = Region::new(8192);
    let h = r.heap();
    let a = h.malloc(64);
    // SAFETY: a is a live 64-byte block.
    unsafe { a.write_bytes(0xA5, 64) };
    let b = h.realloc(a, 48);
    // Comprehensive poisoning never resizes in place (as ESP-IDF).
    assert_eq!(a == b, !COMPREHENSIVE, "shrink in place");
    let c = h.realloc(b, 400);
    assert_eq!(
        a == c,
        !COMPREHENSIVE,
        "grow in place into the free successor"
    );
    // SAFETY: c holds at least 48 bytes written above.
    assert!(unsafe { core::slice::from_raw_parts(c, 48) }
        .iter()
        .all(|&x| x == 0xA5));
    let before = h.free_size();
    assert!(h.realloc(c, 0).is_null());
    assert_eq!(
        h.free_size(),
        before + 400 + PO + 4,
        "realloc(p, 0) credits the freed bytes"
    );
    assert!(h.check(true));
}

#[test]
fn realloc_moves_backwards_only_with_room_to_grow() {
    // b (32 bytes, its successor in use) grows to 180 with a free block in front of it and a
    // better-fitting free block x further on. Hosts move b down over the free block in front
    // when that leaves as much room again (a 500-byte one), else (a 200-byte one) b goes to the
    // best fit, x; the chips and comprehensive poisoning (allocate, copy, free) always take x.
    for (front, down) in [(500usize, true), (200, false)] {
        let mut r = Region::new(8192);
        let h = r.heap();
        let a = h.malloc(front);
        let b = h.malloc(32);
        let c = h.malloc(32); // keeps b's successor in use
        let x = h.malloc(200);
        let y = h.malloc(16); // keeps x apart from the rest of the heap
        for i in 0..32 {
            // SAFETY: b is a live 32-byte block.
            unsafe { b.add(i).write(i as u8) };
        }
        h.free(a);
        h.free(x);
        let nb = h.realloc(b, 180);
        let moved_down = down && !cfg!(heapcaps_compact) && !COMPREHENSIVE;
        assert_eq!(nb, if moved_down { a } else { x }, "front block {front}");
        for i in 0..32 {
            // SAFETY: nb is a live block of at least 180 bytes.
            assert_eq!(unsafe { nb.add(i).read() }, i as u8);
        }
        assert!(h.check(true));
        h.free(nb);
        h.free(c);
        h.free(y);
        assert_eq!(h.info().free_blocks, 1);
    }
}

#[test]
fn failed_realloc_leaves_block_intact() {
    let mut r = Region::new(4096);
    let h = r.heap();
    let a = h.malloc(100);
    let free = h.free_size();
    assert!(h.realloc(a, 1 << 20).is_null());
    assert!(h.realloc(a, usize::MAX).is_null());
    assert_eq!(h.free_size(), free);
    assert_eq!(h.allocated_size(a), 100);
    assert!(h.check(true));
}

#[test]
fn aligned_allocations_with_offset() {
    let mut r = Region::new(64 * 1024);
    let h = r.heap();
    let start = h.free_size();
    let mut live = Vec::new();
    for log2 in 0..=12 {
        let align = 1usize << log2;
        for offset in [0usize, 4, 8, 12] {
            let p = h.aligned_alloc_offs(137, align, offset);
            assert!(!p.is_null(), "align {align} offset {offset}");
            if align > 4 {
                assert_eq!((p as usize + offset) % align, 0);
            }
            live.push(p);
            assert!(h.check(true));
        }
    }
    for p in live {
        h.free(p);
    }
    assert_eq!(h.free_size(), start);
    assert_eq!(h.info().free_blocks, 1);
    assert!(h.aligned_alloc_offs(16, 0, 0).is_null());
    assert!(h.aligned_alloc_offs(16, 24, 0).is_null());
    assert!(h.aligned_alloc_offs(0, 8, 0).is_null());
    // Alignments no region can honour fail cleanly (the search size passes every bound).
    assert!(h.aligned_alloc_offs(16, 1 << 30, 0).is_null());
    assert!(h.aligned_alloc_offs(16, 1 << 31, 0).is_null());
    assert!(h.check(true));
}

#[test]
fn aligned_request_never_overruns_a_tight_free_block() {
    // The only free block that could serve an aligned request is at most as large as the
    // request plus its worst alignment gap (align + 8, when the misalignment leaves 8 bytes, too
    // few for a free block), at every start address modulo the alignment. The allocation must
    // then either fail or land aligned inside that block with the heap intact; at the largest
    // block size it must succeed. (A search slack one word short takes a block the gap overruns.)
    const SIZE: usize = 40;
    let top = if cfg!(miri) { 4 } else { 8 };
    for log2 in 3..=top {
        let align = 1usize << log2;
        for shift in (0..align).step_by(4) {
            for extra in (0..=align + 8).step_by(4) {
                let mut r = Region::new(4096);
                let t = r.tlsf();
                t.malloc(16 + shift).expect("shift");
                let b = t.malloc(SIZE + extra).expect("block");
                t.malloc(16).expect("guard");
                while t.largest_fit() >= 8 {
                    t.malloc(t.largest_fit() as usize).expect("fill");
                }
                t.free(b).expect("free");
                let got = t.malloc_aligned(SIZE, align, 0);
                let at = format!("align {align} shift {shift} block {}", SIZE + extra);
                if extra == align + 8 {
                    assert!(got.is_some(), "{at}: fails");
                }
                if let Some((p, _)) = got {
                    assert_eq!(t.ptr_at(p) as usize % align, 0, "{at}");
                    assert!(
                        p >= b && p + SIZE as u32 <= b + (SIZE + extra) as u32,
                        "{at}"
                    );
                }
                t.check(|_| true).expect("heap intact");
            }
        }
    }
}

#[test]
fn aligned_allocation_uses_the_whole_region_when_aligned() {
    // A request as large as the only free block succeeds when the block happens to be aligned.
    // The chips' compact path (like ESP-IDF's TLSF) always wants room for the alignment gap:
    // there only 4 passes (a plain malloc).
    let mut r = Region::new(4096);
    let h = r.heap();
    let largest = h.info().largest_free_block;
    let p = h.malloc(largest);
    let align = if cfg!(heapcaps_compact) {
        4
    } else {
        1 << (p as usize).trailing_zeros().min(12)
    };
    h.free(p);
    assert!(!h.aligned_alloc_offs(largest, align, 0).is_null());
}

#[test]
fn bad_pointers_are_reported_not_followed() {
    let mut r = Region::new(4096);
    let t = r.tlsf();
    let a = t.malloc(64).unwrap();
    let b = t.malloc(64).unwrap();
    assert_eq!(
        t.free(a + 4),
        Err(BadPointer::BadHeader),
        "interior pointer"
    );
    assert_eq!(
        t.free(2),
        Err(BadPointer::Outside),
        "inside the control structure"
    );
    assert_eq!(t.free(a + 2), Err(BadPointer::Outside), "misaligned");
    assert_eq!(
        t.free(1 << 20),
        Err(BadPointer::Outside),
        "beyond the region"
    );
    assert_eq!(t.free(a), Ok(64));
    assert_eq!(t.free(a), Err(BadPointer::NotAllocated), "double free");
    assert_eq!(t.free(b), Ok(64));
    assert_eq!(
        t.free(b),
        Err(BadPointer::NotAllocated),
        "double free after merging"
    );
    assert!(t.check(|_| true).is_ok());
}

#[test]
fn interior_pointers_over_stale_free_list_links_are_refused() {
    // A block that was free keeps its old list links at the start of its payload until its
    // owner writes there. Those links are small offsets; as the word in front of an interior
    // pointer they must not pass for a used block's header (which carries the USED mark).
    let mut r = Region::new(4096);
    let t = r.tlsf();
    let a = t.malloc(64).expect("a");
    let _b = t.malloc(64).expect("b");
    let c = t.malloc(64).expect("c");
    let _d = t.malloc(64).expect("d");
    t.free(a).expect("free a");
    t.free(c).expect("free c");
    // Both come back with their links in place (a list of two: each names the other).
    let a2 = t.malloc(64).expect("a again");
    let c2 = t.malloc(64).expect("c again");
    assert_eq!([a2.min(c2), a2.max(c2)], [a, c]);
    for p in [a2, c2] {
        for off in (4..64).step_by(4) {
            assert!(
                t.validate(p + off).is_err(),
                "interior pointer +{off} accepted"
            );
            assert!(t.free(p + off).is_err(), "interior free +{off} accepted");
        }
    }
    t.check(|_| true).expect("heap intact");
    t.free(a2).expect("a2");
    t.free(c2).expect("c2");
    t.check(|_| true).expect("heap intact");
}

#[test]
fn checker_finds_smashed_headers_and_links() {
    for damage in 0..4 {
        let mut r = Region::new(4096);
        let t = r.tlsf();
        let a = t.malloc(64).unwrap();
        let _b = t.malloc(64).unwrap();
        let c = t.malloc(64).unwrap();
        let _d = t.malloc(64).unwrap();
        t.free(a).unwrap();
        t.free(c).unwrap();
        assert!(t.check(|_| true).is_ok());
        let words = r.0.as_mut_slice();
        match damage {
            0 => words[(a as usize - 4) / 4] = 0xFF00_0000, // size of a free block
            1 => words[(a as usize) / 4] = 0x0000_0FFC,     // next link of a free block
            2 => words[(c as usize - 4) / 4] &= !1,         // free flag cleared
            _ => words[(a as usize + 60) / 4] = 8,          // boundary tag
        }
        assert!(t.check(|_| true).is_err(), "damage {damage} not detected");
    }
}

#[test]
fn walk_and_block_iteration_agree() {
    let mut r = Region::new(4096);
    let h = r.heap();
    let a = h.malloc(10);
    let b = h.malloc(100);
    h.free(a);
    let mut walked = Vec::new();
    h.walk(|bl| {
        walked.push((bl.data, bl.size, bl.used));
        true
    });
    let mut iter = Vec::new();
    let mut bl = h.first_block();
    while let Some(x) = bl {
        iter.push((x.data, x.size, x.used));
        bl = h.next_block(x.header);
    }
    assert_eq!(walked, iter);
    assert_eq!(walked.len(), 3);
    // The walker sees raw blocks: poison head and tail included.
    assert_eq!(walked[1], (b.wrapping_sub(POISON_HEAD), 100 + PO, true));
    assert_eq!(
        h.find_containing_block(b.wrapping_add(57)).map(|x| x.data),
        Some(b)
    );
    assert!(
        h.find_containing_block(a).is_none(),
        "free block is not an allocation"
    );
}

#[test]
fn minimum_free_tracking() {
    let mut r = Region::new(4096);
    let h = r.heap();
    let start = h.free_size();
    let p = h.malloc(1000);
    h.free(p);
    assert_eq!(h.free_size(), start);
    assert_eq!(h.minimum_free_size(), start - 1004 - PO);
    // reset/restore work on raw values (as ESP-IDF): no poison correction.
    assert_eq!(h.reset_minimum_free_bytes(), start - 1004);
    assert_eq!(h.minimum_free_size(), start);
    h.restore_minimum_free_bytes(50);
    assert_eq!(h.minimum_free_size(), 50 - PO);
    h.restore_minimum_free_bytes(500);
    assert_eq!(h.minimum_free_size(), 50 - PO);
}

#[test]
fn zero_and_impossible_requests_fail_cleanly() {
    // Poisoned malloc rejects 0, an overflowing overhead and sizes no region can hold in one
    // compare; every mode must still give NULL for each and leave the heap as it was.
    let mut r = Region::new(4096);
    let h = r.heap();
    let free = h.free_size();
    let mut sizes = vec![
        0,
        usize::MAX,
        usize::MAX - PO,
        (usize::MAX - PO).wrapping_add(1),
        (1 << 30) - PO - 1,
        (1 << 30) - PO,
        (1 << 30) - PO + 1,
        1 << 30,
        4097,
    ];
    if usize::BITS == 64 {
        sizes.extend([1 << 32, (1 << 32) - PO, (1 << 32) + 1]);
    }
    for &s in &sizes {
        assert!(h.malloc(s).is_null(), "malloc({s:#x})");
        assert!(h.aligned_alloc_offs(s, 8, 0).is_null(), "aligned({s:#x})");
    }
    let a = h.malloc(100);
    for &s in sizes.iter().filter(|&&s| s != 0) {
        assert!(h.realloc(a, s).is_null(), "realloc({s:#x})");
        assert!(h.realloc(core::ptr::null_mut(), s).is_null());
    }
    h.free(a);
    assert_eq!(h.free_size(), free);
    assert!(h.check(true));
    // The bound is not too tight: the largest free block can be had whole, one byte more not.
    let largest = h.info().largest_free_block;
    assert!(h.malloc(largest + 1).is_null());
    let p = h.malloc(largest);
    assert!(!p.is_null());
    h.free(p);
    assert!(h.check(true));
}

/// Poisoned malloc's bound (`MAX_POISONED_REQUEST` in src/multi_heap.rs) assumes that no region
/// is larger than 1 GiB. The memory is reserved, not touched (the region is refused before any
/// write); comprehensive mode would fill the whole region before TLSF refuses it, so it is left
/// out, as are 32-bit hosts (1 GiB of address space) and Miri.
#[test]
#[cfg(target_pointer_width = "64")]
#[cfg_attr(miri, ignore)]
fn regions_over_1_gib_are_refused() {
    if COMPREHENSIVE {
        return;
    }
    let len = (1usize << 30) + 4;
    let mut r = Region::new(len);
    // SAFETY: the region is valid for `len` bytes and used for nothing else.
    assert!(unsafe { MultiHeap::register(r.ptr(), len) }.is_none());
    // SAFETY: as above; 1 GiB exactly is accepted.
    assert!(unsafe { MultiHeap::register(r.ptr(), 1 << 30) }.is_some());
}

/// Size queries answer 0 for a pointer that is no live block of an intact heap, and abort naming
/// the pointer when a smashed header breaks the heap (found by the full check on hosts, by the
/// chain walk on the chips' compact paths: the `heapcaps_compact` stage runs this too).
/// (Not under Miri: the abort runs in a child process.)
#[test]
#[cfg_attr(miri, ignore)]
fn size_queries_abort_on_a_smashed_header() {
    let scenario = std::env::var("CORE_CHILD").ok();
    let mut r = Region::new(4096);
    let h = r.heap();
    let a = h.malloc(64);
    let b = h.malloc(64);
    let _c = h.malloc(64);
    if scenario.is_none() {
        assert_eq!(h.live_block_size(a.wrapping_add(16)), 0, "interior pointer");
        assert_eq!(h.allocated_size(a.wrapping_add(16)), 0, "interior pointer");
        assert_eq!(h.live_block_size(b), 64 + PO);
        for which in ["full", "live"] {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "size_queries_abort_on_a_smashed_header",
                    "--exact",
                    "--nocapture",
                ])
                .env("CORE_CHILD", which)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let (b, _) = err.split_once("B=").expect("child ran");
            let b = err[b.len() + 2..].lines().next().unwrap().to_owned();
            assert!(
                !out.status.success() && !err.contains("ANSWERED"),
                "{which}: {err}"
            );
            let msg = format!("CORRUPT HEAP: get_allocated_size({b}): pointer {b} has no valid");
            assert!(err.contains(&msg), "{which}: {err}");
        }
        return;
    }
    // Bit 30 of b's header word (with poisoning, the payload starts past the poison head).
    let hdr = b.wrapping_sub(POISON_HEAD + 4);
    eprintln!("B={b:p}");
    // SAFETY: the header word of a live block of this region.
    unsafe { (hdr as *mut u32).write((hdr as *const u32).read() | 0x4000_0000) };
    let n = match scenario.as_deref() {
        Some("full") => h.allocated_size(b),
        _ => h.live_block_size(b),
    };
    eprintln!("ANSWERED {n}");
}

/// TLSF's floor log2 (the chips' build uses a smear, a multiply and a table instead of
/// count-leading-zeros): equal to the reference at every power of two, its neighbours and a
/// spread of other values; 0 -> 0.
#[test]
fn log2_matches_reference() {
    let reference = |x: u32| 31 - (x | 1).leading_zeros();
    let mut xs = vec![0u32, 1, 2, 3, u32::MAX];
    for k in 0..32 {
        let p = 1u32 << k;
        xs.extend([p, p - 1, p.wrapping_add(1), p | (p >> 1)]);
    }
    let mut r = 0x1234_5678u32;
    for _ in 0..10_000 {
        r = r.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        xs.push(r >> (r & 31));
    }
    for x in xs {
        assert_eq!(heapcaps::tlsf::log2_for_tests(x), reference(x), "log2({x})");
        if x != 0 {
            // The class mapping's version (one instruction on x86 hosts).
            assert_eq!(heapcaps::tlsf::bsr_for_tests(x), reference(x), "bsr({x})");
            // The lowest set bit (the chips look it up in log2's table).
            assert_eq!(
                heapcaps::tlsf::lowest_bit_for_tests(x),
                x.trailing_zeros(),
                "lowest_bit({x})"
            );
        }
    }
}
