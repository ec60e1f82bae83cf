//! Builds the C shim for the variadic `heap_caps_*_prefer` functions (stable Rust cannot define
//! C variadics). For bare-metal RISC-V targets the installed `riscv64-unknown-elf-gcc` is used
//! unless `CC_<target>` is set; a bare-metal target without any C compiler builds without the
//! shim (with a warning), since ESP-IDF builds compile the component's C files themselves.

use std::env;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    println!("cargo:rerun-if-changed=src/capi/prefer.c");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=HEAPCAPS_NO_C_SHIM");
    // The ESP-IDF component compiles prefer.c itself, with the IDF's compiler and flags.
    if env::var_os("HEAPCAPS_NO_C_SHIM").is_some() {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    let bare = target.ends_with("-none-elf");
    let mut b = cc::Build::new();
    b.file("src/capi/prefer.c")
        .warnings(true)
        .extra_warnings(true);
    let cc_var = format!("CC_{}", target.replace('-', "_"));
    if bare
        && env::var_os(&cc_var).is_none()
        && env::var_os("TARGET_CC").is_none()
        && target.starts_with("riscv32")
        && have("riscv64-unknown-elf-gcc")
    {
        // cc adds -march/-mabi for the target itself.
        b.compiler("riscv64-unknown-elf-gcc");
    }
    if bare {
        // No C library headers there: the compiler's own stdint/stddef/stdarg suffice.
        b.flag("-ffreestanding");
    }
    if let Err(e) = b.try_compile("heapcaps_prefer") {
        if bare {
            println!("cargo:warning=heapcaps: no C compiler for {target}; heap_caps_*_prefer not built ({e})");
        } else {
            panic!("heapcaps: compiling src/capi/prefer.c failed: {e}");
        }
    }
}
