//! A tiny text builder for diagnostics, so that the heap never pulls in `core::fmt`.
//!
//! Lines are assembled in a fixed stack buffer and handed to the platform port in one piece.

use crate::port;

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

    /// Appends raw text.
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
