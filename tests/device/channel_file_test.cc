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

TEST(ChannelMapping, MapsAndSharesWithTheFile) {
    TempFile f(BD_CHANNEL_SIZE);
    ASSERT_FALSE(f.path().empty());
    ChannelMapping m;
    std::string err;
    ASSERT_TRUE(ChannelMapping::open(f.path(), m, err)) << err;
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
    ChannelMapping m;
    std::string err;
    ASSERT_TRUE(ChannelMapping::open(f.path(), m, err)) << err;
    EXPECT_EQ(m.size(), BD_CHANNEL_SIZE);
}

TEST(ChannelMapping, MissingPath) {
    ChannelMapping m;
    std::string err;
    EXPECT_FALSE(ChannelMapping::open("", m, err));
    EXPECT_NE(err.find("channel=PATH"), std::string::npos) << err;
    EXPECT_FALSE(m);
}

TEST(ChannelMapping, FileNotThere) {
    ChannelMapping m;
    std::string err;
    EXPECT_FALSE(ChannelMapping::open("/nonexistent/bdtrace-channel", m, err));
    EXPECT_NE(err.find("cannot open channel file '/nonexistent/bdtrace-channel'"),
              std::string::npos) << err;
    EXPECT_NE(err.find("No such file"), std::string::npos) << err;
    EXPECT_NE(err.find("memory-backend-file"), std::string::npos) << err;
}

TEST(ChannelMapping, FileTooSmall) {
    TempFile f(BD_CHANNEL_SIZE - BD_PAGE_SIZE);
    ChannelMapping m;
    std::string err;
    EXPECT_FALSE(ChannelMapping::open(f.path(), m, err));
    EXPECT_NE(err.find(std::to_string(BD_CHANNEL_SIZE - BD_PAGE_SIZE) + " bytes"),
              std::string::npos) << err;
    EXPECT_NE(err.find("size=1M"), std::string::npos) << err;
    TempFile empty(0);
    EXPECT_FALSE(ChannelMapping::open(empty.path(), m, err));
    EXPECT_FALSE(m);
}

TEST(ChannelMapping, NotARegularFile) {
    ChannelMapping m;
    std::string err;
    EXPECT_FALSE(ChannelMapping::open("/dev/null", m, err));
    EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
    EXPECT_FALSE(ChannelMapping::open("/tmp", m, err));  // a directory: open fails
    EXPECT_NE(err.find("'/tmp'"), std::string::npos) << err;
}

}  // namespace
}  // namespace bdtrace::device
