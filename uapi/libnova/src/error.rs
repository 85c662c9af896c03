// SPDX-License-Identifier: MIT
//! Errors: the failed operation and the kernel's errno.

use std::fmt;

/// A failed operation: what was attempted (the ioctl's short name, e.g. `"GEM_CREATE"`, or
/// `"open"`, `"mmap"`) and the errno the kernel returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    op: &'static str,
    errno: i32,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `op` with `errno` (a positive `E*` value).
    pub const fn new(op: &'static str, errno: i32) -> Self {
        Self { op, errno }
    }

    /// The error of `op` from the calling thread's `errno` (after a failed libc call).
    pub fn last_os_error(op: &'static str) -> Self {
        Self::new(
            op,
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// The errno, e.g. `libc::ENOENT`.
    pub const fn errno(&self) -> i32 {
        self.errno
    }

    /// What failed.
    pub const fn op(&self) -> &'static str {
        self.op
    }

    /// Whether the errno is `errno`.
    pub const fn is(&self, errno: i32) -> bool {
        self.errno == errno
    }
}

/// The symbolic name of an errno (`"EINVAL"`), for the values DRM ioctls return.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ETIME => "ETIME",
        libc::ECANCELED => "ECANCELED",
        _ => return None,
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.errno).to_string();
        // io::Error appends " (os error N)"; the name already says which errno it is.
        let text = text
            .rsplit_once(" (os error ")
            .map_or(text.as_str(), |(t, _)| t);
        match errno_name(self.errno) {
            Some(name) => write!(f, "{}: {name} ({text})", self.op),
            None => write!(f, "{}: errno {} ({text})", self.op, self.errno),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::from_raw_os_error(e.errno)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        assert_eq!(errno_name(libc::EINVAL), Some("EINVAL"));
        assert_eq!(errno_name(libc::EOPNOTSUPP), Some("EOPNOTSUPP"));
        assert_eq!(errno_name(4095), None);
        let e = Error::new("GEM_CREATE", libc::ENOSPC);
        assert_eq!(
            e.to_string(),
            "GEM_CREATE: ENOSPC (No space left on device)"
        );
        assert_eq!(
            Error::new("VM_BIND", 4095).to_string(),
            "VM_BIND: errno 4095 (Unknown error 4095)"
        );
        assert!(e.is(libc::ENOSPC) && !e.is(libc::EINVAL));
        assert_eq!((e.op(), e.errno()), ("GEM_CREATE", libc::ENOSPC));
    }

    #[test]
    fn into_io_error_keeps_errno() {
        let io: std::io::Error = Error::new("mmap", libc::EFAULT).into();
        assert_eq!(io.raw_os_error(), Some(libc::EFAULT));
    }

    #[test]
    fn last_os_error_reads_errno() {
        // SAFETY: close(-1) only sets errno (EBADF).
        let r = unsafe { libc::close(-1) };
        assert_eq!(r, -1);
        assert_eq!(Error::last_os_error("close").errno(), libc::EBADF);
    }
}
