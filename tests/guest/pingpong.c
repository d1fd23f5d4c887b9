// SPDX-License-Identifier: MIT
/*
 * guest-pingpong: two processes bounce one byte through a pair of pipes,
 * N round trips, so the guest kernel switches contexts many times (each
 * side blocks in read() until the other answers). Used by the system-mode
 * demo and by the test comparing host-recorded switches with /proc/stat.
 *
 * Usage: guest-pingpong [N]   (round trips, 1..1000000000, default 10000)
 *
 * Records (parent process only): event 50 named "pingpong" (EVENT_NAME),
 * then bd_mark_args(50, i, N, child pid, 0) for i = 0, 1000, 2000, ... < N
 * (before round trip i).
 *
 * Output (stdout, parent): pid <parent pid> / child <child pid> /
 * round_trips <N> / marks <M> / taken <T> (marks that returned 1).
 * Exit 0; 1 on a system error (pipe, fork, read, write), 2 on usage errors.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bd/bd.h>

enum { MARK_EVERY = 1000, EVENT_PINGPONG = 50 };

/* One byte through fd, retrying interrupted calls. 0 ok, -1 error or EOF. */
static int put(int fd, char c) {
  for (;;) {
    ssize_t n = write(fd, &c, 1);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

static int get(int fd, char *c) {
  for (;;) {
    ssize_t n = read(fd, c, 1);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

/* The child echoes every byte until its input closes. */
static void echo_loop(int in, int out) {
  char c;
  while (get(in, &c) == 0)
    if (put(out, c) != 0) _exit(1);
  _exit(0);
}

int main(int argc, char **argv) {
  unsigned long n = 10000;
  if (argc > 2) goto usage;
  if (argc == 2) {
    char *end;
    if (argv[1][0] < '0' || argv[1][0] > '9') goto usage;
    n = strtoul(argv[1], &end, 10);
    if (*end != '\0' || n < 1 || n > 1000000000ul) goto usage;
  }

  int to_child[2], to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
    perror("guest-pingpong: pipe");
    return 1;
  }
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    perror("guest-pingpong: fork");
    return 1;
  }
  if (child == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    echo_loop(to_child[0], to_parent[1]);
  }
  close(to_child[0]);
  close(to_parent[1]);

  printf("pid %ld\nchild %ld\n", (long)getpid(), (long)child);
  fflush(stdout);
  unsigned long marks = 0, taken = 0;
  taken += bd_name_event(EVENT_PINGPONG, "pingpong") == 1;
  int failed = 0;
  for (unsigned long i = 0; i < n; i++) {
    if (i % MARK_EVERY == 0) {
      marks++;
      taken += bd_mark_args(EVENT_PINGPONG, i, n, (uint64_t)child, 0) == 1;
    }
    char c = (char)i;
    if (put(to_child[1], c) != 0 || get(to_parent[0], &c) != 0 || c != (char)i) {
      fprintf(stderr, "guest-pingpong: round trip %lu failed: %s\n", i, strerror(errno));
      failed = 1;
      break;
    }
  }
  close(to_child[1]); /* the child sees EOF and exits */
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  close(to_parent[0]);
  if (failed) return 1;
  printf("round_trips %lu\nmarks %lu\ntaken %lu\n", n, marks, taken);
  return 0;

usage:
  fprintf(stderr, "usage: guest-pingpong [N (round trips, 1..1000000000)]\n");
  return 2;
}
