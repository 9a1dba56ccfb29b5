#include "tasks/dicom/dicom_codecs.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <cstring>
#include <mutex>
#include <string>

namespace helix::dicom {

void register_pixel_decoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
  });
}

namespace {

// JPEG processes 1-14 (PS3.5 A.4.1): 1.2.840.10008.1.2.4.50 to .79, the
// ones DCMTK's dcmjpeg decodes.
bool is_jpeg(E_TransferSyntax syntax) {
  const std::string uid = DcmXfer(syntax).getXferID();
  const std::string prefix = "1.2.840.10008.1.2.4.";
  if (uid.rfind(prefix, 0) != 0 || uid.size() != prefix.size() + 2) return false;
  const std::string process = uid.substr(prefix.size());
  return process >= "50" && process <= "79";
}

}  // namespace

Result<void> check_decodable(DcmDataset& dataset) {
  const E_TransferSyntax syntax = dataset.getCurrentXfer();
  if (!is_jpeg(syntax)) return {};
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad()) return {};
  auto* pixels = dynamic_cast<DcmPixelData*>(element);
  DcmPixelSequence* fragments = nullptr;
  if (pixels == nullptr ||
      pixels->getEncapsulatedRepresentation(syntax, nullptr, fragments).bad() ||
      fragments == nullptr) {
    return {};  // nothing DCMTK could scan either
  }
  for (unsigned long i = 1; i < fragments->card(); ++i) {  // item 0: the offset table
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (fragments->getItem(item, i).bad() || item->getUint8Array(data).bad() || data == nullptr)
      continue;
    const Uint32 length = item->getLength();
    for (Uint32 at = 0; at + 1 < length; ++at) {
      if (data[at] == 0xFF && data[at + 1] == 0x01) {
        return fail(Error::corruption("JPEG fragment " + std::to_string(i) +
                                      " holds a TEM marker (FF 01): not decoded (DCMTK 3.6.7 "
                                      "would not finish)"));
      }
    }
  }
  return {};
}

}  // namespace helix::dicom
