//! A tiny text builder for diagnostics, so that the heap never pulls in `core::fmt`.
//!
//! Lines are assembled in a fixed stack buffer and handed to the platform port in one piece.
//! Messages with values go through [`say!`]: a C printf format with word arguments, which the
//! chips hand to ESP-IDF's ROM printf (as ESP-IDF's heap does: no formatting code in flash) and
//! hosts format with [`Line::f`]. The pieces ([`Line::s`], [`Line::dec`], ...) serve the
//! debugging features' reports.

use core::ffi::{c_char, CStr};
use core::mem::MaybeUninit;
use core::num::NonZeroUsize;

use crate::port;

/// `COMPILER_OPTIMIZATION_ASSERTIONS_SILENT` (ESP-IDF's "silent assertions" level, which also
/// covers `COMPILER_OPTIMIZATION_ASSERTIONS_DISABLE` builds through the component's CMake):
/// fatal heap errors (invalid free or realloc, broken canaries, a pointer outside every heap)
/// print one fixed line naming the address, [`fatal_at`], instead of the full explanation.
/// The checks themselves stay. Diagnostics that were asked for (integrity checks with
/// `print_errors`, dumps, summaries) keep their text.
pub const SHORT_FATAL: bool = cfg!(feature = "COMPILER_OPTIMIZATION_ASSERTIONS_SILENT");

/// A `&'static CStr` from a string literal, kept in a static of its own. A `c"..."` literal
/// lands in the one section of mergeable C strings (`.rodata.str1.1`) that all of them share,
/// which the linker keeps whole as soon as any of them is used; a static gets its own section,
/// which `--gc-sections` drops when nothing refers to it.
macro_rules! cstr {
    ($s:literal) => {{
        const S: &str = concat!($s, "\0");
        static A: [u8; S.len()] = $crate::text::nul_terminated(S);
        // (The macro may be used inside an unsafe block.)
        #[allow(unused_unsafe)]
        let c: &'static ::core::ffi::CStr = {
            // SAFETY: `nul_terminated` checked (at compile time) that the one NUL of `A` ends it.
            unsafe { ::core::ffi::CStr::from_bytes_with_nul_unchecked(&A) }
        };
        c
    }};
}
pub(crate) use cstr;

/// The bytes of `s` as an array, checking that its only NUL is the last byte (for [`cstr!`]).
pub const fn nul_terminated<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    assert!(b.len() == N && N > 0);
    let mut a = [0u8; N];
    let mut i = 0;
    while i < N {
        assert!(
            (b[i] == 0) == (i == N - 1),
            "a C string has one NUL, at its end"
        );
        a[i] = b[i];
        i += 1;
    }
    a
}

/// Prints the C printf format `$fmt` (a string literal) with word-sized arguments (`usize`, or
/// pointers cast to it) to the diagnostic console (`err`: stderr / ROM printf) or standard
/// output (`out`). The format may use `%u` and `%d` (decimal), `%x` and `%X` (hex, optionally
/// zero-padded to a width: `%08x`; on hosts a wider value prints all its digits), `%s` (the
/// address of a NUL-terminated string, e.g. from [`cstr!`]) and `%%`. On the chips ESP-IDF's
/// ROM printf (mask ROM on every chip) formats the line; on hosts [`Line::f`] does.
macro_rules! say {
    ($dest:ident, $fmt:literal $(, $a:expr)* $(,)?) => {{
        let fmt: &'static ::core::ffi::CStr = $crate::text::cstr!($fmt);
        #[cfg(target_os = "none")]
        {
            // (Both destinations are the ROM console on the chips.)
            // SAFETY: `fmt` is NUL-terminated; each of its directives takes one word (an int or
            // a string address on the 32-bit chips), given in order; `%s` ones are C strings.
            unsafe { $crate::port::printf(fmt.as_ptr(), $($a as usize),*) };
        }
        #[cfg(not(target_os = "none"))]
        // SAFETY: as above: one word per directive, C string addresses for `%s`.
        unsafe {
            $crate::text::Line::$dest().f(fmt, &[$($a as usize),*])
        };
    }};
}
pub(crate) use say;

/// The short fatal message of [`SHORT_FATAL`] builds: `CORRUPT HEAP: detected at 0x...`, then
/// abort.
#[cold]
#[inline(never)]
pub fn fatal_at(p: *const u8) -> ! {
    say!(err, "CORRUPT HEAP: detected at 0x%08x\n", p);
    port::abort()
}

const LEN: usize = 160;

/// Where a line goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Err,
    Out,
    /// A C `FILE *` (not NULL). Only task tracking's dumps print to a stream on the chips
    /// (without them, no `fwrite` call in `flush`).
    #[cfg(any(not(target_os = "none"), feature = "HEAP_TASK_TRACKING"))]
    File(*mut core::ffi::c_void),
}

/// A line being assembled; flushes itself to the port when full.
pub struct Line {
    /// Bytes `..len` are written; the rest is never read (so it is not zeroed either).
    buf: [MaybeUninit<u8>; LEN],
    len: usize,
    dest: Dest,
}

impl Line {
    #[cfg_attr(target_os = "none", inline(never))]
    fn new(dest: Dest) -> Line {
        Line {
            buf: [MaybeUninit::uninit(); LEN],
            len: 0,
            dest,
        }
    }

    /// A line for the diagnostic console (stderr / ROM printf).
    #[inline]
    pub fn err() -> Line {
        Line::new(Dest::Err)
    }

    /// A line for standard output.
    #[inline]
    pub fn out() -> Line {
        Line::new(Dest::Out)
    }

    /// A line for a C `FILE *` stream (NULL: standard output).
    #[cfg(any(not(target_os = "none"), feature = "HEAP_TASK_TRACKING"))]
    pub fn file(stream: *mut core::ffi::c_void) -> Line {
        Line::new(if stream.is_null() {
            Dest::Out
        } else {
            Dest::File(stream)
        })
    }

    /// Appends the C printf format `fmt`, each directive replaced by the next value of `args`
    /// (missing values print as 0): the subset [`say!`] documents. One call per line instead of
    /// one per piece keeps the call sites small.
    ///
    /// # Safety
    /// The value for each `%s` must be the address of a NUL-terminated string.
    #[cfg_attr(target_os = "none", inline(never))]
    pub unsafe fn f(&mut self, fmt: &CStr, args: &[usize]) -> &mut Line {
        let mut args = args.iter().copied();
        let mut t = fmt.to_bytes().iter().copied();
        while let Some(c) = t.next() {
            if c != b'%' {
                self.byte(c);
                continue;
            }
            let mut width = 0;
            let mut c = t.next();
            while let Some(d @ b'0'..=b'9') = c {
                width = width * 10 + (d - b'0') as usize;
                c = t.next();
            }
            if c == Some(b'%') {
                self.byte(b'%');
                continue;
            }
            let v = args.next().unwrap_or(0);
            match c {
                Some(b'u') => {
                    self.dec(v);
                }
                Some(b'd') => {
                    self.idec(v as isize);
                }
                Some(b'x') => {
                    self.hex(v, width, false);
                }
                Some(b'X') => {
                    self.hex(v, width, true);
                }
                Some(b's') if v != 0 => {
                    // SAFETY: caller contract: a `%s` value is a C string's address.
                    let s = unsafe { CStr::from_ptr(v as *const c_char) };
                    for &b in s.to_bytes() {
                        self.byte(b);
                    }
                }
                Some(b's') => {
                    self.s("(null)");
                }
                _ => {}
            }
        }
        self
    }

    /// Appends raw text.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn s(&mut self, text: &str) -> &mut Line {
        for b in text.bytes() {
            self.byte(b);
        }
        self
    }

    #[cfg_attr(target_os = "none", inline(never))]
    fn byte(&mut self, b: u8) {
        if self.len >= LEN {
            self.flush();
        }
        if let Some(d) = self.buf.get_mut(self.len) {
            d.write(b);
            self.len += 1;
        }
    }

    /// Appends an unsigned number in decimal.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn dec(&mut self, v: usize) -> &mut Line {
        const TEN: NonZeroUsize = match NonZeroUsize::new(10) {
            Some(t) => t,
            None => NonZeroUsize::MIN,
        };
        // Largest power of ten not above v (no overflow: p * 10 <= v). Non-zero divisors: no
        // division-by-zero panic path.
        let mut p = NonZeroUsize::MIN;
        while v / p >= 10 {
            p = p.saturating_mul(TEN);
        }
        loop {
            self.byte(b'0' + (v / p % 10) as u8);
            match NonZeroUsize::new(p.get() / 10) {
                Some(q) => p = q,
                None => return self,
            }
        }
    }

    /// Appends a signed number in decimal.
    pub fn idec(&mut self, v: isize) -> &mut Line {
        if v < 0 {
            self.byte(b'-');
        }
        self.dec(v.unsigned_abs())
    }

    /// Appends `v` in hex with at least `width` digits, lower or upper case.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn hex(&mut self, v: usize, width: usize, upper: bool) -> &mut Line {
        let mut n = 1;
        while n < core::mem::size_of::<usize>() * 2 && (v >> (4 * n)) != 0 {
            n += 1;
        }
        let ten = if upper { b'A' } else { b'a' } - 10;
        for k in (0..n.max(width)).rev() {
            let d = (v.checked_shr(4 * k as u32).unwrap_or(0) & 0xf) as u8;
            self.byte(d + if d < 10 { b'0' } else { ten });
        }
        self
    }

    /// Appends a pointer as `0x` followed by lowercase hex (8 digits on 32-bit targets).
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn ptr<T>(&mut self, p: *const T) -> &mut Line {
        self.s("0x").hex(p as usize, 8, false)
    }

    /// Sends what has been assembled so far.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn flush(&mut self) {
        let Some(written) = self.buf.get(..self.len) else {
            return;
        };
        // SAFETY: `byte` initialised every byte below `len` (MaybeUninit<u8> has u8's layout).
        let bytes = unsafe { &*(written as *const [MaybeUninit<u8>] as *const [u8]) };
        if !bytes.is_empty() {
            match self.dest {
                Dest::Err => port::write_err(bytes),
                Dest::Out => port::write_out(bytes),
                #[cfg(any(not(target_os = "none"), feature = "HEAP_TASK_TRACKING"))]
                Dest::File(stream) => port::write_file(stream, bytes),
            }
        }
        self.len = 0;
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.flush();
    }
}
