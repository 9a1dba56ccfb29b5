#include "tasks/dicom/deid_policy.h"

namespace helix::dicom {

namespace {

bool is_date(std::string_view vr) { return vr == "DA" || vr == "DT"; }

bool is_text(std::string_view vr) {
  return vr == "LO" || vr == "SH" || vr == "LT" || vr == "ST" || vr == "UT" || vr == "UC" ||
         vr == "PN" || vr == "AE" || vr == "CS";
}

}  // namespace

const char* treatment_name(Treatment treatment) {
  switch (treatment) {
    case Treatment::kKeep:
      return "keep";
    case Treatment::kRemove:
      return "remove";
    case Treatment::kEmpty:
      return "empty";
    case Treatment::kDummy:
      return "dummy";
    case Treatment::kClean:
      return "clean";
    case Treatment::kNewUid:
      return "new-uid";
    case Treatment::kShiftDate:
      return "shift-date";
    case Treatment::kPseudonym:
      return "pseudonym";
    case Treatment::kDescend:
      return "descend";
  }
  return "?";
}

Policy::Policy(const Profile& profile, std::set<std::string> options)
    : profile_(profile), options_(std::move(options)) {
  full_dates_ = options_.count("retain_long_full_dates") > 0;
  modified_dates_ = !full_dates_ && options_.count("retain_long_modified_dates") > 0;
}

Treatment Policy::treat(Tag tag, std::string_view vr) const {
  // The issue asks for pseudonyms rather than the table's Z: linkage across
  // deliveries needs a stable patient key.
  if (tag == make_tag(0x0010, 0x0020) || tag == make_tag(0x0010, 0x0010)) {
    return vr == "UN" ? Treatment::kRemove : Treatment::kPseudonym;
  }
  // Curves (50xx) and overlays (60xx): the table removes the data and the
  // comments; the rest of the group would describe an overlay that is gone.
  const Tag group_high = tag & 0xFF000000u;
  if (group_high == 0x50000000u || group_high == 0x60000000u) return Treatment::kRemove;
  const std::string action = profile_.action(tag, options_);
  Treatment chosen = action.empty() ? outside_table(vr) : from_action(action, vr);
  // A value whose VR is unknown cannot be rewritten safely: anything but
  // keeping it whole removes it.
  if (vr == "UN" && chosen != Treatment::kKeep) return Treatment::kRemove;
  return chosen;
}

Treatment Policy::from_action(const std::string& action, std::string_view vr) const {
  if (action == "K") return vr == "SQ" ? Treatment::kDescend : Treatment::kKeep;
  if (action == "X") return Treatment::kRemove;
  if (action == "Z" || action == "Z/D") return Treatment::kEmpty;
  if (action == "D") return vr == "UI" ? Treatment::kNewUid : Treatment::kDummy;
  if (action == "U") return Treatment::kNewUid;
  // Reference sequences are kept with their UIDs replaced, so references
  // between the de-identified instances still resolve.
  if (action == "X/Z/U*") return vr == "SQ" ? Treatment::kDescend : Treatment::kRemove;
  // Without the IOD tables, "X unless required" removes: the conservative side.
  if (action == "X/Z" || action == "X/D" || action == "X/Z/D") return Treatment::kRemove;
  if (action == "C") {
    if (vr == "SQ") return Treatment::kDescend;
    if (is_date(vr)) return modified_dates_ ? Treatment::kShiftDate : Treatment::kEmpty;
    if (vr == "TM") return Treatment::kKeep;  // times mean nothing once dates moved
    if (vr == "UI") return Treatment::kNewUid;
    if (is_text(vr)) return Treatment::kClean;
    return Treatment::kKeep;  // numbers: patient characteristics, doses
  }
  return Treatment::kRemove;  // an action code this build does not know
}

// PS3.15 E.1.1 note 4: dates and times are treated by VR, not only where the
// table lists them; every instance UID is replaced wherever it appears.
Treatment Policy::outside_table(std::string_view vr) const {
  if (vr == "SQ") return Treatment::kDescend;
  if (vr == "UI") return options_.count("retain_uids") ? Treatment::kKeep : Treatment::kNewUid;
  if (is_date(vr)) {
    if (full_dates_) return Treatment::kKeep;
    return modified_dates_ ? Treatment::kShiftDate : Treatment::kEmpty;
  }
  if (vr == "TM") return full_dates_ || modified_dates_ ? Treatment::kKeep : Treatment::kEmpty;
  if (vr == "PN") return Treatment::kEmpty;  // a person's name is identifying wherever it is
  if (vr == "UN") return Treatment::kRemove;
  return Treatment::kKeep;
}

}  // namespace helix::dicom
