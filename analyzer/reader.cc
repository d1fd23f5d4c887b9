// SPDX-License-Identifier: MIT
// The babeltrace2 graph: sources -> muxer -> simple sink -> EventDecoder.
#include <babeltrace2/babeltrace.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>

#include "bdtrace/analyzer/bt_ref.h"
#include "bdtrace/analyzer/reader.h"
#include "bt_error.h"
#include "event_decoder.h"
#include "fast_reader.h"
#include "decoder_sink.h"
#include "metadata_check.h"

namespace bdtrace::analyzer {

namespace {

// The events the decoder still holds for reordering, to the visitor (which
// may throw, as in ConsumeIntoDecoder).
Status FinishDecoder(EventDecoder &decoder) {
  try {
    decoder.Finish();
  } catch (const std::exception &e) {
    return Error{std::string("analyzing an event failed: ") + e.what(), {}};
  } catch (...) {
    return Error{"analyzing an event failed: unknown exception", {}};
  }
  return Status::Ok();
}

Expected<PluginRef> FindPlugin(const char *name) {
  PluginRef plugin;
  // Search every standard place; do not fail because some other plugin
  // (e.g. a Python one) cannot load.
  const bt_plugin_find_status st =
      bt_plugin_find(name, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE, BT_FALSE, plugin.out());
  if (st == BT_PLUGIN_FIND_STATUS_NOT_FOUND) {
    return Error{std::string("babeltrace2 plugin '") + name +
                     "' not found — is babeltrace2 (the plugins package) installed?",
                 {}};
  }
  if (st != BT_PLUGIN_FIND_STATUS_OK) {
    return TakeBtError(std::string("cannot load babeltrace2 plugin '") + name + "'");
  }
  return plugin;
}

// The trace is named after its directory: the decoder numbers it by that.
Expected<ValueRef> SourceParams(const std::string &dir) {
  ValueRef params(bt_value_map_create());
  ValueRef inputs(bt_value_array_create());
  if (!params || !inputs ||
      bt_value_array_append_string_element(inputs.get(), dir.c_str()) !=
          BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
      bt_value_map_insert_entry(params.get(), "inputs", inputs.get()) !=
          BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
      bt_value_map_insert_string_entry(params.get(), "trace-name", dir.c_str()) !=
          BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
    return TakeBtError("out of memory building source.ctf.fs parameters");
  }
  return params;
}

// The muxer always keeps one unconnected input port (it adds one per
// connection): find it.
const bt_port_input *FreeInputPort(const bt_component_filter *muxer) {
  const uint64_t n = bt_component_filter_get_input_port_count(muxer);
  for (uint64_t i = 0; i < n; ++i) {
    const bt_port_input *port = bt_component_filter_borrow_input_port_by_index_const(muxer, i);
    if (!bt_port_is_connected(bt_port_input_as_port_const(port))) return port;
  }
  return nullptr;
}

}  // namespace

namespace {

// One source.ctf.fs per directory, a muxer, the sink: see reader.h.
Status ReadWithBabeltrace2(const std::vector<std::string> &trace_dirs, EventVisitor &visitor,
                           const ReaderOptions &options, ReorderStats *order) {
  bt_current_thread_clear_error();
  const bt_logging_level level = options.bt_log_level;

  Expected<PluginRef> ctf = FindPlugin("ctf");
  if (!ctf) return ctf.take_error();
  Expected<PluginRef> utils = FindPlugin("utils");
  if (!utils) return utils.take_error();
  const bt_component_class_source *fs_class =
      bt_plugin_borrow_source_component_class_by_name_const(ctf->get(), "fs");
  const bt_component_class_filter *muxer_class =
      bt_plugin_borrow_filter_component_class_by_name_const(utils->get(), "muxer");
  if (fs_class == nullptr || muxer_class == nullptr) {
    return Error{"babeltrace2 lacks source.ctf.fs or filter.utils.muxer", {}};
  }

  // Outlives the graph, whose destruction may still call into the sink.
  EventDecoder decoder(visitor, options.reorder);
  decoder.NumberTracesByName(trace_dirs);
  GraphRef graph(bt_graph_create(0));
  if (!graph) return TakeBtError("cannot create a babeltrace2 graph");

  const bt_component_filter *muxer = nullptr;
  if (bt_graph_add_filter_component(graph.get(), muxer_class, "muxer", nullptr, level, &muxer) !=
      BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
    return TakeBtError("cannot add filter.utils.muxer");
  }
  const bt_component_sink *sink = nullptr;
  if (bt_graph_add_simple_sink_component(graph.get(), "bdtrace-sink", nullptr, ConsumeIntoDecoder, nullptr,
                                         &decoder, &sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
    return TakeBtError("cannot add the analyzer's sink");
  }

  for (size_t i = 0; i < trace_dirs.size(); ++i) {
    const std::string &dir = trace_dirs[i];
    if (Status framing = CheckMetadataFraming(dir); !framing) return framing;
    Expected<ValueRef> params = SourceParams(dir);
    if (!params) return params.take_error();
    const bt_component_source *source = nullptr;
    const std::string name = "source-" + std::to_string(i);
    if (bt_graph_add_source_component(graph.get(), fs_class, name.c_str(), params->get(), level, &source) !=
        BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
      return TakeBtError("cannot open the CTF trace in " + dir + " (corrupt metadata or stream files?)");
    }
    const uint64_t ports = bt_component_source_get_output_port_count(source);
    for (uint64_t p = 0; p < ports; ++p) {
      const bt_port_input *in = FreeInputPort(muxer);
      if (in == nullptr || bt_graph_connect_ports(
                               graph.get(), bt_component_source_borrow_output_port_by_index_const(source, p),
                               in, nullptr) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
        return TakeBtError("cannot connect the streams of " + dir + " to the muxer");
      }
    }
  }
  if (bt_graph_connect_ports(graph.get(), bt_component_filter_borrow_output_port_by_name_const(muxer, "out"),
                             bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
                             nullptr) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
    return TakeBtError("cannot connect the muxer to the analyzer's sink");
  }

  bt_graph_run_status st;
  do {
    st = bt_graph_run(graph.get());
  } while (st == BT_GRAPH_RUN_STATUS_AGAIN);
  if (st != BT_GRAPH_RUN_STATUS_OK) {
    return TakeBtError("cannot read the trace in " + JoinTraceDirs(trace_dirs) + " (truncated or corrupt?)");
  }
  if (Status flushed = FinishDecoder(decoder); !flushed) return flushed;
  if (order != nullptr) *order = decoder.order_stats();
  return Status::Ok();
}

}  // namespace

std::string JoinTraceDirs(const std::vector<std::string> &dirs) {
  std::string out;
  for (const std::string &d : dirs) {
    if (!out.empty()) out += ", ";
    out += d;
  }
  return out;
}

Status ReadTraces(const std::vector<std::string> &trace_dirs, EventVisitor &visitor,
                  const ReaderOptions &options, ReorderStats *order, ReadInfo *info) {
  ReadInfo local;
  ReadInfo &used = info != nullptr ? *info : local;
  used = ReadInfo{};
  if (options.kind != ReaderKind::kBabeltrace2) {
    for (const std::string &dir : trace_dirs)
      if (Status framing = CheckMetadataFraming(dir); !framing) return framing;
    Expected<FastTracesPtr> fast = OpenFastTraces(trace_dirs);
    if (fast) {
      used.used = ReaderKind::kFast;
      const bool ahead =
          options.read_ahead == ReadAhead::kAlways ||
          (options.read_ahead == ReadAhead::kWhenCoresAllow && ReadAheadPays(StreamCount(**fast)));
      return ReadFastTraces(**fast, visitor, options.reorder, order, ahead);
    }
    if (options.kind == ReaderKind::kFast) {
      return fast.take_error().Wrap("the fast reader cannot read " + JoinTraceDirs(trace_dirs) +
                                    " (--reader babeltrace2 or auto reads it with babeltrace2)");
    }
    used.fallback_reason = fast.error().ToString();
  }
  return ReadWithBabeltrace2(trace_dirs, visitor, options, order);
}

namespace {

using QueryExecutorRef = BtRef<bt_query_executor, bt_query_executor_put_ref>;
using ConstValueRef = BtRef<const bt_value, bt_value_put_ref>;

bool IntegerEntry(const bt_value *map, const char *key, int64_t &out) {
  const bt_value *v = bt_value_map_borrow_entry_value_const(map, key);
  if (v == nullptr) return false;
  if (bt_value_is_signed_integer(v)) {
    out = bt_value_integer_signed_get(v);
    return true;
  }
  if (bt_value_is_unsigned_integer(v)) {
    out = static_cast<int64_t>(bt_value_integer_unsigned_get(v));
    return true;
  }
  return false;
}

}  // namespace

Expected<TimeRange> QueryTimeRange(const std::vector<std::string> &trace_dirs) {
  bt_current_thread_clear_error();
  Expected<PluginRef> ctf = FindPlugin("ctf");
  if (!ctf) return ctf.take_error();
  const bt_component_class_source *fs_class =
      bt_plugin_borrow_source_component_class_by_name_const(ctf->get(), "fs");
  if (fs_class == nullptr) return Error{"babeltrace2 lacks source.ctf.fs", {}};
  TimeRange range{INT64_MAX, INT64_MIN};
  for (const std::string &dir : trace_dirs) {
    Expected<ValueRef> params = SourceParams(dir);
    if (!params) return params.take_error();
    QueryExecutorRef query(
        bt_query_executor_create(bt_component_class_source_as_component_class_const(fs_class),
                                 "babeltrace.trace-infos", params->get()));
    if (!query) return TakeBtError("cannot create a babeltrace2 query");
    ConstValueRef result;
    const bt_value *raw = nullptr;
    if (bt_query_executor_query(query.get(), &raw) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
      return TakeBtError("cannot query the time range of " + dir);
    }
    result.reset(raw);
    if (!bt_value_is_array(raw)) continue;
    for (uint64_t t = 0; t < bt_value_array_get_length(raw); ++t) {
      const bt_value *trace = bt_value_array_borrow_element_by_index_const(raw, t);
      const bt_value *streams =
          bt_value_is_map(trace) ? bt_value_map_borrow_entry_value_const(trace, "stream-infos") : nullptr;
      if (streams == nullptr || !bt_value_is_array(streams)) continue;
      for (uint64_t i = 0; i < bt_value_array_get_length(streams); ++i) {
        const bt_value *stream = bt_value_array_borrow_element_by_index_const(streams, i);
        const bt_value *ns =
            bt_value_is_map(stream) ? bt_value_map_borrow_entry_value_const(stream, "range-ns") : nullptr;
        int64_t begin = 0, end = 0;
        if (ns == nullptr || !bt_value_is_map(ns) || !IntegerEntry(ns, "begin", begin) ||
            !IntegerEntry(ns, "end", end)) {
          continue;
        }
        range.begin_ns = std::min(range.begin_ns, begin);
        range.end_ns = std::max(range.end_ns, end);
      }
    }
  }
  if (range.begin_ns > range.end_ns) return Error{"the traces say no time range", {}};
  return range;
}

uint64_t StreamBytes(const std::vector<std::string> &trace_dirs) {
  uint64_t total = 0;
  for (const std::string &dir : trace_dirs) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      if (it->path().filename() == "metadata" || !it->is_regular_file(entry_ec)) continue;
      const uint64_t size = it->file_size(entry_ec);
      if (!entry_ec) total += size;
    }
  }
  return total;
}

}  // namespace bdtrace::analyzer
