#include "tasks/dicom/deid_summary.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace helix::dicom {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// N of a file named N.jsonl / N.json; -1 for anything else found there.
long series_of(const fs::path& path) {
  const std::string stem = path.stem().string();
  long value = -1;
  const auto [end, error] = std::from_chars(stem.data(), stem.data() + stem.size(), value);
  return error == std::errc() && end == stem.data() + stem.size() ? value : -1;
}

}  // namespace

Result<std::string> summarize_run(const std::string& work) {
  std::error_code ec;
  std::set<long> rejected;
  for (fs::directory_iterator it(fs::path(work) / "rejected", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".json" && series_of(it->path()) >= 0)
      rejected.insert(series_of(it->path()));
  }
  json summary = {{"series", 0},    {"files", 0},       {"deidentified", 0},
                  {"delivered", 0}, {"quarantined", 0}, {"quarantine_reasons", json::object()}};
  const json plan = json::parse(std::ifstream(fs::path(work) / "series.json"), nullptr, false);
  if (plan.is_array()) summary["series"] = plan.size();
  summary["series_rejected"] = rejected;
  for (fs::directory_iterator it(fs::path(work) / "audit", ec), end; !ec && it != end;
       it.increment(ec)) {
    const long series = series_of(it->path());
    if (it->path().extension() != ".jsonl" || series < 0) continue;
    std::ifstream in(it->path());
    int number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      const json entry = json::parse(line, nullptr, false);
      if (!entry.is_object() || !entry.contains("status")) {
        return fail(Error::corruption(it->path().string() + " line " + std::to_string(number) +
                                      " is not an audit entry"));
      }
      summary["files"] = summary["files"].get<int>() + 1;
      if (entry["status"] == "deidentified") {
        summary["deidentified"] = summary["deidentified"].get<int>() + 1;
        if (!rejected.count(series)) summary["delivered"] = summary["delivered"].get<int>() + 1;
      } else {
        summary["quarantined"] = summary["quarantined"].get<int>() + 1;
        const std::string reason = entry.value("reason", "unknown");
        summary["quarantine_reasons"][reason] = summary["quarantine_reasons"].value(reason, 0) + 1;
      }
    }
  }
  const std::string text = summary.dump();
  std::ofstream(fs::path(work) / "summary.json") << text << "\n";
  return text;
}

}  // namespace helix::dicom
