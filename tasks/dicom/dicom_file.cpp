#include "tasks/dicom/dicom_file.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>

namespace helix::dicom {

namespace {

// Native (not encapsulated) Pixel Data must hold every frame: DCMTK reads a
// file cut inside it as long as the element header says less than is left.
Result<void> check_pixel_data(DcmDataset& dataset) {
  DcmElement* pixels = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) return {};
  if (DcmXfer(dataset.getOriginalXfer()).isEncapsulated()) return {};
  Uint16 rows = 0, columns = 0, samples = 1, bits = 0;
  dataset.findAndGetUint16(DCM_Rows, rows);
  dataset.findAndGetUint16(DCM_Columns, columns);
  dataset.findAndGetUint16(DCM_SamplesPerPixel, samples);
  dataset.findAndGetUint16(DCM_BitsAllocated, bits);
  Sint32 frames = 1;
  if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  const unsigned long long needed = (static_cast<unsigned long long>(rows) * columns * samples *
                                         static_cast<unsigned long long>(frames) * bits +
                                     7) /
                                    8;
  if (pixels->getLength() < needed) {
    return fail(Error::corruption("Pixel Data (7FE0,0010) holds " +
                                  std::to_string(pixels->getLength()) + " bytes, the image needs " +
                                  std::to_string(needed)));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<DcmFileFormat>> load_instance(const std::string& path) {
  // From a file, not from bytes in memory: DCMTK checks a value length
  // against the bytes left in a file before allocating it, but not in a
  // memory stream, where a 4 GB length in a 4 KB file is allocated first
  // (found by the dicom_deid fuzzer).
  auto file = std::make_unique<DcmFileFormat>();
  OFCondition status =
      file->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (status.bad()) {
    return fail(Error::corruption(std::string("cannot read as DICOM: ") + status.text()));
  }
  DcmDataset& dataset = *file->getDataset();
  if (dataset.getOriginalXfer() == EXS_Unknown) {
    return fail(Error::corruption("unknown transfer syntax"));
  }
  // A missing SOP Instance UID is refused by Deidentifier::apply, which
  // also sees data sets that never came from a file.
  auto pixels = check_pixel_data(dataset);
  if (!pixels) return fail(pixels.error());
  return file;
}

Result<void> save_instance(DcmFileFormat& file, const std::string& path) {
  DcmDataset& dataset = *file.getDataset();
  DcmMetaInfo& meta = *file.getMetaInfo();
  OFString sop_uid;
  dataset.findAndGetOFString(DCM_SOPInstanceUID, sop_uid);
  meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID, sop_uid.c_str());
  delete meta.remove(DCM_SourceApplicationEntityTitle);
  const std::string temporary = path + ".tmp";
  // The current syntax is the original one unless pixels were decoded to
  // be blanked (pixel_cleaner.h).
  OFCondition status =
      file.saveFile(temporary.c_str(), dataset.getCurrentXfer(), EET_ExplicitLength, EGL_recalcGL,
                    EPD_noChange, 0, 0, EWM_fileformat);
  if (status.bad()) {
    std::remove(temporary.c_str());
    return fail(Error::unavailable("cannot write " + temporary, status.text()));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return fail(Error::unavailable("cannot rename into " + path));
  }
  return {};
}

}  // namespace helix::dicom
