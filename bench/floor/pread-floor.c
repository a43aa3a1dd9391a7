// The kernel's own cost of one page-cached 4 KiB random read on this machine: a tight loop of pread, of
// preadv2(RWF_NOWAIT) (FileAio's page-cache fast path) and of preadv2 without flags, over the same xorshift offsets
// the .NET harness uses. No runtime, no threads, no queue: whatever an API adds comes on top of these figures.
//
//   gcc -O2 -o /tmp/pread-floor bench/floor/pread-floor.c
//   cat FILE >/dev/null && /tmp/pread-floor FILE [reads]      (FILE: the 1 GiB file bench/compare-fio.sh makes)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec * 1e-9;
}

static unsigned long long next_block(unsigned long long *state, unsigned long long blocks) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state % blocks;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [reads]\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 4096) {
        perror(argv[1]);
        return 1;
    }
    long reads = argc > 2 ? atol(argv[2]) : 2000000;
    unsigned long long blocks = (unsigned long long)st.st_size / 4096;
    char *buffer = aligned_alloc(4096, 4096);
    struct iovec vector = { buffer, 4096 };
    const char *names[] = { "pread", "preadv2(RWF_NOWAIT)", "preadv2(0)" };
    for (int round = 0; round < 3; round++) {
        for (int kind = 0; kind < 3; kind++) {
            unsigned long long state = 88172645463325252ULL;
            long short_reads = 0;
            double start = seconds();
            for (long i = 0; i < reads; i++) {
                off_t offset = (off_t)next_block(&state, blocks) * 4096;
                ssize_t n = kind == 0 ? pread(fd, buffer, 4096, offset)
                          : preadv2(fd, &vector, 1, offset, kind == 1 ? RWF_NOWAIT : 0);
                short_reads += n != 4096;
            }
            double elapsed = seconds() - start;
            printf("round %d  %-20s %.3f us per read  (%ld not served whole)\n", round + 1, names[kind],
                   elapsed / reads * 1e6, short_reads);
        }
    }
    return 0;
}
