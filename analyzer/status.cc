#include "bdtrace/analyzer/status.h"

namespace bdtrace::analyzer {

std::string Error::ToString() const {
  std::string out = message;
  for (const std::string &cause : causes) {
    out += "\n  caused by: ";
    out += cause;
  }
  return out;
}

}  // namespace bdtrace::analyzer
