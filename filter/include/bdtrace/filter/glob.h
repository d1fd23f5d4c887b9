/* SPDX-License-Identifier: MIT */
// Shell-style globs for ProcessSelector.comm, without allocation (the match
// runs when the plugin computes a comm mask, possibly on a vCPU thread).
//   *      any run of characters (also empty)
//   ?      one character
//   [abc] [a-z] [!x] [^x]   one character in (or not in) the set
//   \c     the character c itself
#ifndef BDTRACE_FILTER_GLOB_H
#define BDTRACE_FILTER_GLOB_H

#include <string>

namespace bdtrace::filter {

// Empty string if `pattern` is a valid glob, else what is wrong with it.
std::string glob_error(const std::string &pattern);

// True when `text` matches the whole of `pattern` (which must be valid).
bool glob_match(const char *pattern, const char *text) noexcept;

}  // namespace bdtrace::filter

#endif  // BDTRACE_FILTER_GLOB_H
