// SPDX-License-Identifier: MIT
#include "qemu_command.h"

namespace bdtrace::bdrun {
namespace {

constexpr const char kPreload[] = "LD_PRELOAD=";

bool is_preload(const std::string& entry) { return entry.rfind(kPreload, 0) == 0; }

}  // namespace

std::string escape_plugin_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

QemuCommand build_qemu_command(const QemuInvocation& inv, const std::vector<std::string>& environ_in) {
  QemuCommand cmd;
  cmd.argv.push_back(inv.qemu);

  std::string plugin_opt = escape_plugin_value(inv.plugin) + ",program=" + escape_plugin_value(inv.program);
  for (const auto& [name, value] : inv.plugin_args) {
    plugin_opt += "," + escape_plugin_value(name) + "=" + escape_plugin_value(value);
  }
  cmd.argv.push_back("-plugin");
  cmd.argv.push_back(plugin_opt);

  std::string user_preload;
  bool user_has_preload = false;
  for (const std::string& e : environ_in) {
    if (is_preload(e)) {
      user_has_preload = true;
      user_preload = e.substr(sizeof kPreload - 1);
    }
  }

  // The user's LD_PRELOAD is meant for the guest: hand it over with -E and
  // keep it out of QEMU, which is an x86_64 host program too. QEMU itself
  // gets LTTng's fork wrapper, which keeps LTTng's vpid right across fork()
  // inside QEMU; -U keeps the guest from inheriting it.
  if (user_has_preload) {
    cmd.argv.push_back("-E");
    cmd.argv.push_back(std::string(kPreload) + user_preload);
  } else if (!inv.fork_wrapper.empty()) {
    cmd.argv.push_back("-U");
    cmd.argv.push_back("LD_PRELOAD");
  }
  for (const std::string& e : environ_in) {
    if (!is_preload(e)) cmd.envp.push_back(e);
  }
  if (!inv.fork_wrapper.empty()) cmd.envp.push_back(kPreload + inv.fork_wrapper);

  cmd.argv.push_back(inv.program);
  cmd.argv.insert(cmd.argv.end(), inv.program_args.begin(), inv.program_args.end());
  return cmd;
}

}  // namespace bdtrace::bdrun
