//! Host (Linux and other hosted targets) implementation of the platform port, over the C library.

use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};

extern "C" {
    fn write(fd: i32, buf: *const c_void, n: usize) -> isize;
    #[link_name = "abort"]
    fn c_abort() -> !;
    fn gettid() -> i32;
    // The C library's per-thread errno cell: glibc and musl export `__errno_location`, the BSD
    // family and macOS `__error`.
    #[cfg_attr(
        any(target_os = "linux", target_os = "android"),
        link_name = "__errno_location"
    )]
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android")),
        link_name = "__error"
    )]
    fn errno_cell() -> *mut i32;
}

/// Initial value of a lock's storage ({owner, count}): 0 marks a free host lock.
pub const LOCK_INIT: [u32; 2] = [0, 0];

/// The host view of a `multi_heap_lock_t`: ESP-IDF's `portMUX_TYPE` layout, `{owner, count}`.
#[repr(C)]
struct Mux {
    owner: AtomicU32,
    count: AtomicU32,
}

std::thread_local! {
    // The calling thread's id, fetched once: gettid is a system call, and every heap call takes
    // a lock (measured: one gettid per operation otherwise, ~300 ns each). Const-initialised
    // with no destructor, so it never allocates (it can run inside malloc).
    static ME: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

fn me() -> u32 {
    ME.with(|m| {
        let mut t = m.get();
        if t == 0 {
            // SAFETY: gettid has no preconditions.
            // 0 marks a free lock; thread ids are never 0, but keep the invariant explicit.
            t = unsafe { gettid() } as u32 | 0x8000_0000;
            m.set(t);
        }
        t
    })
}

#[inline(never)]
pub fn lock(lock: *mut c_void) {
    // SAFETY: a non-NULL lock given to multi_heap_set_lock points at an 8-byte, 4-aligned
    // portMUX_TYPE that outlives the heap (ESP-IDF's contract); atomics make shared use sound.
    let m = unsafe { &*(lock as *const Mux) };
    let id = me();
    if m.owner.load(Ordering::Relaxed) == id {
        m.count.fetch_add(1, Ordering::Relaxed);
        return;
    }
    while m
        .owner
        .compare_exchange_weak(0, id, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        <spin::relax::Spin as spin::RelaxStrategy>::relax();
    }
    m.count.store(1, Ordering::Relaxed);
}

#[inline(never)]
pub fn unlock(lock: *mut c_void) {
    // SAFETY: as in `lock`.
    let m = unsafe { &*(lock as *const Mux) };
    if m.count.fetch_sub(1, Ordering::Relaxed) == 1 {
        m.owner.store(0, Ordering::Release);
    }
}

fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid slice for the length passed.
        let n = unsafe { write(fd, bytes.as_ptr() as *const c_void, bytes.len()) };
        if n <= 0 {
            return;
        }
        // (`get`: no panic path, so reports cannot unwind through a held heap lock.)
        bytes = bytes.get(n as usize..).unwrap_or_default();
    }
}

pub fn write_err(bytes: &[u8]) {
    write_all(2, bytes)
}

pub fn write_out(bytes: &[u8]) {
    write_all(1, bytes)
}

pub fn abort() -> ! {
    // SAFETY: abort has no preconditions.
    unsafe { c_abort() }
}

pub fn task_handle() -> *mut c_void {
    // The calling thread stands in for the task.
    me() as usize as *mut c_void
}

pub fn set_errno(code: i32) {
    // SAFETY: the C library returns a valid pointer to the calling thread's errno.
    unsafe { *errno_cell() = code }
}

extern "C" {
    fn memfd_create(name: *const u8, flags: u32) -> i32;
    fn ftruncate(fd: i32, len: isize) -> i32;
    fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: i32,
        flags: i32,
        fd: i32,
        off: isize,
    ) -> *mut c_void;
    fn close(fd: i32) -> i32;
}

extern "C" {
    fn getenv(name: *const core::ffi::c_char) -> *const core::ffi::c_char;
}

/// The value of environment variable `name`, read without allocating (the heap may be booting
/// from inside `malloc`).
pub fn env(name: &core::ffi::CStr) -> Option<&'static [u8]> {
    // SAFETY: `name` is NUL-terminated; getenv returns NULL or a NUL-terminated string that
    // stays valid while the environment is not modified (the program's start-up environment).
    unsafe {
        let v = getenv(name.as_ptr());
        (!v.is_null()).then(|| core::ffi::CStr::from_ptr(v).to_bytes())
    }
}

const PROT_RW: i32 = 3;
const MAP_PRIVATE: i32 = 2;
const MAP_ANONYMOUS: i32 = 0x20;
const MAP_NORESERVE: i32 = 0x4000;

/// Maps `len` bytes of zeroed private memory without reserving swap for it up front.
pub fn map_private(len: usize) -> Option<*mut u8> {
    // SAFETY: an anonymous mapping at an address of the kernel's choice; the result is checked.
    let a = unsafe {
        mmap(
            core::ptr::null_mut(),
            len,
            PROT_RW,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1,
            0,
        )
    };
    (a as usize != MAP_FAILED).then_some(a as *mut u8)
}
const MAP_SHARED: i32 = 1;
const MAP_FAILED: usize = usize::MAX;

/// Maps `len` bytes of zeroed shared memory and, when `alias_len > 0`, a second view of
/// `[alias_off, alias_off + alias_len)` of the same pages (page-aligned offset). Returns the two
/// addresses (the second is NULL without an alias). The memory is never unmapped.
pub fn map_memory(len: usize, alias_off: usize, alias_len: usize) -> Option<(*mut u8, *mut u8)> {
    // SAFETY: plain system calls; the name is NUL-terminated; results are checked.
    unsafe {
        let fd = memfd_create(c"heapcaps-sim".as_ptr() as *const u8, 0);
        if fd < 0 {
            return None;
        }
        if ftruncate(fd, len as isize) != 0 {
            close(fd);
            return None;
        }
        let a = mmap(core::ptr::null_mut(), len, PROT_RW, MAP_SHARED, fd, 0);
        if a as usize == MAP_FAILED {
            close(fd);
            return None;
        }
        let mut b = core::ptr::null_mut();
        if alias_len > 0 {
            b = mmap(
                core::ptr::null_mut(),
                alias_len,
                PROT_RW,
                MAP_SHARED,
                fd,
                alias_off as isize,
            );
            if b as usize == MAP_FAILED {
                close(fd);
                return None;
            }
        }
        close(fd);
        Some((a as *mut u8, b as *mut u8))
    }
}

extern "C" {
    fn fwrite(p: *const c_void, size: usize, n: usize, stream: *mut c_void) -> usize;
}

#[cfg(feature = "HEAP_TASK_TRACKING")]
extern "C" {
    fn pthread_self() -> usize;
    fn pthread_getname_np(thread: usize, name: *mut u8, len: usize) -> i32;
}

/// The calling thread's name (the thread stands in for the task; `handle` is always the caller).
#[cfg(feature = "HEAP_TASK_TRACKING")]
pub fn task_name(_handle: *mut c_void, out: &mut [u8]) {
    if out.is_empty() {
        return;
    }
    out[0] = 0;
    // SAFETY: `out` is writable for its length; glibc writes at most that many bytes, NUL included.
    let r = unsafe { pthread_getname_np(pthread_self(), out.as_mut_ptr(), out.len()) };
    if r != 0 {
        out[0] = 0;
    }
    if let Some(last) = out.last_mut() {
        *last = 0;
    }
}

pub fn write_file(stream: *mut c_void, bytes: &[u8]) {
    // SAFETY: the caller passes a valid `FILE *` from C.
    unsafe { fwrite(bytes.as_ptr() as *const c_void, 1, bytes.len(), stream) };
}
