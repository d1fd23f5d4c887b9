// SPDX-License-Identifier: MIT
// A harness without libFuzzer: runs LLVMFuzzerTestOneInput once per file
// of the directories and files given (the seed corpus and every input that
// once crashed), so the regular build replays them as a test. Exit 0 when
// every input ran (a violated invariant aborts), 1 when a path cannot be
// read or holds no input at all.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

bool run_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      for (const auto &entry : std::filesystem::directory_iterator(p)) {
        if (!entry.is_regular_file()) continue;
        if (!run_file(entry.path())) return 1;
        ++inputs;
      }
    } else {
      if (!run_file(p)) return 1;
      ++inputs;
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "no input in the paths given\n");
    return 1;
  }
  std::printf("%zu inputs ran\n", inputs);
  return 0;
}
