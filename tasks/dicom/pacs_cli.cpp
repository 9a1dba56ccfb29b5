#include "tasks/dicom/pacs_cli.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "tasks/dicom/pacs_plan.h"
#include "tasks/dicom/pacs_retrieve.h"
#include "tasks/dicom/pacs_store.h"

namespace helix::dicom {

namespace {

constexpr int kBadArguments = 2;
constexpr int kNetwork = 4;
constexpr int kFailed = 1;

int report(const Error& error) {
  std::cerr << "helix-deid: " << error.to_string() << "\n";
  if (error.code() == ErrorCode::kInvalidInput || error.code() == ErrorCode::kNotFound)
    return kBadArguments;
  return is_network_failure(error) ? kNetwork : kFailed;
}

void add_peer(CLI::App* command, PacsPeer& peer) {
  command->add_option("--host", peer.host, "PACS host")->capture_default_str();
  command->add_option("--port", peer.port, "PACS DICOM port")->required();
  command->add_option("--aet", peer.calling_ae, "our (calling) AE title")->capture_default_str();
  command->add_option("--aec", peer.called_ae, "the PACS's (called) AE title")->required();
  command->add_option("--timeout", peer.timeout_seconds, "seconds for connect and each message")
      ->capture_default_str();
}

}  // namespace

PacsCommands::PacsCommands(CLI::App& app) {
  find_ = app.add_subcommand("pacs-find", "find a PACS's series (C-FIND) and plan them");
  add_peer(find_, peer_);
  find_->add_option("--patient-id", query_.patient_id, "Patient ID (wildcards * ?)");
  find_->add_option("--study-date", query_.study_date, "YYYYMMDD or YYYYMMDD-YYYYMMDD");
  find_->add_option("--modality", query_.modality, "series modality, e.g. MR");
  find_->add_option("--accession", query_.accession, "Accession Number");
  find_->add_option("--work", work_, "writes WORK/series.json and WORK/series/N.pacs.json")
      ->required();

  get_ = app.add_subcommand("pacs-get", "retrieve one planned series (C-GET or C-MOVE)");
  add_peer(get_, peer_);
  get_->add_option("--work", work_, "the work folder pacs-find wrote")->required();
  get_->add_option("--index", index_, "series number N in WORK/series.json")->required();
  get_->add_option("--move-port", move_port_,
                   "retrieve by C-MOVE to our storage SCP on this port (default: C-GET)");
  get_->add_option("--move-aet", move_aet_, "AE title of that SCP (default: --aet)");

  store_ = app.add_subcommand("pacs-store", "send every .dcm under a folder (C-STORE)");
  add_peer(store_, peer_);
  store_->add_option("--from", from_, "folder of files to send (recursively)")->required();
}

bool PacsCommands::named(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "pacs-find" || arg == "pacs-get" || arg == "pacs-store") return true;
  }
  return false;
}

std::optional<int> PacsCommands::run() {
  if (find_->parsed()) return find();
  if (get_->parsed()) return get();
  if (store_->parsed()) return store();
  return std::nullopt;
}

int PacsCommands::find() {
  auto series = find_series(peer_, query_);
  if (!series) return report(series.error());
  if (auto written = write_pacs_plan(*series, work_); !written) return report(written.error());
  std::cout << nlohmann::json{{"series", series->size()}}.dump() << "\n";
  return 0;
}

int PacsCommands::get() {
  if (index_ < 0) return report(Error::invalid("--index", "must be 0 or more"));
  auto series = read_pacs_series(work_, index_);
  if (!series) return report(series.error());
  const std::string folder = retrieved_folder(work_, index_);
  auto files =
      get_->count("--move-port") == 0
          ? retrieve_series_get(peer_, *series, folder)
          : retrieve_series_move(peer_, *series, move_aet_.empty() ? peer_.calling_ae : move_aet_,
                                 move_port_, folder);
  if (!files) return report(files.error());
  if (auto listed = write_series_list(work_, index_, *files); !listed)
    return report(listed.error());
  std::cout << nlohmann::json{{"retrieved", files->size()}}.dump() << "\n";
  return 0;
}

int PacsCommands::store() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(from_, ec))
    return report(Error::invalid("--from", from_ + " is not a folder"));
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(from_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".dcm")
      files.push_back(it->path().string());
  }
  if (ec) return report(Error::unavailable("cannot list " + from_, ec.message()));
  std::sort(files.begin(), files.end());
  auto stored = store_files(peer_, files);
  if (!stored) return report(stored.error());
  std::cout << nlohmann::json{{"stored", *stored}}.dump() << "\n";
  return 0;
}

}  // namespace helix::dicom
