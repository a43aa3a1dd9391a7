// A load made of wakeups, not of CPU: two threads, pinned to CPUs 0 and 1, hand a byte back and forth through two
// pipes, and the first pauses between round trips. Each round trip wakes a sleeping thread on the other CPU twice and
// uses a few microseconds of CPU. Run it beside fio (or any FileAio benchmark) to see what a virtual machine's disk
// loses when the guest's CPUs sleep and wake often, which is what every multi-threaded async design does.
//
//   gcc -O2 -pthread -o /tmp/wake-load bench/floor/wake-load.c
//   /tmp/wake-load SECONDS PAUSE_NS & fio ... ; wait        (PAUSE_NS 50000 gives about 5K round trips a second here)
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int to_echo[2], from_echo[2];

static void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec * 1e-9;
}

// The second thread: sleeps in read() until the first writes, then wakes it back.
static void *echo(void *unused) {
    (void)unused;
    pin_to(1);
    char byte;
    while (read(to_echo[0], &byte, 1) == 1 && write(from_echo[1], &byte, 1) == 1) {
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SECONDS PAUSE_NS\n", argv[0]);
        return 2;
    }
    double duration = atof(argv[1]);
    struct timespec pause = {0, atol(argv[2])};
    if (pipe(to_echo) != 0 || pipe(from_echo) != 0) {
        perror("pipe");
        return 1;
    }
    pthread_t echo_thread;
    pthread_create(&echo_thread, NULL, echo, NULL);
    pin_to(0);

    long round_trips = 0;
    char byte = 'x';
    double start = seconds();
    while (seconds() - start < duration) {
        if (write(to_echo[1], &byte, 1) != 1 || read(from_echo[0], &byte, 1) != 1) {
            perror("pipe round trip");
            return 1;
        }
        round_trips++;
        if (pause.tv_nsec != 0) {
            nanosleep(&pause, NULL);
        }
    }
    fprintf(stderr, "wake-load: %.0f round trips per second (%.1f us each, pause included)\n",
            round_trips / duration, duration * 1e6 / round_trips);
    return 0;
}
