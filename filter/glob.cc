// SPDX-License-Identifier: MIT
// Shell-style glob matching (see glob.h).
#include "bdtrace/filter/glob.h"

namespace bdtrace::filter {
namespace {

// Matches one bracket expression starting at p ('[' already consumed)
// against c. Sets *end past the closing ']'. The pattern is valid.
bool bracket_match(const char *p, char c, const char **end) noexcept {
  bool negate = false;
  if (*p == '!' || *p == '^') {
    negate = true;
    ++p;
  }
  bool found = false;
  bool first = true;
  while (*p != '\0' && (first || *p != ']')) {
    first = false;
    char lo = *p;
    if (lo == '\\' && p[1] != '\0') lo = *++p;
    ++p;
    char hi = lo;
    if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
      hi = p[1];
      p += 2;
      if (hi == '\\' && *p != '\0') hi = *p++;
    }
    if (static_cast<unsigned char>(c) >= static_cast<unsigned char>(lo) &&
        static_cast<unsigned char>(c) <= static_cast<unsigned char>(hi))
      found = true;
  }
  *end = *p == ']' ? p + 1 : p;
  return found != negate;
}

}  // namespace

std::string glob_error(const std::string &pattern) {
  if (pattern.empty()) return "empty glob (use \"*\" for any name)";
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\0') return "NUL byte in glob";
    if (c == '\\') {
      if (i + 1 == pattern.size()) return "glob ends with a lone backslash";
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
      bool first = true;
      while (j < pattern.size() && (first || pattern[j] != ']')) {
        first = false;
        if (pattern[j] == '\\') ++j;
        ++j;
      }
      if (j >= pattern.size())
        return "unterminated '[' at offset " + std::to_string(i) + " in glob \"" + pattern +
               "\" (write \\[ for a literal bracket)";
      i = j;
    }
  }
  return {};
}

bool glob_match(const char *p, const char *t) noexcept {
  // Iterative with one backtrack point (the last '*'), linear in practice.
  const char *star_p = nullptr;
  const char *star_t = nullptr;
  while (*t != '\0') {
    if (*p == '*') {
      while (*p == '*') ++p;
      if (*p == '\0') return true;
      star_p = p;
      star_t = t;
      continue;
    }
    bool ok;
    const char *next = p + 1;
    if (*p == '\0') {
      ok = false;
    } else if (*p == '?') {
      ok = true;
    } else if (*p == '[') {
      ok = bracket_match(p + 1, *t, &next);
    } else if (*p == '\\' && p[1] != '\0') {
      ok = p[1] == *t;
      next = p + 2;
    } else {
      ok = *p == *t;
    }
    if (ok) {
      p = next;
      ++t;
    } else if (star_p != nullptr) {
      p = star_p;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (*p == '*') ++p;
  return *p == '\0';
}

}  // namespace bdtrace::filter
