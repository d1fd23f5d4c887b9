// SPDX-License-Identifier: MIT
#include "preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bdtrace/tools/elf_check.h"
#include "install_layout.h"
#include "plugin_api.h"

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;

bool is_executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

Expected<std::string> resolve_qemu_binary(const std::string& requested, const std::string& name,
                                          const std::string& debian_package) {
  if (!requested.empty()) {
    if (is_executable_file(requested)) return requested;
    return make_error("QEMU '" + requested + "' (from --qemu) does not exist or is not executable");
  }
  Expected<std::string> found = find_in_path(name);
  if (found) return found;
  return make_error(name + " not found: install Debian's " + debian_package + " or pass --qemu PATH");
}

}  // namespace

Expected<std::string> find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    return make_error(name + " not found or not executable");
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";  // an empty PATH entry means the current directory
    const std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return make_error(name + " not found in PATH");
}

Expected<std::string> resolve_qemu(const std::string& requested, tools::GuestArch arch) {
  return resolve_qemu_binary(requested, std::string("qemu-") + tools::arch_name(arch), "qemu-user");
}

Expected<std::string> resolve_system_qemu(const std::string& requested, const std::string& arch) {
  // Debian's packages hold a family of system emulators each.
  const std::string package = arch == "aarch64" ? "qemu-system-arm" : "qemu-system-x86";
  return resolve_qemu_binary(requested, "qemu-system-" + arch, package);
}

Status check_boot_file(const std::string& option, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return make_error(option + " " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) return make_error(option + " " + path + " is not a regular file");
  if (::access(path.c_str(), R_OK) != 0) {
    const int err = errno;
    return make_error(option + " " + path + " is not readable: " + std::strerror(err));
  }
  return Status();
}

Expected<std::string> resolve_plugin(const std::string& requested, int api) {
  if (requested.empty()) {
    const std::vector<std::string> dirs = plugin_dirs();
    const std::string found = first_accessible(dirs, plugin_file_name(api), R_OK);
    if (!found.empty()) return found;
    return make_error("bdtrace QEMU plugin not found: no readable " +
                      candidates_text(dirs, plugin_file_name(api)) +
                      ": build it (./bdtrace build), install it (cmake --install) or pass --plugin PATH");
  }
  if (::access(requested.c_str(), R_OK) != 0) {
    const int err = errno;
    return make_error("bdtrace QEMU plugin " + requested + " is not readable (" + std::strerror(err) +
                      "): check the --plugin path");
  }
  return requested;
}

Expected<std::string> resolve_program(const std::string& requested, tools::GuestArch* arch) {
  std::string path = requested;
  if (requested.find('/') == std::string::npos) {
    Expected<std::string> found = find_in_path(requested);
    if (!found) {
      return make_error("program '" + requested + "' not found in PATH: give its path, e.g. ./" + requested);
    }
    path = found.value();
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return make_error("program " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) return make_error("program " + path + " is not a regular file");
  if (::access(path.c_str(), X_OK) != 0) {
    return make_error("program " + path + " is not executable: chmod +x it");
  }
  Expected<tools::GuestArch> elf = tools::check_guest_elf(path);
  if (!elf) return elf.take_error();
  if (arch != nullptr) *arch = elf.value();
  // qemu-x86_64 would take a leading '-' for one of its own options.
  if (path[0] == '-') path = "./" + path;
  return path;
}

Status check_trace_dir(const std::string& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return make_error("cannot inspect trace directory " + dir + ": " + ec.message());
  }
  if (!fs::exists(st)) return Status();
  if (!fs::is_directory(st)) return make_error("trace path " + dir + " exists and is not a directory");
  if (!fs::is_empty(dir, ec) || ec) {
    return make_error("trace directory " + dir +
                      " is not empty: remove it or pick a new one (bd-run never mixes traces)");
  }
  return Status();
}

std::string find_lttng_fork_wrapper() {
  // The runtime package ships the .so.1 name; the -dev package adds .so.
  static const char* const kCandidates[] = {
      "/usr/lib/x86_64-linux-gnu/liblttng-ust-fork.so.1",
      "/usr/lib/x86_64-linux-gnu/liblttng-ust-fork.so",
      "/usr/local/lib/liblttng-ust-fork.so.1",
      "/usr/local/lib/liblttng-ust-fork.so",
      "/usr/lib64/liblttng-ust-fork.so.1",
      "/usr/lib/liblttng-ust-fork.so.1",
  };
  for (const char* c : kCandidates) {
    if (::access(c, R_OK) == 0) return c;
  }
  return "";
}

}  // namespace bdtrace::bdrun
