// libFuzzer target: the ASL definition parser and validator. Any bytes go
// in; the parser must answer with a machine or diagnostics, never crash,
// hang or leak (ASan + UBSan in the fuzz build).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipelines/engine/definition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = helix::asl::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  for (bool express : {false, true}) {
    helix::asl::ParseOptions options;
    options.is_express = express;
    auto machine = helix::asl::parse_state_machine(json, options);
    if (!machine) (void)helix::asl::invalid_definition_message(machine.error());
  }
  return 0;
}
