//! heapcaps' public headers as ESP-IDF components include them: tests/idf_headers/consumer.c is
//! built with ESP_PLATFORM and stand-ins for the ESP-IDF headers they pull in (sdkconfig.h,
//! esp_attr.h, esp_err.h, esp_memory_utils.h), with -Werror, for 32- and 64-bit x86 and with
//! HEAP_PLACE_FUNCTION_INTO_FLASH off and on, then run. A chip build of ESP-IDF needs an ESP
//! toolchain; this is the part of it that a host can check.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn build_and_run(arch: &[&str], config: &[&str], tag: &str) {
    let dir = root().join("tests/idf_headers");
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("idf-headers-{tag}"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let out = Command::new(&cc)
        .args(arch)
        .args([
            "-std=gnu11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-DESP_PLATFORM",
        ])
        .args(config)
        .arg("-I")
        .arg(dir.join("stub"))
        .arg("-I")
        .arg(root().join("include"))
        .arg(dir.join("consumer.c"))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(
        out.status.success(),
        "consumer.c ({tag}) does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = Command::new(&exe).status().expect("run consumer");
    assert!(status.success(), "consumer ({tag}) failed: {status}");
}

#[test]
fn headers_compile_as_esp_idf_components_use_them() {
    for (arch, a) in [(&[][..], "native"), (&["-m32"][..], "m32")] {
        build_and_run(arch, &[], &format!("{a}-iram"));
        build_and_run(
            arch,
            &["-DCONFIG_HEAP_PLACE_FUNCTION_INTO_FLASH=1"],
            &format!("{a}-flash"),
        );
    }
}
