// SPDX-License-Identifier: MIT
// The live graph: src.ctf.lttng-live -> simple sink -> EventDecoder. The
// lttng-live source merges its streams itself (one output port), so there
// is no muxer; the graph runs one step at a time so that the summary can be
// shown between steps.
#include "bdtrace/analyzer/live.h"

#include <babeltrace2/babeltrace.h>
#include <unistd.h>

#include <exception>
#include <thread>

#include "bdtrace/analyzer/bt_ref.h"
#include "bdtrace/analyzer/selection.h"
#include "bt_error.h"
#include "decoder_sink.h"
#include "event_decoder.h"

namespace bdtrace::analyzer {

namespace {

// When the relay daemon has nothing new (the source says AGAIN): how long
// to wait before asking again. Well below the live timer (1 s by bd-run).
constexpr auto kAgainPause = std::chrono::milliseconds(100);

using Clock = std::chrono::steady_clock;

Expected<ValueRef> LiveParams(const std::string &url) {
  ValueRef params(bt_value_map_create());
  ValueRef inputs(bt_value_array_create());
  if (!params || !inputs ||
      bt_value_array_append_string_element(inputs.get(), url.c_str()) !=
          BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
      bt_value_map_insert_entry(params.get(), "inputs", inputs.get()) !=
          BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
      // A session that is not there is an error now, not a wait forever.
      bt_value_map_insert_string_entry(params.get(), "session-not-found-action", "fail") !=
          BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
    return TakeBtError("out of memory building src.ctf.lttng-live parameters");
  }
  return params;
}

// The graph (source -> sink into decoder), ready to run.
Expected<GraphRef> BuildGraph(const LiveOptions &options, EventDecoder &decoder) {
  PluginRef ctf;
  const bt_plugin_find_status found =
      bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, ctf.out());
  if (found != BT_PLUGIN_FIND_STATUS_OK) {
    return TakeBtError(
        "babeltrace2 plugin 'ctf' not found — is babeltrace2 (the plugins package) installed?");
  }
  const bt_component_class_source *live_class =
      bt_plugin_borrow_source_component_class_by_name_const(ctf.get(), "lttng-live");
  if (live_class == nullptr) return Error{"babeltrace2 lacks src.ctf.lttng-live", {}};
  GraphRef graph(bt_graph_create(0));
  if (!graph) return TakeBtError("cannot create a babeltrace2 graph");
  Expected<ValueRef> params = LiveParams(options.url);
  if (!params) return params.take_error();
  const bt_component_source *source = nullptr;
  if (bt_graph_add_source_component(graph.get(), live_class, "live", params->get(),
                                    options.reader.bt_log_level,
                                    &source) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
    return TakeBtError("cannot follow " + options.url + " (not an lttng-live URL?)");
  }
  const bt_component_sink *sink = nullptr;
  if (bt_graph_add_simple_sink_component(graph.get(), "bdtrace-sink", nullptr, ConsumeIntoDecoder, nullptr,
                                         &decoder, &sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
    return TakeBtError("cannot add the analyzer's sink");
  }
  if (bt_graph_connect_ports(graph.get(), bt_component_source_borrow_output_port_by_index_const(source, 0),
                             bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
                             nullptr) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
    return TakeBtError("cannot connect the live source to the analyzer's sink");
  }
  return graph;
}

}  // namespace

std::string LiveUrl(const std::string &url_or_session) {
  if (url_or_session.find("://") != std::string::npos) return url_or_session;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return "net://localhost/host/" + std::string(host[0] != '\0' ? host : "localhost") + "/" + url_or_session;
}

Expected<std::string> OnlyLocalLiveSession() {
  constexpr const char *kRelayd = "net://localhost";
  bt_current_thread_clear_error();
  PluginRef ctf;
  if (bt_plugin_find("ctf", BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, ctf.out()) !=
      BT_PLUGIN_FIND_STATUS_OK) {
    return TakeBtError(
        "babeltrace2 plugin 'ctf' not found — is babeltrace2 (the plugins package) installed?");
  }
  const bt_component_class_source *live_class =
      bt_plugin_borrow_source_component_class_by_name_const(ctf.get(), "lttng-live");
  if (live_class == nullptr) return Error{"babeltrace2 lacks src.ctf.lttng-live", {}};
  ValueRef params(bt_value_map_create());
  if (!params ||
      bt_value_map_insert_string_entry(params.get(), "url", kRelayd) != BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
    return TakeBtError("out of memory building the sessions query");
  }
  using QueryRef = BtRef<bt_query_executor, bt_query_executor_put_ref>;
  using ConstValueRef = BtRef<const bt_value, bt_value_put_ref>;
  QueryRef query(bt_query_executor_create(bt_component_class_source_as_component_class_const(live_class),
                                          "sessions", params.get()));
  if (!query) return TakeBtError("cannot create a babeltrace2 query");
  const bt_value *raw = nullptr;
  if (bt_query_executor_query(query.get(), &raw) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
    return TakeBtError(std::string("cannot list the live sessions of the lttng-relayd at ") + kRelayd +
                       " (is one running? bd-run --live starts one)");
  }
  ConstValueRef result(raw);
  std::vector<std::string> urls;
  for (uint64_t i = 0; bt_value_is_array(raw) && i < bt_value_array_get_length(raw); ++i) {
    const bt_value *s = bt_value_array_borrow_element_by_index_const(raw, i);
    const bt_value *url = bt_value_is_map(s) ? bt_value_map_borrow_entry_value_const(s, "url") : nullptr;
    if (url != nullptr && bt_value_is_string(url)) urls.emplace_back(bt_value_string_get(url));
  }
  if (urls.size() == 1) return urls.front();
  if (urls.empty()) {
    return Error{std::string("the lttng-relayd at ") + kRelayd +
                     " has no live session: start one with bd-run --live, or name it: --live URL|SESSION",
                 {}};
  }
  std::string list;
  for (const std::string &u : urls) list += "\n  " + u;
  return Error{std::string("the lttng-relayd at ") + kRelayd + " has " + std::to_string(urls.size()) +
                   " live sessions: choose one with --live URL:" + list,
               {}};
}

Status ReadLive(const LiveOptions &options, EventVisitor &visitor, const std::function<void(double)> &tick) {
  bt_current_thread_clear_error();
  EventDecoder decoder(visitor, options.reader.reorder);  // outlives the graph
  Expected<GraphRef> graph = BuildGraph(options, decoder);
  if (!graph) return graph.take_error();
  auto tick_start = Clock::now();
  for (;;) {
    const bt_graph_run_once_status st = bt_graph_run_once(graph->get());
    if (st == BT_GRAPH_RUN_ONCE_STATUS_END) break;
    if (st != BT_GRAPH_RUN_ONCE_STATUS_OK && st != BT_GRAPH_RUN_ONCE_STATUS_AGAIN) {
      return TakeBtError("cannot follow the live session " + options.url +
                         " (is bd-run --live running it, and is lttng-relayd up?)");
    }
    if (st == BT_GRAPH_RUN_ONCE_STATUS_AGAIN) std::this_thread::sleep_for(kAgainPause);
    const auto now = Clock::now();
    if (now - tick_start >= options.interval) {
      tick(std::chrono::duration<double>(now - tick_start).count());
      tick_start = now;
    }
  }
  try {
    decoder.Finish();
  } catch (const std::exception &e) {
    return Error{std::string("analyzing an event failed: ") + e.what(), {}};
  }
  tick(std::chrono::duration<double>(Clock::now() - tick_start).count());
  return Status::Ok();
}

Expected<report::Report> AnalyzeLive(const LiveOptions &options) {
  Model model(options.model);
  LiveSummary summary;
  TeeVisitor tee({&model, &summary});
  const auto tick = [&](double seconds) {
    summary.Tick(seconds);
    if (options.on_tick) options.on_tick(summary);
  };
  if (Status read = ReadLive(options, tee, tick); !read) return read.take_error();
  if (model.events() == 0) {
    return Error{"the live session " + options.url +
                     " ended without any event — were bdtrace:* events emitted while it ran?",
                 {}};
  }
  report::Report report;
  report.add_trace_paths(options.url);
  model.Finish(report);
  // Every emitting process's first event is its bdtrace:session: without
  // one, the reader attached after the run began.
  if (report.sessions_size() == 0) {
    report.add_warnings(
        "no bdtrace:session event was seen: bd-analyze --live attached after the run began (babeltrace2's "
        "lttng-live starts at the newest data the relay daemon holds), so this report covers only what came "
        "after; run bd-run with --live-wait to hold the guest until a reader follows, or analyze the trace "
        "the relay daemon wrote");
  }
  return report;
}

}  // namespace bdtrace::analyzer
