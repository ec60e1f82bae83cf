//! `HEAP_ABORT_WHEN_ALLOCATION_FAILS`: a failed allocation runs the callback, then aborts with
//! ESP-IDF's message. Run with `cargo test --features HEAP_ABORT_WHEN_ALLOCATION_FAILS --test
//! abort` (other test files expect failed allocations to return NULL, so only this one).

#[cfg(feature = "HEAP_ABORT_WHEN_ALLOCATION_FAILS")]
#[test]
fn failed_allocation_aborts_with_message() {
    use heapcaps::caps::Registry;
    if std::env::var_os("HEAPCAPS_ABORT_CHILD").is_some() {
        let r: &'static Registry = Box::leak(Box::new(Registry::new()));
        r.set_failed_alloc_hook(|_, _, f| eprintln!("callback from {}", f.to_str().unwrap()));
        r.malloc(0x10, 0x1800); // no heaps: fails
        unreachable!("allocation failure must abort");
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "failed_allocation_aborts_with_message",
            "--nocapture",
        ])
        .env("HEAPCAPS_ABORT_CHILD", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let cb = err
        .find("callback from heap_caps_malloc")
        .expect("callback ran");
    let msg = err
        .find("Mem alloc fail. size 0x00000010 caps 0x00001800")
        .expect("abort message");
    assert!(cb < msg, "callback runs before the abort");
}
