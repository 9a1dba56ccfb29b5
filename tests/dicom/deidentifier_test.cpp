#include "tasks/dicom/deidentifier.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include "tests/dicom/shared_profile.h"

#include <fstream>
#include <sstream>

#include "tasks/dicom/deid_keys.h"

namespace helix::dicom {
namespace {

std::string text_of(DcmItem& item, const DcmTagKey& key) {
  OFString value;
  if (item.findAndGetOFStringArray(key, value).bad()) return "<absent>";
  return value.c_str();
}

// An instance with identity at the top, in a description, in a reference
// sequence and in a private block.
void fill(DcmDataset& ds) {
  ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.99.1.1.1.1");
  ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.99.1.1");
  ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
  ds.putAndInsertString(DCM_PatientID, "PID0001");
  ds.putAndInsertString(DCM_PatientBirthDate, "19500115");
  ds.putAndInsertString(DCM_StudyDate, "20190315");
  ds.putAndInsertString(DCM_AcquisitionDate, "20230231");  // not a calendar date
  ds.putAndInsertString(DCM_StudyDescription, "Chest CT of Jane Doe");
  ds.putAndInsertString(DCM_InstitutionName, "Saint Example Hospital");
  ds.putAndInsertUint16(DCM_Rows, 16);
  DcmItem* ref = nullptr;
  ds.findOrCreateSequenceItem(DCM_ReferencedImageSequence, ref, 0);
  ref->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
  ref->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.826.0.1.3680043.99.1.1.1.2");
  ds.putAndInsertString(DcmTag(0x0009, 0x0010, EVR_LO), "HELIXTEST");
  ds.putAndInsertString(DcmTag(0x0009, 0x1001, EVR_LO), "private note for PID0001");
}

class DicomDeidentifier : public SharedProfileTest {
 protected:
  DeidKeys keys_{"site-secret", {}};
};

TEST_F(DicomDeidentifier, BasicProfileRemovesIdentityEverywhere) {
  Policy policy(profile_, {});
  Deidentifier deid(profile_, policy, keys_);
  DcmDataset ds;
  fill(ds);
  auto outcome = deid.apply(ds);
  ASSERT_TRUE(outcome) << outcome.error().message();
  const std::string pseudonym = patient_pseudonym("site-secret", "PID0001");
  EXPECT_EQ(text_of(ds, DCM_PatientID), pseudonym);
  EXPECT_EQ(text_of(ds, DCM_PatientName), pseudonym);
  EXPECT_EQ(text_of(ds, DCM_PatientBirthDate), "");
  EXPECT_EQ(text_of(ds, DCM_StudyDate), "");
  EXPECT_EQ(text_of(ds, DCM_StudyDescription), "<absent>");
  EXPECT_EQ(text_of(ds, DCM_InstitutionName), "<absent>");
  EXPECT_EQ(text_of(ds, DCM_Rows), "16");
  EXPECT_EQ(text_of(ds, DCM_SOPClassUID), UID_CTImageStorage);  // well-known: kept
  EXPECT_EQ(text_of(ds, DCM_SOPInstanceUID),
            pseudonymous_uid("site-secret", "1.2.826.0.1.3680043.99.1.1.1.1"));
  EXPECT_EQ(text_of(ds, DCM_StudyInstanceUID),
            pseudonymous_uid("site-secret", "1.2.826.0.1.3680043.99.1.1"));
  // The reference still points at the other instance's new UID.
  DcmItem* ref = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_ReferencedImageSequence, ref, 0).good());
  EXPECT_EQ(text_of(*ref, DCM_ReferencedSOPInstanceUID),
            pseudonymous_uid("site-secret", "1.2.826.0.1.3680043.99.1.1.1.2"));
  EXPECT_EQ(text_of(*ref, DCM_ReferencedSOPClassUID), UID_CTImageStorage);
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x0010)));
  EXPECT_FALSE(ds.tagExists(DcmTagKey(0x0009, 0x1001)));
  EXPECT_EQ(text_of(ds, DCM_PatientIdentityRemoved), "YES");
  EXPECT_EQ(text_of(ds, DCM_LongitudinalTemporalInformationModified), "REMOVED");
  DcmItem* code = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, code, 0).good());
  EXPECT_EQ(text_of(*code, DCM_CodeValue), "113100");
  EXPECT_EQ(outcome->new_uids.size(), 3u);
  EXPECT_EQ(outcome->changes.at("(0009,1001) remove"), 1);
}

TEST_F(DicomDeidentifier, ModifiedDatesShiftEveryDateByThePatientsOffset) {
  Policy policy(profile_, {"retain_long_modified_dates", "clean_descriptors"});
  Deidentifier deid(profile_, policy, keys_);
  DcmDataset ds;
  fill(ds);
  auto outcome = deid.apply(ds);
  ASSERT_TRUE(outcome) << outcome.error().message();
  const int offset = patient_day_offset("site-secret", "PID0001");
  EXPECT_EQ(outcome->day_offset, offset);
  EXPECT_EQ(text_of(ds, DCM_StudyDate), *shift_date("20190315", offset));
  EXPECT_EQ(text_of(ds, DCM_AcquisitionDate), "");  // invalid: emptied, counted
  EXPECT_EQ(outcome->invalid_dates, 1);
  // Clean Descriptors keeps the description without the patient's names.
  EXPECT_EQ(text_of(ds, DCM_StudyDescription), "Chest CT of **** ***");
  EXPECT_EQ(text_of(ds, DCM_LongitudinalTemporalInformationModified), "MODIFIED");
  DcmItem* code = nullptr;
  ASSERT_TRUE(ds.findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, code, 2).good());
}

TEST_F(DicomDeidentifier, SafePrivateElementsSurviveOnlyWithTheOption) {
  const std::set<SafePrivate> safe = {{"HELIXTEST", 0x0009, 0x01}};
  DcmDataset with, without;
  fill(with);
  fill(without);
  Policy retain(profile_, {"retain_safe_private"});
  ASSERT_TRUE(Deidentifier(profile_, retain, keys_, safe).apply(with));
  EXPECT_EQ(text_of(with, DcmTagKey(0x0009, 0x0010)), "HELIXTEST");
  EXPECT_TRUE(with.tagExists(DcmTagKey(0x0009, 0x1001)));
  Policy basic(profile_, {});
  ASSERT_TRUE(Deidentifier(profile_, basic, keys_, safe).apply(without));
  EXPECT_FALSE(without.tagExists(DcmTagKey(0x0009, 0x1001)));
}

TEST_F(DicomDeidentifier, RefusesDataWithoutAnInstanceUidAndHostileNesting) {
  Policy policy(profile_, {});
  Deidentifier deid(profile_, policy, keys_);
  DcmDataset empty;
  empty.putAndInsertString(DCM_PatientName, "Doe^Jane");
  auto refused = deid.apply(empty);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("SOP Instance UID"), std::string::npos);

  DcmDataset burned;
  fill(burned);
  burned.putAndInsertString(DCM_BurnedInAnnotation, "YES");
  auto quarantined = deid.apply(burned);
  ASSERT_FALSE(quarantined);
  EXPECT_NE(quarantined.error().message().find("Burned In Annotation"), std::string::npos);

  DcmDataset deep;
  fill(deep);
  DcmItem* level = &deep;
  for (int i = 0; i < 70; ++i) {
    DcmItem* next = nullptr;
    // A reference sequence is descended into (Content Sequence would be removed whole).
    ASSERT_TRUE(level->findOrCreateSequenceItem(DCM_ReferencedImageSequence, next, 0).good());
    level = next;
  }
  auto too_deep = deid.apply(deep);
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message().find("deeper"), std::string::npos);
}

}  // namespace
}  // namespace helix::dicom
