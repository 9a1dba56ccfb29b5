#include "tasks/dicom/deid_verify.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include "tasks/dicom/deid_keys.h"
#include "tasks/dicom/dicom_values.h"

namespace helix::dicom {

namespace {

// Shorter values ("M", "CT", "1") occur by chance in any file; a value of
// five characters or more that the profile removes should not, even among
// pixel bytes. Name parts of four ("Jane") are searched in decoded values
// only, where chance matches are rare.
constexpr std::size_t kMinNeedle = 5;
constexpr std::size_t kMinNamePart = 4;
constexpr int kMaxDepth = 64;

std::string lowered(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \0", 0, 2);
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \0", std::string::npos, 2);
  return text.substr(first, last - first + 1);
}

// Raw bytes of a binary value (OB, UN, ...), as the byte search sees them.
std::string bytes_of(DcmElement& element) {
  Uint8* data = nullptr;
  if (element.getLength() == 0 || element.getUint8Array(data).bad() || data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), element.getLength());
}

struct Needles {
  std::map<std::string, std::string> values;      // lowered value -> the tag it came from
  std::map<std::string, std::string> name_parts;  // searched in decoded values only
  std::set<std::string> dates;                    // every DA/DT value, as read
  std::string kept;                               // lowered values the profile keeps, joined

  void add(const std::string& value, const DcmTagKey& key) {
    const std::string text = lowered(trimmed(value));
    if (text.size() >= kMinNeedle) values.emplace(text, tag_text(key));
  }
  void add_name_part(const std::string& value, const DcmTagKey& key) {
    const std::string text = lowered(trimmed(value));
    if (text.size() >= kMinNamePart) name_parts.emplace(text, tag_text(key));
  }
};

void collect(const Policy& policy, const std::set<SafePrivate>& safe, DcmItem& item,
             Needles& needles, int depth) {
  if (depth > kMaxDepth) return;
  // Private creators of this item, for the safe list: (gggg,00xx) names
  // the block gggg,xx00-xxFF.
  std::map<std::pair<std::uint16_t, std::uint8_t>, std::string> creators;
  const bool keep_safe = policy.options().count("retain_safe_private") > 0;
  for (DcmElement* e : elements_of(item)) {
    const DcmTagKey key = e->getTag();
    if (key.isPrivateReservation())
      creators[{key.getGroup(), static_cast<std::uint8_t>(key.getElement())}] = value_of(*e);
  }
  for (DcmElement* e : elements_of(item)) {
    const DcmTagKey key = e->getTag();
    if (key.getElement() == 0x0000 || key == DCM_PixelData) continue;
    if (auto* sequence = dynamic_cast<DcmSequenceOfItems*>(e)) {
      for (DcmItem* nested : items_of(*sequence))
        collect(policy, safe, *nested, needles, depth + 1);
      continue;
    }
    const std::string vr = e->getVR() == EVR_UN ? "UN" : DcmVR(e->getVR()).getValidVRName();
    const bool is_private = key.getGroup() & 1;
    bool kept = false;
    if (is_private) {  // kept only when Retain Safe Private lists it
      const auto creator =
          creators.find({key.getGroup(), static_cast<std::uint8_t>(key.getElement() >> 8)});
      kept = keep_safe && key.getElement() > 0x00FF && creator != creators.end() &&
             safe.count({creator->second, key.getGroup(),
                         static_cast<std::uint8_t>(key.getElement() & 0xFF)});
    } else {
      kept = policy.treat(make_tag(key.getGroup(), key.getElement()), vr) == Treatment::kKeep;
    }
    std::string value = value_of(*e);
    if (value.empty() && (e->getVR() == EVR_OB || e->getVR() == EVR_UN)) value = bytes_of(*e);
    if (kept || key.isPrivateReservation()) {  // creators name vendors, not people
      needles.kept += lowered(value) + "\n";
      continue;
    }
    for (const auto& part : split_values(value)) {
      if (vr == "UI" && dcmFindNameOfUID(trimmed(part).c_str()) != nullptr) continue;
      if (vr == "DA" || vr == "DT") needles.dates.insert(trimmed(part));
      needles.add(part, key);
      if (vr == "PN") {  // each name component on its own: "Doe1234", "Jane-Marie"
        std::string component;
        for (char c : part + "^") {
          if (c == '^' || c == '=') {
            needles.add_name_part(component, key);
            component.clear();
          } else {
            component += c;
          }
        }
      }
    }
  }
}

void decoded_values(DcmItem& item, std::string& out, int depth) {
  if (depth > kMaxDepth) return;
  for (DcmElement* e : elements_of(item)) {
    if (e->getTag() == DCM_PixelData) continue;
    if (auto* sequence = dynamic_cast<DcmSequenceOfItems*>(e)) {
      for (DcmItem* nested : items_of(*sequence)) decoded_values(*nested, out, depth + 1);
      continue;
    }
    std::string value = value_of(*e);
    if (value.empty()) value = bytes_of(*e);
    out += lowered(value) + "\n";
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

Result<VerifyReport> verify_series(
    const Policy& policy, const std::set<SafePrivate>& safe,
    const std::vector<std::string>& written_texts, const std::string& secret,
    const std::vector<std::string>& originals,
    const std::vector<std::pair<std::string, std::string>>& outputs) {
  VerifyReport report;
  std::vector<std::string> written;
  for (const auto& text : written_texts) written.push_back(lowered(text));
  // value -> (tag, input index); name parts are kept apart (decoded values only)
  std::map<std::string, std::pair<std::string, int>> needles, name_parts;
  for (std::size_t index = 0; index < originals.size(); ++index) {
    DcmFileFormat file;
    if (file.loadFile(originals[index].c_str()).bad()) continue;
    ++report.originals;
    Needles found;
    collect(policy, safe, *file.getDataset(), found, 0);
    // What the shifted dates of this patient are expected to be.
    std::set<std::string> shifted;
    if (policy.modified_dates()) {
      OFString patient_id;
      file.getDataset()->findAndGetOFStringArray(DCM_PatientID, patient_id);
      const int offset = patient_day_offset(secret, patient_id.c_str());
      for (const auto& date : found.dates) {
        if (auto moved = shift_date(date, offset)) shifted.insert(lowered(*moved));
      }
    }
    auto keep = [&](const std::string& value) {
      // A value the profile keeps elsewhere in the same file is not identity.
      // Nor is the text of one of its dates after the shift, nor what the
      // de-identifier itself writes.
      return found.kept.find(value) == std::string::npos &&
             std::none_of(
                 written.begin(), written.end(),
                 [&](const std::string& text) { return text.find(value) != std::string::npos; }) &&
             std::none_of(shifted.begin(), shifted.end(), [&](const std::string& date) {
               return date.find(value) != std::string::npos;
             });
    };
    for (const auto& [value, tag] : found.values) {
      if (keep(value)) needles.emplace(value, std::make_pair(tag, static_cast<int>(index)));
    }
    for (const auto& [value, tag] : found.name_parts) {
      if (keep(value)) name_parts.emplace(value, std::make_pair(tag, static_cast<int>(index)));
    }
  }
  report.needles = static_cast<int>(needles.size() + name_parts.size());
  for (const auto& output : outputs) {
    const std::string& path = output.first;
    const std::string& name = output.second;  // a lambda below needs a plain name
    ++report.outputs;
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad()) {
      report.leaks.push_back("output " + name + " cannot be read back as DICOM");
      continue;
    }
    std::string decoded;
    decoded_values(*file.getDataset(), decoded, 0);
    decoded_values(*file.getMetaInfo(), decoded, 0);
    const std::string raw = lowered(read_file(path));
    auto report_leak = [&](const std::pair<std::string, int>& origin) {
      report.leaks.push_back(origin.first + " of input " + std::to_string(origin.second) +
                             " in output " + name);
    };
    for (const auto& [value, origin] : needles) {
      if (decoded.find(value) != std::string::npos || raw.find(value) != std::string::npos)
        report_leak(origin);
    }
    for (const auto& [value, origin] : name_parts) {
      if (decoded.find(value) != std::string::npos) report_leak(origin);
    }
  }
  return report;
}

}  // namespace helix::dicom
