// libFuzzer target: the JSONPath parser, and resolving what parses against
// a fixed document (fields, indexes, slices, filters, wildcards).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pipelines/engine/json_path.h"
#include "pipelines/engine/scope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const helix::asl::Json document = helix::asl::Json::parse(
      R"({"a": {"b": [1, 2, {"c": "x"}], "n": null}, "list": [{"k": 1}, {"k": 2}, {"k": "3"}],
          "s": "text", "deep": {"x": {"y": {"z": [[1], [2, 3]]}}}})");
  static const helix::asl::Json context = helix::asl::Json::parse(R"({"Execution": {"Id": "e"}})");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = helix::asl::JsonPath::parse(text);
  if (!path) return 0;
  helix::asl::Scope scope;
  scope.input = &document;
  scope.context = []() -> const helix::asl::Json& { return context; };
  scope.variable = [](std::string_view name) -> const helix::asl::Json* {
    return name == "v" ? &document : nullptr;
  };
  (void)helix::asl::resolve_path(*path, scope);
  return 0;
}
