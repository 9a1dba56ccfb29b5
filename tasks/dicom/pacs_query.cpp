#include "tasks/dicom/pacs_query.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>

namespace helix::dicom {

namespace {

using Answers = std::vector<std::unique_ptr<DcmDataset>>;

// Values come back padded (Orthanc pads UIDs with a space, not NUL).
std::string value_of(DcmDataset& answer, const DcmTagKey& tag) {
  OFString value;
  answer.findAndGetOFStringArray(tag, value);
  std::string text = value.c_str();
  const auto begin = text.find_first_not_of(std::string(" \0", 2));
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(std::string(" \0", 2));
  return text.substr(begin, end - begin + 1);
}

// Printable ASCII without backslash (the value separator): no character set
// needs declaring, and a value cannot turn into several.
bool plain_text(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c != '\\' && static_cast<unsigned char>(c) >= 0x20 &&
           static_cast<unsigned char>(c) < 0x7f;
  });
}

// Runs one C-FIND on the open association; the identifiers of the pending
// answers (the final response carries none).
Result<Answers> run_find(DcmSCU& scu, const PacsPeer& peer, DcmDataset& keys) {
  const T_ASC_PresentationContextID context =
      scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
  if (context == 0) {
    return fail(service_refused(scu, peer, "Study Root C-FIND"));
  }
  OFList<QRResponse*> responses;
  const OFCondition cond = scu.sendFINDRequest(context, &keys, &responses);
  Answers answers;
  Uint16 final_status = STATUS_Success;
  for (QRResponse* response : responses) {
    if (DICOM_PENDING_STATUS(response->m_status)) {
      if (response->m_dataset != nullptr) answers.emplace_back(response->m_dataset);
      response->m_dataset = nullptr;  // owned by answers now
    } else {
      final_status = response->m_status;
    }
    delete response;
  }
  if (cond.bad()) return fail(association_failure(scu, peer, "C-FIND failed", cond.text()));
  if (final_status != STATUS_Success) {
    return fail(Error::unavailable("C-FIND at " + peer.host + ":" + std::to_string(peer.port) +
                                   " failed with status " +
                                   dimse_status(final_status, DU_cfindStatusString(final_status))));
  }
  return answers;
}

Result<std::vector<InstanceRef>> instances_on(DcmSCU& scu, const PacsPeer& peer,
                                              const SeriesRef& series) {
  DcmDataset keys;
  keys.putAndInsertString(DCM_QueryRetrieveLevel, "IMAGE");
  keys.putAndInsertString(DCM_StudyInstanceUID, series.study_uid.c_str());
  keys.putAndInsertString(DCM_SeriesInstanceUID, series.series_uid.c_str());
  keys.putAndInsertString(DCM_SOPInstanceUID, "");
  keys.putAndInsertString(DCM_SOPClassUID, "");
  auto answers = run_find(scu, peer, keys);
  if (!answers) return fail(answers.error());
  std::map<std::string, InstanceRef> found;
  for (const auto& answer : *answers) {
    InstanceRef instance{value_of(*answer, DCM_SOPClassUID), value_of(*answer, DCM_SOPInstanceUID)};
    if (!is_uid(instance.sop_instance_uid)) {
      return fail(Error::corruption("the PACS answered an instance of series " + series.series_uid +
                                    " without a valid SOP Instance UID"));
    }
    if (!instance.sop_class_uid.empty() && !is_uid(instance.sop_class_uid))
      instance.sop_class_uid.clear();
    found.emplace(instance.sop_instance_uid, instance);
  }
  std::vector<InstanceRef> instances;
  for (auto& [uid, instance] : found) instances.push_back(std::move(instance));
  return instances;
}

Result<void> open_find(DcmSCU& scu, const PacsPeer& peer) {
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, syntaxes);
  return open_association(scu, peer);
}

}  // namespace

Result<void> check_query(const StudyQuery& query) {
  Problems problems;
  auto check = [&](const char* field, const std::string& value, std::size_t longest) {
    if (value.size() > longest)
      problems.add(field, "is longer than " + std::to_string(longest) + " characters");
    else if (!plain_text(value))
      problems.add(field, "holds a backslash, a control or a non-ASCII character");
  };
  check("patient_id", query.patient_id, 64);
  check("accession", query.accession, 16);
  check("modality", query.modality, 16);
  static const std::regex date_range("[0-9]{8}|[0-9]{8}-|-[0-9]{8}|[0-9]{8}-[0-9]{8}");
  if (!query.study_date.empty() && !std::regex_match(query.study_date, date_range))
    problems.add("study_date", "\"" + query.study_date +
                                   "\" is not YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either side "
                                   "may be left open)");
  if (!problems.empty()) return fail(problems.to_error());
  return {};
}

Result<std::vector<SeriesRef>> find_series(const PacsPeer& peer, const StudyQuery& query) {
  if (auto ok = check_query(query); !ok) return fail(ok.error());
  DcmSCU scu;
  if (auto opened = open_find(scu, peer); !opened) return fail(opened.error());

  DcmDataset study_keys;
  study_keys.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  study_keys.putAndInsertString(DCM_StudyInstanceUID, "");
  study_keys.putAndInsertString(DCM_PatientID, query.patient_id.c_str());
  study_keys.putAndInsertString(DCM_StudyDate, query.study_date.c_str());
  study_keys.putAndInsertString(DCM_AccessionNumber, query.accession.c_str());
  auto studies = run_find(scu, peer, study_keys);
  if (!studies) return fail(studies.error());

  std::map<std::pair<std::string, std::string>, SeriesRef> found;
  for (const auto& study : *studies) {
    const std::string study_uid = value_of(*study, DCM_StudyInstanceUID);
    if (!is_uid(study_uid))
      return fail(
          Error::corruption("the PACS answered a study without a valid Study Instance UID"));
    DcmDataset series_keys;
    series_keys.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
    series_keys.putAndInsertString(DCM_StudyInstanceUID, study_uid.c_str());
    series_keys.putAndInsertString(DCM_SeriesInstanceUID, "");
    series_keys.putAndInsertString(DCM_Modality, query.modality.c_str());
    series_keys.putAndInsertString(DCM_NumberOfSeriesRelatedInstances, "");
    auto answers = run_find(scu, peer, series_keys);
    if (!answers) return fail(answers.error());
    for (const auto& answer : *answers) {
      SeriesRef series{study_uid, value_of(*answer, DCM_SeriesInstanceUID),
                       value_of(*answer, DCM_Modality), -1};
      if (!is_uid(series.series_uid)) {
        return fail(Error::corruption("the PACS answered a series of study " + study_uid +
                                      " without a valid Series Instance UID"));
      }
      const std::string count = value_of(*answer, DCM_NumberOfSeriesRelatedInstances);
      if (!count.empty() && count.size() < 10 &&
          count.find_first_not_of("0123456789") == std::string::npos)
        series.instances = std::stoi(count);
      found.emplace(std::make_pair(series.study_uid, series.series_uid), series);
    }
  }
  std::vector<SeriesRef> series;
  for (auto& [key, ref] : found) {
    // Number of Series Related Instances is optional for a PACS to return.
    if (ref.instances < 0) {
      auto instances = instances_on(scu, peer, ref);
      if (!instances) return fail(instances.error());
      ref.instances = static_cast<int>(instances->size());
    }
    series.push_back(std::move(ref));
  }
  scu.releaseAssociation();
  return series;
}

Result<std::vector<InstanceRef>> find_instances(const PacsPeer& peer, const SeriesRef& series) {
  if (!is_uid(series.study_uid) || !is_uid(series.series_uid))
    return fail(Error::invalid("series", "study and series UIDs must be DICOM UIDs"));
  DcmSCU scu;
  if (auto opened = open_find(scu, peer); !opened) return fail(opened.error());
  auto instances = instances_on(scu, peer, series);
  if (instances) scu.releaseAssociation();
  return instances;
}

}  // namespace helix::dicom
