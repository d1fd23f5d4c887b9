// SPDX-License-Identifier: MIT
// `cmake --install` into a throwaway prefix, then the prefix alone: a guest
// program built with pkg-config and with find_package(bdtrace) (shared,
// static, and for a cross-built guest architecture), run through the
// installed bd-run (qemu-<arch> with the installed plugin; the ring with the
// installed bd-ring-consumer), its marks read by the installed bd-analyze
// and by babeltrace2; the demo and the README's install recipe from the
// prefix; the installed files are exactly the expected ones (no test
// program, benchmark or helper library); each man page shows every option
// its tool's --help lists.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

namespace {

namespace fs = std::filesystem;
using bdtest::read_trace_with_babeltrace2;
using bdtest::RunResult;
using bdtest::TempDir;
using bdtest::TraceEvent;

// The layout (cmake/InstallLayout.cmake), relative to the prefix.
const std::string kLibDir = INSTALL_LIBDIR;
const std::string kHelperDir = std::string(INSTALL_LIBEXECDIR) + "/bdtrace";
const std::string kPluginDir = kLibDir + "/bdtrace";

std::vector<std::string> split(const std::string &text, char sep) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<std::string> words(const std::string &text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// One install shared by the tests (each test builds in its own directory).
class Install : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_dir_ = std::make_unique<TempDir>("install");
    install_ = bdtest::run({"cmake", "--install", BUILD_DIR, "--prefix", prefix_dir_->path()});
  }
  static void TearDownTestSuite() { prefix_dir_.reset(); }

  void SetUp() override { ASSERT_EQ(install_.status, 0) << install_.out << install_.err; }

  static std::string prefix() { return prefix_dir_->path(); }
  static std::string bin(const std::string &tool) { return prefix() + "/bin/" + tool; }

  // The installed bd-run records `program` (argv, in `dir`) into dir/trace;
  // the guest's marks must be those of sdk-guest.c.
  static void expect_traced(const std::string &dir, const std::vector<std::string> &program,
                            const std::vector<std::string> &bd_run_options = {"--channel", "trap"}) {
    std::string trace = dir + "/trace-" + fs::path(program[0]).filename().string();
    for (const std::string &o : bd_run_options) trace += "-" + o.substr(o.find_first_not_of('-'));
    std::vector<std::string> argv = {bin("bd-run"), "--trace", trace};
    argv.insert(argv.end(), bd_run_options.begin(), bd_run_options.end());
    argv.push_back("--");
    argv.insert(argv.end(), program.begin(), program.end());
    const RunResult r = bdtest::run(argv);
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("bdtrace host: yes"), std::string::npos) << r.out;

    const std::vector<TraceEvent> events = read_trace_with_babeltrace2(trace);
    std::set<uint64_t> steps;
    size_t texts = 0, names = 0;
    for (const TraceEvent &e : events) {
      if (e.name == "mark" && e.u("event") == 7 && e.u("a0") == 1) steps.insert(e.u("a1"));
      if (e.name == "mark" && e.u("event") == 8 && e.fields.at("text") == "sdk done") ++texts;
      if (e.name == "event_name" && e.u("event") == 7) ++names;
    }
    EXPECT_EQ(steps.size(), 50u) << "marks a1 = 0..49 of event 7";
    EXPECT_EQ(*steps.rbegin(), 49u);
    EXPECT_EQ(texts, 1u);
    EXPECT_EQ(names, 1u);

    const RunResult report = bdtest::run({bin("bd-analyze"), trace});
    ASSERT_EQ(report.status, 0) << report.out << report.err;
    EXPECT_NE(report.out.find("sdk-tick"), std::string::npos) << report.out;
    EXPECT_NE(report.out.find("50 marks"), std::string::npos) << report.out;
    EXPECT_NE(report.out.find(" channel=" + bd_run_options.at(1)), std::string::npos) << report.out;
  }

  static RunResult install_;
  static std::unique_ptr<TempDir> prefix_dir_;
};

RunResult Install::install_;
std::unique_ptr<TempDir> Install::prefix_dir_;

std::set<std::string> installed_files(const std::string &prefix) {
  std::set<std::string> files;
  for (const fs::directory_entry &e : fs::recursive_directory_iterator(prefix))
    if (!e.is_directory()) files.insert(fs::relative(e.path(), prefix).string());
  return files;
}

// Exactly these: a test program, benchmark or static helper library that
// slips in fails here.
TEST_F(Install, InstallsExactlyTheLayout) {
  std::set<std::string> expected;
  for (const char *tool : {"bd-run", "bd-analyze", "bd-handler-check", "bd-mark", "bd-demo-workload"})
    expected.insert(std::string("bin/") + tool);
  expected.insert(kHelperDir + "/bd-ring-consumer");
  expected.insert(kPluginDir + "/libbdtrace-qemu.so");
  for (const std::string &api : split(PLUGIN_APIS, ','))
    if (api != "1") expected.insert(kPluginDir + "/libbdtrace-qemu-v" + api + ".so");
  for (const char *handler : {"kv", "facts", "roi"})
    expected.insert(kPluginDir + "/handlers/libbdhandler-" + handler + ".so");
  for (const char *page : {"bd-run", "bd-analyze", "bd-mark"})
    expected.insert(std::string(INSTALL_MANDIR) + "/man1/" + page + ".1");
  for (const char *header : {"abi.h", "bd.h", "channel.h", "ring.h", "handler.h", "trap.h", "record_fill.h"})
    expected.insert(std::string(INSTALL_INCLUDEDIR) + "/bd/" + header);
  auto guest_sdk = [&](const std::string &libdir) {
    for (const char *f : {"libbdguest.a", "libbdguest.so", "pkgconfig/bdguest.pc",
                          "cmake/bdtrace/bdtraceConfig.cmake", "cmake/bdtrace/bdtraceConfigVersion.cmake"})
      expected.insert(libdir + "/" + f);
  };
  guest_sdk(kLibDir);
  for (const std::string &arch : split(CROSS_ARCHES, ',')) {
    guest_sdk("lib/" + arch + "-linux-gnu");
    expected.insert(kHelperDir + "/" + arch + "/bd-mark");
    expected.insert(kHelperDir + "/" + arch + "/bd-demo-workload");
  }

  // Each package's copyright file (LICENSE and LICENSES/), and the bd_sched
  // source the bd-sched-dkms package ships (component dkms).
  for (const char *package : {"bdtrace", "libbdguest-dev", "bd-sched-dkms"})
    expected.insert(std::string("share/doc/") + package + "/copyright");
  const std::string dkms_src = std::string("src/bd-sched-") + PROJECT_VERSION + "/";
  for (const char *f :
       {"Kbuild", "Makefile", "bd_arch.h", "bd_sched.c", "dkms.conf", "include/bd/abi.h",
        "include/bd/channel.h", "include/bd/ring.h", "include/bd/trap.h", "include/bd/record_fill.h"})
    expected.insert(dkms_src + f);

  const std::set<std::string> got = installed_files(prefix());
  std::vector<std::string> extra, missing;
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(extra));
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  EXPECT_TRUE(extra.empty()) << "installed but not expected: " << ::testing::PrintToString(extra);
  EXPECT_TRUE(missing.empty()) << "expected but not installed: " << ::testing::PrintToString(missing);
}

// The pkg-config file names the prefix the install went to.
TEST_F(Install, PkgConfigPointsIntoThePrefix) {
  const std::vector<std::string> env = {"PKG_CONFIG_PATH=" + prefix() + "/" + kLibDir + "/pkgconfig",
                                        "PKG_CONFIG_LIBDIR=/nonexistent"};
  const RunResult r = bdtest::run({"pkg-config", "--cflags", "--libs", "bdguest"}, env);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(words(r.out), (std::vector<std::string>{"-I" + prefix() + "/" + INSTALL_INCLUDEDIR,
                                                    "-L" + prefix() + "/" + kLibDir, "-lbdguest"}));
  const RunResult version = bdtest::run({"pkg-config", "--modversion", "bdguest"}, env);
  EXPECT_EQ(version.out, std::string(PROJECT_VERSION) + "\n");
}

// cc $(pkg-config --cflags --libs bdguest), shared and (--static) static,
// then through the installed bd-run; static also through the ring.
TEST_F(Install, PkgConfigBuildsAGuestThatBdRunTraces) {
  TempDir dir("install-pc");
  const std::vector<std::string> env = {"PKG_CONFIG_PATH=" + prefix() + "/" + kLibDir + "/pkgconfig",
                                        "PKG_CONFIG_LIBDIR=/nonexistent"};
  for (const bool is_static : {false, true}) {
    std::vector<std::string> pc = {"pkg-config", "--cflags", "--libs", "bdguest"};
    if (is_static) pc.insert(pc.begin() + 1, "--static");
    const RunResult flags = bdtest::run(pc, env);
    ASSERT_EQ(flags.status, 0) << flags.err;
    const std::string out = dir.path() + (is_static ? "/guest-pc-static" : "/guest-pc-shared");
    std::vector<std::string> cc = {"cc", "-o", out, SDK_GUEST};
    if (is_static) cc.push_back("-static");
    for (const std::string &w : words(flags.out)) cc.push_back(w);
    const RunResult built = bdtest::run(cc);
    ASSERT_EQ(built.status, 0) << ::testing::PrintToString(cc) << built.err;
    expect_traced(dir.path(), {out});
  }
  expect_traced(dir.path(), {dir.path() + "/guest-pc-static"}, {"--channel", "ring"});
}

// find_package(bdtrace) + target_link_libraries(app bdtrace::bdguest) in a
// project that knows nothing but CMAKE_PREFIX_PATH.
TEST_F(Install, FindPackageBuildsAGuestThatBdRunTraces) {
  TempDir dir("install-cmake");
  std::ofstream(dir.path() + "/CMakeLists.txt")
      << "cmake_minimum_required(VERSION 3.18)\n"
         "project(sdk_guest C)\n"
         "find_package(bdtrace " PROJECT_VERSION
         " REQUIRED)\n"
         "add_executable(app-shared " SDK_GUEST
         ")\n"
         "target_link_libraries(app-shared PRIVATE bdtrace::bdguest)\n"
         "add_executable(app-static " SDK_GUEST
         ")\n"
         "target_link_libraries(app-static PRIVATE bdtrace::bdguest_static)\n"
         "target_link_options(app-static PRIVATE -static)\n";
  const RunResult configured =
      bdtest::run({"cmake", "-S", dir.path(), "-B", dir.path() + "/build", "-DCMAKE_PREFIX_PATH=" + prefix(),
                   "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF", "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF"});
  ASSERT_EQ(configured.status, 0) << configured.out << configured.err;
  const RunResult built = bdtest::run({"cmake", "--build", dir.path() + "/build"});
  ASSERT_EQ(built.status, 0) << built.out << built.err;

  // The shared build needs the installed libbdguest.so (bd-run's
  // LD_LIBRARY_PATH), the static one nothing.
  const RunResult needed = bdtest::run({"readelf", "-d", dir.path() + "/build/app-shared"});
  EXPECT_NE(needed.out.find("[libbdguest.so]"), std::string::npos) << needed.out;
  const RunResult none = bdtest::run({"readelf", "-d", dir.path() + "/build/app-static"});
  EXPECT_EQ(none.out.find("libbdguest"), std::string::npos) << none.out;

  expect_traced(dir.path(), {dir.path() + "/build/app-shared"});
  expect_traced(dir.path(), {dir.path() + "/build/app-static"});
}

// Another guest architecture from the same prefix: its pkg-config file
// (lib/<arch>-linux-gnu/pkgconfig) and the CMake package under a cross
// toolchain; the installed bd-run runs qemu-<arch> with the installed
// plugin and gives a shared build the installed lib/<arch>-linux-gnu.
TEST_F(Install, CrossArchitectureGuestBuildsFromThePrefix) {
  const std::vector<std::string> arches = split(CROSS_ARCHES, ',');
  if (arches.empty()) GTEST_SKIP() << "no cross-built guest architecture in this build";
  const std::string arch = arches.front();
  const std::string cc = arch + "-linux-gnu-gcc";
  TempDir dir("install-cross");

  const RunResult flags =
      bdtest::run({"pkg-config", "--cflags", "--libs", "bdguest"},
                  {"PKG_CONFIG_PATH=" + prefix() + "/lib/" + arch + "-linux-gnu/pkgconfig",
                   "PKG_CONFIG_LIBDIR=/nonexistent"});
  ASSERT_EQ(flags.status, 0) << flags.err;
  EXPECT_NE(flags.out.find("-L" + prefix() + "/lib/" + arch + "-linux-gnu "), std::string::npos) << flags.out;
  std::vector<std::string> build = {cc, "-o", dir.path() + "/guest-pc-" + arch, SDK_GUEST};
  for (const std::string &w : words(flags.out)) build.push_back(w);
  const RunResult built = bdtest::run(build);
  ASSERT_EQ(built.status, 0) << ::testing::PrintToString(build) << built.err;
  expect_traced(dir.path(), {dir.path() + "/guest-pc-" + arch});

  std::ofstream(dir.path() + "/toolchain.cmake") << "set(CMAKE_SYSTEM_NAME Linux)\n"
                                                    "set(CMAKE_SYSTEM_PROCESSOR "
                                                 << arch
                                                 << ")\n"
                                                    "set(CMAKE_C_COMPILER "
                                                 << cc << ")\n";
  std::ofstream(dir.path() + "/CMakeLists.txt")
      << "cmake_minimum_required(VERSION 3.18)\n"
         "project(sdk_guest C)\n"
         "find_package(bdtrace REQUIRED)\n"
         "add_executable(app-static " SDK_GUEST
         ")\n"
         "target_link_libraries(app-static PRIVATE bdtrace::bdguest_static)\n"
         "target_link_options(app-static PRIVATE -static)\n";
  const RunResult configured =
      bdtest::run({"cmake", "-S", dir.path(), "-B", dir.path() + "/build", "-DCMAKE_PREFIX_PATH=" + prefix(),
                   "-DCMAKE_TOOLCHAIN_FILE=" + dir.path() + "/toolchain.cmake"});
  ASSERT_EQ(configured.status, 0) << configured.out << configured.err;
  const RunResult made = bdtest::run({"cmake", "--build", dir.path() + "/build"});
  ASSERT_EQ(made.status, 0) << made.out << made.err;
  const RunResult header = bdtest::run({"readelf", "-h", dir.path() + "/build/app-static"});
  EXPECT_NE(header.out.find(arch == "aarch64"   ? "AArch64"
                            : arch == "riscv64" ? "RISC-V"
                                                : "S/390"),
            std::string::npos)
      << header.out;
  expect_traced(dir.path(), {dir.path() + "/build/app-static"});
}

// The demo from the prefix alone: bd-demo-workload (3 workers, 20 chunks
// each) under the installed bd-run, its report by the installed bd-analyze.
TEST_F(Install, DemoRunsFromThePrefix) {
  TempDir dir("install-demo");
  const std::string trace = dir.path() + "/trace";
  const RunResult r =
      bdtest::run({bin("bd-run"), "--trace", trace, "--", bin("bd-demo-workload"), "--scale", "1"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  size_t progress = 0, results = 0, computes = 0;
  for (const TraceEvent &e : read_trace_with_babeltrace2(trace)) {
    if (e.name == "mark" && e.u("event") == 10) ++progress;
    if (e.name == "mark" && e.u("event") == 11) ++results;
    if (e.name == "region_begin" && e.u("region") == 2) ++computes;
  }
  EXPECT_EQ(progress, 60u);
  EXPECT_EQ(results, 3u);
  EXPECT_EQ(computes, 3u);
  const RunResult report = bdtest::run({bin("bd-analyze"), trace});
  ASSERT_EQ(report.status, 0) << report.out << report.err;
  EXPECT_NE(report.out.find("progress"), std::string::npos) << report.out;
}

// The README's install recipe, exactly as written (tests/readme/run-recipe.sh):
// my-guest.c's two threads mark event 1 100 times each, then "done".
TEST_F(Install, ReadmeRecipe) {
  TempDir dir("install-recipe");
  const RunResult r = bdtest::run({RUN_RECIPE, SOURCE_DIR, BUILD_DIR, "install-sdk", dir.path()});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bdtrace host: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("200 marks"), std::string::npos) << "bd-analyze's report:\n" << r.out;
  size_t ticks = 0, done = 0;
  for (const TraceEvent &e : read_trace_with_babeltrace2(dir.path() + "/sdk-trace")) {
    if (e.name == "mark" && e.u("event") == 1) ++ticks;
    if (e.name == "mark" && e.u("event") == 2 && e.fields.at("text") == "done") ++done;
  }
  EXPECT_EQ(ticks, 200u);
  EXPECT_EQ(done, 1u);
}

// The installed bd-run looks for its plugin from its own place: a copy
// elsewhere names that place's lib/bdtrace in its error.
TEST_F(Install, BdRunLooksForThePluginBesideItself) {
  TempDir dir("install-moved");
  fs::create_directories(dir.path() + "/bin");
  fs::copy_file(bin("bd-run"), dir.path() + "/bin/bd-run");
  const RunResult r =
      bdtest::run({dir.path() + "/bin/bd-run", "--channel", "trap", "--", bin("bd-mark"), "1"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(dir.path() + "/" + kPluginDir + "/libbdtrace-qemu"), std::string::npos) << r.err;
}

// Every option --help lists appears, as typed (ASCII hyphens), in the
// rendered man page.
TEST_F(Install, ManPagesShowEveryOptionOfTheirTool) {
  const std::regex option(R"((^|[\s\[,(])(--?[A-Za-z][A-Za-z0-9-]*))");
  for (const char *tool : {"bd-run", "bd-analyze", "bd-mark"}) {
    SCOPED_TRACE(tool);
    const RunResult help = bdtest::run({bin(tool), "--help"});
    ASSERT_EQ(help.status, 0) << help.err;
    const std::string page = prefix() + "/" + INSTALL_MANDIR + "/man1/" + tool + ".1";
    const RunResult man = bdtest::run({"groff", "-man", "-Tutf8", "-ww", "-P", "-cbou", page});
    ASSERT_EQ(man.status, 0) << man.err;
    EXPECT_EQ(man.err, "") << "groff warns about " << page;
    EXPECT_NE(man.out.find(std::string(tool) + " - "), std::string::npos) << "NAME line:\n" << man.out;
    size_t options = 0;
    for (std::sregex_iterator it(help.out.begin(), help.out.end(), option), end; it != end; ++it) {
      const std::string opt = (*it)[2];
      ++options;
      EXPECT_NE(man.out.find(opt), std::string::npos) << opt << " is missing from " << page;
    }
    EXPECT_GE(options, 3u) << "--help lists options";
  }
}

}  // namespace
