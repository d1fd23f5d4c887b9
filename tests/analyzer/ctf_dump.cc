// SPDX-License-Identifier: MIT
// ctf-dump: reads one CTF trace directory with the fast reader
// (analyzer/ctf) and prints its events the way
// `babeltrace2 --clock-cycles --no-delta --names=none` prints their time,
// name and payload, so that tests can compare the two readings line by
// line; or, with --count, only how many events and discarded events it
// read (for throughput measurements).
//
// Usage: ctf-dump [--count] TRACE_DIR
// Output lines: "[CYCLES] NAME: { V, ... }" in time order (ties in stream
// file order); "discarded N" for each discarded-events report. Exit 1 with
// the error on stderr when the trace cannot be read.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ctf/trace.h"

namespace {

using bdtrace::analyzer::ctf::Field;
using bdtrace::analyzer::ctf::Item;
using bdtrace::analyzer::ctf::Type;

void PrintValue(std::string &out, const Type &t, const bdtrace::analyzer::ctf::Value &v) {
  char buf[32];
  switch (t.kind) {
    case Type::Kind::kInteger:
      if (t.base == 16) {
        std::snprintf(buf, sizeof buf, "0x%" PRIX64, v.u);
      } else if (t.is_signed) {
        std::snprintf(buf, sizeof buf, "%" PRId64, static_cast<int64_t>(v.u));
      } else {
        std::snprintf(buf, sizeof buf, "%" PRIu64, v.u);
      }
      out += buf;
      break;
    case Type::Kind::kString:
      out += '"';
      for (char c : v.str) {
        // Escaped as babeltrace2's text output does.
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\r':
            out += "\\r";
            break;
          default:
            out += c;
        }
      }
      out += '"';
      break;
    case Type::Kind::kArray:
    case Type::Kind::kSequence:
      if (t.element->kind != Type::Kind::kInteger || t.element->size_bits % t.element->align_bits != 0) {
        out += "[" + std::to_string(v.u) + " elements]";  // not kept
        break;
      }
      if (v.u == 0) {
        out += "[ ]";
        break;
      }
      out += "[ ";
      for (uint64_t i = 0; i < v.u; ++i) {
        if (i > 0) out += ", ";
        bdtrace::analyzer::ctf::Value element;
        element.u = bdtrace::analyzer::ctf::IntegerElement(v, t, i);
        PrintValue(out, *t.element, element);
      }
      out += " ]";
      break;
    default:
      out += "?";
      break;
  }
}

}  // namespace

int main(int argc, char **argv) {
  bool count_only = false;
  int arg = 1;
  if (arg < argc && std::strcmp(argv[arg], "--count") == 0) {
    count_only = true;
    ++arg;
  }
  if (arg + 1 != argc) {
    std::fprintf(stderr, "usage: ctf-dump [--count] TRACE_DIR\n");
    return 2;
  }
  bdtrace::Expected<bdtrace::analyzer::ctf::Trace> trace = bdtrace::analyzer::ctf::OpenTrace(argv[arg]);
  if (!trace) {
    std::fprintf(stderr, "ctf-dump: %s\n", trace.error().ToString().c_str());
    return 1;
  }
  // The current item of each stream; merged by time, ties to the lower
  // stream index.
  std::vector<Item> heads(trace->streams.size());
  std::vector<std::string> payloads;  // formatted lazily below
  for (size_t i = 0; i < heads.size(); ++i) {
    if (bdtrace::Status st = trace->streams[i].Next(heads[i]); !st) {
      std::fprintf(stderr, "ctf-dump: %s\n", st.error().ToString().c_str());
      return 1;
    }
  }
  uint64_t events = 0, discarded = 0;
  std::string line;
  while (true) {
    size_t best = heads.size();
    for (size_t i = 0; i < heads.size(); ++i) {
      if (heads[i].kind == Item::Kind::kEnd) continue;
      if (best == heads.size() || heads[i].cycles < heads[best].cycles) best = i;
    }
    if (best == heads.size()) break;
    const Item &item = heads[best];
    if (item.kind == Item::Kind::kDiscarded) {
      discarded += item.discarded;
      if (!count_only) std::printf("discarded %" PRIu64 "\n", item.discarded);
    } else {
      ++events;
      if (!count_only) {
        char ts[32];
        std::snprintf(ts, sizeof ts, "[%020" PRIu64 "] ", item.cycles);
        line = ts;
        line += item.event->name;
        line += ": { ";
        const std::vector<Field> *fields = item.event->payload ? &item.event->payload->fields : nullptr;
        for (size_t f = 0; fields != nullptr && f < fields->size(); ++f) {
          if (f > 0) line += ", ";
          PrintValue(line, *(*fields)[f].type, (*item.payload)[f]);
        }
        line += " }\n";
        std::fputs(line.c_str(), stdout);
      }
    }
    if (bdtrace::Status st = trace->streams[best].Next(heads[best]); !st) {
      std::fflush(stdout);
      std::fprintf(stderr, "ctf-dump: %s\n", st.error().ToString().c_str());
      return 1;
    }
  }
  std::fprintf(count_only ? stdout : stderr, "events %" PRIu64 " discarded %" PRIu64 "\n", events, discarded);
  return 0;
}
