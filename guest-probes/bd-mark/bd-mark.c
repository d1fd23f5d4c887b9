// SPDX-License-Identifier: MIT
/*
 * bd-mark: send one bdtrace mark from a shell script in the guest.
 *
 * Goes through libbdguest like any guest program: the trap, the system
 * channel, or a ring when BD_RING names a ring region (<bd/bd.h>).
 *
 * Exit status: 0 when the library took the record (whether or not a host
 * answered, and also when it was filtered out or, in ring mode, dropped
 * because the ring was full), 1 when the host rejected it or the library
 * failed (or, for --present, when no host answered), 2 on a usage error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bd/bd.h>

enum { EXIT_SENT = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out) {
  fprintf(out,
          "usage: bd-mark EVENT [TEXT]     mark EVENT (with TEXT: a text mark)\n"
          "       bd-mark --begin REGION   begin region REGION\n"
          "       bd-mark --end REGION     end region REGION\n"
          "       bd-mark --name ID NAME   name event or region ID in reports\n"
          "       bd-mark --present        exit 0 if a bdtrace host answers (or a ring\n"
          "                                region is mapped: BD_RING), else 1\n"
          "       bd-mark --own-pid ...    as above, marked as bd-mark's own process\n"
          "       bd-mark -h | --help\n"
          "\n"
          "Marks carry the identity of the process that runs bd-mark (pid and\n"
          "tid = its parent's, e.g. the script's shell), so that a script's\n"
          "marks are one thread's in reports and its regions pair up; give\n"
          "--own-pid first to mark as bd-mark's own process instead.\n"
          "Numbers are decimal or 0x-prefixed hex, 0..4294967295.\n"
          "TEXT and NAME longer than %u bytes are truncated.\n"
          "Exit status: 0 sent (also when nobody listens, the record was\n"
          "filtered, or a full ring dropped it), 1 rejected by the host or\n"
          "another error, 2 usage error.\n",
          (unsigned)BD_TEXT_MAX);
}

static int usage_error(const char *what, const char *arg) {
  if (arg != NULL)
    fprintf(stderr, "bd-mark: %s: '%s'\n", what, arg);
  else
    fprintf(stderr, "bd-mark: %s\n", what);
  fprintf(stderr, "Try 'bd-mark --help'.\n");
  return EXIT_USAGE;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Strict u32: decimal digits, or 0x/0X then hex digits; nothing else (no
 * sign, no spaces, no suffix). Returns 0 on success. */
static int parse_u32(const char *s, uint32_t *out) {
  unsigned base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  if (*s == '\0') return -1;
  uint64_t v = 0;
  for (; *s != '\0'; s++) {
    int d = hex_digit(*s);
    if (d < 0 || (unsigned)d >= base) return -1;
    v = v * base + (unsigned)d;
    if (v > UINT32_MAX) return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

/* Map a library result to an exit status. */
static int finish(int rc) {
  if (rc >= 0) return EXIT_SENT;
  if (rc == -EPROTO)
    fprintf(stderr,
            "bd-mark: the bdtrace host rejected the record "
            "(bd-mark and the plugin disagree on the ABI?)\n");
  else
    fprintf(stderr, "bd-mark: %s\n", strerror(-rc));
  return EXIT_FAILED;
}

int main(int argc, char **argv) {
  int own_pid = argc >= 2 && strcmp(argv[1], "--own-pid") == 0;
  if (own_pid) {
    argv[1] = argv[0];
    argv++;
    argc--;
  } else {
    /* Cannot fail: nothing was called yet. */
    (void)bd_act_as_parent();
  }
  if (argc < 2) return usage_error("missing EVENT or option", NULL);
  const char *cmd = argv[1];
  uint32_t id;

  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
    if (argc != 2) return usage_error("--help takes no arguments", NULL);
    usage(stdout);
    return EXIT_SENT;
  }
  if (strcmp(cmd, "--present") == 0) {
    if (argc != 2) return usage_error("--present takes no arguments", NULL);
    return bd_present() == 1 ? EXIT_SENT : EXIT_FAILED;
  }
  if (strcmp(cmd, "--begin") == 0 || strcmp(cmd, "--end") == 0) {
    if (argc != 3)
      return usage_error(
          cmd[2] == 'b' ? "--begin needs exactly one REGION" : "--end needs exactly one REGION", NULL);
    if (parse_u32(argv[2], &id) != 0)
      return usage_error(
          "REGION must be a number 0..4294967295 "
          "(decimal or 0x hex)",
          argv[2]);
    return finish(cmd[2] == 'b' ? bd_region_begin(id) : bd_region_end(id));
  }
  if (strcmp(cmd, "--name") == 0) {
    if (argc != 4) return usage_error("--name needs ID and NAME", NULL);
    if (parse_u32(argv[2], &id) != 0)
      return usage_error(
          "ID must be a number 0..4294967295 "
          "(decimal or 0x hex)",
          argv[2]);
    if (argv[3][0] == '\0') return usage_error("NAME must not be empty", NULL);
    return finish(bd_name_event(id, argv[3]));
  }
  if (cmd[0] == '-' && !(cmd[1] >= '0' && cmd[1] <= '9')) return usage_error("unknown option", cmd);
  if (argc > 3) return usage_error("too many arguments (quote TEXT if it has spaces)", NULL);
  if (parse_u32(cmd, &id) != 0)
    return usage_error(
        "EVENT must be a number 0..4294967295 "
        "(decimal or 0x hex)",
        cmd);
  return finish(argc == 3 ? bd_mark_text(id, argv[2]) : bd_mark(id));
}
