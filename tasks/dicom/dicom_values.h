// Small readers shared by the de-identifier, its verifier, the pixel cleaner
// and the TIFF export: an element's value as text (the first value or all
// of them), multi-valued text split at backslashes, a tag as text.
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <string>
#include <vector>

namespace helix::dicom {

inline std::string tag_text(const DcmTagKey& key) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "(%04X,%04X)", key.getGroup(), key.getElement());
  return buffer;
}

inline std::vector<std::string> split_values(const std::string& value) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  while (true) {
    const std::size_t at = value.find('\\', from);
    parts.push_back(value.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return parts;
    from = at + 1;
  }
}

// The elements of an item in order, by walking DCMTK's list once:
// DcmItem::getElement(i) walks the list from its start on every call.
inline std::vector<DcmElement*> elements_of(DcmItem& item) {
  std::vector<DcmElement*> elements;
  elements.reserve(item.card());
  for (DcmObject* at = item.nextInContainer(nullptr); at != nullptr; at = item.nextInContainer(at))
    elements.push_back(static_cast<DcmElement*>(at));
  return elements;
}

// The items of a sequence, the same way (a private sequence can hold
// 20,000 items).
inline std::vector<DcmItem*> items_of(DcmSequenceOfItems& sequence) {
  std::vector<DcmItem*> items;
  items.reserve(sequence.card());
  for (DcmObject* at = sequence.nextInContainer(nullptr); at != nullptr;
       at = sequence.nextInContainer(at))
    items.push_back(static_cast<DcmItem*>(at));
  return items;
}

// The first value of `key` in `item` as text; empty when absent.
inline std::string first_value(DcmItem& item, const DcmTagKey& key) {
  OFString value;
  item.findAndGetOFString(key, value);
  return std::string(value.c_str(), value.length());
}

// All values of `key` in `item`, backslash-separated; empty when absent.
inline std::string all_values(DcmItem& item, const DcmTagKey& key) {
  OFString value;
  item.findAndGetOFStringArray(key, value);
  return std::string(value.c_str(), value.length());
}

// All values, backslash-separated; empty when the element has none or is
// not text-like.
inline std::string value_of(DcmElement& element) {
  OFString text;
  if (element.getOFStringArray(text).bad()) return {};
  return std::string(text.c_str(), text.length());
}

}  // namespace helix::dicom
