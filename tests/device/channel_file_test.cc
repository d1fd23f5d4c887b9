// SPDX-License-Identifier: MIT
// ChannelMapping: the backing-file checks and the shared mapping.
#include <bdtrace/device/channel_file.h>

#include <bd/channel.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace bdtrace::device {
namespace {

// A temporary file of a given size, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(off_t size) {
    char tmpl[] = "/tmp/bdtrace-channel-test-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) return;
    path_ = tmpl;
    if (::ftruncate(fd, size) != 0) path_.clear();
    ::close(fd);
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

// The message ChannelMapping::open refuses `path` with ("" and a failure
// if it maps it).
std::string refusal(const std::string &path) {
  Expected<ChannelMapping> m = ChannelMapping::open(path);
  EXPECT_FALSE(m) << path;
  return m ? std::string() : m.error().message;
}

TEST(ChannelMapping, MapsAndSharesWithTheFile) {
  TempFile f(BD_CHANNEL_SIZE);
  ASSERT_FALSE(f.path().empty());
  Expected<ChannelMapping> opened = ChannelMapping::open(f.path());
  ASSERT_TRUE(opened) << opened.error();
  ChannelMapping &m = *opened;
  ASSERT_TRUE(m);
  EXPECT_EQ(m.size(), BD_CHANNEL_SIZE);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.data()) % BD_PAGE_SIZE, 0u);
  std::memcpy(m.data() + 0x8000, "hello", 5);
  // Another opener (QEMU's memory backend) sees the bytes.
  const int fd = ::open(f.path().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  char got[5] = {};
  EXPECT_EQ(::pread(fd, got, sizeof got, 0x8000), 5);
  ::close(fd);
  EXPECT_EQ(std::memcmp(got, "hello", 5), 0);

  ChannelMapping moved(std::move(m));
  EXPECT_FALSE(m);
  EXPECT_TRUE(moved);
  ChannelMapping assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.data()[0x8000], 'h');
}

TEST(ChannelMapping, LargerFileIsFine) {
  TempFile f(2 * BD_CHANNEL_SIZE);
  Expected<ChannelMapping> m = ChannelMapping::open(f.path());
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->size(), BD_CHANNEL_SIZE);
}

TEST(ChannelMapping, MissingPath) {
  const std::string err = refusal("");
  EXPECT_NE(err.find("channel=PATH"), std::string::npos) << err;
}

TEST(ChannelMapping, FileNotThere) {
  const std::string err = refusal("/nonexistent/bdtrace-channel");
  EXPECT_NE(err.find("cannot open channel file '/nonexistent/bdtrace-channel'"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
  EXPECT_NE(err.find("memory-backend-file"), std::string::npos) << err;
}

TEST(ChannelMapping, FileTooSmall) {
  TempFile f(BD_CHANNEL_SIZE - BD_PAGE_SIZE);
  const std::string err = refusal(f.path());
  EXPECT_NE(err.find(std::to_string(BD_CHANNEL_SIZE - BD_PAGE_SIZE) + " bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("size=1M"), std::string::npos) << err;
  TempFile empty(0);
  EXPECT_FALSE(ChannelMapping::open(empty.path()));
}

TEST(ChannelMapping, NotARegularFile) {
  std::string err = refusal("/dev/null");
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
  err = refusal("/tmp");  // a directory: open fails
  EXPECT_NE(err.find("'/tmp'"), std::string::npos) << err;
}

}  // namespace
}  // namespace bdtrace::device
