#include "tasks/dicom/dicom_file.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdio>
#include <string_view>

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

// "DICM" after the 128-byte preamble.
bool has_dicom_preamble(const std::string& path) {
  char head[132] = {};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  const bool whole = std::fread(head, 1, sizeof head, file) == sizeof head;
  std::fclose(file);
  return whole && std::string_view(head + 128, 4) == "DICM";
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
    // DCMTK says "Invalid stream" for a file that ends inside a sequence:
    // name the likelier cause when the file starts as DICOM (PS3.10).
    const bool short_read = status == EC_InvalidStream || status == EC_StreamNotifyClient;
    return fail(Error::corruption(
        std::string("cannot read as DICOM: ") +
        (short_read && has_dicom_preamble(path)
             ? "premature end of stream (the file ends inside an element or sequence)"
             : status.text())));
  }
  DcmDataset& dataset = *file->getDataset();
  // DCMTK reads past a Transfer Syntax UID it does not know by guessing the
  // encoding; a guess is not good enough to rewrite a file by.
  OFString declared;
  file->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, declared);
  if (!declared.empty() && DcmXfer(declared.c_str()).getXfer() == EXS_Unknown) {
    return fail(Error::corruption("unknown transfer syntax " + std::string(declared.c_str()) +
                                  " in Transfer Syntax UID (0002,0010)"));
  }
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
