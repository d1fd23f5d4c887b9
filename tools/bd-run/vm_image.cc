// SPDX-License-Identifier: MIT
#include "vm_image.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <utility>

#include "bdtrace/tools/elf_check.h"
#include "install_layout.h"
#include "subprocess.h"

#ifndef BDTRACE_SOURCE_DIR
#error "BDTRACE_SOURCE_DIR must name the source tree (tools/vm/build-image.sh)"
#endif

namespace bdtrace::bdrun {
namespace {

namespace fs = std::filesystem;

// Images kept besides the one in use; older ones are removed after a build.
constexpr size_t kKeptImages = 4;
// Marks a finished image (its mtime: when it was last used).
constexpr const char kImageStamp[] = ".bd-run-image";

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string static_link_hint(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return "link it with -static, e.g. cc -static -I guest-probes/include -o " + name + " " + name +
         ".c build/lib/libbdguest.a -lpthread";
}

// The ELF's PT_INTERP (its dynamic loader), "" for a static program.
Expected<std::string> elf_interpreter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh;
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return make_error("cannot read " + path);
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return make_error(path + " has malformed program headers");
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + uint64_t{i} * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph))
      return make_error(path + " has truncated program headers");
    if (ph.p_type != PT_INTERP) continue;
    std::string interp(std::min<uint64_t>(ph.p_filesz, 4096), '\0');
    in.seekg(static_cast<std::streamoff>(ph.p_offset));
    in.read(interp.data(), static_cast<std::streamsize>(interp.size()));
    interp.resize(std::strlen(interp.c_str()));
    return interp.empty() ? std::string("(unnamed)") : interp;
  }
  return std::string();
}

std::string default_cache_dir() {
  std::string dir = env_or_empty("BDTRACE_CACHE");
  if (!dir.empty()) return dir;
  dir = env_or_empty("XDG_CACHE_HOME");
  if (!dir.empty()) return dir + "/bdtrace";
  std::string home = env_or_empty("HOME");
  if (home.empty()) home = "/root";
  return home + "/.cache/bdtrace";
}

// 64-bit FNV-1a: enough to tell inputs apart (nobody attacks a local cache).
class Hasher {
 public:
  void add(const std::string& bytes) {
    add_raw(std::to_string(bytes.size()) + ":");  // no ambiguity between fields
    add_raw(bytes);
  }
  Status add_file(const std::string& label, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot read " + path + " (" + std::strerror(errno) + ")");
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    add(label);
    add(content);
    return {};
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  void add_raw(const std::string& bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 0x100000001b3ull;
    }
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

// Every regular file under root/sub, by relative path, in a stable order.
Status hash_tree(Hasher& h, const fs::path& root, const std::string& sub) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(root / sub, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (ec) return make_error("cannot list " + (root / sub).string() + " (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    if (Status st = h.add_file(f.lexically_relative(root).string(), f.string()); !st) return st;
  }
  return {};
}

// Runs the builder with its stdout on bd-run's stderr (bd-run's stdout is
// the guest console) and waits for it. Its exit status.
Expected<int> run_builder(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args = c_strings(argv);
  std::vector<std::string> env_strings = current_environment();
  std::vector<char*> env = c_strings(env_strings);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_error("cannot start " + argv[0] + " (" + std::strerror(rc) + ")");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error(std::string("waitpid failed (") + std::strerror(errno) + ")");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool is_key_name(const std::string& name) {
  return name.size() == 16 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Keeps the kKeptImages most recently used images besides `current`, and
// removes build directories whose bd-run is gone.
void prune_images(const fs::path& images, const std::string& current) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, fs::path>> finished;
  for (const fs::directory_entry& e : fs::directory_iterator(images, ec)) {
    const std::string name = e.path().filename().string();
    const size_t tmp = name.find(".tmp-");
    if (tmp != std::string::npos) {
      const long pid = std::strtol(name.c_str() + tmp + 5, nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
      continue;
    }
    if (!is_key_name(name) || name == current) continue;
    std::error_code tec;
    const fs::file_time_type t = fs::last_write_time(e.path() / kImageStamp, tec);
    if (!tec) finished.emplace_back(t, e.path());
  }
  std::sort(finished.begin(), finished.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = kKeptImages; i < finished.size(); ++i) fs::remove_all(finished[i].second, ec);
}

std::string program_list(const ImageInputs& in) {
  std::string list;
  for (const std::string& p : in.programs) list += fs::path(p).filename().string() + ", ";
  return list + "bd-mark";
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t left = bytes.size() - i;
  if (left > 0) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (left == 2) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Expected<std::string> run_command_kernel_arg(const std::string& cmd) {
  if (cmd.find_first_not_of(" \t\n") == std::string::npos) {
    return make_error("--run needs a command to run in the VM, e.g. --run 'my-program 3'");
  }
  if (cmd.size() > kMaxRunCommand) {
    return make_error("--run: the command is " + std::to_string(cmd.size()) + " bytes, at most " +
                      std::to_string(kMaxRunCommand) +
                      " fit on the kernel command line: put it in a script and add that with --program");
  }
  return "bd.cmd=" + base64_encode(cmd);
}

std::string boot_kernel_args(bool kmod, const std::string& user_append, const std::string& cmd_arg) {
  std::string args = kmod ? "bd.kmod=1" : "";
  for (const std::string* part : {&user_append, &cmd_arg}) {
    if (part->empty()) continue;
    if (!args.empty()) args += ' ';
    args += *part;
  }
  return args;
}

Status check_image_program(const std::string& path, const std::string& arch) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return make_error("--program " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error("--program " + path + " is not a regular file");
  if (::access(path.c_str(), R_OK | X_OK) != 0) {
    return make_error("--program " + path + " is not readable and executable (chmod +x it?)");
  }
  char head[4] = {};
  std::ifstream(path, std::ios::binary).read(head, sizeof head);
  if (head[0] == '#' && head[1] == '!') return {};  // a script for the guest's busybox
  const std::string runs = " (the " + arch + " VM runs static " + arch + " programs and #! scripts)";
  Expected<tools::GuestArch> elf = tools::check_guest_elf(path);
  if (!elf) return make_error("--program " + path + ": " + elf.error().message + runs);
  if (arch != tools::arch_name(elf.value())) {
    return make_error("--program " + path + " is an " + tools::arch_name(elf.value()) + " program" + runs +
                      (arch == "x86_64" ? ": add --arch " + std::string(tools::arch_name(elf.value())) +
                                              " where the VM can be of that architecture"
                                        : ""));
  }
  Expected<std::string> interp = elf_interpreter(path);
  if (!interp) return make_error("--program " + path + ": " + interp.error().message);
  if (!interp->empty()) {
    return make_error("--program " + path + " is dynamically linked (it needs the loader " + interp.value() +
                      "), but the VM image has no C library and no loader, so the guest could not start it "
                      "(\"not found\"): " +
                      static_link_hint(path));
  }
  return {};
}

Expected<ImageInputs> image_inputs(const std::vector<std::string>& programs, const std::string& arch) {
  ImageInputs in;
  in.arch = arch;
  std::set<std::string> names = {"bd-mark"};
  for (const std::string& p : programs) {
    if (Status st = check_image_program(p, arch); !st) return st.take_error();
    const std::string name = fs::path(p).filename().string();
    if (!names.insert(name).second) {
      return make_error("--program " + p + ": the image already has a /bin/" + name +
                        (name == "bd-mark" ? " (bd-run adds its own bd-mark)" : " (from another --program)"));
    }
    std::error_code ec;
    in.programs.push_back(fs::absolute(p, ec).lexically_normal().string());
  }
  // bd-mark is beside bd-run; other architectures' guest programs are in
  // bin/<arch>/ of a build, <libexecdir>/bdtrace/<arch>/ of an install.
  const std::vector<std::string> dirs = helper_dirs();
  const std::string name = arch == "x86_64" ? "bd-mark" : arch + "/bd-mark";
  in.bd_mark = first_accessible(dirs, name, X_OK);
  if (in.bd_mark.empty()) {
    return make_error("bd-mark not found (" + candidates_text(dirs, name) + "): build it (./bdtrace build" +
                      (arch == "x86_64"
                           ? std::string(")")
                           : std::string("; it needs Debian's cross compiler gcc-") + arch + "-linux-gnu)"));
  }
  in.source_dir = BDTRACE_SOURCE_DIR;
  in.builder = env_or_empty("BD_RUN_BUILD_IMAGE");
  if (in.builder.empty()) in.builder = in.source_dir + "/tools/vm/build-image.sh";
  if (::access(in.builder.c_str(), X_OK) != 0) {
    return make_error("the VM image builder " + in.builder +
                      " is missing (bd-run was built from that source tree; set BD_RUN_BUILD_IMAGE to "
                      "another tools/vm/build-image.sh)");
  }
  in.cache_dir = default_cache_dir();
  return in;
}

Expected<std::string> image_key(const ImageInputs& in) {
  Hasher h;
  h.add("bd-run vm image 1");
  h.add("kernel package " + env_or_empty("BD_VM_KERNEL_PKG"));
  // x86_64 adds nothing: the keys of the images cached before aarch64 stay.
  if (in.arch != "x86_64") h.add("arch " + in.arch);
  for (const std::string& p : in.programs) {
    if (Status st = h.add_file("program " + fs::path(p).filename().string(), p); !st) return st.take_error();
  }
  if (Status st = h.add_file("bd-mark", in.bd_mark); !st) return st.take_error();
  if (Status st = h.add_file("builder", in.builder); !st) return st.take_error();
  for (const char* sub : {"tools/vm", "guest-probes/kmod", "proto/include/bd"}) {
    if (Status st = hash_tree(h, in.source_dir, sub); !st) return st.take_error();
  }
  return h.hex();
}

Expected<VmImage> prepare_vm_image(const ImageInputs& in) {
  Expected<std::string> key = image_key(in);
  if (!key) return key.take_error();
  const fs::path images = fs::path(in.cache_dir) / "vm-images";
  VmImage image;
  image.dir = (images / key.value()).string();
  image.kernel = image.dir + "/vmlinuz";
  image.initrd = image.dir + "/initramfs.cpio.gz";
  const std::string stamp = image.dir + "/" + kImageStamp;
  std::error_code ec;
  if (fs::exists(stamp, ec) && fs::exists(image.kernel, ec) && fs::exists(image.initrd, ec)) {
    fs::last_write_time(stamp, fs::file_time_type::clock::now(), ec);  // recently used: pruned last
    std::fprintf(stderr, "bd-run: VM image with %s: %s (cached)\n", program_list(in).c_str(),
                 image.dir.c_str());
    image.reused = true;
    return image;
  }

  fs::create_directories(images, ec);
  if (ec)
    return make_error("cannot create the VM image cache " + images.string() + " (" + ec.message() + ")");
  const fs::path tmp = images / (key.value() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  std::fprintf(stderr,
               "bd-run: building a VM image with %s in %s (Debian's kernel, the bd_sched module, busybox; "
               "Debian's packages are downloaded once, into %s/vm-debs)\n",
               program_list(in).c_str(), image.dir.c_str(), in.cache_dir.c_str());
  std::fflush(stderr);
  std::vector<std::string> argv = {in.builder, tmp.string()};
  // x86_64 is the builder's default: its command line stays what it was.
  if (in.arch != "x86_64") argv.insert(argv.end(), {"--arch", in.arch});
  argv.insert(argv.end(), {"--debs", in.cache_dir + "/vm-debs"});
  for (const std::string& p : in.programs) argv.insert(argv.end(), {"--programs", p});
  argv.insert(argv.end(), {"--programs", in.bd_mark});
  Expected<int> status = run_builder(argv);
  if (!status) {
    fs::remove_all(tmp, ec);
    return status.take_error();
  }
  if (status.value() != 0) {
    fs::remove_all(tmp, ec);
    return make_error("building the VM image failed (" + in.builder + " exited with " +
                      std::to_string(status.value()) + "; its messages are above)");
  }
  for (const char* file : {"vmlinuz", "initramfs.cpio.gz"}) {
    if (!fs::exists(tmp / file, ec)) {
      fs::remove_all(tmp, ec);
      return make_error(in.builder + " succeeded but wrote no " + file);
    }
  }
  {
    std::ofstream out(tmp / kImageStamp);
    out << "bd-run VM image; /bin holds " << program_list(in) << "\n";
    for (const std::string& p : in.programs) out << "program " << p << "\n";
    if (!out) {
      fs::remove_all(tmp, ec);
      return make_error("cannot write " + (tmp / kImageStamp).string());
    }
  }
  if (::rename(tmp.c_str(), image.dir.c_str()) != 0) {
    const int err = errno;
    fs::remove_all(tmp, ec);
    // Another bd-run finished the same image first: use that one.
    if ((err != ENOTEMPTY && err != EEXIST) || !fs::exists(stamp, ec)) {
      return make_error("cannot move the VM image into " + image.dir + " (" + std::strerror(err) + ")");
    }
  }
  std::fprintf(stderr, "bd-run: VM image ready: %s\n", image.dir.c_str());
  prune_images(images, key.value());
  return image;
}

std::optional<int> parse_run_status(const std::string& line) {
  static const std::string kPrefix = "bd-init: run-status ";
  if (line.rfind(kPrefix, 0) != 0) return std::nullopt;
  size_t i = kPrefix.size();
  int value = 0;
  const size_t start = i;
  while (i < line.size() && i - start < 4 && line[i] >= '0' && line[i] <= '9')
    value = value * 10 + (line[i++] - '0');
  if (i == start || (i < line.size() && line[i] != ' ') || value > 255) return std::nullopt;
  return value;
}

int run_command_exit_status(int qemu_status, std::optional<int> cmd_status) {
  if (qemu_status != 0) return qemu_status;
  if (cmd_status) return *cmd_status;
  std::fprintf(stderr,
               "bd-run: error: the guest never said how --run's command ended (no 'bd-init: run-status' "
               "line on its console): it stopped before the command did; see the console above\n");
  return 1;
}

}  // namespace bdtrace::bdrun
