#include "tasks/dicom/pixel_cleaner.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cstring>

#include "tasks/dicom/dicom_codecs.h"
#include "tasks/dicom/dicom_values.h"

namespace helix::dicom {

namespace {

Uint16 number_of(DcmDataset& dataset, const DcmTagKey& key, Uint16 fallback) {
  Uint16 value = fallback;
  return dataset.findAndGetUint16(key, value).good() ? value : fallback;
}

// Decodes encapsulated Pixel Data in place and keeps only the decoded form.
Result<void> decode(DcmDataset& dataset, DcmPixelData& pixels) {
  const DcmXfer current(dataset.getCurrentXfer());
  if (!current.isEncapsulated()) return {};
  auto decodable = check_decodable(dataset);
  if (!decodable) return fail(decodable.error());
  register_pixel_decoders();
  const OFCondition status = dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (status.bad() || DcmXfer(dataset.getCurrentXfer()).isEncapsulated()) {
    return fail(Error::corruption(std::string("cannot decode ") + current.getXferName() +
                                  " Pixel Data to blank burned-in text: " + status.text()));
  }
  pixels.removeAllButCurrentRepresentations();
  return {};
}

}  // namespace

ImageFacts image_facts(DcmDataset& dataset) {
  return {first_value(dataset, DCM_Modality), first_value(dataset, DCM_Manufacturer),
          first_value(dataset, DCM_ManufacturerModelName), number_of(dataset, DCM_Rows, 0),
          number_of(dataset, DCM_Columns, 0)};
}

Result<int> blank_regions(DcmDataset& dataset, const std::vector<PixelRegion>& regions) {
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    return fail(Error::corruption("a pixel rule matches but there is no Pixel Data (7FE0,0010)"));
  }
  auto* pixels = dynamic_cast<DcmPixelData*>(element);
  if (pixels == nullptr) return fail(Error::corruption("Pixel Data (7FE0,0010) is not pixel data"));
  auto decoded = decode(dataset, *pixels);
  if (!decoded) return fail(decoded.error());

  const std::size_t rows = number_of(dataset, DCM_Rows, 0);
  const std::size_t columns = number_of(dataset, DCM_Columns, 0);
  const std::size_t samples = number_of(dataset, DCM_SamplesPerPixel, 1);
  const std::size_t bits = number_of(dataset, DCM_BitsAllocated, 0);
  const bool planar = number_of(dataset, DCM_PlanarConfiguration, 0) == 1;
  Sint32 frames = 1;
  if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  if (bits == 0 || bits % 8 != 0) {
    return fail(Error::corruption("Bits Allocated (0028,0100) is " + std::to_string(bits) +
                                  ": only whole-byte samples can be blanked"));
  }
  const std::size_t bytes = bits / 8;
  const std::size_t frame_bytes = rows * columns * samples * bytes;
  if (frame_bytes == 0) return 0;  // no rows or columns: nothing to blank
  Uint8* data = nullptr;
  if (pixels->getUint8Array(data).bad() || data == nullptr ||
      pixels->getLength() / frame_bytes < static_cast<std::size_t>(frames)) {
    return fail(Error::corruption("Pixel Data (7FE0,0010) is shorter than its " +
                                  std::to_string(frames) + " frame(s)"));
  }
  for (std::size_t frame = 0; frame < static_cast<std::size_t>(frames); ++frame) {
    Uint8* base = data + frame * frame_bytes;
    for (const auto& region : regions) {
      if (region.x >= columns || region.y >= rows) continue;
      const std::size_t right = std::min<std::size_t>(columns, region.x + region.width);
      const std::size_t bottom = std::min<std::size_t>(rows, region.y + region.height);
      for (std::size_t y = region.y; y < bottom; ++y) {
        if (planar) {  // RRR...GGG...BBB: one run per plane
          for (std::size_t s = 0; s < samples; ++s) {
            std::memset(base + ((s * rows + y) * columns + region.x) * bytes, 0,
                        (right - region.x) * bytes);
          }
        } else {  // RGBRGB...: the samples of a pixel are adjacent
          std::memset(base + (y * columns + region.x) * samples * bytes, 0,
                      (right - region.x) * samples * bytes);
        }
      }
    }
  }
  return static_cast<int>(frames);
}

}  // namespace helix::dicom
