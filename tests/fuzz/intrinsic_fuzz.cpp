// libFuzzer target: the intrinsic-function parser ("States.Format(...)"),
// and evaluating what parses against a fixed input: every intrinsic must
// answer a value or a States.* error, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/rng.h"
#include "pipelines/engine/intrinsics.h"
#include "pipelines/engine/scope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const helix::asl::Json document = helix::asl::Json::parse(
      R"({"a": [1, 2, 3, 2], "s": "a,b,c", "n": 5, "o": {"k": "v"}, "b64": "aGVsaXg=",
          "json": "{\"x\": 1}"})");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // An intrinsic always arrives as a JSON string of a definition, so it is
  // valid UTF-8; other bytes would only test nlohmann's dump() refusing them.
  try {
    (void)helix::asl::Json(std::string(text)).dump();
  } catch (const helix::asl::Json::exception&) {
    return 0;
  }
  auto call = helix::asl::parse_intrinsic(text);
  if (!call) return 0;
  helix::SeededRng rng(1);
  helix::asl::Scope scope;
  scope.input = &document;
  scope.context = []() -> const helix::asl::Json& { return document; };
  scope.variable = [](std::string_view) -> const helix::asl::Json* { return nullptr; };
  scope.rng = &rng;
  (void)helix::asl::evaluate_intrinsic(*call, scope);
  return 0;
}
