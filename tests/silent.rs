//! `COMPILER_OPTIMIZATION_ASSERTIONS_SILENT`: fatal heap errors print one short line naming the
//! address (`CORRUPT HEAP: detected at 0x...`) instead of the full explanation, and still abort.
//! Run both ways: `cargo test --test silent` checks the full messages, `cargo test --test silent
//! --features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT` the short ones.
//!
//! Each scenario runs in a child process (this binary re-run with one test selected) so that the
//! abort and the text written straight to fd 2 can be observed.

use std::process::Command;

use heapcaps::caps::Registry;
use heapcaps::multi_heap::MultiHeap;

const SILENT: bool = cfg!(feature = "COMPILER_OPTIMIZATION_ASSERTIONS_SILENT");

fn hex(p: usize) -> String {
    format!("0x{p:08x}")
}

fn in_child() -> bool {
    std::env::var_os("HEAPCAPS_SILENT_CHILD").is_some()
}

/// Runs test `name` in a child; returns (exited successfully, stderr).
fn child(name: &str) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("HEAPCAPS_SILENT_CHILD", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The address the child announced with `eprintln!("AT={:#x}")`.
fn told(err: &str) -> usize {
    let at = err.find("AT=0x").expect("child announced the address") + 5;
    let hex: String = err[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    usize::from_str_radix(&hex, 16).unwrap()
}

fn heap() -> MultiHeap {
    let mem: &'static mut [u32] = Box::leak(vec![0u32; 1024].into_boxed_slice());
    // SAFETY: leaked memory, used for nothing else.
    unsafe { MultiHeap::register(mem.as_mut_ptr() as *mut u8, 4096) }.expect("register")
}

/// Asserts the abort and the message form of this build: `long` (the full text) without the
/// feature, the short line naming `p` with it.
fn assert_fatal(ok: bool, err: &str, p: usize, long: &str) {
    assert!(!ok, "the child must abort:\n{err}");
    assert!(!err.contains("STILL RUNNING"), "{err}");
    let short = format!("CORRUPT HEAP: detected at {}\n", hex(p));
    if SILENT {
        assert!(err.contains(&short), "{err}");
        assert!(!err.contains(long), "{err}");
    } else {
        assert!(err.contains(long), "{err}");
        assert!(!err.contains("detected at"), "{err}");
    }
}

#[test]
fn double_free() {
    if in_child() {
        let h = heap();
        let p = h.malloc(24);
        eprintln!("AT={:#x}", p as usize);
        h.free(p);
        h.free(p);
        eprintln!("STILL RUNNING");
        return;
    }
    let (ok, err) = child("double_free");
    let p = told(&err);
    let long = format!(
        "CORRUPT HEAP: free({}): pointer {} is not allocated (double free?)",
        hex(p),
        hex(p)
    );
    assert_fatal(ok, &err, p, &long);
}

#[test]
fn realloc_of_interior_pointer() {
    if in_child() {
        let h = heap();
        let p = h.malloc(64).wrapping_add(16);
        eprintln!("AT={:#x}", p as usize);
        h.realloc(p, 100);
        eprintln!("STILL RUNNING");
        return;
    }
    let (ok, err) = child("realloc_of_interior_pointer");
    let p = told(&err);
    let long = format!(
        "CORRUPT HEAP: realloc({}): pointer {} has no valid block header",
        hex(p),
        hex(p)
    );
    assert_fatal(ok, &err, p, &long);
}

#[test]
fn free_outside_every_heap() {
    if in_child() {
        let r: &'static Registry = Box::leak(Box::new(Registry::new()));
        let other: &'static mut [u32] = Box::leak(vec![0u32; 16].into_boxed_slice());
        let p = other.as_mut_ptr() as *mut u8;
        eprintln!("AT={:#x}", p as usize);
        // SAFETY: deliberately invalid: the registry aborts before touching anything.
        unsafe { r.free(p) };
        eprintln!("STILL RUNNING");
        return;
    }
    let (ok, err) = child("free_outside_every_heap");
    let p = told(&err);
    let long = format!(
        "CORRUPT HEAP: heap_caps_free({}): pointer is outside heap areas",
        hex(p)
    );
    assert_fatal(ok, &err, p, &long);
}

/// A query answers rather than aborts, in both forms; and asked-for diagnostics keep their text.
#[test]
fn check_output_keeps_its_text() {
    if in_child() {
        let h = heap();
        let p = h.malloc(64);
        // Smash the block's size word: the integrity check reports it in full either way.
        // SAFETY: the header word in front of a live block of this test's own heap.
        unsafe { (p.sub(4 + heapcaps::poison::HEAD) as *mut u32).write_unaligned(0x7fff_fff0) };
        eprintln!("CHECK={}", h.check(true));
        return;
    }
    let (ok, err) = child("check_output_keeps_its_text");
    assert!(ok, "{err}");
    assert!(err.contains("CHECK=false"), "{err}");
    assert!(err.contains("CORRUPT HEAP: bad block size at 0x"), "{err}");
}
