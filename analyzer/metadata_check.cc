// SPDX-License-Identifier: MIT
#include "metadata_check.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace bdtrace::analyzer {

namespace {

// CTF 1.8 metadata packet header: magic, uuid[16], checksum, content_size,
// packet_size (bits), then 5 one-byte fields.
constexpr uint32_t kMetadataMagic = 0x75d11d57;
constexpr size_t kHeaderBytes = 4 + 16 + 4 + 4 + 4 + 5;
constexpr size_t kContentSizeOffset = 24;
constexpr size_t kPacketSizeOffset = 28;

uint32_t Read32(const unsigned char *p, bool big_endian) {
  return big_endian ? (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]
                    : (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

}  // namespace

Status CheckMetadataFraming(const std::string &trace_dir) {
  const std::string path = trace_dir + "/metadata";
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path, {std::strerror(errno)}};
  const std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)),
                                        std::istreambuf_iterator<char>());
  if (in.bad()) return Error{"cannot read " + path, {std::strerror(errno)}};
  return CheckMetadataBytes(data.data(), data.size(), path);
}

Status CheckMetadataBytes(const unsigned char *bytes, size_t size, const std::string &path) {
  struct View {
    const unsigned char *p;
    size_t n;
    size_t size() const { return n; }
    const unsigned char *data() const { return p; }
  } data{bytes, size};
  if (data.size() < 4) return Error{"corrupt CTF metadata: " + path + " is almost empty", {}};

  bool big_endian;
  if (Read32(data.data(), false) == kMetadataMagic) {
    big_endian = false;
  } else if (Read32(data.data(), true) == kMetadataMagic) {
    big_endian = true;
  } else {
    return Status::Ok();  // plain-text metadata: babeltrace2 parses it
  }
  size_t offset = 0;
  while (offset < data.size()) {
    const std::string where = path + " at byte " + std::to_string(offset);
    if (data.size() - offset < kHeaderBytes) {
      return Error{"truncated CTF metadata: " + where + " holds only part of a packet header", {}};
    }
    const unsigned char *h = data.data() + offset;
    if (Read32(h, big_endian) != kMetadataMagic) {
      return Error{"corrupt CTF metadata: no packet magic number in " + where, {}};
    }
    const uint64_t content_bits = Read32(h + kContentSizeOffset, big_endian);
    const uint64_t packet_bits = Read32(h + kPacketSizeOffset, big_endian);
    if (packet_bits % 8 != 0 || packet_bits < kHeaderBytes * 8 || content_bits > packet_bits ||
        content_bits < kHeaderBytes * 8) {
      return Error{"corrupt CTF metadata: impossible packet sizes in " + where, {}};
    }
    const uint64_t packet_bytes = packet_bits / 8;
    if (packet_bytes > data.size() - offset) {
      return Error{"truncated CTF metadata: the packet in " + where + " needs " +
                       std::to_string(packet_bytes) + " bytes, the file has " +
                       std::to_string(data.size() - offset) + " left",
                   {}};
    }
    offset += packet_bytes;
  }
  return Status::Ok();
}

}  // namespace bdtrace::analyzer
