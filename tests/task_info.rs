//! Task tracking from Rust (feature HEAP_TASK_TRACKING): ESP-IDF's struct layouts, threads as
//! tasks, and what happens to a deleted task's statistics with and without
//! HEAP_TRACK_DELETED_TASKS.
#![cfg(feature = "HEAP_TASK_TRACKING")]

use std::ffi::c_void;
use std::mem::{offset_of, size_of};
use std::ptr;

use heapcaps::capi::esp_heap_caps::*;
use heapcaps::capi::esp_heap_task_info::*;
use heapcaps::capi::heapcaps_sim::*;
use heapcaps::task_info::*;

#[test]
fn layouts_are_esp_idf_s() {
    let p = size_of::<*mut c_void>();
    if p == 4 {
        assert_eq!(size_of::<heap_task_totals_t>(), 36);
        assert_eq!(size_of::<heap_task_block_t>(), 12);
        assert_eq!(size_of::<heap_task_info_params_t>(), 60);
        assert_eq!(size_of::<heap_stat_t>(), 28);
        assert_eq!(size_of::<task_stat_t>(), 40);
        assert_eq!(size_of::<heap_single_task_stat_t>(), 56);
        assert_eq!(size_of::<heap_all_tasks_stat_t>(), 24);
        assert_eq!(offset_of!(task_stat_t, handle), 16);
        assert_eq!(offset_of!(task_stat_t, is_alive), 20);
        assert_eq!(offset_of!(task_stat_t, heap_stat), 36);
        assert_eq!(offset_of!(heap_task_info_params_t, num_totals), 44);
    }
    assert_eq!(offset_of!(task_stat_t, handle), 16);
}

fn stats_of(handle: *mut c_void) -> Option<(bool, usize, usize)> {
    let mut s = heap_all_tasks_stat_t {
        task_count: 0,
        stat_arr: ptr::null_mut(),
        heap_count: 0,
        heap_stat_start: ptr::null_mut(),
        alloc_count: 0,
        alloc_stat_start: ptr::null_mut(),
    };
    // SAFETY: valid struct; arrays from the alloc function.
    unsafe {
        assert_eq!(heap_caps_alloc_all_task_stat_arrays(&mut s), 0);
        assert_eq!(heap_caps_get_all_task_stat(&mut s), 0);
    }
    let mut r = None;
    for i in 0..s.task_count {
        // SAFETY: task_count entries were written.
        let t = unsafe { &*s.stat_arr.add(i) };
        if t.handle == handle {
            r = Some((t.is_alive, t.overall_current_usage, t.heap_count));
        }
    }
    // SAFETY: arrays from the alloc function.
    unsafe { heap_caps_free_all_task_stat_arrays(&mut s) };
    r
}

#[test]
fn thread_is_a_task_and_can_be_deleted() {
    let (handle, p) = std::thread::spawn(|| {
        let p = heap_caps_malloc(80, MALLOC_CAP_8BIT) as usize;
        (heapcaps_sim_current_task() as usize, p)
    })
    .join()
    .unwrap();
    let handle = handle as *mut c_void;
    let (alive, cur, heaps) = stats_of(handle).expect("task listed");
    assert!(alive);
    assert!(cur >= 80 + size_of::<*mut c_void>());
    assert_eq!(heaps, 1);
    heapcaps_sim_task_deleted(handle);
    if cfg!(feature = "HEAP_TRACK_DELETED_TASKS") {
        let (alive, cur2, _) = stats_of(handle).expect("kept");
        assert!(!alive);
        assert_eq!(cur2, cur);
    } else {
        assert!(
            stats_of(handle).is_none(),
            "dropped without HEAP_TRACK_DELETED_TASKS"
        );
    }
    // SAFETY: live block.
    unsafe { heap_caps_free(p as *mut c_void) };
    if cfg!(feature = "HEAP_TRACK_DELETED_TASKS") {
        assert_eq!(stats_of(handle).map(|s| s.1), Some(0));
    }
    // The owner word of a block of this thread is this thread.
    let q = heap_caps_malloc(8, MALLOC_CAP_8BIT) as *mut u8;
    // SAFETY: the word before a block is its owner word.
    let owner = unsafe { ptr::read_unaligned(q.sub(size_of::<usize>()) as *const *mut c_void) };
    assert_eq!(owner, heapcaps_sim_current_task());
    // SAFETY: live block.
    unsafe { heap_caps_free(q as *mut c_void) };
}
