// How should a glibc POSIX AIO reaper learn of completions? 4 KiB O_DIRECT random reads at QD32 for 5 s each way:
//   (a) SIGEV_NONE, scan aio_error, sleep in aio_suspend (what FileAio's PosixAio engine does);
//   (b) SIGEV_THREAD: glibc starts a thread per completion, whose callback writes an eventfd the reaper polls.
// (b) here uses a C callback; the engine's would be managed code, which adds a runtime thread attach per completion.
//   gcc -O2 -o posixaio-notify posixaio-notify.c && ./posixaio-notify /var/tmp/fileaio-bench/randread-1g.dat
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#define QD 32
static int efd;
static void notify(union sigval v) { (void)v; uint64_t one = 1; write(efd, &one, 8); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double cpu(void) { struct rusage u; getrusage(RUSAGE_SELF, &u); return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6; }
int main(int argc, char **argv) {
  int fd = open(argv[1], O_RDONLY | O_DIRECT); long blocks = lseek(fd, 0, SEEK_END) / 4096;
  efd = eventfd(0, EFD_CLOEXEC);
  for (int mode = 0; mode < 2; mode++) {
    static struct aiocb cb[QD]; char *buf; posix_memalign((void **)&buf, 4096, QD * 4096);
    for (int i = 0; i < QD; i++) {
      memset(&cb[i], 0, sizeof cb[i]); cb[i].aio_fildes = fd; cb[i].aio_buf = buf + i * 4096; cb[i].aio_nbytes = 4096;
      cb[i].aio_offset = (random() % blocks) * 4096;
      if (mode == 0) cb[i].aio_sigevent.sigev_notify = SIGEV_NONE;
      else { cb[i].aio_sigevent.sigev_notify = SIGEV_THREAD; cb[i].aio_sigevent.sigev_notify_function = notify; }
      aio_read(&cb[i]);
    }
    long ops = 0; double t0 = now(), c0 = cpu();
    while (now() - t0 < 5) {
      if (mode == 0) { const struct aiocb *l[QD]; for (int i = 0; i < QD; i++) l[i] = &cb[i]; aio_suspend(l, QD, NULL); }
      else { struct pollfd p = { efd, POLLIN, 0 }; poll(&p, 1, -1); uint64_t v; read(efd, &v, 8); }
      for (int i = 0; i < QD; i++)
        if (aio_error(&cb[i]) != EINPROGRESS) { aio_return(&cb[i]); ops++; cb[i].aio_offset = (random() % blocks) * 4096; aio_read(&cb[i]); }
    }
    double t = now() - t0, c = cpu() - c0;
    printf("%s: %.0f IOPS, %.1f us CPU per read\n", mode == 0 ? "(a) SIGEV_NONE + aio_suspend" : "(b) SIGEV_THREAD + eventfd", ops / t, c / ops * 1e6);
    for (int i = 0; i < QD; i++) { const struct aiocb *l[1] = { &cb[i] }; while (aio_error(&cb[i]) == EINPROGRESS) aio_suspend(l, 1, NULL); }
    usleep(100000);
  }
  return 0;
}
