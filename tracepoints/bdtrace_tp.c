// SPDX-License-Identifier: MIT
/* Instantiates the "bdtrace" LTTng-UST provider (probes register from this
 * object's constructors, so linking it into a program or a dlopen'ed plugin
 * is enough). */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bdtrace/bdtrace_tp.h"
