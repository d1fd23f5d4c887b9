/* SPDX-License-Identifier: MIT */
// Runs the bd-run binary as a black box (through sh, so tests can prefix
// environment variables and redirect stdin) and collects what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "temp_dir.h"

#ifndef BD_RUN_PATH
#error "BD_RUN_PATH must name the bd-run binary"
#endif

namespace bdtrace::testing {

struct RunResult {
  int exit_status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `env_prefix bd-run args` through sh; stdout and stderr kept apart.
inline RunResult run_bd_run(const TempDir& tmp, const std::string& args, const std::string& env_prefix = "") {
  const std::string out = tmp / "stdout", err = tmp / "stderr";
  const std::string cmd = env_prefix + " '" BD_RUN_PATH "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int raw = std::system(cmd.c_str());
  RunResult r;
  r.exit_status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace bdtrace::testing
