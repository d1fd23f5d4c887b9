// SPDX-License-Identifier: MIT
#include "guest_program.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "install_layout.h"
#include "preflight.h"

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;

constexpr const char kLibraryPath[] = "LD_LIBRARY_PATH=";

// The first line of `path` (at most 256 bytes, the kernel's own #! limit),
// or "" when unreadable.
std::string first_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  char c;
  while (line.size() < 256 && in.get(c) && c != '\n') line += c;
  return line;
}

}  // namespace

bool parse_shebang(const std::string& line, std::string& interpreter, std::string& arg) {
  if (line.rfind("#!", 0) != 0) return false;
  const char* blanks = " \t";
  const size_t start = line.find_first_not_of(blanks, 2);
  if (start == std::string::npos) return false;
  const size_t end = line.find_first_of(blanks, start);
  interpreter = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
  arg.clear();
  if (end != std::string::npos) {
    const size_t a = line.find_first_not_of(blanks, end);
    if (a != std::string::npos) {
      const size_t last = line.find_last_not_of(" \t\r");
      arg = line.substr(a, last + 1 - a);
    }
  }
  return !interpreter.empty();
}

Expected<GuestProgram> resolve_guest(const std::string& requested, const std::vector<std::string>& args) {
  // Found in PATH and executable, as for an ELF program; only the ELF check
  // decides whether it is a script.
  std::string path = requested;
  if (requested.find('/') == std::string::npos) {
    Expected<std::string> found = find_in_path(requested);
    if (!found)
      return make_error("program '" + requested + "' not found in PATH: give its path, e.g. ./" + requested);
    path = found.value();
  }
  std::string interpreter, arg;
  if (!parse_shebang(first_line(path), interpreter, arg)) {
    tools::GuestArch arch = tools::GuestArch::X86_64;
    Expected<std::string> program = resolve_program(requested, &arch);
    if (!program) return program.take_error();
    return GuestProgram{program.value(), arch, args, ""};
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return make_error("script " + path +
                      " is not executable: chmod +x it, or run its interpreter: bd-run -- " + interpreter +
                      " " + path);
  }
  tools::GuestArch arch = tools::GuestArch::X86_64;
  Expected<std::string> interp = resolve_program(interpreter, &arch);
  if (!interp) {
    return make_error("script " + path + " names the interpreter " + interpreter +
                      ", which bd-run cannot run (" + interp.error().message +
                      "); run it with an x86_64 interpreter: bd-run -- /bin/sh " + path);
  }
  GuestProgram g{interp.value(), arch, {}, path};
  if (!arg.empty()) g.args.push_back(arg);
  // Like the kernel: the script as the interpreter's operand (a relative
  // name found in PATH is passed as found).
  g.args.push_back(path[0] == '-' ? "./" + path : path);
  g.args.insert(g.args.end(), args.begin(), args.end());
  return g;
}

std::vector<std::string> with_guest_library_path(const std::vector<std::string>& envp,
                                                 const std::string& lib_dir) {
  std::error_code ec;
  if (lib_dir.empty() || !fs::exists(fs::path(lib_dir) / "libbdguest.so", ec)) return envp;
  std::vector<std::string> out;
  bool set = false;
  for (const std::string& e : envp) {
    if (e.rfind(kLibraryPath, 0) == 0) {
      const std::string value = e.substr(sizeof kLibraryPath - 1);
      out.push_back(value.empty() ? kLibraryPath + lib_dir : e + ":" + lib_dir);
      set = true;
    } else {
      out.push_back(e);
    }
  }
  if (!set) out.push_back(kLibraryPath + lib_dir);
  return out;
}

std::vector<std::string> guest_environment_for(const std::vector<std::string>& envp, tools::GuestArch arch) {
  const std::string library = first_accessible(guest_lib_dirs(arch), "libbdguest.so", R_OK);
  const std::string lib_dir = library.empty() ? "" : fs::path(library).parent_path().string();
  std::vector<std::string> out = with_guest_library_path(envp, lib_dir);
  if (arch == tools::GuestArch::X86_64) return out;
  const std::string prefix = std::string("/usr/") + tools::arch_name(arch) + "-linux-gnu";
  const bool set = std::any_of(out.begin(), out.end(),
                               [](const std::string& e) { return e.rfind("QEMU_LD_PREFIX=", 0) == 0; });
  std::error_code ec;
  if (!set && fs::is_directory(prefix, ec)) out.push_back("QEMU_LD_PREFIX=" + prefix);
  return out;
}

}  // namespace bdtrace::bdrun
