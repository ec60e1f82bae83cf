# heapcaps as ESP-IDF's `heap` component (included from the root CMakeLists.txt when ESP_PLATFORM
# is set). Registers the same public include directory as ESP-IDF's heap component, compiles the C
# shims with the IDF toolchain and flags (they are ordinary component sources), and links the
# Rust staticlib that cargo builds for the app's target with the features sdkconfig selects.

include("${CMAKE_CURRENT_LIST_DIR}/heapcaps_cargo.cmake")

idf_build_get_property(target IDF_TARGET)

# Kconfig options that are cargo features of the same name (Cargo.toml [features]).
set(HEAPCAPS_KCONFIG_FEATURES
    HEAP_POISONING_DISABLED HEAP_POISONING_LIGHT HEAP_POISONING_COMPREHENSIVE
    HEAP_TRACING_STANDALONE HEAP_TRACE_HASH_MAP
    HEAP_USE_HOOKS HEAP_TASK_TRACKING HEAP_TRACK_DELETED_TASKS
    HEAP_ABORT_WHEN_ALLOCATION_FAILS HEAP_PLACE_FUNCTION_INTO_FLASH HEAP_HAS_EXEC_HEAP
    COMPILER_OPTIMIZATION_ASSERTIONS_SILENT COMPILER_OPTIMIZATION_SIZE FREERTOS_UNICORE)

# The C shims: `*_prefer` variadics and hooks.c (user hook calls, trace caller frames), which
# build.rs compiles outside ESP-IDF (HEAPCAPS_NO_C_SHIM below turns that off; tests/idf_component.rs
# checks that this list has every file build.rs compiles), and the ESP-IDF platform port
# (FreeRTOS, ROM printf, startup hook).
set(srcs "${HEAPCAPS_ROOT}/src/capi/prefer.c" "${HEAPCAPS_ROOT}/src/capi/hooks.c")
set(priv_requires)
set(ldfragments)
if(NOT target STREQUAL "linux")
    # No linker scripts are generated for the linux target.
    set(ldfragments "${HEAPCAPS_ROOT}/linker.lf")
    list(APPEND srcs "${HEAPCAPS_ROOT}/port/esp_idf/heapcaps_port.c")
    # The chip's memory layout tables (types, regions, reserved ranges) that heap_caps_init reads.
    # ESP-IDF keeps them in its heap component, which this one replaces, so heapcaps has its own,
    # one file per target. Without one the app would not link: stop here with the reason instead.
    set(layout "${HEAPCAPS_ROOT}/port/esp_idf/memory_layout/${target}.c")
    if(NOT EXISTS "${layout}")
        file(GLOB have RELATIVE "${HEAPCAPS_ROOT}/port/esp_idf/memory_layout"
             "${HEAPCAPS_ROOT}/port/esp_idf/memory_layout/esp*.c")
        string(REPLACE ".c" "" have "${have}")
        string(REPLACE ";" ", " have "${have}")
        message(FATAL_ERROR "heapcaps has no memory layout for IDF_TARGET ${target}: "
            "port/esp_idf/memory_layout/${target}.c is missing (the soc_memory_types and "
            "soc_memory_regions tables and reserved ranges that ESP-IDF's heap component keeps in "
            "port/${target}/memory_layout.c). Targets with a layout: ${have}. "
            "See docs/esp-idf-component.md.")
    endif()
    list(APPEND srcs "${layout}")
    # ESP-IDF's heap needs soc and esp_system; the shim also calls into these common components.
    set(priv_requires soc esp_system esp_hw_support esp_rom freertos)
endif()

# (Paths are absolute: idf_component_register resolves relative ones against the directory of
# the calling list file, which is cmake/ here.)
# Public include directory: the same layout as ESP-IDF's heap ("include", with esp_heap_caps.h,
# multi_heap.h, esp_heap_caps_init.h, ...). ESP-IDF also exports "tlsf" (for its ROM patches)
# and has private includes; heapcaps needs neither (no ROM TLSF, no C internals).
idf_component_register(SRCS ${srcs}
                       INCLUDE_DIRS "${HEAPCAPS_ROOT}/include"
                       LDFRAGMENTS ${ldfragments}
                       PRIV_REQUIRES ${priv_requires})

# hooks.c: the same switches build.rs sets from the cargo features.
if(CONFIG_HEAP_USE_HOOKS)
    target_compile_definitions(${COMPONENT_LIB} PRIVATE HEAPCAPS_HOOKS)
endif()
if(CONFIG_HEAP_TRACING_STANDALONE)
    target_compile_definitions(${COMPONENT_LIB} PRIVATE HEAPCAPS_TRACE)
endif()

if(CMAKE_BUILD_EARLY_EXPANSION)
    # First pass (requirements only): no cargo yet.
    return()
endif()

heapcaps_rust_target("${target}" triple toolchain)
heapcaps_check_rust_target("${triple}" "${toolchain}" build_std)

set(features)
foreach(opt IN LISTS HEAPCAPS_KCONFIG_FEATURES)
    if(CONFIG_${opt})
        list(APPEND features ${opt})
    endif()
endforeach()
# ESP-IDF's project-wide assertion level (COMPILER_OPTIMIZATION_ASSERTIONS_SILENT is in the list
# above: short fatal messages). "Disabled" (NDEBUG) removes ESP-IDF's heap checks altogether;
# heapcaps keeps its checks (an invalid free still aborts) and takes the short messages.
if(CONFIG_COMPILER_OPTIMIZATION_ASSERTIONS_DISABLE)
    list(APPEND features COMPILER_OPTIMIZATION_ASSERTIONS_SILENT)
endif()
if(target STREQUAL "linux" AND CONFIG_HEAPCAPS_LINUX_C_MALLOC)
    # On the linux target there is no esp_libc malloc() calling heap_caps_malloc_default();
    # heapcaps itself provides malloc & co. so that malloc() and heap_caps_*() share one heap.
    list(APPEND features c-malloc)
endif()

# The C compiler of this IDF build for anything the cc crate compiles (build.rs). The shims
# themselves are component sources above (built with IDF's flags and include directories), so
# build.rs is told not to compile prefer.c a second time.
string(REPLACE "-" "_" triple_us "${triple}")
set(env
    "CC_${triple_us}=${CMAKE_C_COMPILER}"
    "AR_${triple_us}=${CMAKE_AR}"
    "HEAPCAPS_NO_C_SHIM=1")

set(cargo_args TRIPLE "${triple}" TOOLCHAIN "${toolchain}"
    TARGET_DIR "${CMAKE_BINARY_DIR}/heapcaps_cargo" FEATURES ${features} ENV ${env})
if(CONFIG_COMPILER_OPTIMIZATION_SIZE AND NOT target STREQUAL "linux")
    # "Optimize for size" (-Os with GCC, -Oz with Clang): rustc's equivalent of -Oz
    # (Cargo.toml [profile.release-size]). Other levels build the release profile (opt-level s).
    list(APPEND cargo_args PROFILE release-size)
endif()
if(build_std)
    list(APPEND cargo_args BUILD_STD)
endif()
heapcaps_cargo_staticlib(heapcaps_rust ${cargo_args})

# The Rust archive calls back into the shims (heapcaps_port_*, heapcaps_*_prefer users) in this
# component's library, so each lists the other: CMake repeats the pair on the link line.
set_property(TARGET heapcaps_rust APPEND PROPERTY INTERFACE_LINK_LIBRARIES ${COMPONENT_LIB})
if(target STREQUAL "linux")
    # The host staticlib contains Rust's std, which needs these system libraries.
    set_property(TARGET heapcaps_rust APPEND PROPERTY INTERFACE_LINK_LIBRARIES pthread dl m)
endif()
target_link_libraries(${COMPONENT_LIB} INTERFACE heapcaps_rust)

if(NOT target STREQUAL "linux")
    # The shim's startup hook (ESP_SYSTEM_INIT_FN) lives in an object nothing else may pull in
    # before the Rust archive is scanned: keep it with an explicit undefined symbol.
    target_link_libraries(${COMPONENT_LIB} INTERFACE "-u heapcaps_port_include")
endif()

if(CONFIG_HEAP_TRACING_TOHOST)
    # Same interposition points as ESP-IDF's heap for a host-based tracer, which must define the
    # __wrap_ functions (ESP-IDF's standalone tracer defines them in its heap component). Not for
    # HEAP_TRACING_STANDALONE: heapcaps records inside the library itself, and with nobody
    # defining __wrap_heap_caps_free & co. every app using malloc/free would fail to link. Note
    # that --wrap only redirects calls made from other objects, not calls inside the Rust archive
    # (one object after LTO).
    foreach(wrap heap_caps_realloc_base heap_caps_malloc_base heap_caps_calloc_base
                 heap_caps_aligned_alloc_base heap_caps_free)
        target_link_libraries(${COMPONENT_LIB} INTERFACE "-Wl,--wrap=${wrap}")
    endforeach()
endif()
