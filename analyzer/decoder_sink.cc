// SPDX-License-Identifier: MIT
#include "decoder_sink.h"

#include <exception>
#include <string>

#include "event_decoder.h"

namespace bdtrace::analyzer {

bt_graph_simple_sink_component_consume_func_status ConsumeIntoDecoder(bt_message_iterator *iterator,
                                                                      void *user_data) noexcept {
  auto *decoder = static_cast<EventDecoder *>(user_data);
  bt_message_array_const msgs = nullptr;
  uint64_t count = 0;
  switch (bt_message_iterator_next(iterator, &msgs, &count)) {
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
      break;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
      return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_END;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
      return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_AGAIN;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
      return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_MEMORY_ERROR;
    default:
      return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
  }
  std::string failure;
  for (uint64_t i = 0; i < count; ++i) {
    if (failure.empty()) {
      try {
        decoder->OnMessage(msgs[i]);
      } catch (const std::exception &e) {
        failure = e.what()[0] != '\0' ? e.what() : "exception";
      } catch (...) {
        failure = "unknown exception";
      }
    }
    bt_message_put_ref(msgs[i]);
  }
  if (!failure.empty()) {
    bt_current_thread_error_append_cause_from_unknown("bdtrace-analyzer", __FILE__, __LINE__,
                                                      "analyzing an event failed: %s", failure.c_str());
    return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_ERROR;
  }
  return BT_GRAPH_SIMPLE_SINK_COMPONENT_CONSUME_FUNC_STATUS_OK;
}

}  // namespace bdtrace::analyzer
