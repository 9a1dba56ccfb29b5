// Applies the treatment policy to one DICOM data set in memory (DCMTK):
// every element, inside every sequence item, plus the identity attributes
// PS3.15 E.1.1 asks a de-identifier to add.
//
// Owns: walking and rewriting a DcmDataset, and deciding whether burned-in
// text is blanked (a pixel rule matches under Clean Pixel Data) or the
// image refused. Does not own: reading or writing files, how pixels are
// blanked (pixel_cleaner.h).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/deid_policy.h"
#include "tasks/dicom/pixel_rules.h"

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
  int day_offset = 0;      // days subtracted (Modified Dates), else 0
  int invalid_dates = 0;   // dates that could not be shifted and were emptied
  std::string pixel_rule;  // the rule whose regions were blanked, else empty
};

class Deidentifier {
 public:
  Deidentifier(const Profile& profile, const Policy& policy, DeidKeys keys,
               std::set<SafePrivate> safe_private = {}, PixelRules pixel_rules = {});

  // Rewrites dataset in place. Corruption (the file is to be quarantined)
  // when it is not a composite instance (no SOP Instance UID), nests
  // deeper than 64 sequence levels, says Burned In Annotation YES while no
  // pixel rule applies, or its pixels cannot be blanked.
  Result<DeidOutcome> apply(DcmDataset& dataset) const;

  // The fixed texts apply writes into outputs (the method, the code
  // meanings, dummy values): the verifier does not count an original value
  // found inside one of them as a leak.
  std::vector<std::string> written_texts() const;

 private:
  const Profile& profile_;
  const Policy& policy_;
  DeidKeys keys_;
  std::set<SafePrivate> safe_private_;
  PixelRules pixel_rules_;
};

}  // namespace helix::dicom
