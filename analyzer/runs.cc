// SPDX-License-Identifier: MIT
// Runs and their VM names (runs.h).
#include "bdtrace/analyzer/runs.h"

#include <filesystem>
#include <map>
#include <vector>

namespace bdtrace::analyzer {

namespace fs = std::filesystem;

namespace {

// The shortest tail of runs.dirs[run] that no other run's directory has.
std::string DirName(const Runs &runs, size_t run) {
  const std::vector<std::string> tails = DirNames(runs.dirs[run]);
  for (size_t n = 0; n + 1 < tails.size(); ++n) {
    bool unique = true;
    for (size_t other = 0; other < runs.dirs.size() && unique; ++other) {
      if (other == run) continue;
      const std::vector<std::string> others = DirNames(runs.dirs[other]);
      if (n < others.size() && others[n] == tails[n]) unique = false;
    }
    if (unique) return tails[n];
  }
  return tails.back();
}

}  // namespace

std::vector<std::string> DirNames(const std::string &run_dir) {
  const fs::path dir = fs::path(run_dir).lexically_normal();
  std::vector<std::string> parts;
  for (const fs::path &p : dir) {
    if (!p.empty() && p != "/") parts.push_back(p.string());
  }
  std::vector<std::string> tails;
  std::string tail;
  for (size_t i = parts.size(); i-- > 1;) {
    tail = tail.empty() ? parts[i] : parts[i] + "/" + tail;
    tails.push_back(tail);
  }
  tails.push_back(dir.string());  // the whole path, as given
  return tails;
}

std::string RunDirOf(const std::string &trace_dir) {
  const fs::path dir = fs::path(trace_dir).lexically_normal();
  // The last `ust` followed by `uid` or `pid`: LTTng's domain directory
  // inside the session's.
  std::vector<fs::path> parts(dir.begin(), dir.end());
  fs::path run, walked;
  bool found = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "ust" && i + 1 < parts.size() && (parts[i + 1] == "uid" || parts[i + 1] == "pid")) {
      run = walked;
      found = true;
    }
    walked /= parts[i];
  }
  if (!found) return dir.string();
  std::string out = run.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "." : out;
}

Runs GroupRuns(const std::vector<std::string> &trace_dirs) {
  Runs runs;
  std::map<std::string, uint32_t> index;
  for (const std::string &trace_dir : trace_dirs) {
    const std::string dir = RunDirOf(trace_dir);
    auto [it, added] = index.emplace(dir, static_cast<uint32_t>(runs.dirs.size()));
    if (added) runs.dirs.push_back(dir);
    runs.of_trace.push_back(it->second);
  }
  return runs;
}

void SessionNames::OnSession(const SessionEvent &e) {
  if (e.trace >= names_.size()) {
    names_.resize(size_t{e.trace} + 1);
    named_.resize(size_t{e.trace} + 1, false);
  }
  if (named_[e.trace]) return;
  named_[e.trace] = true;
  names_[e.trace] = std::string(VmName(e));
}

std::vector<std::string> ResolveVmNames(const Runs &runs, const std::vector<std::string> &session_names) {
  const auto session_name = [&](size_t trace) {
    return trace < session_names.size() ? session_names[trace] : std::string();
  };
  std::vector<std::string> names(runs.of_trace.size());
  if (!runs.several()) {
    for (size_t t = 0; t < names.size(); ++t) names[t] = session_name(t);
    return names;
  }
  // The name each run's sessions give: its first trace's that has one.
  std::vector<std::string> given(runs.dirs.size());
  for (size_t t = 0; t < runs.of_trace.size(); ++t) {
    std::string &g = given[runs.of_trace[t]];
    if (g.empty()) g = session_name(t);
  }
  std::map<std::string, size_t> runs_giving;
  for (const std::string &g : given) ++runs_giving[g];
  std::vector<std::string> run_names(runs.dirs.size());
  for (size_t r = 0; r < runs.dirs.size(); ++r) {
    run_names[r] = !given[r].empty() && runs_giving[given[r]] == 1 ? given[r] : DirName(runs, r);
  }
  for (size_t t = 0; t < names.size(); ++t) names[t] = run_names[runs.of_trace[t]];
  return names;
}

}  // namespace bdtrace::analyzer
