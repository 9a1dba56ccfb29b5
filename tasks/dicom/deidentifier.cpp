#include "tasks/dicom/deidentifier.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include "tasks/dicom/deid_keys.h"
#include "tasks/dicom/dicom_values.h"
#include "tasks/dicom/pixel_cleaner.h"

namespace helix::dicom {

namespace {

// What every output says about how it was made (0012,0063).
constexpr const char* kMethod = "helix PS3.15 E.1 Basic Profile";

// Far beyond any real IOD; a deeper file is hostile or broken.
constexpr int kMaxDepth = 64;

std::string join_values(const std::vector<std::string>& parts) {
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) joined += (i ? "\\" : "") + parts[i];
  return joined;
}

// Words of three or more letters or digits: what "clean" removes from
// free text when they appear in it.
void add_tokens(const std::string& text, std::set<std::string>& tokens) {
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (word.size() >= 3) tokens.insert(word);
      word.clear();
    }
  }
}

std::string dummy_for(const std::string& vr) {
  if (vr == "DA") return "19000101";
  if (vr == "TM") return "000000";
  if (vr == "DT") return "19000101000000";
  if (vr == "AS") return "000Y";
  if (vr == "IS" || vr == "DS" || vr == "US" || vr == "SS" || vr == "UL" || vr == "SL" ||
      vr == "FL" || vr == "FD")
    return "0";
  return "ANONYMIZED";
}

class Walk {
 public:
  Walk(const Policy& policy, const DeidKeys& keys, const std::set<SafePrivate>& safe,
       DeidOutcome& out)
      : policy_(policy), keys_(keys), safe_(safe), out_(out) {}

  std::set<std::string> tokens;

  Result<void> item(DcmItem& item, int depth) {
    if (depth > kMaxDepth) {
      return fail(Error::corruption("sequences nest deeper than " + std::to_string(kMaxDepth)));
    }
    // Private creators of this item: (gggg,00xx) names the block gggg,xx00-xxFF.
    std::map<std::pair<std::uint16_t, std::uint8_t>, std::string> creators;
    std::set<std::pair<std::uint16_t, std::uint8_t>> used_creators;
    const std::vector<DcmElement*> elements = elements_of(item);
    for (DcmElement* e : elements) {
      const DcmTagKey key = e->getTag();
      if (key.isPrivateReservation()) {
        creators[{key.getGroup(), static_cast<std::uint8_t>(key.getElement())}] = value_of(*e);
      }
    }
    std::vector<DcmElement*> doomed;
    for (DcmElement* e : elements) {
      const DcmTagKey key = e->getTag();
      if (key.getElement() == 0x0000) {  // group lengths: recomputed on write
        doomed.push_back(e);
        continue;
      }
      if (key.getGroup() & 1) {
        if (key.isPrivateReservation()) continue;  // decided below
        const auto block = static_cast<std::uint8_t>(key.getElement() >> 8);
        auto creator = creators.find({key.getGroup(), block});
        const bool safe = policy_.options().count("retain_safe_private") &&
                          key.getElement() > 0x00FF && creator != creators.end() &&
                          safe_.count({creator->second, key.getGroup(),
                                       static_cast<std::uint8_t>(key.getElement() & 0xFF)});
        if (safe) {
          used_creators.insert({key.getGroup(), block});
        } else {
          doomed.push_back(e);
          note(key, Treatment::kRemove);
        }
        continue;
      }
      const std::string vr = DcmVR(e->getVR()).getValidVRName();
      const Treatment treatment = policy_.treat(make_tag(key.getGroup(), key.getElement()),
                                                e->getVR() == EVR_UN ? "UN" : vr);
      auto done = rewrite(*e, vr, treatment, depth);
      if (!done) return fail(done.error());
      if (!*done) doomed.push_back(e);
    }
    for (DcmElement* e : elements) {
      const DcmTagKey key = e->getTag();
      if (key.isPrivateReservation() &&
          !used_creators.count({key.getGroup(), static_cast<std::uint8_t>(key.getElement())})) {
        doomed.push_back(e);
        note(key, Treatment::kRemove);
      }
    }
    for (DcmElement* e : doomed) delete item.remove(e);
    return {};
  }

  std::string pseudonym;
  int offset = 0;

 private:
  void note(const DcmTagKey& key, Treatment treatment) {
    ++out_.changes[tag_text(key) + " " + treatment_name(treatment)];
  }

  std::string new_uid(const std::string& uid) {
    if (uid.empty() || dcmFindNameOfUID(uid.c_str()) != nullptr) return uid;  // well-known
    std::string replacement = pseudonymous_uid(keys_.secret, uid);
    out_.new_uids[uid] = replacement;
    return replacement;
  }

  std::string clean(const std::string& text) const {
    std::string lowered = text;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string cleaned = text;
    for (const auto& token : tokens) {
      for (std::size_t at = lowered.find(token); at != std::string::npos;
           at = lowered.find(token, at + 1)) {
        for (std::size_t k = at; k < at + token.size(); ++k) cleaned[k] = '*';
      }
    }
    return cleaned;
  }

  // false: the element is to be removed.
  Result<bool> rewrite(DcmElement& e, const std::string& vr, Treatment treatment, int depth) {
    const DcmTagKey key = e.getTag();
    switch (treatment) {
      case Treatment::kKeep:
        return true;
      case Treatment::kRemove:
        note(key, treatment);
        return false;
      case Treatment::kDescend: {
        auto* sequence = dynamic_cast<DcmSequenceOfItems*>(&e);
        if (sequence == nullptr) return true;
        for (DcmItem* entry : items_of(*sequence)) {
          auto nested = item(*entry, depth + 1);
          if (!nested) return fail(nested.error());
        }
        return true;
      }
      case Treatment::kEmpty:
        note(key, treatment);
        return e.clear().good();
      default:
        break;
    }
    std::string value;
    if (treatment == Treatment::kPseudonym) {
      value = pseudonym;
    } else if (treatment == Treatment::kDummy) {
      value = vr == "PN" ? pseudonym : dummy_for(vr);
    } else if (treatment == Treatment::kClean) {
      value = clean(value_of(e));
    } else if (treatment == Treatment::kNewUid) {
      const std::string original = value_of(e);
      auto parts = split_values(original);
      for (auto& part : parts) part = new_uid(part);
      value = join_values(parts);
      if (value == original) return true;  // well-known UIDs only: nothing changed
    } else if (treatment == Treatment::kShiftDate) {
      auto parts = split_values(value_of(e));
      for (auto& part : parts) {
        if (part.empty()) continue;
        auto shifted = shift_date(part, offset);
        if (!shifted) {  // 20230231 and the like: nothing safe to keep
          ++out_.invalid_dates;
          note(key, Treatment::kEmpty);
          return e.clear().good();
        }
        part = *shifted;
      }
      value = join_values(parts);
    }
    note(key, treatment);
    return e.putString(value.c_str()).good();
  }

  const Policy& policy_;
  const DeidKeys& keys_;
  const std::set<SafePrivate>& safe_;
  DeidOutcome& out_;
};

// Values whose words "clean" removes from free text.
const DcmTagKey kIdentityKeys[] = {DCM_PatientID,       DCM_RETIRED_OtherPatientIDs,
                                   DCM_PatientAddress,  DCM_AccessionNumber,
                                   DCM_InstitutionName, DCM_InstitutionAddress,
                                   DCM_StationName,     DCM_InstitutionalDepartmentName};

void collect_tokens(DcmItem& item, std::set<std::string>& tokens, int depth) {
  if (depth > kMaxDepth) return;
  for (DcmElement* e : elements_of(item)) {
    const DcmTagKey key = e->getTag();
    if (e->getVR() == EVR_PN || std::find(std::begin(kIdentityKeys), std::end(kIdentityKeys),
                                          key) != std::end(kIdentityKeys)) {
      add_tokens(value_of(*e), tokens);
    }
    if (auto* sequence = dynamic_cast<DcmSequenceOfItems*>(e)) {
      for (DcmItem* nested : items_of(*sequence)) collect_tokens(*nested, tokens, depth + 1);
    }
  }
}

}  // namespace

Deidentifier::Deidentifier(const Profile& profile, const Policy& policy, DeidKeys keys,
                           std::set<SafePrivate> safe_private, PixelRules pixel_rules)
    : profile_(profile),
      policy_(policy),
      keys_(std::move(keys)),
      safe_private_(std::move(safe_private)),
      pixel_rules_(std::move(pixel_rules)) {}

std::vector<std::string> Deidentifier::written_texts() const {
  std::vector<std::string> texts = {kMethod,      "Basic Application Confidentiality Profile",
                                    "YES",        "MODIFIED",
                                    "UNMODIFIED", "REMOVED"};
  for (const char* vr : {"DA", "TM", "DT", "AS", "IS", "LO"}) texts.push_back(dummy_for(vr));
  for (const auto& option : profile_.option_keys()) {
    const auto code = profile_.option_code(option);
    if (!code.second.empty()) texts.push_back(code.second);
  }
  return texts;
}

Result<DeidOutcome> Deidentifier::apply(DcmDataset& dataset) const {
  OFString sop_uid;
  if (dataset.findAndGetOFString(DCM_SOPInstanceUID, sop_uid).bad() || sop_uid.empty()) {
    return fail(Error::corruption("no SOP Instance UID (0008,0018): not a DICOM instance"));
  }
  // Text burned into the pixels survives every attribute rule: it is
  // blanked where a rule says the vendor puts it, and an image that says it
  // has some where no rule applies is not passed (PS3.15 E.1.1).
  DeidOutcome out;
  const ImageFacts facts = image_facts(dataset);
  const PixelRule* rule =
      policy_.options().count("clean_pixel_data") ? pixel_rules_.match(facts) : nullptr;
  OFString burned_in;
  dataset.findAndGetOFString(DCM_BurnedInAnnotation, burned_in);
  if (rule != nullptr) {
    auto blanked = blank_regions(dataset, rule->regions);
    if (!blanked) return fail(blanked.error());
    out.pixel_rule = rule->name;
    out.changes["(7FE0,0010) blank"] = *blanked;
    if (burned_in == "YES") dataset.putAndInsertString(DCM_BurnedInAnnotation, "NO");
  } else if (burned_in == "YES") {
    return fail(Error::corruption(
        "Burned In Annotation (0028,0301) is YES and " +
        (policy_.options().count("clean_pixel_data")
             ? "no pixel rule matches Modality '" + facts.modality + "', Manufacturer '" +
                   facts.manufacturer + "', model '" + facts.model + "', " +
                   std::to_string(facts.columns) + "x" + std::to_string(facts.rows)
             : std::string("the clean_pixel_data option is not chosen"))));
  }
  OFString patient_id;
  dataset.findAndGetOFStringArray(DCM_PatientID, patient_id);
  const std::string id = patient_id.c_str();
  out.patient_id = id;
  auto listed = keys_.pseudonyms.find(id);
  out.patient_pseudonym =
      listed != keys_.pseudonyms.end() ? listed->second : patient_pseudonym(keys_.secret, id);
  if (policy_.modified_dates()) out.day_offset = patient_day_offset(keys_.secret, id);

  Walk walk(policy_, keys_, safe_private_, out);
  walk.pseudonym = out.patient_pseudonym;
  walk.offset = out.day_offset;
  collect_tokens(dataset, walk.tokens, 0);
  auto walked = walk.item(dataset, 0);
  if (!walked) return fail(walked.error());

  // PS3.15 E.1.1: say what was done, in the data set itself.
  dataset.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  dataset.putAndInsertString(DCM_DeidentificationMethod, kMethod);
  dataset.putAndInsertString(DCM_LongitudinalTemporalInformationModified,
                             policy_.full_dates()       ? "UNMODIFIED"
                             : policy_.modified_dates() ? "MODIFIED"
                                                        : "REMOVED");
  dataset.findAndDeleteElement(DCM_DeidentificationMethodCodeSequence);
  std::vector<std::pair<std::string, std::string>> codes = {
      {"113100", "Basic Application Confidentiality Profile"}};
  for (const auto& option : policy_.options()) {
    auto code = profile_.option_code(option);
    if (!code.first.empty()) codes.push_back(code);
  }
  for (std::size_t i = 0; i < codes.size(); ++i) {
    DcmItem* code_item = nullptr;
    if (dataset
            .findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, code_item,
                                      static_cast<signed long>(i))
            .bad())
      return fail(Error::internal("cannot add a De-identification Method Code item"));
    code_item->putAndInsertString(DCM_CodeValue, codes[i].first.c_str());
    code_item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
    code_item->putAndInsertString(DCM_CodeMeaning, codes[i].second.c_str());
  }
  return out;
}

}  // namespace helix::dicom
