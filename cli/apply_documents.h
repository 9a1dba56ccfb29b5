// `helix apply` input: files that each hold one AWS request body, told apart
// by the keys AWS gives each kind of object.
//
// Owns: reading the paths (a directory contributes its *.json files, sorted
// by name; subdirectories are not entered), classifying each body, and the
// apply order. Does not contact helixd. Everything is refused whole, naming
// every bad file, before anything is sent.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix::cli {

// In apply order: what a later kind names must exist first (a queue names
// compute environments and a scheduling policy).
enum class ApplyKind { kComputeEnvironment, kSchedulingPolicy, kJobQueue, kJobDefinition };

// "compute environment", "scheduling policy", "job queue", "job definition".
const char* apply_kind_phrase(ApplyKind kind);

struct ApplyDocument {
  std::string source;  // the file it came from
  ApplyKind kind;
  std::string name;  // the object's name from its body
  nlohmann::json body;
};

// Classifies one body by its keys:
//   computeEnvironmentName        -> CreateComputeEnvironment
//   name and fairsharePolicy      -> CreateSchedulingPolicy
//   jobQueueName                  -> CreateJobQueue
//   jobDefinitionName             -> RegisterJobDefinition
// InvalidInput with path `source` when the text is not JSON, not an object,
// of no kind or of several, or its name is not a non-empty string.
Result<ApplyDocument> classify_apply_document(const std::string& source, const std::string& text);

// Reads and classifies every file, then orders them: by kind (the enum's
// order), then as given. InvalidInput listing every problem (one per file,
// path the file name) when a path cannot be read, a file does not classify,
// or two files define the same object.
Result<std::vector<ApplyDocument>> load_apply_documents(const std::vector<std::string>& paths);

// The ordering and duplicate check of load_apply_documents, for documents
// already classified.
Result<std::vector<ApplyDocument>> order_apply_documents(std::vector<ApplyDocument> documents);

}  // namespace helix::cli
