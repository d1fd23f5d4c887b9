// SPDX-License-Identifier: MIT
#include "live_view.h"

#include <string>
#include <vector>

namespace bdtrace::analyze_cli {

namespace {

// Redraws a block of lines in place: moves the cursor up over the previous
// block and clears to the end of the screen (ANSI CSI n A, CSI J).
class Redraw {
 public:
  explicit Redraw(std::FILE *out) : out_(out) {}
  void Draw(const std::vector<std::string> &lines) {
    Erase();
    for (const std::string &line : lines) std::fprintf(out_, "%s\n", line.c_str());
    drawn_ = lines.size();
    std::fflush(out_);
  }
  void Erase() {
    if (drawn_ > 0) std::fprintf(out_, "\x1b[%zuA\x1b[J", drawn_);
    drawn_ = 0;
  }

 private:
  std::FILE *out_;
  size_t drawn_ = 0;
};

}  // namespace

Expected<report::Report> FollowLive(const analyzer::LiveOptions &options, std::FILE *screen, bool terminal) {
  analyzer::LiveOptions o = options;
  Redraw redraw(screen);
  if (terminal) {
    redraw.Draw({"following " + o.url + " (until the session ends)"});
    o.on_tick = [&](const analyzer::LiveSummary &s) {
      std::vector<std::string> lines = {"following " + o.url};
      for (std::string &line : s.Lines()) lines.push_back(std::move(line));
      redraw.Draw(lines);
    };
  } else {
    o.on_tick = [&](const analyzer::LiveSummary &s) {
      std::fprintf(screen, "%s\n", s.Line().c_str());
      std::fflush(screen);
    };
  }
  Expected<report::Report> report = analyzer::AnalyzeLive(o);
  redraw.Erase();
  std::fflush(screen);
  return report;
}

}  // namespace bdtrace::analyze_cli
