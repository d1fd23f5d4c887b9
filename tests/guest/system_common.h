/*
 * Shared by the system-mode guest programs that use the channel directly
 * (guest-forge, guest-hostile-system): open it the way libbdguest does and
 * tell the plugin where it is.
 */
#ifndef BD_TESTS_GUEST_SYSTEM_COMMON_H
#define BD_TESTS_GUEST_SYSTEM_COMMON_H

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "channel.h"

/* Discover and map the channel, handshake, print "handshake <0|1>".
 * Returns 0, or prints why not and returns -1. */
static inline int sys_open_channel(const char *prog, struct bd_chan *c)
{
    int rc = bd_chan_discover(c);
    if (rc != 0) {
        if (rc == -EACCES)
            fprintf(stderr, "%s: the bdtrace channel exists but may not be "
                            "mapped: run as root\n", prog);
        else if (rc == -ENODEV)
            fprintf(stderr, "%s: no bdtrace channel (no ivshmem device with a "
                            "bdtrace header; BD_DEVICE=none?)\n", prog);
        else
            fprintf(stderr, "%s: cannot map the bdtrace channel: %s\n", prog,
                    strerror(-rc));
        return -1;
    }
    printf("handshake %d\n", bd_chan_handshake(c));
    fflush(stdout);
    return 0;
}

static inline unsigned sys_gettid(void)
{
    return (unsigned)syscall(SYS_gettid);
}

#endif /* BD_TESTS_GUEST_SYSTEM_COMMON_H */
