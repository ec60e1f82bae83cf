//! The simulated chips' full boot, which a program gets from its first allocation when it never
//! calls `heap_caps_init`: the heaps `app_main` finds on the chip. Here the ESP32 with PSRAM,
//! whose startup also reserves ESP-IDF's internal pool for DMA (one process, one boot).

use std::ffi::c_void;

use heapcaps::capi::esp_heap_caps::*;
use heapcaps::caps::{chips, global_raw};

/// The pool's priority masks in ESP-IDF's `esp_psram_extram_reserve_dma_pool`.
const POOL_CAPS: [u32; 3] = [
    0,
    MALLOC_CAP_DMA | MALLOC_CAP_INTERNAL,
    MALLOC_CAP_DEFAULT | MALLOC_CAP_8BIT | MALLOC_CAP_32BIT,
];

fn inside(p: *mut c_void, heap: (usize, usize)) -> bool {
    (heap.0..heap.1).contains(&(p as usize))
}

#[test]
fn full_boot_registers_the_startup_stacks_and_reserves_the_dma_pool() {
    chips::select_chip("esp32-psram").expect("select chip");
    // The first allocation boots the chip.
    let first = heap_caps_malloc(100, MALLOC_CAP_DEFAULT);
    assert!(!first.is_null());

    let heaps: Vec<_> = global_raw().heaps().filter(|h| h.3).collect();
    // The startup-stack regions (ESP32: D/IRAM from 0x3FFE0440 and 0x3FFE4350) are heaps.
    assert!(heaps.iter().any(|h| h.1 - h.0 == 0x3AE0));
    assert!(heaps.iter().any(|h| h.1 - h.0 == 0x1BCB0));
    // One 32 KiB piece of internal memory became the pool (ESP-IDF passes the piece's last byte
    // as the end, so the heap is one byte shorter), and it heads the list, as every heap added
    // at run time does.
    let pool: Vec<_> = heaps.iter().filter(|h| h.2 == POOL_CAPS).collect();
    assert_eq!(pool.len(), 1);
    let pool = (pool[0].0, pool[0].1);
    assert_eq!(pool.1 - pool.0, 32 * 1024 - 1);
    assert_eq!((heaps[0].0, heaps[0].1), pool);
    // Its piece is a used block of the internal DMA-capable heap it came from.
    let parent = heaps
        .iter()
        .find(|h| h.0 < pool.0 && pool.1 <= h.1)
        .expect("the pool lies in an internal heap");
    assert_ne!(parent.2[1] & MALLOC_CAP_DMA, 0);

    // A DMA request takes the pool first (priority 1, head of the list); internal and default
    // requests come from the other heaps while they have room.
    let dma = heap_caps_malloc(64, MALLOC_CAP_DMA);
    assert!(inside(dma, pool));
    let internal = heap_caps_malloc(64, MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT);
    assert!(!internal.is_null() && !inside(internal, pool));
    let default = heap_caps_malloc(64, MALLOC_CAP_DEFAULT);
    assert!(!default.is_null() && !inside(default, pool));
    assert!(!inside(first, pool));
    // SAFETY: blocks from this allocator.
    unsafe {
        for p in [first, dma, internal, default] {
            heap_caps_free(p);
        }
    }
    assert!(heap_caps_check_integrity_all(true));
}
