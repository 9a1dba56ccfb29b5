// Applies the treatment policy to one DICOM data set in memory (DCMTK):
// every element, inside every sequence item, plus the identity attributes
// PS3.15 E.1.1 asks a de-identifier to add.
//
// Owns: walking and rewriting a DcmDataset. Does not own: reading or writing
// files, quarantine decisions about whole files, pixel cleaning.
#pragma once

#include <map>
#include <set>
#include <string>

#include "common/error.h"
#include "tasks/dicom/deid_policy.h"

class DcmDataset;

namespace helix::dicom {

struct DeidKeys {
  std::string secret;                             // site secret for UIDs, pseudonyms, offsets
  std::map<std::string, std::string> pseudonyms;  // original Patient ID -> pseudonym (optional)
};

// A private element that Retain Safe Private keeps: its creator and its
// group and low element byte ((7053,xx00) -> group 0x7053, element 0x00).
struct SafePrivate {
  std::string creator;
  std::uint16_t group = 0;
  std::uint8_t element = 0;
  auto operator<=>(const SafePrivate&) const = default;
};

struct DeidOutcome {
  std::map<std::string, int> changes;           // "(0010,0010) pseudonym" -> how many
  std::map<std::string, std::string> new_uids;  // original UID -> replacement
  std::string patient_id;                       // the original, for the run's pseudonym table
  std::string patient_pseudonym;
  int day_offset = 0;     // days subtracted (Modified Dates), else 0
  int invalid_dates = 0;  // dates that could not be shifted and were emptied
};

class Deidentifier {
 public:
  Deidentifier(const Profile& profile, const Policy& policy, DeidKeys keys,
               std::set<SafePrivate> safe_private = {});

  // Rewrites dataset in place. Corruption (the file is to be quarantined)
  // when it is not a composite instance (no SOP Instance UID) or nests
  // deeper than 64 sequence levels.
  Result<DeidOutcome> apply(DcmDataset& dataset) const;

 private:
  const Profile& profile_;
  const Policy& policy_;
  DeidKeys keys_;
  std::set<SafePrivate> safe_private_;
};

}  // namespace helix::dicom
