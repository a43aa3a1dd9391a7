// Reproduces, without .NET, the kernel behaviour that makes FileAio route FUSE files away from io_uring (see
// docs/engines.md, IoUring, "FUSE"): an io_uring read of a FUSE file in direct_io mode, which the kernel splits into
// several FUSE requests of which a later one fails, is reported as complete, with the tail of the buffer holding the
// file's bytes from the read's starting offset. pread(2) of the same range reports the short count.
//
//   apt-get install -y liburing-dev python3-fusepy
//   gcc -O2 -o /tmp/fuse-uring-repro tests/Shared/fuse-uring-repro.c -luring
//   head -c 1048576 /dev/urandom > /tmp/backing && mkdir -p /tmp/faultfs
//   /usr/bin/python3 tests/Shared/faultfs.py /tmp/backing /tmp/faultfs 700000-700001 &   # byte 700,000: EIO
//   /tmp/fuse-uring-repro /tmp/faultfs/data /tmp/backing 524288 262144; umount /tmp/faultfs
//
// Seen on Linux 6.18: "io_uring: res 262144, first byte unlike the file at +131056"; "pread: res 131056".
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The offset of the first byte of got[0..count) that differs from the file, or -1.
static long first_difference(const unsigned char *got, const unsigned char *want, long count) {
    for (long i = 0; i < count; i++) {
        if (got[i] != want[i]) {
            return i;
        }
    }
    return -1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s FUSE_FILE BACKING_FILE OFFSET LENGTH\n", argv[0]);
        return 2;
    }
    long offset = atol(argv[3]);
    long length = atol(argv[4]);
    int fuse = open(argv[1], O_RDONLY);
    int backing = open(argv[2], O_RDONLY);
    if (fuse < 0 || backing < 0) {
        perror("open");
        return 1;
    }
    unsigned char *want = malloc(length), *got = malloc(length);
    if (pread(backing, want, length, offset) != length) {
        fprintf(stderr, "the backing file must hold OFFSET + LENGTH bytes\n");
        return 1;
    }

    struct io_uring ring;
    int err = io_uring_queue_init(4, &ring, 0);
    if (err < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-err));
        return 1;
    }
    memset(got, 0xEE, length);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fuse, got, length, offset);
    io_uring_submit(&ring);
    struct io_uring_cqe *cqe;
    io_uring_wait_cqe(&ring, &cqe);
    int res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    long bad = res > 0 ? first_difference(got, want, res) : -1;
    printf("io_uring: res %d%s", res, res < 0 ? " (" : "");
    if (res < 0) {
        printf("%s)", strerror(-res));
    }
    if (bad >= 0) {
        printf(", first byte unlike the file at +%ld: the count claims bytes that are wrong", bad);
    }
    printf("\n");

    memset(got, 0xEE, length);
    ssize_t n = pread(fuse, got, length, offset);
    bad = n > 0 ? first_difference(got, want, n) : -1;
    printf("pread:    res %zd%s%s%s\n", n, n < 0 ? " (" : "", n < 0 ? strerror(errno) : "", n < 0 ? ")" : "");
    if (bad >= 0) {
        printf("          first byte unlike the file at +%ld\n", bad);
    }
    io_uring_queue_exit(&ring);
    return 0;
}
