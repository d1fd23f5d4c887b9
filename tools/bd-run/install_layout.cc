// SPDX-License-Identifier: MIT
#include "install_layout.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

// Relative to the installed bin/ (cmake/InstallLayout.cmake).
#if !defined(BDTRACE_REL_PLUGINDIR) || !defined(BDTRACE_REL_HELPERDIR) || !defined(BDTRACE_REL_LIBDIR) || \
    !defined(BDTRACE_REL_LIB)
#error "the BDTRACE_REL_* install paths must be defined (tools/bd-run/CMakeLists.txt)"
#endif

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;

std::string under_exe(const std::string& exe_dir, const std::string& rel) {
  return (fs::path(exe_dir) / rel).lexically_normal().string();
}

// Drops the second of two equal candidates (an install whose layout is the
// build tree's).
std::vector<std::string> build_then_installed(const std::string& build, const std::string& installed) {
  if (build == installed) return {build};
  return {build, installed};
}

}  // namespace

std::string own_exe_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "" : exe.parent_path().string();
}

std::vector<std::string> plugin_dirs() {
  const std::string exe = own_exe_dir();
  if (exe.empty()) return {};
  return build_then_installed(under_exe(exe, "../lib"), under_exe(exe, BDTRACE_REL_PLUGINDIR));
}

std::vector<std::string> helper_dirs() {
  const std::string exe = own_exe_dir();
  if (exe.empty()) return {};
  return build_then_installed(exe, under_exe(exe, BDTRACE_REL_HELPERDIR));
}

std::vector<std::string> guest_lib_dirs(tools::GuestArch arch) {
  const std::string exe = own_exe_dir();
  if (exe.empty()) return {};
  if (arch == tools::GuestArch::X86_64) {
    return build_then_installed(under_exe(exe, "../lib"), under_exe(exe, BDTRACE_REL_LIBDIR));
  }
  const std::string name = tools::arch_name(arch);
  return build_then_installed(under_exe(exe, "../lib/" + name),
                              under_exe(exe, std::string(BDTRACE_REL_LIB) + "/" + name + "-linux-gnu"));
}

std::string first_accessible(const std::vector<std::string>& dirs, const std::string& name, int mode) {
  for (const std::string& dir : dirs) {
    const std::string path = dir + "/" + name;
    if (::access(path.c_str(), mode) == 0) return path;
  }
  return "";
}

std::string candidates_text(const std::vector<std::string>& dirs, const std::string& name) {
  std::string text;
  for (const std::string& dir : dirs) text += (text.empty() ? "" : " or ") + dir + "/" + name;
  return text.empty() ? name + " (the directory of bd-run is unknown: /proc/self/exe is unreadable)" : text;
}

}  // namespace bdtrace::bdrun
