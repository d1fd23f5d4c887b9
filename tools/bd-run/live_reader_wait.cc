// SPDX-License-Identifier: MIT
#include "live_reader_wait.h"

#include "child.h"

#include <babeltrace2/babeltrace.h>

#include <chrono>
#include <memory>
#include <thread>

namespace bdtrace::bdrun {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);

// Owners of babeltrace2 references (put on destruction).
struct PluginPut {
  void operator()(const bt_plugin* p) const noexcept { bt_plugin_put_ref(p); }
};
struct ValuePut {
  void operator()(const bt_value* v) const noexcept { bt_value_put_ref(v); }
};
struct QueryPut {
  void operator()(bt_query_executor* q) const noexcept { bt_query_executor_put_ref(q); }
};

uint64_t unsigned_entry(const bt_value* map, const char* key) {
  const bt_value* v = bt_value_map_borrow_entry_value_const(map, key);
  if (v == nullptr) return 0;
  if (bt_value_is_unsigned_integer(v)) return bt_value_integer_unsigned_get(v);
  if (bt_value_is_signed_integer(v)) return static_cast<uint64_t>(bt_value_integer_signed_get(v));
  return 0;
}

}  // namespace

Expected<uint64_t> live_session_clients(const std::string& relayd_url, const std::string& session) {
  const bt_plugin* raw_plugin = nullptr;
  if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, &raw_plugin) !=
      BT_PLUGIN_FIND_STATUS_OK) {
    bt_current_thread_clear_error();
    return make_error("babeltrace2's ctf plugin was not found: install babeltrace2 (it reads live sessions)");
  }
  std::unique_ptr<const bt_plugin, PluginPut> plugin(raw_plugin);
  const bt_component_class_source* live =
      bt_plugin_borrow_source_component_class_by_name_const(plugin.get(), "lttng-live");
  if (live == nullptr) return make_error("babeltrace2 lacks src.ctf.lttng-live");
  std::unique_ptr<const bt_value, ValuePut> params(bt_value_map_create());
  if (!params ||
      bt_value_map_insert_string_entry(const_cast<bt_value*>(params.get()), "url", relayd_url.c_str()) !=
          BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
    return make_error("out of memory asking the relay daemon for its sessions");
  }
  std::unique_ptr<bt_query_executor, QueryPut> query(bt_query_executor_create(
      bt_component_class_source_as_component_class_const(live), "sessions", params.get()));
  if (!query) return make_error("out of memory asking the relay daemon for its sessions");
  const bt_value* raw_result = nullptr;
  if (bt_query_executor_query(query.get(), &raw_result) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
    bt_current_thread_clear_error();
    return make_error("cannot list the sessions of the lttng-relayd at " + relayd_url + ": is it running?");
  }
  std::unique_ptr<const bt_value, ValuePut> result(raw_result);
  uint64_t clients = 0;
  for (uint64_t i = 0; bt_value_is_array(raw_result) && i < bt_value_array_get_length(raw_result); ++i) {
    const bt_value* s = bt_value_array_borrow_element_by_index_const(raw_result, i);
    const bt_value* name =
        bt_value_is_map(s) ? bt_value_map_borrow_entry_value_const(s, "session-name") : nullptr;
    if (name != nullptr && bt_value_is_string(name) && session == bt_value_string_get(name)) {
      clients += unsigned_entry(s, "client-count");
    }
  }
  return clients;
}

Status wait_for_live_reader(const std::string& relayd_url, const std::string& session, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    Expected<uint64_t> clients = live_session_clients(relayd_url, session);
    if (!clients) return clients.take_error();
    // A ^C while waiting: stop waiting; run_child then starts no guest and
    // bd-run ends as for a signal.
    if (clients.value() > 0 || SignalForwarding::pending_signal() != 0) return Status();
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error("no live reader followed session " + session + " within " +
                        std::to_string(timeout_s) +
                        " s (--live-wait): start bd-analyze --live, or run without --live-wait");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace bdtrace::bdrun
