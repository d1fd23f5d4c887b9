// SPDX-License-Identifier: MIT
#include "bt_error.h"

#include <babeltrace2/babeltrace.h>

#include "bdtrace/analyzer/bt_ref.h"

namespace bdtrace::analyzer {

namespace {

std::string DescribeCause(const bt_error_cause *cause) {
  std::string who;
  switch (bt_error_cause_get_actor_type(cause)) {
    case BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT:
      who = bt_error_cause_component_actor_get_component_name(cause);
      break;
    case BT_ERROR_CAUSE_ACTOR_TYPE_MESSAGE_ITERATOR:
      who = bt_error_cause_message_iterator_actor_get_component_name(cause);
      break;
    default:
      who = bt_error_cause_get_module_name(cause);
      break;
  }
  std::string text = bt_error_cause_get_message(cause);
  // babeltrace2 appends "key=value, ..." details (addresses, statuses) after
  // the sentence; they help its developers, not our users.
  if (const size_t colon = text.find(": ");
      colon != std::string::npos && text.find("addr=", colon) != std::string::npos) {
    text.resize(colon);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return who.empty() ? text : who + ": " + text;
}

}  // namespace

Error TakeBtError(std::string message) {
  Error error{std::move(message), {}};
  ErrorRef bt_error(bt_current_thread_take_error());
  if (!bt_error) return error;
  const uint64_t n = bt_error_get_cause_count(bt_error.get());
  for (uint64_t i = 0; i < n; ++i) {
    error.causes.push_back(DescribeCause(bt_error_borrow_cause_by_index(bt_error.get(), i)));
  }
  return error;
}

}  // namespace bdtrace::analyzer
