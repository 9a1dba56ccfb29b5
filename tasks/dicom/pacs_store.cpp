#include "tasks/dicom/pacs_store.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>

#include <set>
#include <utility>

#include "tasks/dicom/dicom_codecs.h"

namespace helix::dicom {

namespace {

// A DICOM association holds at most 128 presentation contexts.
constexpr std::size_t kMaxContexts = 128;

struct Outgoing {
  std::string path;
  std::string sop_class;
  std::string syntax;
};

using Context = std::pair<std::string, std::string>;  // SOP class, transfer syntax

struct Batch {
  std::vector<Outgoing> files;
  std::set<Context> contexts;
};

Result<Outgoing> inspect(const std::string& path) {
  DcmFileFormat file;
  const OFCondition cond = file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange,
                                                 DCM_MaxReadLength, ERM_autoDetect, DCM_PixelData);
  if (cond.bad()) return fail(Error::corruption(path + ": cannot read as DICOM", cond.text()));
  OFString sop_class;
  file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sop_class);
  if (sop_class.empty())
    file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop_class);
  const DcmXfer syntax(file.getDataset()->getOriginalXfer());
  if (sop_class.empty()) return fail(Error::corruption(path + ": no SOP Class UID"));
  if (syntax.getXfer() == EXS_Unknown)
    return fail(Error::corruption(path + ": unknown transfer syntax"));
  return Outgoing{path, sop_class.c_str(), syntax.getXferID()};
}

// Files in order, cut into associations whenever their contexts would not
// fit in one.
std::vector<Batch> plan_batches(const std::vector<Outgoing>& files) {
  std::vector<Batch> batches(1);
  for (const auto& file : files) {
    const Context own{file.sop_class, file.syntax};
    const Context fallback{file.sop_class, UID_LittleEndianExplicitTransferSyntax};
    const std::size_t added = (batches.back().contexts.count(own) ? 0 : 1) +
                              (own == fallback || batches.back().contexts.count(fallback) ? 0 : 1);
    if (batches.back().contexts.size() + added > kMaxContexts) batches.emplace_back();
    batches.back().contexts.insert(own);
    batches.back().contexts.insert(fallback);
    batches.back().files.push_back(file);
  }
  return batches;
}

// Statuses that store the instance: Success and the Warning class
// (coercion, elements discarded, data set does not match SOP class).
bool stored(Uint16 status) { return status == STATUS_Success || (status & 0xf000) == 0xb000; }

Result<void> send_batch(const PacsPeer& peer, const Batch& batch) {
  DcmSCU scu;
  // A file whose syntax the PACS refused goes as explicit little endian.
  scu.setDatasetConversionMode(OFTrue);
  for (const auto& [sop_class, syntax] : batch.contexts) {
    OFList<OFString> one;
    one.push_back(syntax.c_str());
    scu.addPresentationContext(sop_class.c_str(), one);
  }
  if (auto opened = open_association(scu, peer); !opened) return opened;
  for (const auto& file : batch.files) {
    T_ASC_PresentationContextID context =
        scu.findPresentationContextID(file.sop_class.c_str(), file.syntax.c_str());
    if (context == 0) {
      context = scu.findPresentationContextID(file.sop_class.c_str(),
                                              UID_LittleEndianExplicitTransferSyntax);
      register_pixel_decoders();  // to decode compressed Pixel Data
    }
    if (context == 0) {
      scu.releaseAssociation();
      return fail(Error::unavailable(file.path + ": " + peer.host + ":" +
                                     std::to_string(peer.port) + " accepts SOP class " +
                                     file.sop_class + " neither in transfer syntax " + file.syntax +
                                     " nor in explicit little endian"));
    }
    Uint16 status = 0;
    const OFCondition cond = scu.sendSTORERequest(context, file.path.c_str(), nullptr, status);
    if (cond.bad() && cond.module() == OFM_dcmnet)
      return fail(
          association_failure(scu, peer, "C-STORE of " + file.path + " failed", cond.text()));
    if (cond.bad()) {
      scu.releaseAssociation();
      return fail(Error::unavailable("cannot send " + file.path, cond.text()));
    }
    if (!stored(status)) {
      scu.releaseAssociation();
      return fail(Error::unavailable(file.path + ": " + peer.host + ":" +
                                     std::to_string(peer.port) + " refused it with status " +
                                     dimse_status(status, DU_cstoreStatusString(status))));
    }
  }
  scu.releaseAssociation();
  return {};
}

}  // namespace

Result<int> store_files(const PacsPeer& peer, const std::vector<std::string>& files) {
  if (auto ok = check_peer(peer); !ok) return fail(ok.error());
  std::vector<Outgoing> outgoing;
  for (const auto& path : files) {
    auto file = inspect(path);
    if (!file) return fail(file.error());
    outgoing.push_back(std::move(*file));
  }
  if (outgoing.empty()) return 0;
  for (const auto& batch : plan_batches(outgoing)) {
    if (auto sent = send_batch(peer, batch); !sent) return fail(sent.error());
  }
  return static_cast<int>(outgoing.size());
}

}  // namespace helix::dicom
