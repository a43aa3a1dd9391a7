#!/usr/bin/python3
"""A FUSE file system with one file that has unreadable bytes: the tests' source of real EIO from the kernel.

    faultfs.py BACKING MOUNTPOINT START-END[,START-END...] [--statfs-fails]
    faultfs.py BACKING MOUNTPOINT "" [--statfs-fails]

Mounts MOUNTPOINT holding one read-only file, "data", whose bytes are BACKING's. A read that touches a byte in one of
the half-open ranges [START, END) fails with EIO, as a bad sector would. An empty list ("") fails no read: the file
system then only serves BACKING, for tests of reads that FUSE alone makes hard (short reads at the end of the file). The mount uses direct_io, so the kernel
caches nothing and every read, at the caller's offset and length, reaches this process: an error lands on exactly
the reads that touch a bad range, never on a neighbour through readahead.

With --statfs-fails, statfs(2) on the mount fails with EIO too, as a network file system's does when its remote is
down.

Runs in the foreground until unmounted (umount MOUNTPOINT). Needs root (or fusermount), libfuse2 and python3-fusepy
(Debian: apt-get install python3-fusepy libfuse2).
"""
import errno
import os
import stat
import sys

try:
    from fusepy import FUSE, FuseOSError, Operations  # Debian's name for the module
except ImportError:
    from fuse import FUSE, FuseOSError, Operations    # pip's fusepy


class FaultFs(Operations):
    def __init__(self, backing, bad_ranges, statfs_fails):
        self.backing = os.open(backing, os.O_RDONLY)
        self.size = os.fstat(self.backing).st_size
        self.bad_ranges = bad_ranges
        self.statfs_fails = statfs_fails

    def statfs(self, path):
        if self.statfs_fails:
            raise FuseOSError(errno.EIO)
        return {"f_bsize": 4096, "f_frsize": 4096, "f_namemax": 255}

    def getattr(self, path, fh=None):
        if path == "/":
            return {"st_mode": stat.S_IFDIR | 0o755, "st_nlink": 2}
        if path == "/data":
            return {"st_mode": stat.S_IFREG | 0o444, "st_nlink": 1, "st_size": self.size}
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return [".", "..", "data"]

    def open(self, path, flags):
        if path != "/data":
            raise FuseOSError(errno.ENOENT)
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise FuseOSError(errno.EROFS)
        return 0

    def read(self, path, size, offset, fh):
        end = offset + size
        for bad_start, bad_end in self.bad_ranges:
            if offset < bad_end and bad_start < end:
                raise FuseOSError(errno.EIO)
        return os.pread(self.backing, size, offset)


def parse_ranges(text):
    ranges = []
    if text == "":
        return ranges  # no bad bytes
    for part in text.split(","):
        start, end = (int(n) for n in part.split("-"))
        if not 0 <= start < end:
            raise SystemExit(f"bad range {part!r}: want START-END with 0 <= START < END")
        ranges.append((start, end))
    return ranges


def die_with_parent():
    """End (SIGTERM, on which libfuse unmounts) when the process that started us is gone, so a crashed test run leaves
    no server behind. A watch on the parent process, not PR_SET_PDEATHSIG: that one fires when the parent *thread*
    exits, and the .NET thread that started us may retire while the test still runs."""
    import signal
    import threading
    import time
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or (len(sys.argv) == 5 and sys.argv[4] != "--statfs-fails"):
        raise SystemExit(__doc__)
    die_with_parent()
    FUSE(FaultFs(sys.argv[1], parse_ranges(sys.argv[3]), statfs_fails=len(sys.argv) == 5), sys.argv[2],
         foreground=True, ro=True, direct_io=True, fsname="faultfs")
