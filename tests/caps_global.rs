//! The C API over the global registry and the simulated ESP32-S3 with PSRAM: chip selection,
//! boot, the variadic `*_prefer` shim, the D/IRAM alias through real double mappings, the malloc
//! policy with PSRAM, runtime regions found in the chip's table, callback registration, walking.
//! One process, one global registry: the tests share a lock and a one-time boot.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use heapcaps::capi::esp_heap_caps::*;
use heapcaps::capi::esp_heap_caps_init::*;
use heapcaps::capi::heapcaps_sim::*;
use heapcaps::capi::multi_heap::multi_heap_info_t;

extern "C" {
    fn heap_caps_malloc_prefer(size: usize, num: usize, ...) -> *mut c_void;
    fn heap_caps_calloc_prefer(n: usize, size: usize, num: usize, ...) -> *mut c_void;
    fn heap_caps_realloc_prefer(ptr: *mut c_void, size: usize, num: usize, ...) -> *mut c_void;
}

static LOCK: Mutex<()> = Mutex::new(());
static BOOT: Once = Once::new();

fn setup() -> std::sync::MutexGuard<'static, ()> {
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    BOOT.call_once(|| {
        // SAFETY: NUL-terminated literals.
        unsafe {
            assert_eq!(heapcaps_sim_select_chip(c"esp8266".as_ptr()), 0x105);
            assert_eq!(heapcaps_sim_select_chip(c"esp32s3-psram".as_ptr()), 0);
        }
        heap_caps_init();
        heap_caps_enable_nonos_stack_heaps();
        // SAFETY: as above.
        let late = unsafe { heapcaps_sim_select_chip(c"esp32".as_ptr()) };
        assert_eq!(late, 0x103);
    });
    g
}

static CB_CALLS: AtomicUsize = AtomicUsize::new(0);
static CB_LAST: Mutex<(usize, u32, String)> = Mutex::new((0, 0, String::new()));

unsafe extern "C" fn on_fail(size: usize, caps: u32, name: *const c_char) {
    CB_CALLS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the allocator passes a NUL-terminated function name.
    let n = unsafe { CStr::from_ptr(name) }
        .to_str()
        .unwrap()
        .to_string();
    *CB_LAST.lock().unwrap() = (size, caps, n);
}

#[test]
fn boots_selected_chip_with_psram() {
    let _g = setup();
    // SAFETY: returns a static NUL-terminated name.
    let name = unsafe { CStr::from_ptr(heapcaps_sim_chip_name()) };
    assert_eq!(name.to_str().unwrap(), "esp32s3-psram");
    let internal = heap_caps_get_total_size(MALLOC_CAP_INTERNAL);
    // RAM 0x52CD8 + 0x5724 (startup stack up to the ROM data, registered) + DRAM 0x8000 +
    // RTCRAM 0x1FD8.
    // (Other tests may add runtime heaps inside these, so at least.)
    assert!(internal >= 0x52CD8 + 0x5724 + 0x8000 + 0x1FD8);
    assert_eq!(heap_caps_get_total_size(MALLOC_CAP_SPIRAM), 0x80_0000);
    assert!(heap_caps_get_free_size(MALLOC_CAP_8BIT) > 0x80_0000);
    assert!(heap_caps_check_integrity_all(true));
}

#[test]
fn default_caps_prefer_psram_and_malloc_policy() {
    let _g = setup();
    let ps = heap_caps_get_free_size(MALLOC_CAP_SPIRAM);
    let int = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    let p = heap_caps_malloc(256, MALLOC_CAP_DEFAULT);
    assert_eq!(heap_caps_get_free_size(MALLOC_CAP_INTERNAL), int);
    assert!(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) <= ps - 256);
    // SPIRAM_USE_MALLOC with the 16 KiB always-internal limit.
    let small = heap_caps_malloc_default(1000);
    let big = heap_caps_malloc_default(20000);
    assert!(heap_caps_get_free_size(MALLOC_CAP_SPIRAM) <= ps - 256 - 20000);
    assert!(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) <= int - 1000);
    // SAFETY: pointers from this allocator.
    unsafe {
        for q in [p, small, big] {
            heap_caps_free(q);
        }
    }
}

#[test]
fn variadic_prefer_shim() {
    let _g = setup();
    assert_eq!(heap_caps_register_failed_alloc_callback(None), 0x102);
    assert_eq!(heap_caps_register_failed_alloc_callback(Some(on_fail)), 0);
    // SAFETY: variadic caps are passed as uint32_t; pointers come from this allocator.
    unsafe {
        let p = heap_caps_malloc_prefer(100, 2, MALLOC_CAP_SPIRAM | 1 << 30, MALLOC_CAP_INTERNAL);
        assert!(!p.is_null());
        assert!(heap_caps_get_allocated_size(p) >= 100);
        let q = heap_caps_realloc_prefer(p, 5000, 1, MALLOC_CAP_SPIRAM);
        assert!(!q.is_null());
        heap_caps_free(q);
        let z = heap_caps_calloc_prefer(10, 10, 1, MALLOC_CAP_DMA) as *mut u8;
        assert!(!z.is_null());
        assert!((0..100).all(|i| *z.add(i) == 0));
        heap_caps_free(z as *mut c_void);
        let before = CB_CALLS.load(Ordering::SeqCst);
        assert!(
            heap_caps_calloc_prefer(2, 1 << 30, 2, MALLOC_CAP_8BIT, MALLOC_CAP_32BIT).is_null()
        );
        assert_eq!(CB_CALLS.load(Ordering::SeqCst), before + 1);
        assert_eq!(
            *CB_LAST.lock().unwrap(),
            (
                1 << 30,
                MALLOC_CAP_32BIT,
                "heap_caps_calloc_prefer".to_string()
            )
        );
    }
}

#[test]
fn exec_on_s3_returns_iram_alias() {
    let _g = setup();
    let p = heap_caps_malloc(64, MALLOC_CAP_EXEC) as *mut u8;
    assert!(!p.is_null());
    // The stored word before the pointer is an address inside a heap (the DRAM view).
    // SAFETY: EXEC pointers have the DRAM address in the preceding word.
    let d = unsafe { (p.sub(std::mem::size_of::<usize>()) as *const usize).read_unaligned() };
    assert!(heap_caps_check_integrity_addr(d as isize, true));
    assert!(
        !heap_caps_check_integrity_addr(p as isize, false),
        "IRAM alias is outside the heaps"
    );
    // SAFETY: p is a live 64-byte block.
    unsafe {
        std::ptr::write_bytes(p, 0x3C, 64);
        let q = heap_caps_realloc(p as *mut c_void, 128, MALLOC_CAP_EXEC) as *mut u8;
        assert!(!q.is_null() && q != p);
        assert_eq!(*q.add(63), 0x3C);
        heap_caps_free(q as *mut c_void);
    }
    assert!(heap_caps_check_integrity_all(true));
}

#[test]
fn add_region_looks_up_the_chip_table() {
    let _g = setup();
    // SAFETY: start 0 / unknown addresses are rejected before use.
    unsafe {
        assert_eq!(heap_caps_add_region(0, 100), 0x102);
        let local = [0u8; 64];
        assert_eq!(
            heap_caps_add_region(local.as_ptr() as isize, local.as_ptr() as isize + 64),
            0x105
        );
        assert_eq!(
            heap_caps_add_region_with_caps(std::ptr::null(), 16, 32),
            0x102
        );
    }
    let free = heap_caps_get_free_size(MALLOC_CAP_INTERNAL);
    // From RTC RAM: its type lists DEFAULT only at low priority, so the new heap at the list head
    // does not capture the other tests' DEFAULT allocations.
    let blk = heap_caps_malloc(3500, MALLOC_CAP_RTCRAM) as isize;
    assert_ne!(blk, 0);
    // SAFETY: the block is given to the heap for good.
    assert_eq!(unsafe { heap_caps_add_region(blk, blk + 3500) }, 0);
    // SAFETY: identical range again.
    assert_eq!(unsafe { heap_caps_add_region(blk, blk + 3500) }, -1);
    assert!(heap_caps_get_free_size(MALLOC_CAP_INTERNAL) + 3500 >= free);
    assert!(heap_caps_check_add_region_allowed(
        0x1000, 0x3000, 0x1001, 0x2999
    ));
    assert!(!heap_caps_check_add_region_allowed(
        0x1000, 0x3000, 0x1000, 0x3000
    ));
}

static WALKED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn walker(
    h: walker_heap_into_t,
    b: walker_block_info_t,
    _u: *mut c_void,
) -> bool {
    assert!(h.start < h.end && (b.ptr as isize) >= h.start && (b.ptr as isize) < h.end);
    WALKED.fetch_add(1, Ordering::SeqCst);
    false
}

#[test]
fn walk_info_monitor() {
    let _g = setup();
    WALKED.store(0, Ordering::SeqCst);
    // SAFETY: the walker does not allocate.
    unsafe { heap_caps_walk_all(Some(walker), std::ptr::null_mut()) };
    let heaps = WALKED.load(Ordering::SeqCst);
    assert!(heaps >= 5, "one block per heap, {heaps}");
    let mut info = multi_heap_info_t::default();
    // SAFETY: valid out pointer.
    unsafe { heap_caps_get_info(&mut info, MALLOC_CAP_8BIT) };
    // With task tracking get_info leaves one owner word per heap out of the free bytes, as
    // ESP-IDF's does; get_free_size counts them (as ESP-IDF's).
    let matching = heapcaps::caps::global()
        .heaps()
        .filter(|h| h.3 && (h.2[0] | h.2[1] | h.2[2]) & MALLOC_CAP_8BIT == MALLOC_CAP_8BIT)
        .count();
    assert_eq!(
        info.total_free_bytes + matching * heapcaps::caps::OWNER,
        heap_caps_get_free_size(MALLOC_CAP_8BIT)
    );
    assert_eq!(
        info.largest_free_block,
        heap_caps_get_largest_free_block(MALLOC_CAP_8BIT)
    );
    assert_eq!(heap_caps_monitor_local_minimum_free_size_start(), 0);
    assert_eq!(heap_caps_monitor_local_minimum_free_size_stop(), 0);
    assert_eq!(heap_caps_monitor_local_minimum_free_size_stop(), -1);
    heap_caps_print_heap_info(MALLOC_CAP_RTCRAM);
}

#[test]
fn global_alloc_and_rust_api() {
    use std::alloc::{GlobalAlloc, Layout};
    let _g = setup();
    let a = heapcaps::HeapCapsAlloc;
    let l = Layout::from_size_align(100, 64).unwrap();
    // SAFETY: valid layout; pointers are freed with the same allocator.
    unsafe {
        let p = a.alloc(l);
        assert!(!p.is_null() && p as usize % 64 == 0);
        std::ptr::write_bytes(p, 7, 100);
        let q = a.realloc(p, l, 300);
        assert!(!q.is_null() && q as usize % 64 == 0 && *q.add(99) == 7);
        a.dealloc(q, Layout::from_size_align(300, 64).unwrap());
        let s = a.alloc(Layout::from_size_align(10, 4).unwrap());
        let s = a.realloc(s, Layout::from_size_align(10, 4).unwrap(), 5000);
        assert!(!s.is_null());
        a.dealloc(s, Layout::from_size_align(5000, 4).unwrap());
    }
    let p = heapcaps::caps::malloc(64, heapcaps::Caps::SPIRAM);
    assert!(!p.is_null());
    // SAFETY: from the same allocator.
    unsafe { heapcaps::caps::free(p) };
}

#[test]
fn threads_allocate_concurrently() {
    let _g = setup();
    let before = heap_caps_get_free_size(0);
    let hs: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let caps = [
                    MALLOC_CAP_8BIT,
                    MALLOC_CAP_32BIT,
                    MALLOC_CAP_SPIRAM,
                    MALLOC_CAP_DMA,
                ][t];
                let mut live = vec![];
                for i in 0..2000usize {
                    let p = heap_caps_malloc(16 + (i * 37) % 200, caps) as usize;
                    assert_ne!(p, 0);
                    live.push(p);
                    if i % 3 != 0 {
                        let q = live.swap_remove((i * 7) % live.len());
                        // SAFETY: q came from heap_caps_malloc above.
                        unsafe { heap_caps_free(q as *mut c_void) };
                    }
                }
                for q in live {
                    // SAFETY: as above.
                    unsafe { heap_caps_free(q as *mut c_void) };
                }
                // The thread's end stands for vTaskDelete (a host thread is never deleted).
                #[cfg(feature = "HEAP_TASK_TRACKING")]
                heapcaps_sim_task_deleted(heapcaps_sim_current_task());
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert!(heap_caps_check_integrity_all(true));
    if cfg!(feature = "HEAP_TRACK_DELETED_TASKS") {
        // The deleted tasks' statistics stay, in heap memory (as with ESP-IDF).
        assert!(heap_caps_get_free_size(0) <= before);
    } else {
        assert_eq!(heap_caps_get_free_size(0), before);
    }
}
