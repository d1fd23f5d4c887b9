// SPDX-License-Identifier: MIT
#include "support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <chrono>
#include <sstream>

#include <gtest/gtest.h>

extern char **environ;

namespace bdtest {
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::vector<std::string> with_qemu_under_test(std::vector<std::string> argv) {
  const char *prefix = std::getenv("BD_TEST_QEMU_PREFIX");
  if (prefix == nullptr || *prefix == '\0') return argv;
  auto ends_with = [](const std::string &s, const std::string &tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  auto bd_run = argv.begin();
  while (bd_run != argv.end() && !ends_with(*bd_run, "bd-run")) ++bd_run;
  if (bd_run == argv.end()) return argv;
  bool system = false;
  std::string arch = "x86_64";
  for (auto it = bd_run + 1; it != argv.end() && *it != "--"; ++it) {
    if (*it == "--qemu" || *it == "--native") return argv;
    system = system || *it == "--system";
    if (*it == "--arch" && it + 1 != argv.end()) arch = *(it + 1);
  }
  // ./bdtrace qemu builds x86_64 and aarch64 targets only.
  if (arch != "x86_64" && arch != "aarch64") return argv;
  const std::string qemu = std::string(prefix) + (system ? "/bin/qemu-system-" : "/bin/qemu-") + arch;
  argv.insert(bd_run + 1, {"--qemu", qemu});
  return argv;
}

std::string qemu_under_test() {
  const char *prefix = std::getenv("BD_TEST_QEMU_PREFIX");
  return prefix != nullptr && *prefix != '\0' ? std::string(prefix) + "/bin/qemu-x86_64" : "qemu-x86_64";
}

namespace {

RunResult run_once(const std::vector<std::string> &argv_in, const std::vector<std::string> &extra_env) {
  const std::vector<std::string> argv = with_qemu_under_test(argv_in);
  RunResult r;
  TempDir io("run");
  const std::string out = io.path() + "/out", err = io.path() + "/err";

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

  // extra_env replaces variables of the same name (a duplicate would leave
  // which one a program sees to its getenv).
  auto name_of = [](const std::string &e) { return e.substr(0, e.find('=')); };
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto &x : extra_env) replaced = replaced || name_of(x) == name_of(entry);
    if (!replaced) env.push_back(entry);
  }
  for (const auto &e : extra_env) env.push_back(e);
  std::vector<char *> cenv, cargv;
  for (auto &e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::vector<std::string> args = argv;
  for (auto &a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.err = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return r;
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The first line where a and b differ, for a failure message (the outputs
// can be megabytes).
std::string first_difference(const std::string &a, const std::string &b) {
  size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  const size_t line = a.rfind('\n', at == 0 ? 0 : at - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  const auto cut = [&](const std::string &s) {
    return s.substr(from, s.find('\n', from) - from).substr(0, 300);
  };
  return "byte " + std::to_string(at) + ":\n  this reader: " + cut(b) + "\n  default:     " + cut(a);
}

bool is_plain_bd_analyze(const std::vector<std::string> &argv) {
  if (argv.empty() || fs::path(argv[0]).filename() != "bd-analyze") return false;
  for (const std::string &a : argv)
    if (a == "--reader" || a == "--live" || a == "-o" || a == "--output" || a == "-h" || a == "--help")
      return false;
  return true;
}

}  // namespace

RunResult run(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env) {
  RunResult r = run_once(argv, extra_env);
  // Issue #15: bd-analyze's fast reader and babeltrace2 give the same
  // report on every trace of the suite. Each plain bd-analyze call runs
  // again with each reader; the test goes on with the default's result.
  if (is_plain_bd_analyze(argv)) {
    for (const char *reader : {"fast", "babeltrace2"}) {
      std::vector<std::string> again = argv;
      again.insert(again.end(), {"--reader", reader});
      const RunResult other = run_once(again, extra_env);
      EXPECT_EQ(other.status, r.status)
          << "bd-analyze --reader " << reader << " exited otherwise: " << other.err;
      EXPECT_TRUE(other.out == r.out) << "bd-analyze --reader " << reader << " wrote another report, from "
                                      << first_difference(r.out, other.out);
    }
  }
  return r;
}

TempDir::TempDir(const std::string &tag) {
  std::string templ = (fs::temp_directory_path() / ("bdtest-" + tag + "-XXXXXX")).string();
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
  path_ = templ;
}

TempDir::~TempDir() {
  if (std::getenv("BD_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

uint64_t TraceEvent::u(const std::string &field) const {
  auto it = fields.find(field);
  if (it == fields.end()) {
    ADD_FAILURE() << "event " << name << " has no field " << field;
    return ~0ULL;
  }
  return std::strtoull(it->second.c_str(), nullptr, 0);
}

namespace {

// Parses "{ a = 1, b = "x" }" groups (packet context, event context,
// payload) into one map; a later group's field wins over an earlier one's.
std::map<std::string, std::string> parse_payload(const std::string &s, size_t pos) {
  std::map<std::string, std::string> last;
  while (true) {
    pos = s.find('{', pos);
    if (pos == std::string::npos) return last;
    ++pos;
    std::map<std::string, std::string> group;
    while (pos < s.size()) {
      while (pos < s.size() && (s[pos] == ' ' || s[pos] == ',')) ++pos;
      if (pos >= s.size() || s[pos] == '}') {
        ++pos;
        break;
      }
      const size_t eq = s.find(" = ", pos);
      if (eq == std::string::npos) return last;
      std::string key = s.substr(pos, eq - pos);
      pos = eq + 3;
      std::string value;
      if (pos < s.size() && s[pos] == '"') {
        for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
          if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
          value += s[pos];
        }
        ++pos;
      } else {
        while (pos < s.size() && s[pos] != ',' && s[pos] != '}') value += s[pos++];
        while (!value.empty() && value.back() == ' ') value.pop_back();
      }
      group[key] = value;
    }
    for (auto &kv : group) last[kv.first] = std::move(kv.second);
  }
}

// The elements of babeltrace2's "NAME = [ [0] = V, [1] = V, ... ]" in line.
std::vector<uint64_t> parse_array(const std::string &line, const std::string &name) {
  std::vector<uint64_t> values;
  size_t pos = line.find(", " + name + " = [");
  if (pos == std::string::npos) return values;
  pos = line.find('[', pos) + 1;
  while (true) {
    const size_t open = line.find('[', pos), close = line.find(']', pos);
    if (open == std::string::npos || close < open) return values;  // the array's "]"
    const size_t eq = line.find(" = ", open);
    if (eq == std::string::npos) return values;
    char *end = nullptr;
    values.push_back(std::strtoull(line.c_str() + eq + 3, &end, 0));
    pos = static_cast<size_t>(end - line.c_str());
  }
}

// A bdtrace:tb_batch / tb_counts line: the fields before the arrays, then the arrays.
void parse_tb_batch(const std::string &line, size_t colon, TraceEvent &ev) {
  const size_t arrays = line.find(", _pc_length");
  ev.fields = parse_payload(line.substr(0, arrays == std::string::npos ? line.size() : arrays) + " }", colon);
  ev.pcs = parse_array(line, "pc");
  for (uint64_t n : parse_array(line, "n_insns")) ev.n_insns.push_back(static_cast<uint32_t>(n));
  if (ev.name == "tb_counts") ev.executions = parse_array(line, "executions");
  EXPECT_EQ(ev.pcs.size(), ev.n_insns.size()) << line.substr(0, 300);
}

}  // namespace

std::vector<TraceEvent> read_trace_with_babeltrace2(const std::string &dir, bool cycles) {
  std::vector<TraceEvent> events;
  RunResult r = cycles ? run({"babeltrace2", "--no-delta", "--clock-cycles", dir})
                       : run({"babeltrace2", "--no-delta", dir});
  EXPECT_EQ(r.status, 0) << "babeltrace2 failed on " << dir << ": " << r.err;
  for (const auto &line : lines(r.out)) {
    const size_t at = line.find(" bdtrace:");
    if (at == std::string::npos) continue;
    const size_t colon = line.find(':', at + 9);
    if (colon == std::string::npos) continue;
    TraceEvent ev;
    ev.name = line.substr(at + 9, colon - at - 9);
    if (ev.name == "tb_batch" || ev.name == "tb_counts") {
      parse_tb_batch(line, colon, ev);
    } else if (ev.name == "blob") {
      // The fields before the byte array, the array, and guest_ts after it.
      const size_t array = line.find(", _data_length");
      ev.fields =
          parse_payload(line.substr(0, array == std::string::npos ? line.size() : array) + " }", colon);
      for (uint64_t b : parse_array(line, "data")) ev.data.push_back(static_cast<uint8_t>(b));
      const size_t ts = line.rfind(", guest_ts = ");
      if (ts != std::string::npos && (array == std::string::npos || ts > array))
        ev.fields["guest_ts"] = std::to_string(std::strtoull(line.c_str() + ts + 13, nullptr, 10));
    } else {
      ev.fields = parse_payload(line, colon);
    }
    if (cycles && line.size() > 1 && line[0] == '[') {
      // "[00000001676593425012]": zero-padded decimal; without the padding,
      // or u() would read it as octal.
      const std::string digits = line.substr(1, line.find(']') - 1);
      const size_t first = std::min(digits.find_first_not_of('0'), digits.size() - 1);
      ev.fields["timestamp_cycles"] = digits.substr(first);
    }
    events.push_back(std::move(ev));
  }
  return events;
}

namespace {

// Events whose vpid is the host_pid of exactly one session event matching.
template <class Match>
std::vector<TraceEvent> events_of_session(const std::vector<TraceEvent> &events, Match match,
                                          const std::string &what) {
  std::set<std::string> pids;
  for (const auto &ev : events)
    if (ev.name == "session" && match(ev)) pids.insert(ev.fields.at("host_pid"));
  EXPECT_EQ(pids.size(), 1u) << "expected one QEMU process " << what;
  std::vector<TraceEvent> mine;
  for (const auto &ev : events) {
    auto it = ev.fields.find("vpid");
    if (it != ev.fields.end() && pids.count(it->second)) mine.push_back(ev);
  }
  return mine;
}

}  // namespace

std::vector<TraceEvent> events_of_guest(const std::vector<TraceEvent> &events, const std::string &program) {
  return events_of_session(
      events,
      [&](const TraceEvent &ev) {
        return ev.fields.count("program") && ev.fields.at("program").find(program) != std::string::npos;
      },
      "running " + program);
}

std::vector<TraceEvent> events_of_vm(const std::vector<TraceEvent> &events, const std::string &vm) {
  return events_of_session(
      events, [&](const TraceEvent &ev) { return ev.fields.count("vm") && ev.fields.at("vm") == vm; },
      "for vm " + vm);
}

size_t expect_calls_blob_bytes(const TraceEvent &blob) {
  const size_t len = blob.data.size();
  size_t i = 0;
  while (i < len && blob.data[i] == static_cast<uint8_t>((i * 13 + len) % 256)) ++i;
  EXPECT_EQ(i, len) << "blob of " << len << " bytes differs at byte " << i;
  return len;
}

std::string text_after(const std::string &out, const std::string &key) {
  for (const auto &l : lines(out))
    if (l.rfind(key + " ", 0) == 0) return l.substr(key.size() + 1);
  ADD_FAILURE() << "no '" << key << "' in output:\n" << out;
  return "";
}

void replace_file(const std::string &path, const std::string &text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0) << "cannot replace " << path;
}

std::pair<uint64_t, uint64_t> wait_for_fork_pids(const std::string &dir) {
  uint64_t parent = 0, child = 0;
  for (int i = 0; i < 3000 && (parent == 0 || child == 0); ++i) {
    std::ifstream in(dir + "/pids");
    std::string role;
    uint64_t pid;
    while (in >> role >> pid) (role == "parent" ? parent : child) = pid;
    if (parent == 0 || child == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {parent, child};
}

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) v.push_back(l);
  return v;
}

}  // namespace bdtest
