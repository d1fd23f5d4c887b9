// SPDX-License-Identifier: MIT
// Fuzz harness: the filter config parser and compiler (filter/config.h,
// compiled.h), which read a file the user edits while QEMU runs. Input: the
// file's text. A config that parses is compiled and asked the questions
// the plugin asks on its hot path, for a few vCPUs, processes and events.
// Invariants: a refusal has a message; parse, compile and decide never
// crash or hang.
#include <bdtrace/filter/compiled.h>
#include <bdtrace/filter/config.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bdtrace::filter;
  using bdtrace::Expected;
  const std::string text(reinterpret_cast<const char *>(data), size);
  const Expected<FilterConfig> parsed = parse_config(text, "fuzz.txtpb");
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty());
    return 0;
  }
  const FilterConfig &config = *parsed;
  const std::unique_ptr<CompiledFilter> f = CompiledFilter::compile(config, "fuzz-guest");
  FUZZ_CHECK(f != nullptr);
  const char *comms[] = {"fuzz-guest", "server", nullptr};
  for (uint32_t vcpu : {0u, 1u, 63u, 64u, 1000u}) {
    for (const char *comm : comms) {
      const Subject who{vcpu, {vcpu + 1, vcpu + 2, f->comm_mask(comm)}};
      for (uint32_t kind = 0; kind <= BD_KIND_MAX_; ++kind) {
        for (uint32_t event : {0u, 1u, 43u, 1000u, 0xffffffffu}) {
          const Decision d = f->decide(who, kind, event);
          (void)d;
          (void)f->maybe_enabled(vcpu, kind, event);
        }
      }
      (void)f->trace_code_gate(vcpu, who.who);
    }
  }
  (void)f->any_trace_code();
  (void)f->each_block_events();
  (void)f->block_counts();
  return 0;
}
