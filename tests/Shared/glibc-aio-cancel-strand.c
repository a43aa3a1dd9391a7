// glibc (seen with 2.36): aio_cancel of a queued request can strand the later requests of the same descriptor for
// ever — __aio_remove_request marks the next one runnable without putting it on the run list. Build and run:
//   gcc -O2 -o strand glibc-aio-cancel-strand.c && ./strand     (prints "round N: 32 requests still EINPROGRESS")
// This is why FileAio's PosixAio engine never calls aio_cancel on glibc (docs/engines.md).
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define N 64
int main(void) {
  int fd = open("/tmp/pa/f", O_RDWR | O_CREAT, 0600); char b[4096] = {1}; for (int i = 0; i < 64; i++) pwrite(fd, b, 4096, i * 4096);
  static struct aiocb cb[N]; static char buf[N][512]; int stranded_rounds = 0;
  for (int round = 0; round < 2000; round++) {
    struct aiocb *list[N];
    for (int i = 0; i < N; i++) { memset(&cb[i], 0, sizeof cb[i]); cb[i].aio_fildes = fd; cb[i].aio_buf = buf[i]; cb[i].aio_nbytes = 512;
      cb[i].aio_offset = (i % 64) * 512; cb[i].aio_lio_opcode = LIO_READ; cb[i].aio_sigevent.sigev_notify = SIGEV_NONE; list[i] = &cb[i]; }
    lio_listio(LIO_NOWAIT, list, N, NULL);
    for (int i = 0; i < N; i += 2) aio_cancel(fd, &cb[i]);
    struct timespec t0; clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) { int pending = 0; for (int i = 0; i < N; i++) if (aio_error(&cb[i]) == EINPROGRESS) pending++;
      if (!pending) break; struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
      if (t.tv_sec - t0.tv_sec > 2) { printf("round %d: %d requests still EINPROGRESS after 2 s\n", round, pending); stranded_rounds++; return 1; }
      usleep(100); }
  }
  printf("no stranded requests in 2000 rounds\n"); return 0;
}
