// SPDX-License-Identifier: MIT
#include "export_util.h"

#include <cinttypes>
#include <cstdio>

namespace bdtrace::analyzer::export_util {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes one UTF-8 sequence at s[i]: returns its length and sets cp, or
// returns 0 if it is not well formed (overlong, surrogate, > U+10FFFF,
// truncated).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t &cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void AppendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Calls f(code point, bytes) for each character of s, invalid bytes as
// U+FFFD one byte at a time.
template <typename F>
void ForEachChar(std::string_view s, F f) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, cp);
    if (len == 0) {
      f(kReplacement, std::string_view());
      ++i;
    } else {
      f(cp, s.substr(i, len));
      i += len;
    }
  }
}

}  // namespace

void AppendJsonString(std::string &out, std::string_view s) {
  out += '"';
  ForEachChar(s, [&out](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '"':
        out += "\\\"";
        return;
      case '\\':
        out += "\\\\";
        return;
      case '\n':
        out += "\\n";
        return;
      case '\r':
        out += "\\r";
        return;
      case '\t':
        out += "\\t";
        return;
      default:
        break;
    }
    if (cp < 0x20 || cp == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else if (bytes.empty()) {
      AppendUtf8(out, cp);
    } else {
      out += bytes;
    }
  });
  out += '"';
}

void AppendXmlText(std::string &out, std::string_view s) {
  ForEachChar(s, [&out](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&':
        out += "&amp;";
        return;
      case '<':
        out += "&lt;";
        return;
      case '>':
        out += "&gt;";
        return;
      case '"':
        out += "&quot;";
        return;
      case '\'':
        out += "&apos;";
        return;
      default:
        break;
    }
    const bool allowed =
        cp == '\t' || cp == '\n' || cp == '\r' || (cp >= 0x20 && cp != 0x7F && cp != 0xFFFE && cp != 0xFFFF);
    if (!allowed || bytes.empty()) {
      AppendUtf8(out, allowed ? cp : kReplacement);
    } else {
      out += bytes;
    }
  });
}

void AppendMicros(std::string &out, int64_t ns) {
  char buf[32];
  const uint64_t mag = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%03" PRIu64, ns < 0 ? "-" : "", mag / 1000, mag % 1000);
  out += buf;
}

std::string ShortDuration(int64_t ns) {
  const double v = static_cast<double>(ns);
  const char *unit = "ns";
  double x = v;
  if (ns >= 1000000000) {
    x = v / 1e9, unit = "s";
  } else if (ns >= 1000000) {
    x = v / 1e6, unit = "ms";
  } else if (ns >= 1000) {
    x = v / 1e3, unit = "us";
  } else {
    return std::to_string(ns) + " ns";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, x >= 100 ? "%.0f %s" : x >= 10 ? "%.1f %s" : "%.2f %s", x, unit);
  return buf;
}

}  // namespace bdtrace::analyzer::export_util
