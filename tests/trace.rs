//! Heap tracing and hooks from Rust (features HEAP_TRACING_STANDALONE [+ HEAP_TRACE_HASH_MAP]):
//! the record layout of ESP-IDF, ESP-IDF's hash function, and recording through the Rust
//! allocation API with callers. One process, one tracer: one test function.
#![cfg(feature = "HEAP_TRACING_STANDALONE")]

use std::ffi::c_void;
use std::mem::{offset_of, size_of};

use heapcaps::capi::esp_heap_caps::*;
use heapcaps::capi::esp_heap_trace::*;
use heapcaps::caps::{self, Caps};
use heapcaps::trace::*;

#[test]
fn layout_is_esp_idf_s() {
    let d = STACK_DEPTH;
    let p = size_of::<*mut c_void>();
    // 32-bit: ccount 0, address 4, size 8, freed 12, alloced_by 16, freed_by 16+4D, list 16+8D.
    assert_eq!(offset_of!(heap_trace_record_t, ccount), 0);
    assert_eq!(offset_of!(heap_trace_record_t, address), p);
    assert_eq!(offset_of!(heap_trace_record_t, size), 2 * p);
    assert_eq!(offset_of!(heap_trace_record_t, freed), 3 * p);
    assert_eq!(offset_of!(heap_trace_record_t, alloced_by), 4 * p);
    assert_eq!(offset_of!(heap_trace_record_t, freed_by), 4 * p + d * p);
    assert_eq!(
        offset_of!(heap_trace_record_t, tailq_list),
        4 * p + 2 * d * p
    );
    let hash = cfg!(feature = "HEAP_TRACE_HASH_MAP") as usize;
    assert_eq!(size_of::<heap_trace_record_t>(), (6 + 2 * d + hash) * p);
    assert_eq!(size_of::<heap_trace_summary_t>(), (7 + 2 * hash) * p);
    if p == 4 {
        assert_eq!(size_of::<heap_trace_record_t>(), 24 + 8 * d + 4 * hash);
        assert_eq!(size_of::<heap_trace_summary_t>(), 28 + 8 * hash);
    }
}

#[cfg(feature = "HEAP_TRACE_HASH_MAP")]
#[test]
fn hash_is_esp_idf_s() {
    // ((a >> 3) + (a >> 5) + (a >> 7)) * 16777619 mod N, in 32-bit arithmetic.
    for a in [0x3ffb_0000u32, 0x3ffe_4350, 0x4008_b3d0, 0xdead_beef, 4, 0] {
        let want = (((a >> 3).wrapping_add(a >> 5).wrapping_add(a >> 7)).wrapping_mul(16_777_619)
            % HASH_MAP_SIZE as u32) as usize;
        assert_eq!(hash_idx(a as usize as *const c_void), want);
    }
    // A known value: 0x3FFB0000 with 512 buckets.
    if HASH_MAP_SIZE == 512 {
        let a = 0x3ffb_0000u32;
        let s = (a >> 3) + (a >> 5) + (a >> 7);
        assert_eq!(
            hash_idx(a as usize as *const c_void),
            (s.wrapping_mul(16_777_619) % 512) as usize
        );
    }
}

/// An all-zero record (NULL pointers, false, zeros: a valid value of every field).
fn zero<T: Copy>() -> T {
    // SAFETY: only used for the record types, whose fields are integers, bools and pointers.
    unsafe { std::mem::zeroed() }
}

#[inline(never)]
fn alloc_via_rust_api(n: usize) -> *mut u8 {
    let p = caps::malloc(n, Caps::DEFAULT);
    std::hint::black_box(p)
}

#[test]
fn records_rust_api_calls_with_callers() {
    // The tracer keeps the buffer for the rest of the process.
    let recs = Box::leak(Box::new([zero::<heap_trace_record_t>(); 6])).as_mut_ptr();
    // SAFETY: a static buffer of 6 records.
    assert_eq!(unsafe { heap_trace_init_standalone(recs, 6) }, 0);
    assert_eq!(heap_trace_start(HEAP_TRACE_ALL), 0);
    let p = alloc_via_rust_api(40);
    assert!(!p.is_null());
    let q = heap_caps_calloc(2, 8, MALLOC_CAP_8BIT);
    // SAFETY: live blocks of the global registry.
    unsafe {
        caps::free(p);
        heap_caps_free(q);
    }
    assert_eq!(heap_trace_stop(), 0);
    assert_eq!(heap_trace_get_count(), 2);
    let mut r: heap_trace_record_t = zero();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { heap_trace_get(0, &mut r) }, 0);
    assert_eq!(r.address, p as *mut c_void);
    assert_eq!(r.size, 40);
    assert!(r.freed);
    if STACK_DEPTH > 0 {
        // The innermost caller is inside alloc_via_rust_api.
        let f = alloc_via_rust_api as fn(usize) -> *mut u8 as usize;
        let c = r.alloced_by[0] as usize;
        assert!(c > f && c < f + 4096, "caller {c:#x}, function {f:#x}");
    }
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { heap_trace_get(1, &mut r) }, 0);
    assert_eq!(r.size, 16);
    assert_eq!(r.ccount & 3, 0);
    let mut s = heap_trace_summary_t::default();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { heap_trace_summary(&mut s) }, 0);
    assert_eq!(
        (s.total_allocations, s.total_frees, s.count, s.capacity),
        (2, 2, 2, 6)
    );
    // The records are linked oldest first through tailq_list, as a TAILQ.
    // SAFETY: the buffer holds the two records in list order.
    unsafe {
        let first = &*recs;
        assert_eq!(first.tailq_list.tqe_next, recs.add(1));
        assert!((*recs.add(1)).tailq_list.tqe_next.is_null());
        assert_eq!(*(*recs.add(1)).tailq_list.tqe_prev, recs.add(1));
    }
}
