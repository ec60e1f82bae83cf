//! `esp_heap_task_info.h` (feature `HEAP_TASK_TRACKING`): per-task heap statistics.

use core::ffi::c_void;
use core::ptr;

use crate::caps::{self, OWNER};
use crate::task_info::{
    heap_all_tasks_stat_t, heap_single_task_stat_t, heap_stat_t, heap_task_block_t,
    heap_task_info_params_t, heap_task_totals_t, task_stat_t, Heaps, TaskHandle_t,
    NUM_HEAP_TASK_CAPS,
};

/// `esp_err_t` (from esp_err.h or the header prologue; not emitted).
pub type esp_err_t = i32;
/// The C library's `FILE` (from stdio.h; not emitted).
pub type FILE = c_void;

const ESP_OK: esp_err_t = 0;
const ESP_FAIL: esp_err_t = -1;
const ESP_ERR_INVALID_ARG: esp_err_t = 0x102;

/// Legacy per-task totals: walks the heaps of the capability groups in `params`, adds up each
/// owner's blocks into `totals` (new tasks appended up to `max_totals`) and lists the blocks of
/// the selected tasks (all if `tasks` is NULL) in `blocks` (address of the owner word, size of
/// the whole block). Returns the number of blocks listed; 0 for NULL `params` or `num_totals`.
///
/// # Safety
/// `params` must be NULL or valid, with its arrays valid for the sizes it gives.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_per_task_info(
    params: *mut heap_task_info_params_t,
) -> usize {
    if params.is_null() {
        return 0;
    }
    // SAFETY: caller contract.
    let p = unsafe { &*params };
    if p.num_totals.is_null() {
        return 0;
    }
    // SAFETY: caller contract.
    let num_totals = unsafe { &mut *p.num_totals };
    let n_tot = (*num_totals).min(p.max_totals);
    if !p.totals.is_null() {
        for i in 0..n_tot {
            // SAFETY: i < num_totals entries of `totals`.
            unsafe {
                let t = &mut *p.totals.add(i);
                t.size = [0; NUM_HEAP_TASK_CAPS];
                t.count = [0; NUM_HEAP_TASK_CAPS];
            }
        }
    }
    let mut n_tot = n_tot;
    let mut n_blocks = 0usize;
    for (heap_caps, _, h) in caps::global().each_heap() {
        let Some(group) =
            (0..NUM_HEAP_TASK_CAPS).find(|&i| heap_caps & p.mask[i] as u32 == p.caps[i] as u32)
        else {
            continue;
        };
        h.walk(|b| {
            if !b.used || OWNER == 0 {
                return true;
            }
            // SAFETY: a used block of a caps heap starts with its owner word.
            let task = unsafe { ptr::read_unaligned(b.data as *const TaskHandle_t) };
            if !p.totals.is_null() {
                // SAFETY: entries below n_tot are valid.
                let found = (0..n_tot).find(|&i| unsafe { (*p.totals.add(i)).task } == task);
                let i = match found {
                    Some(i) => Some(i),
                    None if n_tot < p.max_totals => {
                        // SAFETY: n_tot < max_totals.
                        unsafe {
                            p.totals.add(n_tot).write(heap_task_totals_t {
                                task,
                                size: [0; NUM_HEAP_TASK_CAPS],
                                count: [0; NUM_HEAP_TASK_CAPS],
                            })
                        };
                        n_tot += 1;
                        Some(n_tot - 1)
                    }
                    None => None,
                };
                if let Some(i) = i {
                    // SAFETY: i < n_tot.
                    let t = unsafe { &mut *p.totals.add(i) };
                    // (`group` came from a search below NUM_HEAP_TASK_CAPS; `get_mut` spares
                    // the bounds check's panic path, which scripts/no-panic.sh rejects.)
                    if let Some(s) = t.size.get_mut(group) {
                        *s += b.size;
                    }
                    if let Some(c) = t.count.get_mut(group) {
                        *c += 1;
                    }
                }
            }
            if !p.blocks.is_null() && n_blocks < p.max_blocks {
                let wanted = p.tasks.is_null()
                    // SAFETY: `tasks` has num_tasks entries.
                    || (0..p.num_tasks).any(|i| unsafe { *p.tasks.add(i) } == task);
                if wanted {
                    // SAFETY: n_blocks < max_blocks.
                    unsafe {
                        p.blocks.add(n_blocks).write(heap_task_block_t {
                            task,
                            address: b.data as *mut c_void,
                            size: b.size as u32,
                        })
                    };
                    n_blocks += 1;
                }
            }
            true
        });
    }
    *num_totals = n_tot;
    n_blocks
}

/// Copies the statistics of every task into the arrays of `tasks_stat` (a task's heaps only if
/// all of them fit, a heap's blocks only if all of them fit) and sets the counts used.
/// `ESP_ERR_INVALID_ARG` for NULL or a NULL array with a non-zero count.
///
/// # Safety
/// `tasks_stat` must be NULL or valid, its arrays valid for the counts it gives.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_all_task_stat(
    tasks_stat: *mut heap_all_tasks_stat_t,
) -> esp_err_t {
    if tasks_stat.is_null() {
        return ESP_ERR_INVALID_ARG;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *tasks_stat };
    match caps::global().tasks().get_all(s) {
        Ok(()) => ESP_OK,
        Err(()) => ESP_ERR_INVALID_ARG,
    }
}

/// Copies the statistics of `task_handle` (NULL: the running task). `ESP_ERR_INVALID_ARG` for
/// bad arguments, `ESP_FAIL` for a task without statistics.
///
/// # Safety
/// `task_stat` must be NULL or valid, its arrays valid for the counts it gives.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_get_single_task_stat(
    task_stat: *mut heap_single_task_stat_t,
    task_handle: TaskHandle_t,
) -> esp_err_t {
    if task_stat.is_null() {
        return ESP_ERR_INVALID_ARG;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *task_stat };
    match caps::global().tasks().get_single(s, task_handle) {
        Ok(()) => ESP_OK,
        Err(true) => ESP_ERR_INVALID_ARG,
        Err(false) => ESP_FAIL,
    }
}

/// Prints every task's statistics with its heaps and blocks to `stream` (NULL: stdout).
///
/// # Safety
/// `stream` must be NULL or a valid `FILE *`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_print_all_task_stat(stream: *mut FILE) {
    // SAFETY: caller contract.
    unsafe { caps::global().tasks().print(stream, None) }
}

/// Prints one line per task in a table to `stream` (NULL: stdout).
///
/// # Safety
/// `stream` must be NULL or a valid `FILE *`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_print_all_task_stat_overview(stream: *mut FILE) {
    // SAFETY: caller contract.
    unsafe { caps::global().tasks().print_overview(stream, None) }
}

/// Prints the statistics of `task_handle` (NULL: the running task) to `stream`.
///
/// # Safety
/// `stream` must be NULL or a valid `FILE *`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_print_single_task_stat(
    stream: *mut FILE,
    task_handle: TaskHandle_t,
) {
    let t = if task_handle.is_null() {
        crate::port::task_handle()
    } else {
        task_handle
    };
    // SAFETY: caller contract.
    unsafe { caps::global().tasks().print(stream, Some(t)) }
}

/// Prints the table line of `task_handle` (NULL: the running task) to `stream`.
///
/// # Safety
/// `stream` must be NULL or a valid `FILE *`.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_print_single_task_stat_overview(
    stream: *mut FILE,
    task_handle: TaskHandle_t,
) {
    let t = if task_handle.is_null() {
        crate::port::task_handle()
    } else {
        task_handle
    };
    // SAFETY: caller contract.
    unsafe { caps::global().tasks().print_overview(stream, Some(t)) }
}

/// Raw memory for statistics arrays: from the biggest heap, outside the statistics.
fn raw_array<T>(n: usize) -> Result<*mut T, ()> {
    if n == 0 {
        return Ok(ptr::null_mut());
    }
    let h = caps::global().biggest().ok_or(())?;
    let p = crate::task_info::raw_alloc::<T>(h, n);
    if p.is_null() {
        Err(())
    } else {
        Ok(p)
    }
}

fn raw_free<T>(p: *mut T) {
    if !p.is_null() {
        if let Some(h) = caps::global().containing(p as usize) {
            h.free(p as *mut u8);
        }
    }
}

/// Sizes and allocates the arrays of `task_stat` for the live task `task_handle` (NULL: the
/// running task). Release them with `heap_caps_free_single_task_stat_arrays`. `ESP_FAIL` when
/// an array cannot be allocated (or for NULL `task_stat`).
///
/// # Safety
/// `task_stat` must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_alloc_single_task_stat_arrays(
    task_stat: *mut heap_single_task_stat_t,
    task_handle: TaskHandle_t,
) -> esp_err_t {
    if task_stat.is_null() {
        return ESP_FAIL;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *task_stat };
    let t = if task_handle.is_null() {
        crate::port::task_handle()
    } else {
        task_handle
    };
    let (_, heaps, allocs) = caps::global().tasks().counts(Some(t));
    s.heap_count = heaps;
    s.alloc_count = allocs;
    s.heap_stat_start = ptr::null_mut();
    s.alloc_stat_start = ptr::null_mut();
    let Ok(h) = raw_array::<heap_stat_t>(heaps) else {
        return ESP_FAIL;
    };
    s.heap_stat_start = h;
    let Ok(a) = raw_array::<heap_task_block_t>(allocs) else {
        return ESP_FAIL;
    };
    s.alloc_stat_start = a;
    ESP_OK
}

/// Releases the arrays from `heap_caps_alloc_single_task_stat_arrays`.
///
/// # Safety
/// `task_stat` must be NULL or hold arrays from that function (or NULL pointers).
#[no_mangle]
pub unsafe extern "C" fn heap_caps_free_single_task_stat_arrays(
    task_stat: *mut heap_single_task_stat_t,
) {
    if task_stat.is_null() {
        return;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *task_stat };
    raw_free(s.heap_stat_start);
    raw_free(s.alloc_stat_start);
    s.heap_stat_start = ptr::null_mut();
    s.alloc_stat_start = ptr::null_mut();
    s.heap_count = 0;
    s.alloc_count = 0;
}

/// Sizes and allocates the arrays of `tasks_stat` for every task. Release them with
/// `heap_caps_free_all_task_stat_arrays`. `ESP_FAIL` when an array cannot be allocated.
///
/// # Safety
/// `tasks_stat` must be NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn heap_caps_alloc_all_task_stat_arrays(
    tasks_stat: *mut heap_all_tasks_stat_t,
) -> esp_err_t {
    if tasks_stat.is_null() {
        return ESP_FAIL;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *tasks_stat };
    let (tasks, heaps, allocs) = caps::global().tasks().counts(None);
    s.task_count = tasks;
    s.heap_count = heaps;
    s.alloc_count = allocs;
    s.stat_arr = ptr::null_mut();
    s.heap_stat_start = ptr::null_mut();
    s.alloc_stat_start = ptr::null_mut();
    let Ok(t) = raw_array::<task_stat_t>(tasks) else {
        return ESP_FAIL;
    };
    s.stat_arr = t;
    let Ok(h) = raw_array::<heap_stat_t>(heaps) else {
        return ESP_FAIL;
    };
    s.heap_stat_start = h;
    let Ok(a) = raw_array::<heap_task_block_t>(allocs) else {
        return ESP_FAIL;
    };
    s.alloc_stat_start = a;
    ESP_OK
}

/// Releases the arrays from `heap_caps_alloc_all_task_stat_arrays`.
///
/// # Safety
/// `tasks_stat` must be NULL or hold arrays from that function (or NULL pointers).
#[no_mangle]
pub unsafe extern "C" fn heap_caps_free_all_task_stat_arrays(
    tasks_stat: *mut heap_all_tasks_stat_t,
) {
    if tasks_stat.is_null() {
        return;
    }
    // SAFETY: caller contract.
    let s = unsafe { &mut *tasks_stat };
    raw_free(s.stat_arr);
    raw_free(s.heap_stat_start);
    raw_free(s.alloc_stat_start);
    s.stat_arr = ptr::null_mut();
    s.heap_stat_start = ptr::null_mut();
    s.alloc_stat_start = ptr::null_mut();
    s.task_count = 0;
    s.heap_count = 0;
    s.alloc_count = 0;
}
