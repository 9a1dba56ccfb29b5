// TestState: runs one state of a definition the way Step Functions'
// TestState API does. The state runs once; it does not follow its Next, a
// Task is answered from the mock, a matching Retry reports RETRIABLE and a
// matching Catch reports CAUGHT_ERROR with the catcher's next state.
//
// Pure: takes now and an Rng like the interpreter (it is the interpreter in
// single-state mode, execution.h's SingleStateTrace).
#pragma once

#include <optional>
#include <string>

#include "pipelines/engine/execution.h"

namespace helix::asl {

struct TestStateRequest {
  Json definition;                        // one state, or a whole machine with state_name
  std::string input_text;                 // the input as sent
  std::string state_name;                 // empty: definition is a single state
  std::string inspection_level = "INFO";  // INFO, DEBUG or TRACE
  Json mock;       // {"result": "<json text>"} or {"errorOutput": {error, cause}}
  Json variables;  // JSON text or object of variables in scope
  Json context;    // JSON text or object overriding the context object
  bool reveal_secrets = false;
  std::optional<std::string> role_arn;  // $$.Execution.RoleArn; null without one
  Json state_configuration;             // {"retrierRetryCount", "mapIterationFailureCount", ...}
};

// The TestState response: {"status": SUCCEEDED|FAILED|CAUGHT_ERROR|RETRIABLE,
// "output", "error", "cause", "nextState", "inspectionData"}, or
// {"status": "API_ERROR", "error": "ValidationException"|"InvalidDefinition", "cause"}
// when the request is refused.
Json test_state(const TestStateRequest& request, TimePoint now, Rng& rng);

}  // namespace helix::asl
