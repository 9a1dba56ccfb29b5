// helix-deid: de-identifies DICOM files per PS3.15 Annex E (the Basic
// Profile and its options). The DICOM pipeline runs its subcommands as
// helix jobs: scan a folder into series, run one series, verify it against
// its originals, store it to the destination.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>
#include <CLI/CLI.hpp>

#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "tasks/dicom/deid_run.h"
#include "tasks/dicom/deid_summary.h"
#include "tasks/dicom/deid_verify.h"
#include "tasks/dicom/folder_store.h"
#include "tasks/dicom/pacs_cli.h"
#include "tasks/dicom/series_scan.h"

namespace {

using namespace helix::dicom;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream text(read_all(path));
  for (std::string line; std::getline(text, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

int refuse(const std::string& what) {
  std::cerr << "helix-deid: " << what << "\n";
  return 2;
}

// What run and verify both need: the profile, the chosen options and the
// site secret, each checked before any file is touched.
struct Setup {
  std::string profile_path = HELIX_DEID_PROFILE, secret_file, options_json = "[]";
  Profile profile;
  std::string secret;
  std::set<std::string> chosen;
  std::vector<std::string> option_list;

  void add_to(CLI::App* command) {
    command->add_option("--profile", profile_path, "PS3.15 profile extract (JSON)");
    command->add_option("--secret-file", secret_file, "site secret: UIDs, pseudonyms, dates")
        ->required();
    command->add_option("--options", options_json, "JSON array of profile option keys");
  }

  // An error message, or nothing when everything is usable.
  std::optional<std::string> load() {
    auto parsed = Profile::parse(read_all(profile_path));
    if (!parsed) return profile_path + ": " + parsed.error().to_string();
    profile = std::move(*parsed);
    secret = read_all(secret_file);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.size() < 16) return "--secret-file: the secret needs 16 bytes or more";
    nlohmann::json options = nlohmann::json::parse(options_json, nullptr, false);
    if (!options.is_array()) return "--options: must be a JSON array of option keys";
    for (const auto& option : options) {
      if (!option.is_string() || !profile.option_keys().count(option.get<std::string>())) {
        return "--options: " + option.dump() + " is not an option key of the profile";
      }
      chosen.insert(option.get<std::string>());
      option_list.push_back(option.get<std::string>());
    }
    return std::nullopt;
  }
};

// What Retain Safe Private may keep: the profile's safe private list.
std::set<SafePrivate> safe_private(const Profile& profile) {
  std::set<SafePrivate> safe;
  for (const auto& row : profile.safe_private()) safe.insert({row.creator, row.group, row.element});
  return safe;
}

// The CPUs this process may run on (a helix job's cpuset), at least 1.
int usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int run_command(Setup& setup, const std::string& list_file, const std::string& pseudonym_file,
                const std::string& pixel_rules_file, const RunPaths& paths, int threads) {
  if (auto problem = setup.load()) return refuse(*problem);
  DeidKeys keys;
  keys.secret = setup.secret;
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
  PixelRules pixel_rules;
  if (!pixel_rules_file.empty()) {
    auto parsed = PixelRules::parse(read_all(pixel_rules_file));
    if (!parsed)
      return refuse("--pixel-rules " + pixel_rules_file + ": " + parsed.error().to_string());
    pixel_rules = std::move(*parsed);
  }
  Policy policy(setup.profile, setup.chosen);
  Deidentifier deid(setup.profile, policy, keys, safe_private(setup.profile),
                    std::move(pixel_rules));
  auto summary =
      run_deidentification(deid, read_lines(list_file), setup.option_list, paths, threads);
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

// Exit 3 when anything identifying is left: the pipeline's Catch sends the
// series to quarantine. The report names tags and inputs, never values.
int verify_command(Setup& setup, const std::string& list_file, const std::string& dir,
                   const std::string& report_file) {
  if (auto problem = setup.load()) return refuse(*problem);
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> outputs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".dcm")
      outputs.emplace_back(it->path().string(), fs::relative(it->path(), dir).string());
  }
  std::sort(outputs.begin(), outputs.end());
  Policy policy(setup.profile, setup.chosen);
  // The texts the de-identifier writes, from one set up as run sets it up.
  const Deidentifier deid(setup.profile, policy, DeidKeys{setup.secret, {}});
  auto report = verify_series(policy, safe_private(setup.profile), deid.written_texts(),
                              setup.secret, read_lines(list_file), outputs);
  if (!report) return refuse(report.error().to_string());
  const nlohmann::json summary = {{"originals", report->originals},
                                  {"outputs", report->outputs},
                                  {"needles", report->needles},
                                  {"leaks", report->leaks}};
  if (!report_file.empty()) std::ofstream(report_file) << summary.dump() << "\n";
  std::cout << summary.dump() << "\n";
  if (!report->leaks.empty()) {
    std::cerr << "helix-deid: identifying values left in " << report->leaks.size()
              << " place(s); first: " << report->leaks.front() << "\n";
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Every refusal is reported by helix-deid with its file; DCMTK's own
  // warnings about the same files would only repeat them on stderr.
  OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
  CLI::App app{"helix-deid: DICOM de-identification (PS3.15 Annex E)"};
  app.require_subcommand(1);

  CLI::App* run = app.add_subcommand("run", "de-identify the files named in a list");
  Setup run_setup;
  run_setup.add_to(run);
  std::string list_file, pseudonym_file, pixel_rules_file;
  RunPaths paths;
  run->add_option("--list", list_file, "file with one input path per line")->required();
  run->add_option("--out", paths.output, "folder for de-identified files")->required();
  run->add_option("--quarantine", paths.quarantine, "folder for refusal reasons")->required();
  run->add_option("--audit", paths.audit, "audit log (JSON lines, appended)")->required();
  run->add_option("--maps", paths.maps, "folder for the UID and pseudonym tables")->required();
  run->add_option("--name", paths.run_name, "names this run's tables")->required();
  run->add_option("--pseudonyms", pseudonym_file, "CSV of original Patient ID,pseudonym");
  run->add_option("--tiff", paths.tiff, "folder for TIFF copies of the de-identified pixels");
  int threads = usable_cpus();
  run->add_option("--threads", threads, "files de-identified at once (default: usable CPUs)")
      ->check(CLI::Range(1, 256));
  run->add_option("--pixel-rules", pixel_rules_file,
                  "JSON rules of burned-in text regions (used with clean_pixel_data)");

  CLI::App* scan = app.add_subcommand("scan", "group a folder's files into series");
  std::string folder, work;
  scan->add_option("--folder", folder, "folder to search (recursively)")->required();
  scan->add_option("--work", work, "writes WORK/series.json and WORK/series/N.list")->required();

  CLI::App* verify = app.add_subcommand("verify", "check outputs against their originals");
  Setup verify_setup;
  verify_setup.add_to(verify);
  std::string originals, outputs_dir, report_file;
  verify->add_option("--list", originals, "the run's input list")->required();
  verify->add_option("--dir", outputs_dir, "folder of the run's .dcm outputs")->required();
  verify->add_option("--report", report_file, "also write the report (JSON) here");

  CLI::App* store = app.add_subcommand("store", "deliver outputs to a folder");
  std::string from, to;
  store->add_option("--from", from, "folder of de-identified files")->required();
  store->add_option("--to", to, "destination folder (same relative paths)")->required();

  CLI::App* summary = app.add_subcommand("summary", "count a pipeline run's audit logs");
  std::string summary_work;
  summary->add_option("--work", summary_work, "the run's work folder")->required();

  PacsCommands pacs(app);  // pacs-find, pacs-get, pacs-store (pacs_cli.h)
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code != 0 && PacsCommands::named(argc, argv) ? 2 : code;
  }
  if (auto code = pacs.run()) return *code;

  if (summary->parsed()) {
    auto counted = summarize_run(summary_work);
    if (!counted) return refuse(counted.error().to_string());
    std::cout << *counted << "\n";
    return 0;
  }

  if (run->parsed()) {
    return run_command(run_setup, list_file, pseudonym_file, pixel_rules_file, paths, threads);
  }
  if (verify->parsed()) return verify_command(verify_setup, originals, outputs_dir, report_file);
  if (scan->parsed()) {
    auto plan = scan_folder(folder);
    if (!plan) return refuse(plan.error().to_string());
    auto written = write_plan(*plan, work);
    if (!written) return refuse(written.error().to_string());
    std::cout << nlohmann::json{{"series", plan->series.size()},
                                {"unreadable", plan->unreadable.size()}}
                     .dump()
              << "\n";
    return 0;
  }
  auto stored = store_to_folder(from, to);
  if (!stored) return refuse(stored.error().to_string());
  std::cout << nlohmann::json{{"stored", *stored}}.dump() << "\n";
  return 0;
}
