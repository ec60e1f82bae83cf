//! A tiny text builder for diagnostics, so that the heap never pulls in `core::fmt`.
//!
//! Lines are assembled in a fixed stack buffer and handed to the platform port in one piece.

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
    Line::err().f("CORRUPT HEAP: detected at %p\n", &[p as usize]);
    port::abort()
}

/// A line being assembled; flushes itself to the port when full.
pub struct Line {
    buf: [u8; 160],
    len: usize,
    to_err: bool,
    /// A C `FILE *` to write to instead (NULL: the console chosen by `to_err`).
    stream: *mut core::ffi::c_void,
}

impl Line {
    /// A line for the diagnostic console (stderr / ROM printf).
    pub fn err() -> Line {
        Line {
            buf: [0; 160],
            len: 0,
            to_err: true,
            stream: core::ptr::null_mut(),
        }
    }

    /// A line for standard output.
    pub fn out() -> Line {
        Line {
            buf: [0; 160],
            len: 0,
            to_err: false,
            stream: core::ptr::null_mut(),
        }
    }

    /// A line for a C `FILE *` stream (NULL: standard output).
    pub fn file(stream: *mut core::ffi::c_void) -> Line {
        let mut l = Line::out();
        l.stream = stream;
        l
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
        for &b in text.as_bytes() {
            self.byte(b);
        }
        self
    }

    fn byte(&mut self, b: u8) {
        if self.len == self.buf.len() {
            self.flush();
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Appends an unsigned number in decimal.
    pub fn dec(&mut self, v: usize) -> &mut Line {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &d in &tmp[i..] {
            self.byte(d);
        }
        self
    }

    /// Appends a signed number in decimal.
    pub fn idec(&mut self, v: isize) -> &mut Line {
        if v < 0 {
            self.byte(b'-');
        }
        self.dec(v.unsigned_abs())
    }

    /// Appends `v` in hex with at least `width` digits, lower or upper case.
    pub fn hex(&mut self, v: usize, width: usize, upper: bool) -> &mut Line {
        let digits: &[u8; 16] = if upper {
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let mut n = 1;
        while n < core::mem::size_of::<usize>() * 2 && (v >> (4 * n)) != 0 {
            n += 1;
        }
        let n = n.max(width);
        for k in (0..n).rev() {
            let d = if 4 * k < usize::BITS as usize {
                (v >> (4 * k)) & 0xf
            } else {
                0
            };
            self.byte(digits[d]);
        }
        self
    }

    /// Appends a pointer as `0x` followed by lowercase hex (8 digits on 32-bit targets).
    pub fn ptr<T>(&mut self, p: *const T) -> &mut Line {
        self.s("0x").hex(p as usize, 8, false)
    }

    /// Sends what has been assembled so far.
    pub fn flush(&mut self) {
        if self.len > 0 {
            if !self.stream.is_null() {
                port::write_file(self.stream, &self.buf[..self.len]);
            } else if self.to_err {
                port::write_err(&self.buf[..self.len]);
            } else {
                port::write_out(&self.buf[..self.len]);
            }
            self.len = 0;
        }
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.flush();
    }
}
