# Helpers shared by the two ways of building heapcaps with CMake (plain host project and ESP-IDF
# component): find cargo, map an ESP-IDF target to a Rust triple, and build the crate's staticlib
# with `cargo rustc --crate-type staticlib` as an imported library.
#
# No ExternalProject: one custom target runs cargo on every build (cargo itself decides whether
# anything changed, in well under a second when nothing did) and declares the archive as its
# byproduct, so Ninja and Make both order the link after it.

get_filename_component(HEAPCAPS_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# The ONE table from IDF_TARGET to Rust target triple (and the rustup toolchain that has it).
# linux maps to the triple of the machine the IDF build compiles for (see heapcaps_host_triple).
#   target     triple                              toolchain
set(HEAPCAPS_TARGET_TABLE
    "esp32c2   riscv32imc-unknown-none-elf         default"
    "esp32c3   riscv32imc-unknown-none-elf         default"
    "esp32c5   riscv32imac-unknown-none-elf        default"
    "esp32c6   riscv32imac-unknown-none-elf        default"
    "esp32c61  riscv32imac-unknown-none-elf        default"
    "esp32h2   riscv32imac-unknown-none-elf        default"
    "esp32h4   riscv32imac-unknown-none-elf        default"
    "esp32p4   riscv32imafc-unknown-none-elf       default"
    "esp32     xtensa-esp32-none-elf               esp"
    "esp32s2   xtensa-esp32s2-none-elf             esp"
    "esp32s3   xtensa-esp32s3-none-elf             esp"
)

# Finds cargo and rustc (PATH, then $CARGO_HOME/bin, then ~/.cargo/bin) or stops with a clear error.
function(heapcaps_find_cargo)
    if(HEAPCAPS_CARGO AND HEAPCAPS_RUSTC)
        return()
    endif()
    set(hints "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
    find_program(HEAPCAPS_CARGO cargo HINTS ${hints})
    find_program(HEAPCAPS_RUSTC rustc HINTS ${hints})
    find_program(HEAPCAPS_RUSTUP rustup HINTS ${hints})
    if(NOT HEAPCAPS_CARGO OR NOT HEAPCAPS_RUSTC)
        message(FATAL_ERROR
            "heapcaps: cargo/rustc not found. heapcaps is written in Rust; install it with rustup "
            "(https://rustup.rs) and make sure `cargo` is on PATH (or in $CARGO_HOME/bin).")
    endif()
endfunction()

# The Rust triple for the C compiler of this CMake project on a host (x86_64 or i686 Linux, ...),
# taken from rustc's host triple and narrowed to 32 bits when the C compiler produces 32-bit code.
function(heapcaps_host_triple out)
    heapcaps_find_cargo()
    execute_process(COMMAND "${HEAPCAPS_RUSTC}" -vV OUTPUT_VARIABLE vv RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT vv MATCHES "host: ([^\n]+)")
        message(FATAL_ERROR "heapcaps: `rustc -vV` failed; is the Rust toolchain installed?")
    endif()
    set(triple "${CMAKE_MATCH_1}")
    if(CMAKE_SIZEOF_VOID_P EQUAL 4 AND triple MATCHES "^x86_64-(.*)$")
        set(triple "i686-${CMAKE_MATCH_1}")
    endif()
    set(${out} "${triple}" PARENT_SCOPE)
endfunction()

# heapcaps_rust_target(<idf_target> <triple_var> <toolchain_var>)
function(heapcaps_rust_target idf_target triple_out toolchain_out)
    if(idf_target STREQUAL "linux")
        heapcaps_host_triple(triple)
        set(${triple_out} "${triple}" PARENT_SCOPE)
        set(${toolchain_out} "default" PARENT_SCOPE)
        return()
    endif()
    foreach(row IN LISTS HEAPCAPS_TARGET_TABLE)
        string(REGEX REPLACE " +" ";" row "${row}")
        list(GET row 0 t)
        if(t STREQUAL idf_target)
            list(GET row 1 triple)
            list(GET row 2 tc)
            set(${triple_out} "${triple}" PARENT_SCOPE)
            set(${toolchain_out} "${tc}" PARENT_SCOPE)
            return()
        endif()
    endforeach()
    message(FATAL_ERROR "heapcaps: no Rust target known for IDF_TARGET=${idf_target}. "
        "Add it to HEAPCAPS_TARGET_TABLE in cmake/heapcaps_cargo.cmake.")
endfunction()

# Checks that the Rust standard library (core) for `triple` is installed in `toolchain` and stops
# with the command that installs it otherwise. Sets <build_std_var> when the target has no
# prebuilt core and must be built with -Zbuild-std (the esp toolchain's Xtensa targets may).
function(heapcaps_check_rust_target triple toolchain build_std_out)
    heapcaps_find_cargo()
    set(rustc_cmd "${HEAPCAPS_RUSTC}")
    if(NOT toolchain STREQUAL "default")
        if(NOT HEAPCAPS_RUSTUP)
            message(FATAL_ERROR "heapcaps: ${triple} needs the `${toolchain}` Rust toolchain "
                "through rustup, and rustup was not found. For Xtensa chips install it with espup "
                "(https://github.com/esp-rs/espup): `espup install`.")
        endif()
        execute_process(COMMAND "${HEAPCAPS_RUSTUP}" run "${toolchain}" rustc --version
            RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
        if(NOT rc EQUAL 0)
            message(FATAL_ERROR "heapcaps: the `${toolchain}` Rust toolchain is not installed; "
                "${triple} needs it. Install it with espup (`cargo install espup && espup install`) "
                "and source its export file.")
        endif()
        set(rustc_cmd "${HEAPCAPS_RUSTUP}" run "${toolchain}" rustc)
    endif()
    execute_process(COMMAND ${rustc_cmd} --print target-list OUTPUT_VARIABLE targets RESULT_VARIABLE rc)
    string(REPLACE "\n" ";" targets "${targets}")
    list(FIND targets "${triple}" idx)
    if(NOT rc EQUAL 0 OR idx EQUAL -1)
        message(FATAL_ERROR "heapcaps: the Rust compiler (toolchain `${toolchain}`) does not know "
            "the target ${triple}.")
    endif()
    execute_process(COMMAND ${rustc_cmd} --print sysroot OUTPUT_VARIABLE sysroot
        OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(build_std OFF)
    if(NOT IS_DIRECTORY "${sysroot}/lib/rustlib/${triple}/lib")
        if(toolchain STREQUAL "default")
            message(FATAL_ERROR "heapcaps: the Rust standard library for ${triple} is not installed. "
                "Run: rustup target add ${triple}")
        endif()
        if(NOT IS_DIRECTORY "${sysroot}/lib/rustlib/src/rust/library")
            message(FATAL_ERROR "heapcaps: toolchain `${toolchain}` has neither a prebuilt core for "
                "${triple} nor rust-src to build it. Run: rustup component add rust-src --toolchain ${toolchain}")
        endif()
        set(build_std ON)
    endif()
    set(${build_std_out} ${build_std} PARENT_SCOPE)
endfunction()

# heapcaps_cargo_staticlib(<name>
#     TRIPLE <triple> TARGET_DIR <dir> [TOOLCHAIN <tc>] [BUILD_STD] [PROFILE <cargo profile>]
#     [FEATURES <f>...] [ENV <VAR=value>...])
# Defines target <name>_cargo (runs cargo) and the imported static library <name>. PROFILE
# defaults to `release` (Cargo.toml [profile.*]).
function(heapcaps_cargo_staticlib name)
    cmake_parse_arguments(A "BUILD_STD" "TRIPLE;TARGET_DIR;TOOLCHAIN;PROFILE" "FEATURES;ENV" ${ARGN})
    if(NOT A_PROFILE)
        set(A_PROFILE release)
    endif()
    heapcaps_find_cargo()
    set(cargo "${HEAPCAPS_CARGO}")
    if(A_TOOLCHAIN AND NOT A_TOOLCHAIN STREQUAL "default")
        set(cargo "${HEAPCAPS_RUSTUP}" run "${A_TOOLCHAIN}" cargo)
    endif()
    set(args rustc --profile ${A_PROFILE} --quiet --crate-type staticlib
        --manifest-path "${HEAPCAPS_ROOT}/Cargo.toml"
        --target "${A_TRIPLE}" --target-dir "${A_TARGET_DIR}")
    if(A_FEATURES)
        list(JOIN A_FEATURES "," f)
        list(APPEND args --features "${f}")
    endif()
    if(A_BUILD_STD)
        list(APPEND args -Zbuild-std=core)
    endif()
    set(lib "${A_TARGET_DIR}/${A_TRIPLE}/${A_PROFILE}/libheapcaps.a")
    add_custom_target(${name}_cargo ALL
        COMMAND "${CMAKE_COMMAND}" -E env ${A_ENV} ${cargo} ${args}
        BYPRODUCTS "${lib}"
        WORKING_DIRECTORY "${HEAPCAPS_ROOT}"
        COMMENT "cargo: libheapcaps.a for ${A_TRIPLE} [${f}]"
        USES_TERMINAL VERBATIM)
    add_library(${name} STATIC IMPORTED GLOBAL)
    set_target_properties(${name} PROPERTIES IMPORTED_LOCATION "${lib}")
    add_dependencies(${name} ${name}_cargo)
endfunction()
