#include "tasks/dicom/pacs_sink.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/dimse.h>

#include <filesystem>

#include "tasks/dicom/pacs_query.h"

namespace helix::dicom {

namespace fs = std::filesystem;

InstanceSink::InstanceSink(std::string folder, std::string series_uid)
    : folder_(std::move(folder)), series_uid_(std::move(series_uid)) {}

Result<void> InstanceSink::prepare() {
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) return fail(Error::unavailable("cannot create " + folder_, ec.message()));
  return {};
}

void InstanceSink::record(Error error) {
  if (!problem_) problem_ = std::move(error);
}

std::optional<std::string> InstanceSink::begin(const std::string& sop_instance_uid) {
  if (!is_uid(sop_instance_uid)) {
    record(Error::corruption("the PACS sent an instance whose SOP Instance UID is not a UID"));
    return std::nullopt;
  }
  return (fs::path(folder_) / (sop_instance_uid + ".dcm.tmp")).string();
}

unsigned InstanceSink::finish(const std::string& sop_instance_uid, bool received) {
  const fs::path temporary = fs::path(folder_) / (sop_instance_uid + ".dcm.tmp");
  const fs::path target = fs::path(folder_) / (sop_instance_uid + ".dcm");
  std::error_code ec;
  if (!received) {
    fs::remove(temporary, ec);
    return STATUS_STORE_Error_CannotUnderstand;
  }
  // Only the header: the pixels stay as received and are checked by the
  // de-identifier, which reads every file whole.
  DcmFileFormat file;
  OFString series, instance;
  const bool read = file.loadFileUntilTag(temporary.c_str(), EXS_Unknown, EGL_noChange,
                                          DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData)
                        .good();
  if (read) {
    file.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series);
    file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, instance);
  }
  if (!read || series != series_uid_.c_str() || instance != sop_instance_uid.c_str()) {
    fs::remove(temporary, ec);
    record(Error::corruption(
        "the PACS sent instance " + sop_instance_uid +
        (read ? " that is not of series " + series_uid_ + " or holds another SOP Instance UID"
              : " that is not readable DICOM")));
    return STATUS_STORE_Error_DataSetDoesNotMatchSOPClass;
  }
  fs::rename(temporary, target, ec);
  if (ec) {
    const std::string reason = ec.message();
    fs::remove(temporary, ec);
    record(Error::unavailable("cannot rename into " + target.string(), reason));
    return STATUS_STORE_Refused_OutOfResources;
  }
  written_.push_back(target.string());
  return STATUS_Success;
}

}  // namespace helix::dicom
