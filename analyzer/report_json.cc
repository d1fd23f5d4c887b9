// SPDX-License-Identifier: MIT
#include <google/protobuf/util/json_util.h>

#include "bdtrace/analyzer/report_format.h"

namespace bdtrace::analyzer {

Expected<std::string> FormatJson(const report::Report &report) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  const auto st = google::protobuf::util::MessageToJsonString(report, &out, options);
  if (!st.ok()) return Error{"cannot print the report as JSON", {st.ToString()}};
  out += '\n';
  return out;
}

Expected<report::Report> ParseJson(const std::string &json) {
  report::Report report;
  const auto st = google::protobuf::util::JsonStringToMessage(json, &report);
  if (!st.ok()) return Error{"not a bd-analyze JSON report", {st.ToString()}};
  return report;
}

}  // namespace bdtrace::analyzer
