//! A tiny text builder for diagnostics, so that the heap never pulls in `core::fmt`.
//!
//! Lines are assembled in a fixed stack buffer and handed to the platform port in one piece.
//! Written for small code on the chips (every function here is out of line there, and one
//! [`Line::f`] template per line replaces a chain of calls per piece).

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

/// The short fatal message of [`SHORT_FATAL`] builds: `CORRUPT HEAP: detected at 0x...`, then
/// abort.
#[cold]
#[inline(never)]
pub fn fatal_at(p: *const u8) -> ! {
    Line::err().s("CORRUPT HEAP: detected at ").ptr(p).s("\n");
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

    /// Appends `template`, each `%` directive replaced by the next value of `args` (missing
    /// values print as 0): `%d` decimal, `%x` / `%X` hex of at least 8 digits in lower / upper
    /// case, `%p` a pointer (`0x` and `%x`). One call per line instead of one per piece keeps
    /// the call sites small, which is most of the printing code's flash.
    #[cfg_attr(target_os = "none", inline(never))]
    pub fn f(&mut self, template: &str, args: &[usize]) -> &mut Line {
        let mut args = args.iter();
        let mut t = template.bytes();
        while let Some(c) = t.next() {
            if c != b'%' {
                self.byte(c);
                continue;
            }
            let v = args.next().copied().unwrap_or(0);
            match t.next() {
                Some(b'd') => self.dec(v),
                Some(b'x') => self.hex(v, 8, false),
                Some(b'X') => self.hex(v, 8, true),
                Some(b'p') => self.ptr(v as *const u8),
                _ => self,
            };
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
