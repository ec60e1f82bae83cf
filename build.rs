//! Builds the C shims: the variadic `heap_caps_*_prefer` functions (stable Rust cannot define
//! C variadics) and `hooks.c` (weak `esp_heap_trace_*_hook` references and caller capture for heap
//! tracing; stable Rust cannot declare weak symbols). Also writes `heapcaps_config.rs` with the
//! integer Kconfig options, read from the environment at build time:
//! `CONFIG_HEAP_TRACING_STACK_DEPTH` (0..=32, default 2 as in Kconfig) and
//! `CONFIG_HEAP_TRACE_HASH_MAP_SIZE` (default 512). For bare-metal RISC-V targets the installed `riscv64-unknown-elf-gcc` is used
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

/// An integer build option from the environment, checked against its range.
fn int_option(name: &str, default: usize, min: usize, max: usize) -> usize {
    println!("cargo:rerun-if-env-changed={name}");
    let v = match env::var(name) {
        Ok(s) => s
            .trim()
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("heapcaps: {name}={s:?} is not a number")),
        Err(_) => default,
    };
    assert!(
        (min..=max).contains(&v),
        "heapcaps: {name}={v} is outside {min}..={max}"
    );
    v
}

fn main() {
    // `heapcaps_flash_first`: the chips' build for a project optimised for size, which keeps one
    // copy of the paths other builds inline (one name for what the attributes would spell out).
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none")
        && env::var_os("CARGO_FEATURE_COMPILER_OPTIMIZATION_SIZE").is_some()
    {
        println!("cargo:rustc-cfg=heapcaps_flash_first");
    }
    println!("cargo:rerun-if-changed=src/capi/prefer.c");
    println!("cargo:rerun-if-changed=src/capi/hooks.c");
    let depth = int_option("CONFIG_HEAP_TRACING_STACK_DEPTH", 2, 0, 32);
    let map_size = int_option("CONFIG_HEAP_TRACE_HASH_MAP_SIZE", 512, 1, 1 << 20);
    let out = env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(
        std::path::Path::new(&out).join("heapcaps_config.rs"),
        format!(
            "/// `CONFIG_HEAP_TRACING_STACK_DEPTH`: caller frames kept per trace record.\n\
             pub const STACK_DEPTH: usize = {depth};\n\
             /// `CONFIG_HEAP_TRACE_HASH_MAP_SIZE`: buckets of the trace hash map.\n\
             pub const HASH_MAP_SIZE: usize = {map_size};\n"
        ),
    )
    .expect("write heapcaps_config.rs");
    // A symbol named after the trace record layout; esp_heap_trace.h references the name built
    // from the macros the C code sees, so a mismatch fails to link instead of corrupting memory.
    let hash = env::var_os("CARGO_FEATURE_HEAP_TRACE_HASH_MAP").is_some() as u8;
    std::fs::write(
        std::path::Path::new(&out).join("heapcaps_trace_layout.rs"),
        format!(
            "/// Link-time check of the record layout (depth {depth}, hash map {hash}).\n\
             #[allow(non_upper_case_globals)]\n\
             #[no_mangle]\n\
             pub static heapcaps_trace_layout_d{depth}_h{hash}: u8 = 0;\n"
        ),
    )
    .expect("write heapcaps_trace_layout.rs");
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
        .file("src/capi/hooks.c")
        .define("HEAPCAPS_STACK_DEPTH", depth.to_string().as_str())
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
    if env::var_os("CARGO_FEATURE_HEAP_USE_HOOKS").is_some() {
        b.define("HEAPCAPS_HOOKS", None);
    }
    if env::var_os("CARGO_FEATURE_HEAP_TRACING_STANDALONE").is_some() {
        b.define("HEAPCAPS_TRACE", None);
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
