//! The ESP-IDF component (cmake/heapcaps_idf.cmake) against build.rs: inside ESP-IDF, build.rs
//! compiles no C (HEAPCAPS_NO_C_SHIM) because the component compiles the shims itself, so every
//! C file build.rs compiles must be a source of the component too. hooks.c was not, and an ESP-IDF
//! app with HEAP_USE_HOOKS or HEAP_TRACING_STANDALONE did not link (heapcaps_call_alloc_hook,
//! heapcaps_trace_callers undefined).

use std::path::Path;

fn read(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The string arguments of every `.file("...")` call in `src`.
fn files_compiled(src: &str) -> Vec<String> {
    src.split(".file(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn component_compiles_every_c_shim_build_rs_compiles() {
    let shims = files_compiled(&read("build.rs"));
    assert!(
        shims.iter().any(|f| f == "src/capi/prefer.c"),
        "build.rs no longer names its C files as .file(\"...\"): {shims:?}"
    );
    let cmake = read("cmake/heapcaps_idf.cmake");
    let missing: Vec<_> = shims
        .iter()
        .filter(|f| !cmake.contains(&format!("${{HEAPCAPS_ROOT}}/{f}")))
        .collect();
    assert!(
        missing.is_empty(),
        "cmake/heapcaps_idf.cmake does not compile {missing:?}, which build.rs leaves to it"
    );
    // Their code runs in the allocation path: placed in IRAM like the other shims.
    let lf = read("linker.lf");
    for f in &shims {
        let stem = Path::new(f)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        assert!(
            lf.contains(&format!("{stem} (noflash)")),
            "linker.lf does not place {stem} in IRAM"
        );
    }
}
