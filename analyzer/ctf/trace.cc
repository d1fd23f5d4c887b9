// SPDX-License-Identifier: MIT
#include "ctf/trace.h"

#include <algorithm>
#include <filesystem>

namespace bdtrace::analyzer::ctf {

Expected<Trace> OpenTrace(const std::string &dir) {
  Trace trace;
  trace.dir = dir;
  Expected<std::string> text = MetadataText(dir);
  if (!text) return text.take_error().Wrap("cannot read the metadata of " + dir);
  Expected<Metadata> metadata = ParseMetadata(*text);
  if (!metadata) return metadata.take_error().Wrap("the fast reader does not know the metadata of " + dir);
  trace.metadata = std::make_unique<Metadata>(std::move(*metadata));

  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code entry_ec;
    // LTTng keeps stream indexes in a subdirectory; hidden files are not
    // streams (babeltrace2 skips them too).
    if (name == "metadata" || name.empty() || name[0] == '.' || !it->is_regular_file(entry_ec)) continue;
    trace.stream_names.push_back(name);
  }
  if (ec) return Error{"cannot list " + dir, {ec.message()}};
  std::sort(trace.stream_names.begin(), trace.stream_names.end());
  for (const std::string &name : trace.stream_names) {
    Expected<StreamReader> reader = StreamReader::Open(dir + "/" + name, *trace.metadata);
    if (!reader) return reader.take_error();
    trace.streams.push_back(std::move(*reader));
  }
  return trace;
}

}  // namespace bdtrace::analyzer::ctf
