/*
 * guest-filter: a guest program for the filter end-to-end tests
 * (tests/e2e/filter_e2e_test.cc). Names events 1 "tick" and 2 "tock" first.
 *
 *   guest-filter marks N
 *       N x (MARK event 1 args (i,0,0,0), MARK event 2 args (i,0,0,0)).
 *   guest-filter enabled N
 *       Prints "enabled1 <bd_enabled(1)>", "enabled2 <bd_enabled(2)>" and
 *       "enabled1000 <bd_enabled(1000)>", then does what `marks N` does.
 *   guest-filter stream SECONDS PERIOD_US
 *       For SECONDS seconds: MARK event 1, MARK event 2 (args: the
 *       iteration), then sleep PERIOD_US microseconds (0: no sleep).
 *   guest-filter fork DIR N
 *       Forks. The parent writes "parent <pid>\nchild <pid>\n" to DIR/pids
 *       (written beside, then renamed), then both processes wait (up to
 *       30 s) until DIR/go exists, and send N x MARK event 1 with args
 *       (role, i, 0, 0), role 0 = parent, 1 = child. The parent waits for
 *       the child. When DIR/go holds "wait P C", the parent first waits
 *       (up to 30 s) until bd_enabled(P) returns 1 and the child until
 *       bd_enabled(C) does: the condition that a reloaded config is in
 *       force in that process.
 *   guest-filter forkspin DIR ITERS
 *       As fork with N = 0, then each process runs spin() ITERS times and
 *       prints "<role> spin_fn 0x<address of spin()>" (code-tracing tests:
 *       the hottest block of a traced process lies in spin()).
 *
 * Output (stdout), one line each, per process ("<role> " prefix in fork):
 *   names <calls that returned 1 of the 2 bd_name_event>
 *   taken1 <MARK event 1 calls that returned 1>
 *   taken2 <MARK event 2 calls that returned 1>
 *   zero1 / zero2 <calls that returned 0>
 * Exit 0; 1 on errors, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bd/bd.h>

struct counts {
    unsigned long taken[3], zero[3];
};

static void count(struct counts *c, int event, int rc)
{
    if (rc == 1)
        c->taken[event]++;
    else if (rc == 0)
        c->zero[event]++;
}

static void print_counts(const char *prefix, int names, const struct counts *c)
{
    printf("%snames %d\n%staken1 %lu\n%staken2 %lu\n%szero1 %lu\n%szero2 %lu\n", prefix,
           names, prefix, c->taken[1], prefix, c->taken[2], prefix, c->zero[1], prefix,
           c->zero[2]);
    fflush(stdout);
}

static int name_events(void)
{
    return (bd_name_event(1, "tick") == 1) + (bd_name_event(2, "tock") == 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_marks(unsigned long n)
{
    struct counts c = {0};
    int names = name_events();
    for (unsigned long i = 0; i < n; i++) {
        count(&c, 1, bd_mark_args(1, i, 0, 0, 0));
        count(&c, 2, bd_mark_args(2, i, 0, 0, 0));
    }
    print_counts("", names, &c);
    return 0;
}

static int run_stream(double seconds, unsigned long period_us)
{
    struct counts c = {0};
    int names = name_events();
    const double end = now_s() + seconds;
    for (unsigned long i = 0; now_s() < end; i++) {
        count(&c, 1, bd_mark_args(1, i, 0, 0, 0));
        count(&c, 2, bd_mark_args(2, i, 0, 0, 0));
        if (period_us)
            usleep((useconds_t)period_us);
    }
    print_counts("", names, &c);
    return 0;
}

static unsigned long spin_iters; /* forkspin */

/* A loop that is its own hot block: not inlined, not optimized away. */
__attribute__((noinline)) static uint64_t spin(unsigned long iters)
{
    volatile uint64_t acc = 0;
    for (unsigned long i = 0; i < iters; i++)
        acc = acc * 6364136223846793005ull + i;
    return acc;
}

static int run_fork(const char *dir, unsigned long n)
{
    char pids[4096], tmp[4096], go[4096];
    snprintf(pids, sizeof pids, "%s/pids", dir);
    snprintf(tmp, sizeof tmp, "%s/pids.tmp", dir);
    snprintf(go, sizeof go, "%s/go", dir);
    int names = name_events();
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("guest-filter: fork");
        return 1;
    }
    const int role = child == 0 ? 1 : 0;
    if (role == 0) {
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "parent %ld\nchild %ld\n", (long)getpid(), (long)child) < 0 ||
            fclose(f) != 0 || rename(tmp, pids) != 0) {
            perror("guest-filter: writing pids");
            return 1;
        }
    }
    struct stat st;
    const double deadline = now_s() + 30;
    while (stat(go, &st) != 0) {
        if (now_s() > deadline) {
            fprintf(stderr, "guest-filter: %s did not appear\n", go);
            return 1;
        }
        usleep(10000);
    }
    unsigned wait_event[2] = {0, 0};
    FILE *g = fopen(go, "r");
    if (g != NULL) {
        if (fscanf(g, "wait %u %u", &wait_event[0], &wait_event[1]) != 2)
            wait_event[0] = wait_event[1] = 0;
        fclose(g);
    }
    if (wait_event[role] != 0) {
        const double until = now_s() + 30;
        while (bd_enabled(wait_event[role]) != 1) {
            if (now_s() > until) {
                fprintf(stderr, "guest-filter: event %u never became enabled\n", wait_event[role]);
                return 1;
            }
            usleep(10000);
        }
    }
    struct counts c = {0};
    for (unsigned long i = 0; i < n; i++)
        count(&c, 1, bd_mark_args(1, (uint64_t)role, i, 0, 0));
    print_counts(role ? "child " : "parent ", role ? 0 : names, &c);
    if (spin_iters) {
        const uint64_t sum = spin(spin_iters);
        printf("%sspin_fn %p\n%sspin_sum %llu\n", role ? "child " : "parent ", (void *)spin,
               role ? "child " : "parent ", (unsigned long long)sum);
        fflush(stdout);
    }
    if (role == 1)
        return 0;
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "guest-filter: child failed\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "marks") == 0)
        return run_marks(strtoul(argv[2], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "enabled") == 0) {
        printf("enabled1 %d\nenabled2 %d\nenabled1000 %d\n", bd_enabled(1),
               bd_enabled(2), bd_enabled(1000));
        fflush(stdout);
        return run_marks(strtoul(argv[2], NULL, 10));
    }
    if (argc == 4 && strcmp(argv[1], "stream") == 0)
        return run_stream(atof(argv[2]), strtoul(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "fork") == 0)
        return run_fork(argv[2], strtoul(argv[3], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "forkspin") == 0) {
        spin_iters = strtoul(argv[3], NULL, 10);
        return run_fork(argv[2], 0);
    }
    fprintf(stderr, "usage: guest-filter marks N | stream SECONDS PERIOD_US | fork DIR N | "
                    "forkspin DIR ITERS\n");
    return 2;
}
