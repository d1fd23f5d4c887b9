// SPDX-License-Identifier: MIT
// The babeltrace2 simple sink both readers end their graph with (the trace
// reader in reader.cc, the live reader in live.cc): every message to an
// EventDecoder.
#ifndef BDTRACE_ANALYZER_DECODER_SINK_H
#define BDTRACE_ANALYZER_DECODER_SINK_H

#include <babeltrace2/babeltrace.h>

namespace bdtrace::analyzer {

// bt_graph_add_simple_sink_component's consume function; user_data is the
// EventDecoder. A C boundary: never lets an exception out (an exception of
// the decoder or its visitor becomes a babeltrace2 error cause and the ERROR
// status); every message reference is put.
bt_graph_simple_sink_component_consume_func_status ConsumeIntoDecoder(bt_message_iterator *iterator,
                                                                      void *user_data) noexcept;

}  // namespace bdtrace::analyzer

#endif  // BDTRACE_ANALYZER_DECODER_SINK_H
