// Checks a de-identified series against its originals, independently of
// how the rewriting was done: every value the profile does not keep
// (names and their parts, IDs, UIDs, dates, private values, at any
// sequence depth) is taken from each original, and none may appear in any
// output, neither in its raw bytes nor in its decoded values (a Deflated
// file hides values from a byte search).
//
// Owns: the leak search. Does not own: the policy (deid_policy.h), which
// says what is kept.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/dicom/deid_policy.h"
#include "tasks/dicom/deidentifier.h"

namespace helix::dicom {

struct VerifyReport {
  int originals = 0;  // readable originals searched for values
  int outputs = 0;
  int needles = 0;                 // distinct identifying values searched for
  std::vector<std::string> leaks;  // "(0010,0010) of input 3 in output STUDY/SERIES/SOP.dcm"
};

// Outputs are given as (path, name used in reports). Unreadable originals
// are skipped (the run quarantined them); an unreadable output is a leak
// report of its own (it cannot be shown clean). The secret gives each
// patient's date offset under Modified Dates: a shifted date can equal
// another original date of the same patient by chance and is no leak.
// Private elements in safe are kept under Retain Safe Private, as the
// de-identifier keeps them. An original value inside one of written_texts
// (Deidentifier::written_texts: "Basic", "ANONYMIZED") is not a leak.
Result<VerifyReport> verify_series(const Policy& policy, const std::set<SafePrivate>& safe,
                                   const std::vector<std::string>& written_texts,
                                   const std::string& secret,
                                   const std::vector<std::string>& originals,
                                   const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace helix::dicom
