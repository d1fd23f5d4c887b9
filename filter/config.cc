// SPDX-License-Identifier: MIT
// Parsing and validating filter configs (see config.h).
#include "bdtrace/filter/config.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "bdtrace/filter/glob.h"

namespace bdtrace::filter {
namespace {

namespace pb = google::protobuf;
using Tree = pb::TextFormat::ParseInfoTree;
using Location = pb::TextFormat::ParseLocation;

class SilentCollector : public pb::io::ErrorCollector {
 public:
  void AddError(int, pb::io::ColumnNumber, const std::string &) override {}
};

// The start of the last token that begins before (line, column), 0-based.
// The text-format parser reports some errors only after it consumed the
// offending token (an unknown enum value, an unknown or repeated field
// name): the user wants to be pointed at that token, not the next one.
void previous_token(const std::string &text, int &line, int &column) {
  pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
  SilentCollector silent;
  pb::io::Tokenizer tok(&in, &silent);
  tok.set_comment_style(pb::io::Tokenizer::SH_COMMENT_STYLE);
  int best_line = -1, best_column = -1;
  while (tok.Next()) {
    const auto &t = tok.current();
    if (t.line > line || (t.line == line && t.column >= column)) break;
    best_line = t.line;
    best_column = t.column;
  }
  if (best_line >= 0) {
    line = best_line;
    column = best_column;
  }
}

bool reported_after_token(const std::string &message) {
  return message.rfind("Unknown enumeration value", 0) == 0 ||
         message.find("has no field named") != std::string::npos ||
         message.find("is specified multiple times") != std::string::npos;
}

bool ends_with(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The text-format parser names the token it did not expect by its text, and
// the end of the input is a token with no text: "Expected identifier, got: "
// or `Expected "}", found "".`. Say "end of file" instead.
std::string name_end_of_file(std::string message) {
  static const char *const kTails[] = {"got: ", "unexpected token: "};
  for (const char *tail : kTails) {
    if (ends_with(message, tail)) return message + "end of file";
  }
  static const char *const kQuoted[] = {"found \"\"", "Value: \"\""};
  for (const char *quoted : kQuoted) {
    const std::string q = quoted;
    const std::size_t at = message.find(q);
    if (at != std::string::npos) {
      return message.replace(at, q.size(), q.substr(0, q.size() - 2) + "end of file");
    }
  }
  return message;
}

// The last '{' (or '<') still open at the end of `text` and where it is
// (0-based); false when every one is closed.
bool unclosed_brace(const std::string &text, char &brace, int &line, int &column) {
  pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
  SilentCollector silent;
  pb::io::Tokenizer tok(&in, &silent);
  tok.set_comment_style(pb::io::Tokenizer::SH_COMMENT_STYLE);
  struct Open {
    char brace;
    int line, column;
  };
  std::vector<Open> open;
  while (tok.Next()) {
    const auto &t = tok.current();
    if (t.type != pb::io::Tokenizer::TYPE_SYMBOL) continue;
    if (t.text == "{" || t.text == "<") {
      open.push_back(Open{t.text[0], t.line, t.column});
    } else if ((t.text == "}" || t.text == ">") && !open.empty()) {
      open.pop_back();
    }
  }
  if (open.empty()) return false;
  brace = open.back().brace;
  line = open.back().line;
  column = open.back().column;
  return true;
}

// Keeps the first error the parser reports, as "FILE:LINE:COLUMN: msg".
class FirstErrorCollector : public pb::io::ErrorCollector {
 public:
  FirstErrorCollector(const std::string &file, const std::string &text) : file_(file), text_(text) {}
  void AddError(int line, pb::io::ColumnNumber column, const std::string &message) override {
    if (!error_.empty()) return;
    if (reported_after_token(message)) previous_token(text_, line, column);
    std::string said = name_end_of_file(message);
    char brace = '{';
    int open_line = 0, open_column = 0;
    if (said != message && unclosed_brace(text_, brace, open_line, open_column)) {
      said += " (the '" + std::string(1, brace) + "' at " + std::to_string(open_line + 1) + ":" +
              std::to_string(open_column + 1) + " is not closed)";
    }
    error_ = file_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + said;
  }
  void AddWarning(int, pb::io::ColumnNumber, const std::string &) override {}
  const std::string &error() const { return error_; }

 private:
  const std::string &file_;
  const std::string &text_;
  std::string error_;
};

const pb::FieldDescriptor *field(const pb::Descriptor *d, const char *name) {
  return d->FindFieldByName(name);
}

// Semantic checks, each failure located at the offending field (or, for a
// missing field, at the message that should hold it).
class Validator {
 public:
  explicit Validator(const std::string &file) : file_(file) {}

  Status config(const FilterConfig &c, const Tree *tree) {
    const auto *rule_f = field(FilterConfig::descriptor(), "rule");
    if (!Action_IsValid(c.default_action()))
      return fail(
          loc(tree, field(FilterConfig::descriptor(), "default_action"), -1, {0, 0}),
          "default_action: " + std::to_string(c.default_action()) + " is not an action (RECORD or DROP)");
    if (c.rule_size() > static_cast<int>(kMaxRules))
      return fail(loc(tree, rule_f, kMaxRules, {0, 0}), "rule[" + std::to_string(kMaxRules) +
                                                            "]: too many rules (at most " +
                                                            std::to_string(kMaxRules) + ")");
    for (int i = 0; i < c.rule_size(); ++i) {
      const Location at = loc(tree, rule_f, i, {0, 0});
      const Tree *sub = tree ? tree->GetTreeForNested(rule_f, i) : nullptr;
      if (Status st = rule(c.rule(i), sub, at, "rule[" + std::to_string(i) + "]"); !st) return st;
    }
    return Status::Ok();
  }

 private:
  static Location loc(const Tree *tree, const pb::FieldDescriptor *f, int index, Location fallback) {
    if (tree == nullptr) return fallback;
    if (!f->is_repeated()) {
      const Location l = tree->GetLocation(f, -1);
      return l.line < 0 ? fallback : l;
    }
    // A list (`id: [1, 64]`) records one location, for its first
    // element: use the nearest element before `index` that has one.
    for (int i = index; i >= 0; --i) {
      const Location l = tree->GetLocation(f, i);
      if (l.line >= 0) return l;
    }
    return fallback;
  }
  static const Tree *nested(const Tree *tree, const pb::FieldDescriptor *f, int index) {
    return tree ? tree->GetTreeForNested(f, f->is_repeated() ? index : -1) : nullptr;
  }

  // "FILE:LINE:COLUMN: message", 1-based.
  Status fail(Location at, const std::string &message) const {
    return make_error(file_ + ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1) + ": " +
                      message);
  }

  Status rule(const Rule &r, const Tree *tree, Location at, const std::string &path) {
    const auto *d = Rule::descriptor();
    if (r.name().size() > kMaxNameLen)
      return fail(loc(tree, field(d, "name"), -1, at),
                  path + ".name: longer than " + std::to_string(kMaxNameLen) + " bytes");
    if (r.has_vcpus()) {
      Status st = id_set(r.vcpus(), nested(tree, field(d, "vcpus"), -1), loc(tree, field(d, "vcpus"), -1, at),
                         path + ".vcpus", kMaxVcpus);
      if (!st) return st;
    }
    if (r.has_events()) {
      Status st = id_set(r.events(), nested(tree, field(d, "events"), -1),
                         loc(tree, field(d, "events"), -1, at), path + ".events", 0);
      if (!st) return st;
    }
    if (r.has_process()) {
      Status st = process(r.process(), nested(tree, field(d, "process"), -1),
                          loc(tree, field(d, "process"), -1, at), path + ".process");
      if (!st) return st;
    }
    for (int j = 0; j < r.kind_size(); ++j) {
      if (r.kind(j) == KIND_UNSPECIFIED || !Kind_IsValid(r.kind(j)))
        return fail(loc(tree, field(d, "kind"), j, at),
                    path + ".kind[" + std::to_string(j) +
                        "]: " + (Kind_IsValid(r.kind(j)) ? Kind_Name(r.kind(j)) : std::to_string(r.kind(j))) +
                        " is not a kind (MARK, TEXT, REGION, NAME, SCHED_SWITCH, HELLO)");
    }
    if (r.action() == ACTION_UNSPECIFIED)
      return fail(at, path + ": missing action (action: RECORD or action: DROP)");
    if (!Action_IsValid(r.action()))
      return fail(loc(tree, field(d, "action"), -1, at),
                  path + ".action: " + std::to_string(r.action()) + " is not an action (RECORD or DROP)");
    if (r.trace_code()) {
      const Location tc = loc(tree, field(d, "trace_code"), -1, at);
      if (r.action() != RECORD) return fail(tc, path + ".trace_code: only a RECORD rule can trace code");
      if (!r.has_process())
        return fail(tc, path +
                            ".trace_code: needs a process selector (process { comm, "
                            "pid or tid }): which process's code to trace");
    }
    if (r.code_events() != BLOCK_BATCHES && !r.trace_code())
      return fail(loc(tree, field(d, "code_events"), -1, at),
                  path + ".code_events: only applies with trace_code: true");
    if (!CodeEvents_IsValid(r.code_events()))
      return fail(loc(tree, field(d, "code_events"), -1, at),
                  path + ".code_events: " + std::to_string(r.code_events()) +
                      " is not BLOCK_BATCHES, EACH_BLOCK or BLOCK_COUNTS");
    if (r.has_rate_limit()) {
      const Location rl = loc(tree, field(d, "rate_limit"), -1, at);
      if (r.action() != RECORD)
        return fail(rl, path + ".rate_limit: only a RECORD rule can have a rate limit");
      const auto *rd = RateLimit::descriptor();
      const Tree *sub = nested(tree, field(d, "rate_limit"), -1);
      const uint64_t eps = r.rate_limit().events_per_second();
      if (eps == 0 || eps > kMaxRate)
        return fail(loc(sub, field(rd, "events_per_second"), -1, rl),
                    path + ".rate_limit.events_per_second: must be from 1 to " + std::to_string(kMaxRate) +
                        " (got " + std::to_string(eps) + ")");
      if (r.rate_limit().burst() > kMaxRate)
        return fail(loc(sub, field(rd, "burst"), -1, rl),
                    path + ".rate_limit.burst: at most " + std::to_string(kMaxRate));
    }
    return Status::Ok();
  }

  // max: values must be < max (0: no limit).
  Status id_set(const IdSet &s, const Tree *tree, Location at, const std::string &path, uint32_t max) {
    const auto *d = IdSet::descriptor();
    if (s.all() && (s.id_size() > 0 || s.range_size() > 0))
      return fail(loc(tree, field(d, "all"), -1, at),
                  path + ": 'all: true' cannot be combined with id or range");
    if (!s.all() && s.id_size() == 0 && s.range_size() == 0)
      return fail(
          at, path + ": empty set; give all: true, id or range (or leave " + path + " out for every value)");
    const std::string limit = max ? " (at most " + std::to_string(max - 1) + ")" : "";
    for (int j = 0; j < s.id_size(); ++j) {
      if (max && s.id(j) >= max)
        return fail(
            loc(tree, field(d, "id"), j, at),
            path + ".id[" + std::to_string(j) + "]: " + std::to_string(s.id(j)) + " is out of range" + limit);
    }
    const auto *rd = Range::descriptor();
    for (int j = 0; j < s.range_size(); ++j) {
      const Range &r = s.range(j);
      const Location rl = loc(tree, field(d, "range"), j, at);
      const Tree *sub = nested(tree, field(d, "range"), j);
      const std::string rp = path + ".range[" + std::to_string(j) + "]";
      const uint32_t hi = r.has_hi() ? r.hi() : r.lo();
      if (r.lo() > hi)
        return fail(loc(sub, field(rd, "hi"), -1, rl),
                    rp + ": lo " + std::to_string(r.lo()) + " > hi " + std::to_string(hi));
      if (max && hi >= max)
        return fail(loc(sub, field(rd, r.has_hi() ? "hi" : "lo"), -1, rl),
                    rp + ": " + std::to_string(hi) + " is out of range" + limit);
    }
    return Status::Ok();
  }

  Status process(const ProcessSelector &p, const Tree *tree, Location at, const std::string &path) {
    if (p.comm_size() == 0 && p.pid_size() == 0 && p.tid_size() == 0)
      return fail(
          at, path + ": empty selector; give comm, pid or tid (or leave " + path + " out for every process)");
    const auto *f = field(ProcessSelector::descriptor(), "comm");
    for (int j = 0; j < p.comm_size(); ++j) {
      const std::string &g = p.comm(j);
      std::string why =
          g.size() > kMaxGlobLen ? "longer than " + std::to_string(kMaxGlobLen) + " bytes" : glob_error(g);
      if (!why.empty()) return fail(loc(tree, f, j, at), path + ".comm[" + std::to_string(j) + "]: " + why);
    }
    return Status::Ok();
  }

  const std::string &file_;
};

}  // namespace

Expected<FilterConfig> parse_config(const std::string &text, const std::string &file_name) {
  FilterConfig out;
  FirstErrorCollector collector(file_name, text);
  Tree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &out)) {
    return make_error(collector.error().empty() ? file_name + ":1:1: cannot parse the filter config"
                                                : collector.error());
  }
  if (Status valid = Validator(file_name).config(out, &tree); !valid) return valid.take_error();
  return {std::move(out)};
}

Expected<FilterConfig> load_config_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error("cannot read filter config '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return make_error("cannot read filter config '" + path + "': " + std::strerror(errno));
  }
  const std::string text = buf.str();
  if (text.size() > kMaxFileSize) {
    return make_error(path + ": larger than " + std::to_string(kMaxFileSize) +
                      " bytes; is this a filter config (protobuf text format)?");
  }
  return parse_config(text, path);
}

std::string config_digest(const FilterConfig &config) {
  std::string bytes;
  {
    pb::io::StringOutputStream sos(&bytes);
    pb::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&cos);
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace bdtrace::filter
