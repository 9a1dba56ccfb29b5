// What the de-identifier does to one data element: the PS3.15 Annex E
// action from the profile turned into one concrete treatment, with the
// choices the table leaves open made here once (see treat()).
//
// Owns: the mapping (tag, VR, options) -> Treatment. Does not own: reading
// or changing values (the DCMTK walker does), keys and pseudonyms
// (deid_keys.h).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "tasks/dicom/deid_profile.h"

namespace helix::dicom {

enum class Treatment {
  kKeep,       // value unchanged
  kRemove,     // element removed
  kEmpty,      // zero-length value
  kDummy,      // a fixed dummy value of the VR
  kClean,      // text with every identifying token of the instance removed
  kNewUid,     // secret-keyed replacement UID (well-known UIDs are kept by the walker)
  kShiftDate,  // DA/DT moved back by the patient's day offset
  kPseudonym,  // Patient ID / Patient's Name: the patient's pseudonym
  kDescend,    // a sequence kept and its items treated element by element
};

const char* treatment_name(Treatment treatment);

class Policy {
 public:
  Policy(const Profile& profile, std::set<std::string> options);

  // The treatment of a non-private, non-meta element. vr is the two-letter
  // VR as read ("UN" for unknown).
  Treatment treat(Tag tag, std::string_view vr) const;

  bool full_dates() const { return full_dates_; }
  bool modified_dates() const { return modified_dates_; }
  const std::set<std::string>& options() const { return options_; }

 private:
  Treatment from_action(const std::string& action, std::string_view vr) const;
  Treatment outside_table(std::string_view vr) const;

  const Profile& profile_;
  std::set<std::string> options_;
  bool full_dates_ = false;
  bool modified_dates_ = false;
};

}  // namespace helix::dicom
