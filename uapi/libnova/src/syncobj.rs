// SPDX-License-Identifier: MIT
//! DRM sync objects (the generic `DRM_IOCTL_SYNCOBJ_*` ioctls; nova advertises
//! `DRIVER_SYNCOBJ` and `DRIVER_SYNCOBJ_TIMELINE`) and sync files.
//!
//! A [`Syncobj`] is either binary (one fence, point 0) or a timeline (a fence per point); the
//! kernel does not distinguish them at creation, the points used do. EXEC names them with
//! [`Syncobj::binary`] and [`Syncobj::at`]. A fence's error (`-ETIMEDOUT`, `-EIO`,
//! `-ECANCELED`) is not visible through the syncobj ioctls: export the fence as a
//! [`SyncFile`] and read its [`SyncFile::status`].

use crate::drm::{self, DrmSyncobjArray, DrmSyncobjHandle, DrmSyncobjTimelineArray};
use crate::{raw, Device, Error, Result};
use nova_uapi::DrmNovaSync;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// The absolute `CLOCK_MONOTONIC` time `timeout` from now, in nanoseconds, as the syncobj
/// wait ioctls take it (saturating).
pub fn deadline_ns(timeout: Duration) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let now = ts
        .tv_sec
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec);
    now.saturating_add(i64::try_from(timeout.as_nanos()).unwrap_or(i64::MAX))
}

/// A syncobj of a [`Device`], destroyed on drop.
#[derive(Debug)]
pub struct Syncobj {
    dev: Device,
    handle: u32,
}

impl Syncobj {
    /// `DRM_IOCTL_SYNCOBJ_CREATE`, without a fence (`signaled` false) or with a signalled one.
    pub fn new(dev: &Device, signaled: bool) -> Result<Syncobj> {
        let mut a = drm::DrmSyncobjCreate {
            handle: 0,
            flags: if signaled {
                drm::DRM_SYNCOBJ_CREATE_SIGNALED
            } else {
                0
            },
        };
        raw::syncobj_create(dev, &mut a)?;
        Ok(Syncobj {
            dev: dev.clone(),
            handle: a.handle,
        })
    }

    /// The handle in its file.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// This syncobj as a binary EXEC wait or signal (point 0).
    pub fn binary(&self) -> DrmNovaSync {
        self.at(0)
    }

    /// This syncobj's timeline `point` as an EXEC wait or signal.
    pub fn at(&self, point: u64) -> DrmNovaSync {
        DrmNovaSync {
            handle: self.handle,
            flags: 0,
            point,
        }
    }

    /// `DRM_IOCTL_SYNCOBJ_WAIT` for the binary fence, up to `timeout`: `ETIME` when it passes,
    /// `EINVAL` when there is no fence (without `WAIT_FOR_SUBMIT` in `flags`).
    pub fn wait(&self, timeout: Duration, flags: u32) -> Result<()> {
        let handles = [self.handle];
        let mut a = drm::DrmSyncobjWait {
            handles: handles.as_ptr() as u64,
            timeout_nsec: deadline_ns(timeout),
            count_handles: 1,
            flags,
            ..Default::default()
        };
        raw::syncobj_wait(&self.dev, &mut a)
    }

    /// `DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT` for `point`, up to `timeout` (`ETIME` when it
    /// passes; `EINVAL` for a point not submitted yet, without `WAIT_FOR_SUBMIT`).
    pub fn wait_point(&self, point: u64, timeout: Duration, flags: u32) -> Result<()> {
        let handles = [self.handle];
        let points = [point];
        let mut a = drm::DrmSyncobjTimelineWait {
            handles: handles.as_ptr() as u64,
            points: points.as_ptr() as u64,
            timeout_nsec: deadline_ns(timeout),
            count_handles: 1,
            flags,
            ..Default::default()
        };
        raw::syncobj_timeline_wait(&self.dev, &mut a)
    }

    /// Whether the binary fence has signalled, now (a zero timeout; no fence is "not yet").
    pub fn is_signaled(&self) -> Result<bool> {
        match self.wait(Duration::ZERO, 0) {
            Ok(()) => Ok(true),
            Err(e) if e.is(libc::ETIME) || e.is(libc::EINVAL) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `DRM_IOCTL_SYNCOBJ_QUERY`: the timeline's last signalled point (with
    /// `last_submitted`: the last point with a fence).
    pub fn query(&self, last_submitted: bool) -> Result<u64> {
        let mut p = [0u64];
        let flags = if last_submitted {
            drm::DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED
        } else {
            0
        };
        raw::syncobj_query(&self.dev, &[self.handle], &mut p, flags)?;
        Ok(p[0])
    }

    /// `DRM_IOCTL_SYNCOBJ_SIGNAL`: installs a signalled fence (binary).
    pub fn signal(&self) -> Result<()> {
        let handles = [self.handle];
        let mut a = DrmSyncobjArray {
            handles: handles.as_ptr() as u64,
            count_handles: 1,
            pad: 0,
        };
        raw::syncobj_signal(&self.dev, &mut a)
    }

    /// `DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL`: adds a signalled `point` to the timeline.
    pub fn signal_point(&self, point: u64) -> Result<()> {
        let handles = [self.handle];
        let points = [point];
        let mut a = DrmSyncobjTimelineArray {
            handles: handles.as_ptr() as u64,
            points: points.as_ptr() as u64,
            count_handles: 1,
            flags: 0,
        };
        raw::syncobj_timeline_signal(&self.dev, &mut a)
    }

    /// `DRM_IOCTL_SYNCOBJ_RESET`: drops the binary fence.
    pub fn reset(&self) -> Result<()> {
        let handles = [self.handle];
        let mut a = DrmSyncobjArray {
            handles: handles.as_ptr() as u64,
            count_handles: 1,
            pad: 0,
        };
        raw::syncobj_reset(&self.dev, &mut a)
    }

    /// `DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD` with `EXPORT_SYNC_FILE`: the current (binary) fence as
    /// a sync file. `EINVAL` when there is no fence.
    pub fn export_sync_file(&self) -> Result<SyncFile> {
        self.export_sync_file_at(0)
    }

    /// [`Syncobj::export_sync_file`] of timeline `point` (`EXPORT_SYNC_FILE | TIMELINE`;
    /// point 0 is the binary fence). `EINVAL` when the point has no fence.
    pub fn export_sync_file_at(&self, point: u64) -> Result<SyncFile> {
        let timeline = if point != 0 {
            drm::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_TIMELINE
        } else {
            0
        };
        let mut a = DrmSyncobjHandle {
            handle: self.handle,
            flags: drm::DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE | timeline,
            fd: -1,
            pad: 0,
            point,
        };
        raw::syncobj_handle_to_fd(&self.dev, &mut a)?;
        if a.fd < 0 {
            return Err(Error::new("SYNCOBJ_HANDLE_TO_FD", libc::EBADF));
        }
        // SAFETY: the kernel installed a new fd for us; nothing else owns it.
        Ok(SyncFile(unsafe { OwnedFd::from_raw_fd(a.fd) }))
    }

    /// `DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE` with `IMPORT_SYNC_FILE`: installs `file`'s fence as
    /// this syncobj's binary fence.
    pub fn import_sync_file(&self, file: &SyncFile) -> Result<()> {
        self.import_sync_file_at(file, 0)
    }

    /// [`Syncobj::import_sync_file`] into timeline `point` (`IMPORT_SYNC_FILE | TIMELINE`;
    /// point 0 replaces the binary fence).
    pub fn import_sync_file_at(&self, file: &SyncFile, point: u64) -> Result<()> {
        let timeline = if point != 0 {
            drm::DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_TIMELINE
        } else {
            0
        };
        let mut a = DrmSyncobjHandle {
            handle: self.handle,
            flags: drm::DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE | timeline,
            fd: file.0.as_raw_fd(),
            pad: 0,
            point,
        };
        raw::syncobj_fd_to_handle(&self.dev, &mut a)
    }
}

impl Drop for Syncobj {
    fn drop(&mut self) {
        let _ = raw::syncobj_destroy(
            &self.dev,
            &mut drm::DrmSyncobjDestroy {
                handle: self.handle,
                pad: 0,
            },
        );
    }
}

/// A sync file: one fence, independent of the DRM file it came from (it stays valid when that
/// file is closed).
#[derive(Debug)]
pub struct SyncFile(OwnedFd);

impl SyncFile {
    /// Takes ownership of `fd`, a sync file.
    pub fn from_fd(fd: OwnedFd) -> SyncFile {
        SyncFile(fd)
    }

    /// `SYNC_IOC_FILE_INFO`: 0 while the fence is pending, 1 once signalled, the negative errno
    /// it signalled with otherwise.
    pub fn status(&self) -> Result<i32> {
        let mut a = drm::SyncFileInfo::default();
        // SAFETY: SYNC_IOC_FILE_INFO takes a sync_file_info; with num_fences 0 and a null
        // sync_fence_info it writes nothing outside the struct.
        unsafe {
            drm::ioctl(
                self.0.as_fd(),
                "SYNC_IOC_FILE_INFO",
                drm::SYNC_IOC_FILE_INFO,
                &mut a,
            )?
        };
        Ok(a.status)
    }

    /// Waits up to `timeout` for the fence (poll for `POLLIN`): whether it signalled.
    pub fn wait(&self, timeout: Duration) -> Result<bool> {
        let mut p = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        loop {
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut p, 1, ms) };
            if r >= 0 {
                return Ok(r > 0 && p.revents & libc::POLLIN != 0);
            }
            let e = Error::last_os_error("poll");
            if !e.is(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

impl AsFd for SyncFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_in_the_future_and_saturates() {
        let a = deadline_ns(Duration::ZERO);
        let b = deadline_ns(Duration::from_secs(1));
        assert!(a > 0);
        assert!(b - a >= 1_000_000_000 && b - a < 2_000_000_000, "{a} {b}");
        assert_eq!(deadline_ns(Duration::MAX), i64::MAX);
    }

    #[test]
    fn exec_sync_entries() {
        let d = Device::open_path("/dev/null").unwrap();
        // A syncobj value for a file that has none, to check the encodings only.
        let s = Syncobj { dev: d, handle: 9 };
        assert_eq!(
            s.at(5),
            DrmNovaSync {
                handle: 9,
                flags: 0,
                point: 5
            }
        );
        assert_eq!(s.binary().point, 0);
        // Every ioctl on /dev/null fails with ENOTTY, carrying the op's name.
        let e = s.wait(Duration::ZERO, 0).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("SYNCOBJ_WAIT", libc::ENOTTY));
        assert_eq!(s.query(false).unwrap_err().op(), "SYNCOBJ_QUERY");
        assert_eq!(
            s.signal_point(1).unwrap_err().op(),
            "SYNCOBJ_TIMELINE_SIGNAL"
        );
        assert_eq!(s.is_signaled().unwrap_err().errno(), libc::ENOTTY);
        let e = Syncobj::new(&Device::open_path("/dev/null").unwrap(), true).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("SYNCOBJ_CREATE", libc::ENOTTY));
    }

    #[test]
    fn query_checks_lengths_first() {
        let d = Device::open_path("/dev/null").unwrap();
        let e = raw::syncobj_query(&d, &[1, 2], &mut [0], 0).unwrap_err();
        assert_eq!((e.op(), e.errno()), ("SYNCOBJ_QUERY", libc::EINVAL));
    }

    #[test]
    fn sync_file_wait_and_status_on_a_non_sync_file() {
        // An eventfd polls readable once written: wait() reports it, status() is ENOTTY.
        // SAFETY: eventfd with no flags; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: a fresh fd we own.
        let f = SyncFile::from_fd(unsafe { OwnedFd::from_raw_fd(fd) });
        assert!(!f.wait(Duration::from_millis(1)).unwrap());
        let one = 1u64.to_ne_bytes();
        // SAFETY: writing 8 bytes from a live buffer to our eventfd.
        assert_eq!(unsafe { libc::write(fd, one.as_ptr().cast(), 8) }, 8);
        assert!(f.wait(Duration::from_millis(1)).unwrap());
        assert_eq!(f.status().unwrap_err().errno(), libc::ENOTTY);
    }
}
