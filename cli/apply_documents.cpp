#include "cli/apply_documents.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace helix::cli {

using nlohmann::json;

const char* apply_kind_phrase(ApplyKind kind) {
  switch (kind) {
    case ApplyKind::kComputeEnvironment:
      return "compute environment";
    case ApplyKind::kSchedulingPolicy:
      return "scheduling policy";
    case ApplyKind::kJobQueue:
      return "job queue";
    case ApplyKind::kJobDefinition:
      return "job definition";
  }
  return "object";
}

Result<ApplyDocument> classify_apply_document(const std::string& source, const std::string& text) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string what = e.what();
    if (size_t end = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      what = what.substr(end + 2);
    return fail(Error::invalid(source, "is not valid JSON: " + what));
  }
  if (!body.is_object())
    return fail(Error::invalid(source, "must hold one JSON object (an AWS request body), not " +
                                           std::string(body.type_name())));
  struct Kind {
    const char* name_key;
    ApplyKind kind;
    bool matches;
  };
  const Kind kinds[] = {
      {"computeEnvironmentName", ApplyKind::kComputeEnvironment,
       body.contains("computeEnvironmentName")},
      {"name", ApplyKind::kSchedulingPolicy,
       body.contains("name") && body.contains("fairsharePolicy")},
      {"jobQueueName", ApplyKind::kJobQueue, body.contains("jobQueueName")},
      {"jobDefinitionName", ApplyKind::kJobDefinition, body.contains("jobDefinitionName")},
  };
  std::vector<const Kind*> found;
  for (const auto& k : kinds)
    if (k.matches) found.push_back(&k);
  if (found.empty())
    return fail(
        Error::invalid(source,
                       "is of no known kind: expected computeEnvironmentName, jobQueueName, "
                       "jobDefinitionName, or name with fairsharePolicy"));
  if (found.size() > 1)
    return fail(Error::invalid(
        source, std::string("is both a ") + apply_kind_phrase(found[0]->kind) + " and a " +
                    apply_kind_phrase(found[1]->kind) + "; give one object per file"));
  const json& name = body[found[0]->name_key];
  if (!name.is_string() || name.get<std::string>().empty())
    return fail(
        Error::invalid(source, std::string(found[0]->name_key) + " must be a non-empty string"));
  return ApplyDocument{source, found[0]->kind, name.get<std::string>(), std::move(body)};
}

Result<std::vector<ApplyDocument>> order_apply_documents(std::vector<ApplyDocument> documents) {
  std::stable_sort(documents.begin(), documents.end(),
                   [](const ApplyDocument& a, const ApplyDocument& b) { return a.kind < b.kind; });
  Problems problems;
  std::map<std::pair<ApplyKind, std::string>, std::string> first_source;
  for (const auto& d : documents) {
    auto [it, inserted] = first_source.emplace(std::make_pair(d.kind, d.name), d.source);
    if (!inserted)
      problems.add(d.source, std::string("defines ") + apply_kind_phrase(d.kind) + " " + d.name +
                                 ", as " + it->second + " does");
  }
  if (!problems.empty()) return fail(problems.to_error());
  return documents;
}

Result<std::vector<ApplyDocument>> load_apply_documents(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  Problems problems;
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.path().extension() == ".json" && !entry.is_directory())
          in_dir.push_back(entry.path().string());
      if (ec) problems.add(path, "cannot be listed: " + ec.message());
      std::sort(in_dir.begin(), in_dir.end());
      if (in_dir.empty() && !ec) problems.add(path, "holds no *.json file");
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(path);
    }
  }
  std::vector<ApplyDocument> documents;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      problems.add(file,
                   "cannot be read: " + std::error_code(errno, std::generic_category()).message());
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto doc = classify_apply_document(file, text.str());
    if (!doc) {
      problems.append(doc.error());
      continue;
    }
    documents.push_back(std::move(*doc));
  }
  if (!problems.empty()) return fail(problems.to_error());
  return order_apply_documents(std::move(documents));
}

}  // namespace helix::cli
