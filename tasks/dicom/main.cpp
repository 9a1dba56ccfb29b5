// helix-deid: de-identifies DICOM files per PS3.15 Annex E (the Basic
// Profile and its options), one run per list of files. The DICOM pipeline
// runs it as a helix job per series.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tasks/dicom/deid_run.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int refuse(const std::string& what) {
  std::cerr << "helix-deid: " << what << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace helix::dicom;
  CLI::App app{"helix-deid: DICOM de-identification (PS3.15 Annex E)"};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "de-identify the files named in a list");
  std::string profile_path = HELIX_DEID_PROFILE, secret_file, options_json = "[]", list_file,
              pseudonym_file, pixel_rules_file;
  RunPaths paths;
  run->add_option("--profile", profile_path, "PS3.15 profile extract (JSON)");
  run->add_option("--secret-file", secret_file, "site secret: UIDs, pseudonyms, date offsets")
      ->required();
  run->add_option("--options", options_json, "JSON array of profile option keys");
  run->add_option("--list", list_file, "file with one input path per line")->required();
  run->add_option("--out", paths.output, "folder for de-identified files")->required();
  run->add_option("--quarantine", paths.quarantine, "folder for refusal reasons")->required();
  run->add_option("--audit", paths.audit, "audit log (JSON lines, appended)")->required();
  run->add_option("--maps", paths.maps, "folder for the UID and pseudonym tables")->required();
  run->add_option("--name", paths.run_name, "names this run's tables")->required();
  run->add_option("--pseudonyms", pseudonym_file, "CSV of original Patient ID,pseudonym");
  run->add_option("--pixel-rules", pixel_rules_file,
                  "JSON rules of burned-in text regions (used with clean_pixel_data)");
  CLI11_PARSE(app, argc, argv);

  auto profile = Profile::parse(read_all(profile_path));
  if (!profile) return refuse(profile_path + ": " + profile.error().to_string());
  DeidKeys keys;
  keys.secret = read_all(secret_file);
  while (!keys.secret.empty() && (keys.secret.back() == '\n' || keys.secret.back() == '\r'))
    keys.secret.pop_back();
  if (keys.secret.size() < 16) return refuse("--secret-file: the secret needs 16 bytes or more");
  nlohmann::json options = nlohmann::json::parse(options_json, nullptr, false);
  if (!options.is_array()) return refuse("--options: must be a JSON array of option keys");
  std::set<std::string> chosen;
  std::vector<std::string> option_list;
  for (const auto& option : options) {
    if (!option.is_string() || !profile->option_keys().count(option.get<std::string>())) {
      return refuse("--options: " + option.dump() + " is not an option key of the profile");
    }
    chosen.insert(option.get<std::string>());
    option_list.push_back(option.get<std::string>());
  }
  if (!pseudonym_file.empty()) {
    std::istringstream rows(read_all(pseudonym_file));
    std::string row;
    for (int number = 1; std::getline(rows, row); ++number) {
      const auto comma = row.find(',');
      if (comma == std::string::npos || comma == 0 || comma + 1 == row.size())
        return refuse("--pseudonyms: line " + std::to_string(number) + " is not ID,pseudonym");
      keys.pseudonyms[row.substr(0, comma)] = row.substr(comma + 1);
    }
  }
  std::vector<std::string> inputs;
  std::istringstream lines(read_all(list_file));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) inputs.push_back(line);

  PixelRules pixel_rules;
  if (!pixel_rules_file.empty()) {
    auto parsed = PixelRules::parse(read_all(pixel_rules_file));
    if (!parsed)
      return refuse("--pixel-rules " + pixel_rules_file + ": " + parsed.error().to_string());
    pixel_rules = std::move(*parsed);
  }

  Policy policy(*profile, chosen);
  Deidentifier deid(*profile, policy, keys, {}, std::move(pixel_rules));
  auto summary = run_deidentification(deid, inputs, option_list, paths);
  if (!summary) {
    std::cerr << "helix-deid: " << summary.error().to_string() << "\n";
    return 1;
  }
  std::cout << nlohmann::json{{"deidentified", summary->deidentified},
                              {"quarantined", summary->quarantined}}
                   .dump()
            << "\n";
  return 0;
}
