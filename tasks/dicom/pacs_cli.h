// helix-deid's PACS subcommands, as pipeline jobs run them:
//   pacs-find   C-FIND the series matching a query; writes the plan
//               (WORK/series.json, WORK/series/N.pacs.json; pacs_plan.h)
//   pacs-get    retrieve series N (C-GET, or C-MOVE with --move-port) into
//               WORK/retrieved/N/ and write WORK/series/N.list for `run`
//   pacs-store  C-STORE every .dcm under a folder
// Each prints one JSON line of counts. Exit codes let a job definition's
// retry strategy tell failures apart: 0 done, 2 bad arguments (CLI11's
// own parse errors and a series index not in the plan included), 4
// association or network failure (worth a retry), 1 anything else (a PACS
// refusing an instance or a C-MOVE, a bad file).
//
// Owns: flags, exit codes, output. Does not own: the DICOM exchanges
// (pacs_query.h, pacs_retrieve.h, pacs_store.h).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tasks/dicom/pacs_peer.h"
#include "tasks/dicom/pacs_query.h"

namespace helix::dicom {

class PacsCommands {
 public:
  explicit PacsCommands(CLI::App& app);

  // Whether one of these subcommands is named on the command line (a
  // parse error then exits 2, not CLI11's code).
  static bool named(int argc, const char* const* argv);

  // The exit code when one of these subcommands was parsed.
  std::optional<int> run();

 private:
  int find();
  int get();
  int store();

  CLI::App* find_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* store_ = nullptr;
  PacsPeer peer_;
  StudyQuery query_;
  std::string work_, from_, move_aet_;
  int index_ = -1;
  int move_port_ = 0;
};

}  // namespace helix::dicom
